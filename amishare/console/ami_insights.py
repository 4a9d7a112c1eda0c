"""The AMI page's "Activity" and "Who can launch" tabs: the image's audit trail (CloudTrail
LookupEvents by resource name) and its access analysis (amishare ListImageLaunchers, with
ExplainImageAccess for one account), each read as the signed-in principal.

`invoke(operation, params, service)` is the console's way into `Application.invoke`; a refusal
comes back as the API's error, shown inline by the tab."""

import json
from datetime import datetime, timezone

EVENTS_PER_PAGE = 25  # LookupEvents allows at most 50; the AWS console pages Event history in smaller pages


def activity(invoke, image_id: str, viewer: str, next_token: str | None) -> dict:
    params = {"LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": image_id}],
              "MaxResults": EVENTS_PER_PAGE}
    if next_token:
        params["NextToken"] = next_token
    outcome = invoke("LookupEvents", params, "cloudtrail")
    if outcome.error is not None:
        return {"activity_error": outcome.error, "events": [], "events_next": None, "events_paged": bool(next_token)}
    return {"activity_error": None, "events": [_event_row(e, viewer) for e in outcome.result.get("Events", [])],
            "events_next": outcome.result.get("NextToken"), "events_paged": bool(next_token)}


def _event_row(event: dict, viewer: str) -> dict:
    """An Event history row: the event's own fields plus what only its CloudTrail record holds
    (the error code of a refused call)."""
    try:
        record = json.loads(event.get("CloudTrailEvent") or "{}")
    except ValueError:
        record = {}
    return {"id": event.get("EventId", ""), "time": _event_time(event.get("EventTime")),
            "user": event.get("Username") or "", "caller_account": _other_account(record, viewer), "name": event.get("EventName", ""),
            "source": event.get("EventSource", ""), "resources": event.get("Resources") or [],
            "error_code": record.get("errorCode") or "", "error_message": record.get("errorMessage") or "",
            "record": json.dumps(record, indent=2, sort_keys=True)}


def _other_account(record: dict, viewer: str) -> str:
    """The calling account of an event another account's call delivered to the owner's trail
    (it has no user name of the owner's), so the row says whose call it was."""
    identity = record.get("userIdentity") or {}
    account = identity.get("accountId") or ""
    return account if account and account != viewer else ""


def _event_time(value) -> str:
    """As the AWS console writes it, e.g. "December 01, 2026, 07:20:31 (UTC+00:00)"."""
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, datetime):
        value = value.astimezone(timezone.utc)
        return value.strftime("%B %d, %Y, %H:%M:%S (UTC+00:00)")
    return str(value or "")


def launchers(invoke, image_id: str, next_token: str | None, explain: str | None) -> dict:
    params = {"ImageId": image_id}
    if next_token:
        params["NextToken"] = next_token
    outcome = invoke("ListImageLaunchers", params, "amishare")
    values = {"launchers_error": outcome.error, "groups": [], "cannot_launch": [], "launchers_next": None,
              "launchers_paged": bool(next_token), "explained": None, "explain_error": None, "explain_for": explain}
    if outcome.error is None:
        values.update(groups=outcome.result.get("Groups", []),
                      cannot_launch=outcome.result.get("GrantedButCannotLaunch", []),
                      launchers_next=outcome.result.get("NextToken"))
    if explain:
        answer = invoke("ExplainImageAccess", {"ImageId": image_id, "Principal": explain}, "amishare")
        values.update(explained=answer.result if answer.error is None else None, explain_error=answer.error)
    return values
