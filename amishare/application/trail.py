"""The audit trail's records: a call and how it ended, as the CloudTrail management event AWS
writes for it.

Pure functions of (call, operation, outcome): no store, no clock of their own, so the
audit trail, the command line and whatever publishes "AWS API Call via CloudTrail" events
build the same record. Parameters and results are written in the service's own CloudTrail
style (EC2's `…Set: {items: […]}` lists and `requestId`, lower-camel-case member names
elsewhere). Secrets never reach a record: members the service model marks sensitive (user
data, passwords, secret access keys, plaintext keys, e-mail addresses) are hidden in
requestParameters, as AWS hides them, and left out of responseElements.
"""

import json
import os
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import lru_cache

from amishare.application.call import Call, Outcome
from amishare.domain.catalog import AMAZON, MARKETPLACE
from amishare.models import service_model
from amishare.services import Operation

EVENT_VERSION = "1.10"
READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Lookup")
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
EC2_HIDDEN = "<sensitiveDataRemoved>"
# A record larger than this (JSON bytes) loses its responseElements, then its requestParameters
# (AWS omits oversized elements too); bounds what one call can make the trail hold.
MAX_RECORD_BYTES = 100 * 1024
MAX_RESOURCES = 50  # resources indexed per event (LookupEvents' ResourceName / ResourceType)
MAX_RESOURCE_NAME = 256
# Accounts whose images are everyone's (Amazon's, AWS Marketplace's): AWS delivers them no copy.
_SERVICE_ACCOUNTS = frozenset({AMAZON, MARKETPLACE})


@dataclass(slots=True)
class Entry:
    """One record for one recipient account, and what LookupEvents looks it up by. `text` is
    the record already serialized, while it is what `record` holds (see `serialize_entry`)."""

    record: dict
    account_id: str
    region: str
    event_time: float
    event_id: str
    event_name: str
    event_source: str
    read_only: bool
    username: str | None
    access_key_id: str | None
    resources: tuple[tuple[str, str], ...] = ()
    text: str | None = None


@lru_cache(maxsize=None)
def event_source(service: str) -> str:
    return f"{service_model(service).endpoint_prefix}.amazonaws.com"


def is_read_only(operation_name: str) -> bool:
    return operation_name.startswith(READ_ONLY_PREFIXES)


_last_second: tuple[float, str] = (-1.5, "")


def iso_time(epoch: float) -> str:
    global _last_second
    second = epoch // 1  # whole seconds as gmtime counts them (the floor, also before 1970)
    last = _last_second  # one read: another thread may replace it meanwhile
    if last[0] == second:  # a run of records in the same second writes the same text
        return last[1]
    text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
    _last_second = (second, text)
    return text


def new_event_id() -> str:
    """A random (version 4) UUID, as uuid.uuid4() writes it, for a fraction of its cost."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def build(call: Call, operation: Operation | None, outcome: Outcome) -> Entry | None:
    """The caller's record of a call, or None for a call of no known operation (nothing to name).

    The record's JSON text is written alongside it from pieces that repeat from call to call
    (the caller's identity, the operation, Region, address and user agent), so that only what
    is the call's own is encoded: what json.dumps of the record would write, at a third of its
    cost on the writer's CPU."""
    if operation is None:
        return None
    principal = call.principal
    read_only = is_read_only(operation.name)
    event_time = outcome.finished_at or outcome.started_at
    event_id = new_event_id()
    identity, head = _identity(principal)
    time_text = iso_time(event_time)
    source = event_source(call.service)
    source_ip = call.source_ip or "127.0.0.1"
    user_agent = call.user_agent or ""
    record = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": _copy(identity),
        "eventTime": time_text,
        "eventSource": source,
        "eventName": operation.name,
        "awsRegion": call.region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
    }
    parts = [head, _str(time_text), _where(source, operation.name, call.region, source_ip, user_agent)]
    if outcome.error is not None:
        record["errorCode"] = error_code(call.service, outcome)
        record["errorMessage"] = outcome.error.message
        parts += [',"errorCode":', _json(record["errorCode"]), ',"errorMessage":', _json(record["errorMessage"])]
    parameters = record["requestParameters"] = request_parameters(call, operation)
    elements = record["responseElements"] = (None if read_only or outcome.error is not None
                                             else response_elements(call, operation, outcome))
    record["requestID"] = call.request_id
    record["eventID"] = event_id
    record["readOnly"] = read_only
    # Event history names the resources of calls that change something (not of reads).
    resources = () if read_only else named_resources(call, outcome)
    record.update({"eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": principal.account_id,
                   "eventCategory": "Management"})
    parts += [',"requestParameters":', _json(parameters), ',"responseElements":', _json(elements),
              ',"requestID":', _json(call.request_id), ',"eventID":"', event_id,
              '","readOnly":true' if read_only else '","readOnly":false',
              ',"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":', _json(principal.account_id),
              ',"eventCategory":"Management"}']
    return Entry(record, principal.account_id, call.region, event_time, event_id, operation.name,
                 source, read_only, username(principal), principal.access_key_id, resources, "".join(parts))


# The JSON of the record's recurring pieces, each remembered for the last IDENTITIES callers
# (or call sites): cheap to rebuild, so a full cache is simply emptied.
IDENTITIES = 4096
_identities: dict[tuple, tuple[dict, str]] = {}
_wheres: dict[tuple, str] = {}
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str)
_json = _ENCODER.encode
_str = json.encoder.encode_basestring_ascii  # a str's JSON, as _json writes it


def _identity(principal) -> tuple[dict, str]:
    """The caller's userIdentity, and the record's JSON up to its eventTime value."""
    key = (principal.kind, principal.unique_id, principal.arn, principal.account_id, principal.access_key_id,
           principal.name, principal.issuer_arn, principal.session_created_at)
    found = _identities.get(key)
    if found is None:
        identity = user_identity(principal)
        found = (identity, '{"eventVersion":' + _str(EVENT_VERSION) + ',"userIdentity":' + _json(identity)
                 + ',"eventTime":')
        if len(_identities) >= IDENTITIES:
            _identities.clear()
        _identities[key] = found
    return found


def _copy(identity: dict) -> dict:
    """The remembered userIdentity, as a record's own (nothing a record holds is shared)."""
    copied = dict(identity)
    if "sessionContext" in copied:
        copied["sessionContext"] = {key: dict(value) for key, value in copied["sessionContext"].items()}
    return copied


def _where(source: str, name: str, region, source_ip, user_agent) -> str:
    key = (source, name, region, source_ip, user_agent)
    text = _wheres.get(key)
    if text is None:
        text = (',"eventSource":' + _json(source) + ',"eventName":' + _json(name) + ',"awsRegion":' + _json(region)
                + ',"sourceIPAddress":' + _json(source_ip) + ',"userAgent":' + _json(user_agent))
        if len(_wheres) >= IDENTITIES:
            _wheres.clear()
        _wheres[key] = text
    return text


def owner_copy(entry: Entry, owner_account: str, resource: tuple[str, str] | None = None) -> Entry:
    """The record AWS delivers to the account that owns a resource another account's call used
    (B launching or copying A's shared image): its own event id, the same sharedEventID in both
    records, the caller named only by account, and none of the caller's results (the only
    resource it names is the owner's own, `resource`: (ResourceType, ResourceName))."""
    shared = entry.record.get("sharedEventID") or new_event_id()
    caller = entry.record["userIdentity"]
    copy_id = new_event_id()
    record = dict(entry.record, eventID=copy_id, recipientAccountId=owner_account, sharedEventID=shared,
                  responseElements=None,
                  userIdentity={"type": "AWSAccount", "principalId": caller.get("principalId", ""),
                                "accountId": caller["accountId"]})
    if "sharedEventID" not in entry.record:
        entry.record["sharedEventID"] = shared
        if entry.text is not None:  # the key json.dumps writes last
            entry.text = entry.text[:-1] + ',"sharedEventID":' + _str(shared) + "}"
    return replace(entry, record=record, account_id=owner_account, event_id=copy_id, username=None,
                   access_key_id=None, resources=(resource,) if resource else (), text=None)


def user_identity(principal) -> dict:
    identity = {"type": {"root": "Root", "user": "IAMUser", "assumed-role": "AssumedRole"}.get(principal.kind, "Unknown"),
                "principalId": principal.unique_id or principal.account_id, "arn": principal.arn,
                "accountId": principal.account_id}
    if principal.access_key_id:
        identity["accessKeyId"] = principal.access_key_id
    if principal.kind == "user":
        identity["userName"] = principal.name
    elif principal.kind == "assumed-role":
        role_id = (principal.unique_id or "").split(":", 1)[0]
        identity["sessionContext"] = {
            "sessionIssuer": {"type": "Role", "principalId": role_id,
                              "arn": principal.issuer_arn or f"arn:aws:iam::{principal.account_id}:role/{principal.name}",
                              "accountId": principal.account_id, "userName": principal.name},
            "attributes": {"creationDate": iso_time(principal.session_created_at) if principal.session_created_at
                           else None, "mfaAuthenticated": "false"},
        }
    return identity


def username(principal) -> str | None:
    """LookupEvents' Username: the IAM user's name, the role session's name, or root."""
    if principal.kind == "root":
        return "root"
    if principal.kind == "assumed-role":
        return principal.session_name
    return principal.name


def error_code(service: str, outcome: Outcome) -> str:
    """EC2 writes its errors as Client.<Code> (the caller's fault) or Server.<Code>; the other services
    write the code they answered."""
    code = outcome.error.code
    if service == "ec2":
        return ("Client." if outcome.error.sender else "Server.") + code
    return code


# --- requestParameters and responseElements


@lru_cache(maxsize=None)
def _shapes(service: str, operation: str):
    model = service_model(service).operation_model(operation)
    return model.input_shape, model.output_shape


def request_parameters(call: Call, operation: Operation) -> dict | None:
    shape = _shapes(call.service, operation.name)[0]
    if shape is None:
        return None
    params = dict(call.params)
    if call.dry_run:
        params["DryRun"] = True  # the front end took it out of the parameters to put it on the call
    style = _Style(call.service, request=True)
    written = style.structure(shape, params, top=True)
    return written or None


def response_elements(call: Call, operation: Operation, outcome: Outcome) -> dict | None:
    shape = _shapes(call.service, operation.name)[1]
    style = _Style(call.service, request=False)
    written = style.structure(shape, outcome.result or {}) if shape is not None else {}
    if call.service == "ec2":
        # EC2 answers true to the calls that return nothing else (CreateTags, ...).
        return {"requestId": call.request_id, **written} if shape is not None else \
            {"requestId": call.request_id, "_return": True}
    return written or None


def serialize(record: dict) -> str:
    """The record as stored and delivered. requestParameters or responseElements that would
    make it larger than MAX_RECORD_BYTES are left out (set to null in `record` itself)."""
    text = _json(record)
    if len(text) <= MAX_RECORD_BYTES:
        return text
    for key in ("responseElements", "requestParameters"):
        record[key] = None
        text = _json(record)
        if len(text) <= MAX_RECORD_BYTES:
            break
    return text


def serialize_entry(entry: Entry) -> str:
    """`serialize(entry.record)`, from the text `build` wrote when it is still the record's."""
    if entry.text is not None and len(entry.text) <= MAX_RECORD_BYTES:
        return entry.text
    return serialize(entry.record)


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


class _Style:
    """How one service's CloudTrail events write a structure."""

    def __init__(self, service: str, request: bool):
        self.ec2 = service == "ec2"
        self.request = request

    def structure(self, shape, value: dict, top: bool = False) -> dict:
        out = {}
        if not isinstance(value, dict):
            return out
        members = shape.members
        for name, item in value.items():  # what was sent, usually a few of many members
            member = members.get(name)
            if member is None or item is None:
                continue
            if _sensitive(member):
                if self.request:
                    out[self._key(name, member, top)] = EC2_HIDDEN if self.ec2 else HIDDEN
                continue  # never in responseElements
            out[self._key(name, member, top)] = self.value(member, item)
        return out

    # (style, member shape, top level) -> its key: shapes are the models' own, built once.
    _keys: dict[tuple, str] = {}

    def _key(self, name: str, member, top: bool) -> str:
        cache_key = (self.ec2, self.request, top, name, id(member))
        key = self._keys.get(cache_key)
        if key is None:
            key = self._keys[cache_key] = self._new_key(name, member, top)
        return key

    def _new_key(self, name: str, member, top: bool) -> str:
        if not self.ec2:
            return _lower_first(name)
        key = _lower_first(member.serialization.get("name") or name)
        if self.request and top and member.type_name == "list":  # ImageId.N -> imageIdSet
            return key + "Set"
        return "_return" if key == "return" else key

    def value(self, shape, value):
        kind = shape.type_name
        if kind == "structure":
            return self.structure(shape, value) if isinstance(value, dict) else None
        if kind == "list":
            items = [self._list_item(shape, item) for item in (value or [])]
            return {"items": items} if self.ec2 else items
        if kind == "map":
            return {str(k): self.value(shape.value, v) for k, v in (value or {}).items()} if isinstance(value, dict) else None
        if kind == "timestamp":
            return _timestamp(value)
        if kind == "blob":
            return None  # binary payloads (key material, ciphertexts) are not written
        return value

    def _list_item(self, shape, item):
        member = shape.member
        written = self.value(member, item)
        if self.ec2 and member.type_name not in ("structure", "list", "map"):
            # EC2 writes a list of strings as items of one-member structures named like the
            # query parameter: ImageId.1=ami-… -> {"imageId": "ami-…"}
            name = shape.serialization.get("name") or member.serialization.get("name") or member.name
            return {_lower_first(name): written}
        return written


def _sensitive(shape) -> bool:
    return bool(shape.metadata.get("sensitive"))


def _timestamp(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return iso_time(value)
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


# --- the resources a call names


_RESOURCE_PARAMS = {
    "ImageId": "AWS::EC2::Image", "ImageIds": "AWS::EC2::Image", "SourceImageId": "AWS::EC2::Image",
    "InstanceId": "AWS::EC2::Instance", "InstanceIds": "AWS::EC2::Instance",
    "SnapshotId": "AWS::EC2::Snapshot", "SnapshotIds": "AWS::EC2::Snapshot", "SourceSnapshotId": "AWS::EC2::Snapshot",
    "VolumeId": "AWS::EC2::Volume", "VolumeIds": "AWS::EC2::Volume",
    "UserName": "AWS::IAM::User", "RoleName": "AWS::IAM::Role", "GroupName": "AWS::IAM::Group",
    "PolicyArn": "AWS::IAM::Policy",
    "KeyId": "AWS::KMS::Key", "TargetKeyId": "AWS::KMS::Key",
}
_EC2_ID_TYPES = {"ami": "AWS::EC2::Image", "i": "AWS::EC2::Instance", "snap": "AWS::EC2::Snapshot",
                 "vol": "AWS::EC2::Volume"}
_RESULT_PATHS = (
    (("ImageId",), "AWS::EC2::Image"), (("SnapshotId",), "AWS::EC2::Snapshot"), (("VolumeId",), "AWS::EC2::Volume"),
    (("Instances", "InstanceId"), "AWS::EC2::Instance"), (("KeyMetadata", "Arn"), "AWS::KMS::Key"),
    (("User", "UserName"), "AWS::IAM::User"), (("Role", "RoleName"), "AWS::IAM::Role"),
    (("Policy", "Arn"), "AWS::IAM::Policy"),
)


def named_resources(call: Call, outcome: Outcome) -> tuple[tuple[str, str], ...]:
    """(ResourceType, ResourceName) of what a call names or made, at most MAX_RESOURCES."""
    found: dict[tuple[str, str], None] = {}

    def add(kind: str, value) -> None:
        if isinstance(value, str) and value and len(found) < MAX_RESOURCES:
            found.setdefault((kind, value[:MAX_RESOURCE_NAME]), None)

    for param, value in call.params.items():
        kind = _RESOURCE_PARAMS.get(param)
        if kind is not None:
            for item in value if isinstance(value, list) else [value]:
                add(kind, item)
        elif param == "Resources" and call.service == "ec2" and isinstance(value, list):  # CreateTags, DeleteTags
            for item in value:
                kind = _EC2_ID_TYPES.get(item.split("-", 1)[0]) if isinstance(item, str) else None
                if kind:
                    add(kind, item)
    if outcome.error is None and isinstance(outcome.result, dict):
        for path, kind in _RESULT_PATHS:
            for value in _at(outcome.result, path):
                add(kind, value)
    return tuple(found)


def _at(value, path):
    if not path:
        yield value
        return
    if isinstance(value, list):
        for item in value[:MAX_RESOURCES]:
            yield from _at(item, path)
    elif isinstance(value, dict) and path[0] in value:
        yield from _at(value[path[0]], path[1:])


# --- calls on another account's resources


# Operations whose record AWS also delivers to the owner of the resource a parameter names:
# operation -> (resource kind, parameter, the parameter naming its Region, if not the call's).
CROSS_ACCOUNT = {
    ("ec2", "RunInstances"): ("image", "ImageId", None),
    ("ec2", "CopyImage"): ("image", "SourceImageId", "SourceRegion"),
    ("ec2", "CreateVolume"): ("snapshot", "SnapshotId", None),
    ("ec2", "CopySnapshot"): ("snapshot", "SourceSnapshotId", "SourceRegion"),
}


def cross_account_target(call: Call, outcome: Outcome) -> tuple[str, str, str] | None:
    """(kind, id, Region) of the resource whose owner gets a copy of a successful call's record."""
    if outcome.error is not None:
        return None
    target = CROSS_ACCOUNT.get((call.service, call.operation))
    if target is None:
        return None
    kind, param, region_param = target
    resource_id = call.params.get(param)
    region = call.params.get(region_param) if region_param else call.region
    if not isinstance(resource_id, str) or not isinstance(region, str):
        return None
    return kind, resource_id, region


RESOURCE_TYPES = {"image": "AWS::EC2::Image", "snapshot": "AWS::EC2::Snapshot"}


def delivers_copy_to(owner: str | None, caller: str) -> bool:
    return bool(owner) and owner != caller and owner not in _SERVICE_ACCOUNTS
