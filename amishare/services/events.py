"""Amazon EventBridge (the `events` JSON 1.1 API): rules and targets on each account's
default event bus, custom events, connections and API destinations."""

from amishare.domain import event_connections, event_rules
from amishare.domain.resources import Resource
from amishare.services import operation

SERVICE = "events"


def _arn(ctx, kind: str, name) -> Resource:
    return Resource(f"arn:aws:events:{ctx.region}:{ctx.account_id}:{kind}/{name}", ctx.account_id)


def rule(param: str = "Name"):
    def name(ctx, params):
        return [_arn(ctx, "rule", params.get(param) or "*")]
    return name


def rules(ctx, params):
    return [_arn(ctx, "rule", "*")]


def bus(ctx, params):
    return [_arn(ctx, "event-bus", "default")]


def connection(ctx, params):
    return [_arn(ctx, "connection", params.get("Name") or "*")]


def destination(ctx, params):
    return [_arn(ctx, "api-destination", params.get("Name") or "*")]


def destinations(ctx, params):
    return [_arn(ctx, "api-destination", "*")]


@operation(SERVICE, resources=rule())
def put_rule(ctx, params):
    return {"RuleArn": event_rules.put_rule(ctx, params)}


@operation(SERVICE, resources=rule())
def describe_rule(ctx, params):
    return event_rules.get_rule(ctx, params)


@operation(SERVICE, resources=rules)
def list_rules(ctx, params):
    found, token = event_rules.list_rules(ctx, params)
    return {"Rules": found, "NextToken": token}


@operation(SERVICE, resources=rule())
def enable_rule(ctx, params):
    event_rules.set_state(ctx, params, "ENABLED")
    return {}


@operation(SERVICE, resources=rule())
def disable_rule(ctx, params):
    event_rules.set_state(ctx, params, "DISABLED")
    return {}


@operation(SERVICE, resources=rule())
def delete_rule(ctx, params):
    event_rules.delete_rule(ctx, params)
    return {}


@operation(SERVICE, resources=rule("Rule"))
def put_targets(ctx, params):
    failed = event_rules.put_targets(ctx, params)
    return {"FailedEntryCount": len(failed), "FailedEntries": failed}


@operation(SERVICE, resources=rule("Rule"))
def remove_targets(ctx, params):
    failed = event_rules.remove_targets(ctx, params)
    return {"FailedEntryCount": len(failed), "FailedEntries": failed}


@operation(SERVICE, resources=rule("Rule"))
def list_targets_by_rule(ctx, params):
    found, token = event_rules.list_targets(ctx, params)
    return {"Targets": found, "NextToken": token}


@operation(SERVICE, resources=bus)
def put_events(ctx, params):
    entries = event_rules.put_events(ctx, params["Entries"])
    return {"FailedEntryCount": sum(1 for e in entries if "ErrorCode" in e), "Entries": entries}


# Tests a pattern against an event given in the request: nothing stored is read or written.
@operation(SERVICE, writes=False)
def test_event_pattern(ctx, params):
    return {"Result": event_rules.test_event_pattern(params["EventPattern"], params["Event"])}


@operation(SERVICE, resources=connection)
def create_connection(ctx, params):
    return event_connections.create_connection(ctx, params)


@operation(SERVICE, resources=connection)
def describe_connection(ctx, params):
    return event_connections.describe_connection(ctx, params["Name"])


@operation(SERVICE, resources=connection)
def delete_connection(ctx, params):
    return event_connections.delete_connection(ctx, params["Name"])


@operation(SERVICE, resources=destination)
def create_api_destination(ctx, params):
    return event_connections.create_api_destination(ctx, params)


@operation(SERVICE, resources=destination)
def describe_api_destination(ctx, params):
    return event_connections.describe_api_destination(ctx, params["Name"])


@operation(SERVICE, resources=destinations)
def list_api_destinations(ctx, params):
    found, token = event_connections.list_api_destinations(ctx, params)
    return {"ApiDestinations": found, "NextToken": token}


@operation(SERVICE, resources=destination)
def delete_api_destination(ctx, params):
    event_connections.delete_api_destination(ctx, params["Name"])
    return {}
