"""The AMIs page's search, as DescribeImages parameters, and its pager.

The "Owned by" scope picks the index DescribeImages walks (the caller's own images, the
public set, the caller's grants); the name box and the property filter narrow it with
DescribeImages filters, and an "Owner" property becomes the `Owners` parameter when the
scope has none, so that it drives the owner's index instead of filtering the public set.
Nothing here decides what the caller may see: DescribeImages does.

DescribeImages' NextToken only goes forward, so "Previous page" comes from a bounded stack
of the tokens of the earlier pages, carried in the page's own links.
"""

import re
from urllib.parse import urlencode

# The "Owned by" scopes of the AMIs page.
SCOPES = {
    "owned": ("Owned by me", lambda: {"Owners": ["self"], "IncludeDisabled": True, "IncludeDeprecated": True}),
    "private": ("Private images", lambda: {"Owners": ["self"], "IncludeDisabled": True, "IncludeDeprecated": True,
                                           "Filters": [{"Name": "is-public", "Values": ["false"]}]}),
    "public": ("Public images", lambda: {"Filters": [{"Name": "is-public", "Values": ["true"]}]}),
    "shared": ("Shared with me", lambda: {"ExecutableUsers": ["self"]}),
    "disabled": ("Disabled images", lambda: {"Owners": ["self"], "IncludeDisabled": True, "IncludeDeprecated": True,
                                             "Filters": [{"Name": "state", "Values": ["disabled"]}]}),
}

# The property filter: property -> its label (the AMIs table's column names) and the
# DescribeImages filter it becomes ("owner", "visibility" and "tag" are mapped specially).
PROPERTIES = {
    "image-id": ("AMI ID", "image-id"),
    "name": ("AMI name", "name"),
    "owner": ("Owner", "owner-id"),
    "owner-alias": ("Owner alias", "owner-alias"),
    "visibility": ("Visibility", "is-public"),
    "platform-details": ("Platform", "platform-details"),
    "architecture": ("Architecture", "architecture"),
    "root-device-type": ("Root device type", "root-device-type"),
    "virtualization-type": ("Virtualization", "virtualization-type"),
    "image-type": ("Image type", "image-type"),
    "state": ("Status", "state"),
    "description": ("Description", "description"),
    "creation-date": ("Creation date", "creation-date"),
    "deprecation-time": ("Deprecation time", "deprecation-time"),
    "source-image-id": ("Source AMI ID", "source-image-id"),
    "snapshot-id": ("Snapshot ID", "block-device-mapping.snapshot-id"),
    "tag-key": ("Tag key", "tag-key"),
    "tag": ("Tag (key=value)", None),
}
MAX_TOKENS = 10
MAX_VALUE = 255
MAX_BACK = 20  # earlier pages "Previous page" can go back to; "First page" always works
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,2048}")
_FIRST = "."  # the first page in the stack (it has no token)


class Search:
    """What the AMIs page was asked: scope, name, property tokens, and where in the pages."""

    def __init__(self, scope: str, name: str, tokens: list[tuple[str, str]], token: str, back: list[str],
                 scopes: dict = SCOPES, scope_param: str = "filter"):
        self.scope, self.name, self.tokens, self.token, self.back = scope, name, tokens, token, back
        self.scopes, self.scope_param = scopes, scope_param

    @classmethod
    def from_query(cls, query: dict[str, list[str]], scopes: dict = SCOPES, scope_param: str = "filter") -> "Search":
        """The search a page's query string asks for; `scopes` are its choices of index (the
        first is the default), named by the `scope_param` field."""
        scope = _first(query, scope_param)
        if scope not in scopes:
            scope = next(iter(scopes))
        tokens = []
        for raw in query.get("q", []) + _added(query):
            prop, _, value = raw.partition(":")
            value = value.strip()[:MAX_VALUE]
            if prop in PROPERTIES and value and (prop, value) not in tokens and len(tokens) < MAX_TOKENS:
                tokens.append((prop, value))
        token = _first(query, "next_token")
        token = token if _TOKEN_RE.fullmatch(token) else ""
        back = [b for b in _first(query, "back").split(",") if b == _FIRST or _TOKEN_RE.fullmatch(b)]
        return cls(scope, _first(query, "name").strip()[:MAX_VALUE], tokens, token, back[-MAX_BACK:], scopes,
                   scope_param)

    def describe_params(self, page_size: int) -> dict:
        params = self.scopes[self.scope][1]()
        filters = params.setdefault("Filters", [])
        if self.name:
            pattern = self.name if any(c in self.name for c in "*?") else f"*{self.name}*"
            filters.append({"Name": "name", "Values": [pattern]})
        grouped: dict[str, list[str]] = {}
        for prop, value in self.tokens:
            for name, values in _filter_of(prop, value):
                grouped.setdefault(name, []).extend(values)
        for name, values in grouped.items():
            if name == "owner-id" and "Owners" not in params:
                params["Owners"] = values  # the owner's index, not a filter over the scope
            else:
                filters.append({"Name": name, "Values": values})
        if not filters:
            del params["Filters"]
        params["MaxResults"] = page_size
        if self.token:
            params["NextToken"] = self.token
        return params

    # --- links

    def query(self, **changes) -> str:
        """The query string of this search, with `changes` (tokens=, token=, back=)."""
        tokens = changes.get("tokens", self.tokens)
        pairs = [(self.scope_param, self.scope)]
        if self.name:
            pairs.append(("name", self.name))
        pairs += [("q", f"{prop}:{value}") for prop, value in tokens]
        token = changes.get("token", self.token)
        if token:
            pairs.append(("next_token", token))
            pairs.append(("back", ",".join(changes.get("back", self.back))))
        return urlencode(pairs)

    def without(self, index: int) -> str:
        return self.query(tokens=self.tokens[:index] + self.tokens[index + 1:], token="")

    def first_page(self) -> str:
        return self.query(token="")

    def next_page(self, next_token: str) -> str:
        back = (self.back + [self.token or _FIRST])[-MAX_BACK:]
        return self.query(token=next_token, back=back)

    def previous_page(self) -> str | None:
        """The page before this one, if the stack still holds it (None on the first page)."""
        if not self.token:
            return None
        if not self.back:
            return None
        previous = self.back[-1]
        return self.query(token="" if previous == _FIRST else previous, back=self.back[:-1])

    def labelled_tokens(self) -> list[tuple[int, str, str]]:
        return [(i, PROPERTIES[prop][0], value) for i, (prop, value) in enumerate(self.tokens)]


def _first(query: dict[str, list[str]], name: str) -> str:
    values = query.get(name)
    return values[0] if values else ""


def _added(query: dict[str, list[str]]) -> list[str]:
    """The token the "Add filter" button sends, as property and value fields."""
    prop, value = _first(query, "property"), _first(query, "value")
    return [f"{prop}:{value}"] if prop and value.strip() else []


def _filter_of(prop: str, value: str) -> list[tuple[str, list[str]]]:
    if prop == "visibility":
        word = value.strip().lower()
        return [("is-public", [{"public": "true", "private": "false"}.get(word, word)])]
    if prop == "tag":
        key, sep, tag_value = value.partition("=")
        if not sep:
            return [("tag-key", [key.strip()])]
        return [(f"tag:{key.strip()}", [tag_value.strip()])]
    return [(PROPERTIES[prop][1], [value])]


# The AMI Catalog's tabs, as DescribeImages scopes ("shared" is My AMIs' "Shared with me").
CATALOG = {
    "quickstart": ("Quickstart AMIs", lambda: {"Owners": ["amazon"]}),
    "my": ("My AMIs", lambda: {"Owners": ["self"]}),
    "shared": ("Shared with me", lambda: {"ExecutableUsers": ["self"]}),
    "marketplace": ("AWS Marketplace AMIs", lambda: {"Owners": ["aws-marketplace"]}),
    "community": ("Community AMIs", lambda: {"ExecutableUsers": ["all"]}),
}
