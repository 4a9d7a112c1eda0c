"""Recycle Bin: retention rules (the rbin API) and the AMIs they keep.

A deregistered image that a rule of its owner's account and Region matches goes to the bin
instead of disappearing: kept whole (attributes, block devices, product codes, launch
permissions, tags) until RestoreImageFromRecycleBin puts it back as it was, or until its
retention period is over, when it is gone (settled when read)."""

import json
import secrets

from amishare.domain import ids, pagination
from amishare.errors import AwsError
from amishare.store import images as image_store
from amishare.store import recycle_bin as store
from amishare.store import settings as settings_store
from amishare.store import tags as tag_store

DAY = 86400
EC2_IMAGE = "EC2_IMAGE"
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _invalid(message):
    return AwsError("ValidationException", message, 400, fields={"Reason": "INVALID_PARAMETER_VALUE"})


def _not_found(rule_id):
    return AwsError("ResourceNotFoundException", f"Rule {rule_id} was not found.", 404, fields={"Reason": "RULE_NOT_FOUND"})


def _conflict(message):
    return AwsError("ConflictException", message, 409, fields={"Reason": "INVALID_RULE_STATE"})


# --- rules


def _tags(items, key_name="ResourceTagKey", value_name="ResourceTagValue") -> list:
    return [[t[key_name], t.get(value_name)] for t in items or ()]


def _check_retention(period) -> int:
    value = period["RetentionPeriodValue"]
    if period.get("RetentionPeriodUnit") != "DAYS":
        raise _invalid("RetentionPeriodUnit must be DAYS.")
    if not 1 <= value <= 3650:
        raise _invalid("RetentionPeriodValue must be between 1 and 3650 days.")
    return value


def _check_resource_type(value) -> str:
    if value != EC2_IMAGE:
        raise _invalid(f"Resource type {value} is not supported here; retention rules keep EC2_IMAGE resources.")
    return value


def _check_description(value):
    if value is not None and len(value) > 255:
        raise _invalid("Description must be at most 255 characters.")
    return value


def _check_selection(resource_tags, exclude_tags):
    if resource_tags and exclude_tags:
        raise _invalid("A rule can't have both ResourceTags and ExcludeResourceTags.")
    if len(resource_tags) > 50 or len(exclude_tags) > 5:
        raise _invalid("A rule takes at most 50 ResourceTags and 5 ExcludeResourceTags.")


def _lock_days(config) -> int:
    delay = config["UnlockDelay"]
    if delay.get("UnlockDelayUnit") != "DAYS" or not 7 <= delay["UnlockDelayValue"] <= 30:
        raise _invalid("UnlockDelay must be between 7 and 30 DAYS.")
    return delay["UnlockDelayValue"]


def lock_state(rule, now) -> str:
    """pending_unlock becomes unlocked when its unlock delay is over (settled when read)."""
    state = rule["lock_state"] or "unlocked"
    if state == "pending_unlock" and rule["lock_end_time"] is not None and rule["lock_end_time"] <= now:
        return "unlocked"
    return state


def rule_arn(rule) -> str:
    return f"arn:aws:rbin:{rule['region']}:{rule['account_id']}:rule/{rule['rule_id']}"


def describe(rule, now, *, summary=False) -> dict:
    state = lock_state(rule, now)
    retention = {"RetentionPeriodValue": rule["retention_days"], "RetentionPeriodUnit": "DAYS"}
    out = {"Identifier": rule["rule_id"], "Description": rule["description"] or "", "RetentionPeriod": retention,
           "LockState": state, "RuleArn": rule_arn(rule)}
    if summary:
        return out
    out.update({
        "ResourceType": rule["resource_type"],
        "ResourceTags": [{"ResourceTagKey": k, **({"ResourceTagValue": v} if v is not None else {})}
                         for k, v in json.loads(rule["resource_tags"])],
        "ExcludeResourceTags": [{"ResourceTagKey": k, **({"ResourceTagValue": v} if v is not None else {})}
                                for k, v in json.loads(rule["exclude_tags"])],
        "Status": "available",
    })
    if rule["lock_days"] is not None and state != "unlocked":
        out["LockConfiguration"] = {"UnlockDelay": {"UnlockDelayValue": rule["lock_days"], "UnlockDelayUnit": "DAYS"}}
    if state == "pending_unlock":
        out["LockEndTime"] = rule["lock_end_time"]
    return out


def create_rule(ctx, params) -> dict:
    days = _check_retention(params["RetentionPeriod"])
    resource_type = _check_resource_type(params["ResourceType"])
    resource_tags, exclude_tags = _tags(params.get("ResourceTags")), _tags(params.get("ExcludeResourceTags"))
    _check_selection(resource_tags, exclude_tags)
    lock = params.get("LockConfiguration")
    if lock is not None and resource_tags:
        raise _invalid("Only Region-level retention rules (without ResourceTags) can be locked.")
    lock_days = _lock_days(lock) if lock is not None else None
    rule_id = "".join(secrets.choice(_ALPHABET) for _ in range(11))
    store.insert_rule(
        ctx.conn, rule_id=rule_id, account_id=ctx.account_id, region=ctx.region, resource_type=resource_type,
        retention_days=days, description=_check_description(params.get("Description")),
        resource_tags=json.dumps(resource_tags), exclude_tags=json.dumps(exclude_tags),
        tags=json.dumps(_tags(params.get("Tags"), "Key", "Value")), lock_days=lock_days,
        lock_state="locked" if lock_days is not None else "unlocked", lock_end_time=None,
    )
    rule = store.get_rule(ctx.conn, ctx.account_id, ctx.region, rule_id)
    out = describe(rule, ctx.now)
    out["Tags"] = [{"Key": k, "Value": v} for k, v in json.loads(rule["tags"])]
    return out


def get_rule(ctx, rule_id):
    rule = store.get_rule(ctx.conn, ctx.account_id, ctx.region, rule_id)
    if rule is None:
        raise _not_found(rule_id)
    return rule


def _unlocked(ctx, rule, doing):
    if lock_state(rule, ctx.now) != "unlocked":
        raise _conflict(f"The rule {rule['rule_id']} is locked; it can't be {doing} until it is unlocked.")


def update_rule(ctx, params) -> dict:
    rule = get_rule(ctx, params["Identifier"])
    _unlocked(ctx, rule, "updated")
    values = {}
    if params.get("RetentionPeriod") is not None:
        values["retention_days"] = _check_retention(params["RetentionPeriod"])
    if params.get("ResourceType") is not None:
        values["resource_type"] = _check_resource_type(params["ResourceType"])
    if "Description" in params:
        values["description"] = _check_description(params["Description"])
    resource_tags = _tags(params["ResourceTags"]) if "ResourceTags" in params else json.loads(rule["resource_tags"])
    exclude_tags = (_tags(params["ExcludeResourceTags"]) if "ExcludeResourceTags" in params
                    else json.loads(rule["exclude_tags"]))
    _check_selection(resource_tags, exclude_tags)
    values.update(resource_tags=json.dumps(resource_tags), exclude_tags=json.dumps(exclude_tags),
                  lock_state="unlocked", lock_end_time=None, lock_days=None)
    store.update_rule(ctx.conn, rule["rule_id"], **values)
    return describe(get_rule(ctx, rule["rule_id"]), ctx.now)


def delete_rule(ctx, rule_id) -> None:
    rule = get_rule(ctx, rule_id)
    _unlocked(ctx, rule, "deleted")
    store.delete_rule(ctx.conn, rule_id)


def lock_rule(ctx, rule_id, config) -> dict:
    rule = get_rule(ctx, rule_id)
    if json.loads(rule["resource_tags"]):
        raise _invalid("Only Region-level retention rules (without ResourceTags) can be locked.")
    _unlocked(ctx, rule, "locked again")
    store.update_rule(ctx.conn, rule_id, lock_state="locked", lock_days=_lock_days(config), lock_end_time=None)
    return describe(get_rule(ctx, rule_id), ctx.now)


def unlock_rule(ctx, rule_id) -> dict:
    rule = get_rule(ctx, rule_id)
    if lock_state(rule, ctx.now) != "locked":
        raise _conflict(f"The rule {rule_id} is not locked.")
    store.update_rule(ctx.conn, rule_id, lock_state="pending_unlock", lock_end_time=ctx.now + rule["lock_days"] * DAY)
    return describe(get_rule(ctx, rule_id), ctx.now)


def _token_error(message):
    return AwsError("ValidationException", message, 400, fields={"Reason": "INVALID_PAGE_TOKEN"})


def list_rules(ctx, params):
    resource_type = params["ResourceType"]
    limit = params.get("MaxResults")
    if limit is not None and not 1 <= limit <= 1000:
        raise _invalid("MaxResults must be between 1 and 1000.")
    wanted_tags = _tags(params.get("ResourceTags")) if "ResourceTags" in params else None
    wanted_excluded = _tags(params.get("ExcludeResourceTags")) if "ExcludeResourceTags" in params else None
    fingerprint = pagination.fingerprint("rbin-rules", ctx.account_id, ctx.region, resource_type, wanted_tags,
                                         wanted_excluded, params.get("LockState"))
    try:
        after = pagination.decode(params.get("NextToken"), fingerprint)
    except AwsError as exc:
        raise _token_error(exc.message) from None
    rules = []
    for rule in store.list_rules(ctx.conn, ctx.account_id, ctx.region, resource_type, after):
        if wanted_tags is not None and sorted(map(tuple, json.loads(rule["resource_tags"]))) != sorted(map(tuple, wanted_tags)):
            continue
        if wanted_excluded is not None and sorted(map(tuple, json.loads(rule["exclude_tags"]))) != sorted(map(tuple, wanted_excluded)):
            continue
        if params.get("LockState") and lock_state(rule, ctx.now) != params["LockState"]:
            continue
        rules.append(rule)
    token = None
    if limit is not None and len(rules) > limit:
        rules = rules[:limit]
        token = pagination.encode(rules[-1]["rule_id"], fingerprint)
    return [describe(r, ctx.now, summary=True) for r in rules], token


# --- recycled images


def _has_tag(tags: dict, selection) -> bool:
    return any(key in tags and (value is None or tags[key] == value) for key, value in selection)


def retention_days(ctx, image) -> int | None:
    """The longest retention of the owner's rules that match the image, or None."""
    tags = {t["Key"]: t["Value"] for t in tag_store.for_resources(ctx.conn, image["owner_id"], [image["image_id"]])[image["image_id"]]}
    days = None
    for rule in store.list_rules(ctx.conn, image["owner_id"], image["region"], EC2_IMAGE):
        selection, excluded = json.loads(rule["resource_tags"]), json.loads(rule["exclude_tags"])
        matches = _has_tag(tags, selection) if selection else not _has_tag(tags, excluded)
        if matches:
            days = max(days or 0, rule["retention_days"])
    return days


def keep(ctx, image, devices, days: int) -> None:
    """Put the image, as it is now, in the bin (before it is deleted from the catalog)."""
    image_id = image["image_id"]
    store.expire(ctx.conn, image["owner_id"], image["region"], ctx.now)
    payload = {
        "image": dict(image),
        "devices": [{k: v for k, v in dict(d).items() if k not in ("image_id", "position")} for d in devices],
        "product_codes": [{k: v for k, v in dict(p).items() if k != "image_id"}
                          for p in image_store.product_codes(ctx.conn, [image_id])[image_id]],
        "launch_permissions": [[p["grantee_type"], p["grantee"], p["created_at"]]
                               for p in image_store.launch_permissions(ctx.conn, image_id)],
        "tags": [[t["Key"], t["Value"]] for t in tag_store.for_resources(ctx.conn, image["owner_id"], [image_id])[image_id]],
    }
    store.insert_recycled(ctx.conn, image_id=image_id, account_id=image["owner_id"], region=image["region"],
                          name=image["name"], description=image["description"], entered_at=ctx.now,
                          exit_at=ctx.now + days * DAY, payload=json.dumps(payload))


def list_images(ctx, image_ids, max_results, next_token):
    image_ids = ids.check_all("ami", image_ids or [])
    if max_results is not None and not 1 <= max_results <= 1000:
        raise AwsError("InvalidParameterValue", f"Value ( {max_results} ) for parameter maxResults is invalid. "
                                                "Expecting a value between 1 and 1000.")
    fingerprint = pagination.fingerprint("recycled-images", ctx.account_id, ctx.region, sorted(image_ids))
    after = pagination.decode(next_token, fingerprint)
    rows = [r for r in store.list_recycled(ctx.conn, ctx.account_id, ctx.region, image_ids, after,
                                           None if max_results is None else max_results + 1)
            if r["exit_at"] > ctx.now]
    token = None
    if max_results is not None and len(rows) > max_results:
        rows = rows[:max_results]
        token = pagination.encode(rows[-1]["image_id"], fingerprint)
    return rows, token


def restore_image(ctx, image_id) -> None:
    from amishare.domain.images import IMAGE_COUNT, _check_quota
    from amishare.domain.sharing import PUBLIC_COUNT

    ids.check("ami", image_id)
    row = store.get_recycled(ctx.conn, image_id)
    if row is None or row["account_id"] != ctx.account_id or row["region"] != ctx.region or row["exit_at"] <= ctx.now:
        raise ids.not_found("ami", [image_id])
    payload = json.loads(row["payload"])
    image = payload["image"]
    if image_store.image_named(ctx.conn, ctx.region, ctx.account_id, image["name"]):
        raise AwsError("InvalidAMIName.Duplicate",
                       f"AMI name {image['name']} is already in use by another AMI in this account and Region; "
                       f"{image_id} can't be restored.")
    _check_quota(ctx)  # a restored image counts against the AMI quota again
    if image.get("next_state") and image.get("next_state_at") is not None and image["next_state_at"] <= ctx.now:
        # It settled while in the bin: it comes back in that state, not as a transition still to announce.
        image.update(state=image["next_state"], next_state=None, next_state_at=None)
    image_store.insert_image(ctx.conn, image, payload["devices"], payload["product_codes"])
    for grantee_type, grantee, created_at in payload["launch_permissions"]:
        image_store.add_launch_permissions(ctx.conn, image_id, ctx.region, [(grantee_type, grantee)], created_at)
    if payload["tags"]:
        tag_store.upsert(ctx.conn, image_id, "image", ctx.account_id, ctx.region, payload["tags"])
    settings_store.add_to_counter(ctx.conn, ctx.account_id, ctx.region, IMAGE_COUNT, 1)
    if image["is_public"]:
        settings_store.add_to_counter(ctx.conn, ctx.account_id, ctx.region, PUBLIC_COUNT, 1)
    store.delete_recycled(ctx.conn, image_id)
    store.expire(ctx.conn, ctx.account_id, ctx.region, ctx.now)
