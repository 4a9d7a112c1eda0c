"""CloudTrail's LookupEvents: the management events of the caller's account and Region,
newest first, a page at a time along one index, by at most one lookup attribute."""

import json
import math

from amishare.domain import pagination
from amishare.errors import AwsError
from amishare.store import trail as store

LOOKUP_KEYS = ("EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource",
               "AccessKeyId")
MAX_RESULTS = 50
MAX_VALUE = 2000
TOKEN_ERROR = "InvalidNextTokenException"


def lookup_events(ctx, params: dict) -> dict:
    attribute = _attribute(params.get("LookupAttributes"))
    category = params.get("EventCategory")
    if category is not None and category != "insight":
        raise AwsError("InvalidEventCategoryException", f"Event category {category} is not valid. "
                       "Valid values are: insight")
    limit = params.get("MaxResults")
    if limit is None:
        limit = MAX_RESULTS
    elif not 1 <= limit <= MAX_RESULTS:
        raise AwsError("InvalidMaxResultsException", f"Value {limit} for MaxResults is invalid; "
                       f"it must be between 1 and {MAX_RESULTS}.")
    start, end = _time_range(ctx, params.get("StartTime"), params.get("EndTime"))
    fingerprint = pagination.fingerprint(ctx.account_id, ctx.region, attribute, params.get("StartTime"),
                                         params.get("EndTime"), category)
    after = pagination.decode(params.get("NextToken"), fingerprint, _position, TOKEN_ERROR)
    if category == "insight":
        return {"Events": []}  # no Insights are enabled here, so there are no Insights events
    rows = store.lookup(ctx.conn, ctx.account_id, ctx.region, attribute, start, end, after, limit + 1)
    page = rows[:limit]
    named = store.resources_of(ctx.conn, [row["event_id"] for row in page])
    events = [_event(row, named.get(row["event_id"], [])) for row in page]
    result = {"Events": events}
    if len(rows) > limit:
        last = rows[limit - 1]
        result["NextToken"] = pagination.encode(f"{last['event_time']!r}|{last['event_id']}", fingerprint)
    return result


def _attribute(attributes) -> tuple[str, object] | None:
    if not attributes:
        return None
    if len(attributes) > 1:
        raise AwsError("InvalidLookupAttributesException", "You can only specify one lookup attribute.")
    key, value = attributes[0].get("AttributeKey"), attributes[0].get("AttributeValue")
    if key not in LOOKUP_KEYS:
        raise AwsError("InvalidLookupAttributesException", f"The attribute key {key} is not valid. "
                       f"Valid keys are: {', '.join(LOOKUP_KEYS)}")
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_VALUE:
        raise AwsError("InvalidLookupAttributesException",
                       f"The attribute value for {key} must be between 1 and {MAX_VALUE} characters long.")
    if key == "ReadOnly":
        if value.lower() not in ("true", "false"):
            raise AwsError("InvalidLookupAttributesException", "The attribute value for ReadOnly must be true or false.")
        return key, value.lower() == "true"
    return key, value


def _time_range(ctx, start, end) -> tuple[float, float | None]:
    start_at = start.timestamp() if start is not None else None
    end_at = end.timestamp() if end is not None else None
    if start_at is not None and end_at is not None and start_at > end_at:
        raise AwsError("InvalidTimeRangeException", "Start time must be before end time.")
    oldest = ctx.now - ctx.settings.audit_retention_days * 86400  # past the retention nothing is kept
    return max(start_at if start_at is not None else oldest, oldest), end_at


def _position(text: str) -> tuple[float, str]:
    time_text, _, event_id = text.partition("|")
    moment = float(time_text)
    if not math.isfinite(moment) or not event_id or len(event_id) > 36:
        raise ValueError(text)
    return moment, event_id


def _event(row, resources: list[tuple[str, str]]) -> dict:
    event = {"EventId": row["event_id"], "EventName": row["event_name"],
             "ReadOnly": "true" if row["read_only"] else "false", "EventTime": row["event_time"],
             "EventSource": row["event_source"], "CloudTrailEvent": row["record"]}
    if row["access_key_id"]:
        event["AccessKeyId"] = row["access_key_id"]
    if row["username"]:
        event["Username"] = row["username"]
    event["Resources"] = [{"ResourceType": kind, "ResourceName": name} for kind, name in resources]
    return event


def recent(conn, account_id: str, regions: list[str], since: float, event_names: list[str] | None,
           limit: int) -> list[dict]:
    """The account's newest `limit` records since `since`, across `regions`, of any or the named
    events (for `amishare audit`): one index range per Region and name, merged."""
    rows = []
    for region in regions:
        for name in event_names or [None]:
            attribute = ("EventName", name) if name else None
            rows.extend(store.lookup(conn, account_id, region, attribute, since, None, None, limit))
    rows.sort(key=lambda r: (r["event_time"], r["event_id"]), reverse=True)
    return [json.loads(row["record"]) for row in rows[:limit]]
