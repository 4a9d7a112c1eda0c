"""EventBridge rules and their targets on an account's default event bus, PutEvents and
TestEventPattern."""

import json

from amishare.domain import event_patterns, events, pagination
from amishare.errors import AwsError
from amishare.store import events as store

MAX_RULES = 300  # rules per event bus (AWS's default quota)
MAX_TARGETS = 5  # targets per rule
MAX_PATHS = 100  # InputPathsMap entries
RULE_STATES = ("ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
DEFAULT_RETRY = {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}


def bus_arn(ctx) -> str:
    return f"arn:aws:events:{ctx.region}:{ctx.account_id}:event-bus/default"


def check_bus(ctx, name) -> None:
    """Only each account's default bus exists here."""
    if name in (None, "default", bus_arn(ctx)):
        return
    shown = name.rsplit("/", 1)[-1] if isinstance(name, str) else name
    raise AwsError("ResourceNotFoundException", f"Event bus {shown} does not exist.")


def _missing_rule(name) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Rule {name} does not exist on EventBus default.")


def _rule(ctx, name):
    row = store.rule(ctx.conn, ctx.account_id, ctx.region, name)
    if row is None:
        raise _missing_rule(name)
    return row


def put_rule(ctx, params) -> str:
    check_bus(ctx, params.get("EventBusName"))
    name = params["Name"]
    if params.get("ScheduleExpression"):
        raise AwsError("ValidationException", "Parameter ScheduleExpression is not supported: rules here match "
                                              "events with an EventPattern.")
    if not params.get("EventPattern"):
        raise AwsError("ValidationException", "Parameter(s) EventPattern or ScheduleExpression must be specified.")
    pattern = event_patterns.parse(params["EventPattern"])
    state = params.get("State") or "ENABLED"
    if state not in RULE_STATES:
        raise AwsError("ValidationException", f"1 validation error detected: Value '{state}' at 'state' failed to "
                                              f"satisfy constraint: Member must satisfy enum value set: {list(RULE_STATES)}")
    values = dict(event_pattern=json.dumps(pattern), state=state, description=params.get("Description"),
                  role_arn=params.get("RoleArn"))
    if store.rule(ctx.conn, ctx.account_id, ctx.region, name) is not None:
        store.update_rule(ctx.conn, ctx.account_id, ctx.region, name, **values)
    else:
        if store.rule_count(ctx.conn, ctx.account_id, ctx.region) >= MAX_RULES:
            raise AwsError("LimitExceededException", f"The requested resource exceeds the maximum number allowed: "
                                                     f"{MAX_RULES} rules per event bus.")
        store.insert_rule(ctx.conn, account_id=ctx.account_id, region=ctx.region, name=name, created_at=ctx.now,
                          **values)
    return events.rule_arn(ctx.account_id, ctx.region, name)


def describe_rule(ctx, row) -> dict:
    out = {"Name": row["name"], "Arn": events.rule_arn(ctx.account_id, ctx.region, row["name"]),
           "EventPattern": row["event_pattern"], "State": row["state"], "EventBusName": "default",
           "CreatedBy": ctx.account_id}
    if row["description"] is not None:
        out["Description"] = row["description"]
    if row["role_arn"]:
        out["RoleArn"] = row["role_arn"]
    return out


def get_rule(ctx, params) -> dict:
    check_bus(ctx, params.get("EventBusName"))
    return describe_rule(ctx, _rule(ctx, params["Name"]))


def list_rules(ctx, params):
    check_bus(ctx, params.get("EventBusName"))
    limit = params.get("Limit") or 100
    fingerprint = pagination.fingerprint("ListRules", {"NamePrefix": params.get("NamePrefix")})
    after = pagination.decode(params["NextToken"], fingerprint, code="ValidationException") if params.get("NextToken") else None
    rows = store.rules_page(ctx.conn, ctx.account_id, ctx.region, params.get("NamePrefix"), after, limit + 1)
    token = None
    if len(rows) > limit:
        rows = rows[:limit]
        token = pagination.encode(rows[-1]["name"], fingerprint)
    return [describe_rule(ctx, r) for r in rows], token


def set_state(ctx, params, state: str) -> None:
    check_bus(ctx, params.get("EventBusName"))
    _rule(ctx, params["Name"])
    store.update_rule(ctx.conn, ctx.account_id, ctx.region, params["Name"], state=state)


def delete_rule(ctx, params) -> None:
    check_bus(ctx, params.get("EventBusName"))
    name = params["Name"]
    if store.rule(ctx.conn, ctx.account_id, ctx.region, name) is None:
        return  # AWS answers success for a rule that isn't there
    if store.targets(ctx.conn, ctx.account_id, ctx.region, name):
        if not params.get("Force"):
            raise AwsError("ValidationException", "Rule can't be deleted since it has targets.")
        store.delete_targets(ctx.conn, ctx.account_id, ctx.region, name)
    store.delete_rule(ctx.conn, ctx.account_id, ctx.region, name)


# --- targets


def _target_problem(ctx, target: dict) -> str | None:
    """Why a target can't be accepted, or None."""
    given = [k for k in ("Input", "InputPath", "InputTransformer") if target.get(k) is not None]
    if len(given) > 1:
        return "Only one of Input, InputPath, or InputTransformer can be specified."
    if target.get("Input") is not None:
        try:
            json.loads(target["Input"])
        except ValueError:
            return "Input is not valid JSON text."
    if target.get("InputPath") is not None and not events.valid_json_path(target["InputPath"]):
        return f"InputPath {target['InputPath']} is not a valid JSON path."
    transformer = target.get("InputTransformer")
    if transformer is not None:
        paths = transformer.get("InputPathsMap") or {}
        if len(paths) > MAX_PATHS:
            return f"InputPathsMap has more than {MAX_PATHS} entries."
        for name, path in paths.items():
            if name.startswith("aws.events."):
                return f"InputPathsMap key {name} is reserved."
            if not events.valid_json_path(path):
                return f"Path {path} of {name} is not a valid JSON path."
    retry = target.get("RetryPolicy") or {}
    attempts, age = retry.get("MaximumRetryAttempts"), retry.get("MaximumEventAgeInSeconds")
    if attempts is not None and not 0 <= attempts <= 185:
        return "MaximumRetryAttempts must be between 0 and 185."
    if age is not None and not 60 <= age <= 86400:
        return "MaximumEventAgeInSeconds must be between 60 and 86400."
    arn = target["Arn"]
    prefix = f"arn:aws:events:{ctx.region}:{ctx.account_id}:api-destination/"
    if not arn.startswith(prefix):
        return f"Target {arn} is not supported: targets here are API destinations of this account and Region."
    name = arn[len(prefix):].split("/", 1)[0]
    destination = store.api_destination(ctx.conn, ctx.account_id, ctx.region, name)
    if destination is None or destination["arn"] != arn:
        return f"API destination {arn} does not exist."
    return None


def put_targets(ctx, params) -> list[dict]:
    check_bus(ctx, params.get("EventBusName"))
    rule_name = params["Rule"]
    _rule(ctx, rule_name)
    existing = {t["target_id"] for t in store.targets(ctx.conn, ctx.account_id, ctx.region, rule_name)}
    for target in params["Targets"]:
        problem = _target_problem(ctx, target)
        if problem is not None:
            raise AwsError("ValidationException", problem)
    new_ids = {t["Id"] for t in params["Targets"]} - existing
    if len(existing) + len(new_ids) > MAX_TARGETS:
        raise AwsError("LimitExceededException", f"The requested resource exceeds the maximum number allowed: "
                                                 f"{MAX_TARGETS} targets per rule.")
    for target in params["Targets"]:
        store.put_target(ctx.conn, ctx.account_id, ctx.region, rule_name, target["Id"], target["Arn"],
                         json.dumps(target))
    return []


def remove_targets(ctx, params) -> list[dict]:
    check_bus(ctx, params.get("EventBusName"))
    _rule(ctx, params["Rule"])
    store.delete_targets(ctx.conn, ctx.account_id, ctx.region, params["Rule"], params["Ids"])
    return []


def list_targets(ctx, params):
    check_bus(ctx, params.get("EventBusName"))
    _rule(ctx, params["Rule"])
    limit = params.get("Limit") or 100
    rows = store.targets(ctx.conn, ctx.account_id, ctx.region, params["Rule"])  # at most MAX_TARGETS
    fingerprint = pagination.fingerprint("ListTargetsByRule", {"Rule": params["Rule"]})
    after = pagination.decode(params["NextToken"], fingerprint, code="ValidationException") if params.get("NextToken") else None
    rows = [r for r in rows if after is None or r["target_id"] > after]
    token = pagination.encode(rows[limit - 1]["target_id"], fingerprint) if len(rows) > limit else None
    return [json.loads(r["config"]) for r in rows[:limit]], token


# --- custom events


def put_events(ctx, entries: list[dict]) -> list[dict]:
    """PutEvents: each entry is published, or answered with its error code; the others go on."""
    results = []
    for entry in entries:
        try:
            event = _custom_event(ctx, entry)
        except AwsError as exc:
            results.append({"ErrorCode": exc.code, "ErrorMessage": exc.message})
            continue
        events.publish(ctx.conn, event, ctx.now)
        results.append({"EventId": event["id"]})
    return results


def _custom_event(ctx, entry: dict) -> dict:
    check_bus(ctx, entry.get("EventBusName"))
    source, detail_type, detail_text = entry.get("Source"), entry.get("DetailType"), entry.get("Detail")
    if not source:
        raise AwsError("InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument.")
    if not detail_type:
        raise AwsError("InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument.")
    if detail_text is None:
        raise AwsError("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument.")
    if source.startswith("aws."):
        raise AwsError("NotAuthorizedForSourceException", f"Not authorized for the source {source}.")
    if len(json.dumps(entry)) > events.MAX_EVENT_BYTES:
        raise AwsError("InvalidArgument", "Total size of the entry exceeds the limit of 256 KB.")
    try:
        detail = json.loads(detail_text)
    except (ValueError, RecursionError):
        detail = None
    if not isinstance(detail, dict):
        raise AwsError("MalformedDetail", "Detail is malformed.")
    event_time = events.iso_time(entry["Time"].timestamp() if hasattr(entry.get("Time"), "timestamp")
                                 else float(entry["Time"])) if entry.get("Time") is not None else None
    return events.new_event(source, detail_type, ctx.account_id, ctx.region, detail, ctx.now,
                            entry.get("Resources") or [], event_time)


def test_event_pattern(pattern_text: str, event_text: str) -> bool:
    pattern = event_patterns.parse(pattern_text)
    if len(event_text) > events.MAX_EVENT_BYTES:
        raise AwsError("ValidationException", "Parameter Event is not valid: it exceeds 256 KB.")
    try:
        event = json.loads(event_text)
    except (ValueError, RecursionError):
        event = None
    if not isinstance(event, dict):
        raise AwsError("ValidationException", "Parameter Event is not valid.")
    missing = [k for k in ("id", "account", "source", "time", "region", "detail-type") if k not in event]
    if missing:
        raise AwsError("ValidationException", f"Parameter Event is not valid: it has no {', '.join(missing)}.")
    return event_patterns.matches(pattern, event)
