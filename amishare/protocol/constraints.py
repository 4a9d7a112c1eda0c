"""The constraints botocore's models declare on input members (pattern, length,
value range), checked as the Query services IAM and STS check them: every
violation is listed in one `ValidationError`, in AWS's words:

    1 validation error detected: Value 'a b' at 'userName' failed to satisfy
    constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+
"""

import re
from functools import lru_cache

from amishare.errors import constraint_violation, validation_error

# Java regular expressions in the models, as Python ones: Unicode classes become their
# nearest `re` equivalents, astral code points get Python's escape.
_TRANSLATIONS = (
    (r"\p{L}\p{Z}\p{N}", r"\w\s"),
    (r"\u10000-\u10FFFF", r"\U00010000-\U0010FFFF"),
)


@lru_cache(maxsize=None)
def _pattern(text: str) -> re.Pattern:
    unicode = r"\p{" in text
    for java, python in _TRANSLATIONS:
        text = text.replace(java, python)
    try:
        return re.compile(text, 0 if unicode else re.ASCII)
    except re.error:  # a pattern Python can't read is not enforced
        return re.compile(r"(?s).*")


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _violations(shape, value, where: str, out: list) -> None:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                _violations(member, value[name], f"{where}.{_camel(name)}" if where else _camel(name), out)
        return
    if kind == "list":
        _length(meta, len(value), where, value, out)
        for index, item in enumerate(value, 1):
            _violations(shape.member, item, f"{where}.{index}.member", out)
        return
    if kind == "map":
        for key, item in value.items():
            _violations(shape.key, key, f"{where}.key", out)
            _violations(shape.value, item, f"{where}.{key}", out)
        return
    if kind == "string":
        _length(meta, len(value), where, value, out)
        pattern = meta.get("pattern")
        if pattern and value and not _pattern(pattern).fullmatch(value):
            out.append(constraint_violation(value, where, f"Member must satisfy regular expression pattern: {pattern}"))
        return
    if kind in ("integer", "long"):
        if "min" in meta and value < meta["min"]:
            out.append(constraint_violation(value, where, f"Member must have value greater than or equal to {meta['min']}"))
        if "max" in meta and value > meta["max"]:
            out.append(constraint_violation(value, where, f"Member must have value less than or equal to {meta['max']}"))


def _length(meta: dict, length: int, where: str, value, out: list) -> None:
    if "min" in meta and length < meta["min"]:
        out.append(constraint_violation(value, where, f"Member must have length greater than or equal to {meta['min']}"))
    if "max" in meta and length > meta["max"]:
        out.append(constraint_violation(value, where, f"Member must have length less than or equal to {meta['max']}"))


def check(shape, params: dict) -> None:
    """Raise ValidationError listing every constraint `params` breaks."""
    if shape is None:
        return
    problems: list[str] = []
    _violations(shape, params, "", problems)
    if problems:
        raise validation_error(problems)
