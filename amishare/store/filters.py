"""EC2 `Filter.N.Name/Value.M` criteria as SQL conditions.

Values inside one filter are ORed, filters are ANDed; `*` and `?` are
wildcards, matched case-sensitively as EC2 does.
"""

from datetime import timedelta

from sqlalchemy import and_, case, exists, false, literal, not_, or_, select, true

from amishare.parsing import INTEGER_RE, parse_timestamp
from amishare.store.schema import accounts, tags


class UnknownFilter(ValueError):
    pass


class BadFilterValue(ValueError):
    pass


def settled_state(table, now: float):
    return case(
        (and_(table.c.next_state.is_not(None), table.c.next_state_at <= now), table.c.next_state),
        else_=table.c.state,
    )


def _like_pattern(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def match_text(column, values):
    plain = [v for v in values if "*" not in v and "?" not in v]
    patterns = [v for v in values if "*" in v or "?" in v]
    conditions = []
    if plain:
        conditions.append(column.in_(plain))
    for pattern in patterns:
        conditions.append(column.like(_like_pattern(pattern), escape="\\"))
    return or_(*conditions) if conditions else false()


def _booleans(values) -> set[bool]:
    wanted = set()
    for v in values:
        if v.lower() not in ("true", "false"):
            raise BadFilterValue(f"The filter value '{v}' is not a boolean")
        wanted.add(v.lower() == "true")
    return wanted


def match_condition(condition, values):
    """A Boolean filter on a fact that is a condition: `true` selects the rows it holds for,
    `false` the others."""
    wanted = _booleans(values)
    if not wanted:
        return false()
    if len(wanted) == 2:
        return true()
    return condition if True in wanted else not_(condition)


def match_bool(column, values):
    wanted = _booleans(values)
    if len(wanted) == 2:
        return column.is_not(None)
    return column == wanted.pop() if True in wanted else or_(column == False, column.is_(None))  # noqa: E712


def match_int(column, values):
    numbers = []
    for v in values:
        if not INTEGER_RE.fullmatch(v):
            raise BadFilterValue(f"The filter value '{v}' is not an integer")
        numbers.append(int(v))
    return column.in_(numbers)


def match_time(column, values):
    """Timestamps compare as their ISO 8601 text, so `2024-01-*` works as on AWS."""
    conditions = []
    for v in values:
        if "*" in v or "?" in v:
            conditions.append(_iso_prefix_range(column, v))
            continue
        parsed = parse_timestamp(v)
        if parsed is None:
            raise BadFilterValue(f"The filter value '{v}' is not a timestamp")
        moment = parsed.timestamp()
        conditions.append(and_(column >= int(moment), column < int(moment) + 1))
    return or_(*conditions)


_PRECISIONS = ((19, "second"), (16, "minute"), (13, "hour"), (10, "day"), (7, "month"), (4, "year"))


def _iso_prefix_range(column, pattern: str):
    """A wildcard timestamp like `2024-01-*` covers the whole period its fixed prefix names."""
    prefix = pattern.split("*", 1)[0].split("?", 1)[0]
    template = "0000-01-01T00:00:00"
    for length, unit in _PRECISIONS:
        if len(prefix) >= length:
            break
    else:
        return column.is_not(None)
    start = parse_timestamp(prefix[:length] + template[length:] + "Z")
    if start is None:
        raise BadFilterValue(f"The filter value '{pattern}' is not a timestamp pattern")
    if unit == "year":
        end = start.replace(year=start.year + 1)
    elif unit == "month":
        end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    else:
        end = start + timedelta(**{unit + "s": 1})
    return and_(column >= start.timestamp(), column < end.timestamp())


def tag_conditions(name: str, values, resource_column, owner_id: str):
    """tag:KEY and tag-key; tags are private, so only the caller's own tags match."""
    base = and_(tags.c.resource_id == resource_column, tags.c.owner_id == owner_id)
    if name.startswith("tag:"):
        return exists(select(literal(1)).where(base, tags.c.key == name[4:], match_text(tags.c.value, values)))
    if name == "tag-key":
        return exists(select(literal(1)).where(base, match_text(tags.c.key, values)))
    if name == "tag-value":
        return exists(select(literal(1)).where(base, match_text(tags.c.value, values)))
    return None


def owner_alias_condition(owner_column, values):
    aliases = [v for v in values if v != "self"]
    return owner_column.in_(select(accounts.c.account_id).where(match_text(accounts.c.alias, aliases)))


# Builders of filter tables: each gives the function(values, now) -> condition that a
# table of filters maps a filter name to.


def text(column):
    return lambda values, now: match_text(column, values)


def boolean(column):
    return lambda values, now: match_bool(column, values)


def integer(column):
    return lambda values, now: match_int(column, values)


def timestamp(column):
    return lambda values, now: match_time(column, values)


def state(table):
    """The state of a resource with a timed lifecycle, as it has settled by now."""
    return lambda values, now: match_text(settled_state(table, now), values)


def owner_alias(owner_column):
    return lambda values, now: owner_alias_condition(owner_column, values)


def build(filters, table_filters: dict, resource_column, owner_id: str, now: float):
    """`table_filters` maps a filter name to a function(values, now) -> condition."""
    conditions = []
    for item in filters or ():
        name = item.get("Name")
        values = item.get("Values") or []
        if not name:
            raise UnknownFilter("")
        condition = tag_conditions(name, values, resource_column, owner_id)
        if condition is None:
            builder = table_filters.get(name)
            if builder is None:
                raise UnknownFilter(name)
            condition = builder(values, now)
        conditions.append(condition)
    return conditions
