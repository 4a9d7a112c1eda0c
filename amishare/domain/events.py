"""Events on each account's default event bus, and their publication.

`publish` matches an event against the bus's enabled rules and writes one outbox
row per matching target, in the caller's transaction: an event exists exactly when
the change that produced it commits (never for a rolled-back call or a dry run).
Delivering the outbox is the delivery workers' job (`application/delivery.py`).

Producers: EC2 AMI state changes (`image_state_changed`, from the image operations
and from the settler of timed transitions), CloudTrail records of write calls
(`cloudtrail_listener`) and PutEvents.
"""

import json
import re
import time
import uuid

from amishare.domain import event_patterns
from amishare.store import events as store

AMI_STATE_CHANGE = "EC2 AMI State Change"
API_CALL = "AWS API Call via CloudTrail"
MAX_EVENT_BYTES = 256 * 1024


def iso_time(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))


def new_event(source: str, detail_type: str, account_id: str, region: str, detail: dict, now: float,
              resources=(), event_time: str | None = None) -> dict:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": source,
            "account": account_id, "time": event_time or iso_time(now), "region": region,
            "resources": list(resources), "detail": detail}


def publish(conn, event: dict, now: float) -> None:
    """Queue `event` for every target of every enabled rule of its bus that it matches."""
    account_id, region = event["account"], event["region"]
    for row in store.enabled_rules_with_targets(conn, account_id, region):
        if not event_patterns.matches(json.loads(row["event_pattern"]), event):
            continue
        target = json.loads(row["config"])
        store.enqueue(conn, account_id=account_id, region=region, rule_name=row["name"], target_id=row["target_id"],
                      target_arn=row["arn"], event_id=event["id"],
                      body=target_input(target, event, row["name"], rule_arn(account_id, region, row["name"])),
                      target=row["config"], created_at=now, due_at=now)


def rule_arn(account_id: str, region: str, name: str) -> str:
    return f"arn:aws:events:{region}:{account_id}:rule/{name}"


# --- producers


def image_state_changed(conn, image_id: str, region: str, owner_id: str, state: str, request_id: str,
                        now: float, error_message: str = "") -> None:
    """EC2's `EC2 AMI State Change` event: an image became available, failed, was deregistered or disabled."""
    detail = {"RequestId": request_id, "ImageId": image_id, "State": state, "ErrorMessage": error_message}
    publish(conn, new_event("aws.ec2", AMI_STATE_CHANGE, owner_id, region, detail, now,
                            [f"arn:aws:ec2:{region}::image/{image_id}"]), now)


def settle_due_images(conn, now: float, limit: int = 100) -> int:
    """Write the settled state of images whose timed transition has come due, with their state
    change event. The conditional update makes it happen once, whichever worker gets there first."""
    settled = 0
    for row in store.due_images(conn, now, limit):
        if store.settle_image(conn, row["image_id"], row["next_state"], row["next_state_at"]):
            image_state_changed(conn, row["image_id"], row["region"], row["owner_id"], row["next_state"],
                                str(uuid.uuid4()), now)
            settled += 1
    return settled


def settle_before_change(ctx, image) -> None:
    """Before a call replaces an image's state (disable, deregister): if its timed transition has
    come due but the settler hasn't written it yet, write it now with its event, so the image's
    `available` is never skipped and still told once."""
    if image["next_state"] is None or image["next_state_at"] is None or image["next_state_at"] > ctx.now:
        return
    if store.settle_image(ctx.conn, image["image_id"], image["next_state"], image["next_state_at"]):
        image_state_changed(ctx.conn, image["image_id"], image["region"], image["owner_id"], image["next_state"],
                            ctx.request_id, ctx.now)


def cloudtrail_listener(conn, record: dict) -> None:
    """`AWS API Call via CloudTrail` for a write call's CloudTrail record (EventBridge receives the
    management events that aren't read-only), on the default bus of the account and Region
    the record is delivered to."""
    if record.get("readOnly") in (True, "true"):
        return
    account_id = record.get("recipientAccountId") or (record.get("userIdentity") or {}).get("accountId")
    region = record.get("awsRegion")
    event_source = record.get("eventSource") or ""
    if not account_id or not region or not event_source:
        return
    now = time.time()
    source = "aws." + event_source.split(".amazonaws.com")[0]
    publish(conn, new_event(source, API_CALL, account_id, region, record, now, event_time=record.get("eventTime")),
            now)


# --- what a target receives


def target_input(target: dict, event: dict, rule_name: str, rule_arn_: str) -> str:
    """The body a target receives: the event, or its Input, InputPath or InputTransformer."""
    if target.get("Input") is not None:
        return target["Input"]
    if target.get("InputPath"):
        found = json_path(event, target["InputPath"])
        return json.dumps(found) if found is not None else ""
    transformer = target.get("InputTransformer")
    if transformer:
        values = {name: json_path(event, path) for name, path in (transformer.get("InputPathsMap") or {}).items()}
        values["aws.events.rule-name"] = rule_name
        values["aws.events.rule-arn"] = rule_arn_
        values["aws.events.event.ingestion-time"] = event["time"]
        values["aws.events.event"] = event
        values["aws.events.event.json"] = event
        return render_template(transformer["InputTemplate"], values)
    return json.dumps(event)


_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def valid_json_path(path: str) -> bool:
    if not isinstance(path, str) or not path.startswith("$"):
        return False
    rest = path[1:]
    return "".join(m.group(0) for m in _PATH_STEP.finditer(rest)) == rest


def json_path(document, path: str):
    """The value at a JSONPath of the simple form EventBridge uses ($.detail.key, $.resources[0]); None when absent."""
    node = document
    for match in _PATH_STEP.finditer(path[1:]):
        key, index = match.group(1), match.group(2)
        if key is not None:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        else:
            if not isinstance(node, list) or int(index) >= len(node):
                return None
            node = node[int(index)]
    return node


def render_template(template: str, values: dict) -> str:
    """Fill an InputTemplate's <placeholders>: a string goes in as its JSON-escaped text (so that
    "<name>" in a JSON template stays a string), anything else as JSON; an unknown or absent
    value as null inside JSON, nothing in plain text."""
    def fill(match):
        name = match.group(1)
        if name not in values:
            return match.group(0)
        value = values[name]
        if value is None:
            return "null"
        if isinstance(value, str):
            return json.dumps(value)[1:-1]
        return json.dumps(value)
    return _PLACEHOLDER.sub(fill, template)
