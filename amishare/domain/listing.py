"""The describe pipeline: what every Describe* and List* operation does with its request.

A `Listing` describes how one resource is listed; `Listing.request` reads a request
in AWS's order of checks, and the `Request` it returns fetches and pages the answer:

1. the ids the request names are checked (malformed ones are refused);
2. MaxResults is checked against the operation's bounds;
3. NextToken is decoded, and must have been issued for the same criteria;
4. each Filter.N becomes an SQL condition (an unknown filter or a bad value is
   InvalidParameterValue);
5. the rows come from index-driven branches (store.paging), each reading at most a
   page (and one row more, to tell whether there is a next page) past the token;
6. named ids that matched nothing are NotFound, unless filters narrowed the answer;
   the page is cut and the token to the next one made.

What is specific to an operation (who may see what, which branches, which ids are
NotFound under which criteria) stays with the operation.
"""

from dataclasses import dataclass
from typing import Any, Callable

from amishare.domain import ids as resource_ids
from amishare.domain import pagination
from amishare.errors import AwsError
from amishare.store import filters as filter_sql
from amishare.store import paging


def _invalid_filter(name) -> AwsError:
    return AwsError("InvalidParameterValue", f"The filter '{name}' is invalid")


@dataclass(frozen=True)
class Listing:
    # What a NextToken is issued for: the first of the criteria it is bound to.
    name: str
    # The column (or tuple of columns) the rows are ordered by and a page resumes after.
    key: str | tuple[str, ...]
    # MaxResults: EC2's (low, high) bounds, or the service's own check, value -> limit or None.
    max_results: tuple[int, int] | Callable[[Any], int | None]
    # store: (region, driver) -> (select, key columns) of one index range (store.paging).
    branch: Callable | None = None
    # Filter.N.Name -> function(values, now) -> SQL condition; None when the operation takes no filters.
    filters: dict | None = None
    # The resource column tag:KEY, tag-key and tag-value filters match on; None: those filters are invalid.
    tag_column: Any = None
    # The ids a request may name ("ami", "snap", ...), and how InvalidParameterCombination calls them.
    id_prefix: str | None = None
    ids_param: str = ""
    # How a NextToken is read: (token, fingerprint, position) -> where it resumes, refusing a forged
    # or stale one in the service's words.
    read_token: Callable = pagination.decode

    def request(self, ctx, *, ids=None, filters=None, max_results=None, next_token=None, criteria=()) -> "Request":
        """Check the request's ids, MaxResults, NextToken (bound to `criteria`) and filters."""
        checked = resource_ids.check_all(self.id_prefix, ids or []) if self.id_prefix else []
        if callable(self.max_results):
            limit = self.max_results(max_results)
        else:
            low, high = self.max_results
            limit = pagination.check_max_results(max_results, low, high, bool(checked), self.ids_param)
        request_criteria = (self.name, *criteria)
        after = None
        if next_token is not None:
            after = self.read_token(next_token, pagination.fingerprint(*request_criteria),
                                    pagination.key_position(self.key))
        filters = filters or []
        return Request(self, ctx, checked, filters, limit, request_criteria, after, self._conditions(ctx, filters))

    def _conditions(self, ctx, filters) -> list:
        if self.filters is None:
            return []
        if self.tag_column is None:
            # Tag filters name no tags here: the other filters are checked first, then they are refused.
            untagged = [f for f in filters if not f.get("Name", "").startswith("tag")]
        else:
            untagged = filters
        try:
            conditions = filter_sql.build(untagged, self.filters, self.tag_column, ctx.account_id, ctx.now)
        except filter_sql.UnknownFilter as exc:
            raise _invalid_filter(exc) from None
        except filter_sql.BadFilterValue as exc:
            raise AwsError("InvalidParameterValue", str(exc)) from None
        if len(untagged) < len(filters):
            raise _invalid_filter(next(f["Name"] for f in filters if f.get("Name", "").startswith("tag")))
        return conditions


def owned(ctx, named) -> list:
    """The branch of the caller's own resources: the `named` ones (their primary keys), else all
    of them (the owner index)."""
    if named:
        return [(("owner_ids", (ctx.account_id, tuple(named))), [])]
    return [(("owner", ctx.account_id), [])]


@dataclass
class Request:
    listing: Listing
    ctx: Any
    ids: list
    filters: list
    limit: int | None
    criteria: tuple  # what a NextToken is bound to
    after: Any
    conditions: list

    @property
    def fingerprint(self) -> str:
        """The criteria's fingerprint, worked out only for a token read or written."""
        return pagination.fingerprint(*self.criteria)

    @property
    def fetch(self) -> int | None:
        """How many rows to read: a page, and one more to tell whether there is a next page."""
        return None if self.limit is None else self.limit + 1

    def select(self, branches, conditions=()) -> list:
        """The union of index-driven branches, each (driver, extra_conditions), under the
        request's filters and `conditions`, in key order from the token on, at most `fetch` rows."""
        region = self.ctx.region
        return paging.select_branches(self.ctx.conn, lambda driver: self.listing.branch(region, driver), branches,
                                      [*self.conditions, *conditions], self.after, self.fetch)

    def check_found(self, rows, narrowed: bool = False) -> None:
        """Named ids missing from `rows` are NotFound, unless filters (or, `narrowed`, other
        criteria) were meant to narrow the answer."""
        if not self.ids or self.filters or narrowed:
            return
        found = {row[self.listing.key] for row in rows}
        missing = [i for i in self.ids if i not in found]
        if missing:
            raise resource_ids.not_found(self.listing.id_prefix, missing)

    def page(self, rows):
        """(the page, the token to the next one or None) of rows read with `fetch`."""
        return pagination.page(rows, self.limit, self.listing.key, self.fingerprint)

    def run(self, branches, conditions=(), narrowed: bool = False):
        """select, check_found and page: (rows, next token)."""
        rows = self.select(branches, conditions)
        self.check_found(rows, narrowed)
        return self.page(rows)
