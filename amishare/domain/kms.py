"""AWS KMS keys: their lifecycle, aliases, grants and key policies, and the
check EC2 makes before it decrypts a snapshot for a volume."""

import json
import re
import secrets
import uuid

from amishare.domain import authz, organizations, pagination, policy, trace
from amishare.domain.resources import Resource
from amishare.errors import AwsError
from amishare.store import kms as store

EBS_ALIAS = "alias/aws/ebs"
ARN_RE = re.compile(r"arn:aws:kms:([a-z0-9-]+):([0-9]{12}):(key|alias)/(.+)")
KEY_ID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# What EBS does with a key when it creates a volume from an encrypted snapshot.
EBS_OPERATIONS = ("kms:DescribeKey", "kms:CreateGrant", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
                  "kms:GenerateDataKeyWithoutPlaintext")
GRANT_OPERATIONS = {"Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom",
                    "ReEncryptTo", "Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant", "DescribeKey",
                    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac",
                    "DeriveSharedSecret"}
# Grant operations a grant constraint does not apply to; it applies to the cryptographic ones, and
# to CreateGrant as the least a child grant must require.
UNCONSTRAINED_OPERATIONS = {"DescribeKey", "RetireGrant"}
# Operations without an encryption context, which a grant with constraints can't include.
NO_CONTEXT_OPERATIONS = {"Sign", "Verify", "GetPublicKey", "GenerateMac", "VerifyMac", "DeriveSharedSecret"}
CONSTRAINT_TYPES = ("EncryptionContextSubset", "EncryptionContextEquals")
# The grant operations kms:GrantIsForAWSResource is supplied for.
GRANT_ACTIONS = ("kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant")
MAX_CONTEXT_PAIRS = 8
MAX_CONTEXT_CHARS = 384
GRANTEE_RE = re.compile(r"[\w+=,.@:/-]+", re.ASCII)
GRANT_NAME_RE = re.compile(r"[a-zA-Z0-9:/_-]+")
MAX_TAGS = 50


def key_arn(row) -> str:
    return f"arn:aws:kms:{row['region']}:{row['account_id']}:key/{row['key_id']}"


def default_policy(account_id: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "kms:*", "Resource": "*",
        }],
    }, indent=2)


def _aws_managed_policy(account_id: str, region: str) -> str:
    """Like the policy of AWS's alias/aws/ebs: usable through EBS by the owning account only."""
    return json.dumps({
        "Version": "2012-10-17",
        "Id": "auto-ebs-2",
        "Statement": [
            {"Sid": "Allow access through EBS for all principals in the account that are authorized to use EBS",
             "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant",
                        "kms:DescribeKey"],
             "Resource": "*",
             "Condition": {"StringEquals": {"kms:ViaService": f"ec2.{region}.amazonaws.com",
                                            "kms:CallerAccount": account_id}}},
            {"Sid": "Allow direct access to key metadata to the account", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
             "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"], "Resource": "*"},
        ],
    }, indent=2)


def _malformed(message: str) -> AwsError:
    return AwsError("MalformedPolicyDocumentException", message)


def _not_found(key_ref: str, account_id: str, region: str) -> AwsError:
    """AWS names the key by its ARN: the ARN given, or the one a bare key id has in the caller's
    account and Region; a reference that is neither is an invalid key id."""
    match = ARN_RE.fullmatch(key_ref)
    if match and match.group(3) == "alias":
        return AwsError("NotFoundException", f"Alias {key_ref} is not found.")
    if not match and KEY_ID_RE.fullmatch(key_ref):
        key_ref = f"arn:aws:kms:{region}:{account_id}:key/{key_ref}"
    elif not match:
        return AwsError("NotFoundException", f"Invalid keyId {key_ref}")
    return AwsError("NotFoundException", f"Key '{key_ref}' does not exist")


def _validation(message: str) -> AwsError:
    return AwsError("ValidationException", f"1 validation error detected: {message}")


def _context(ctx, key_row, via_ec2: bool) -> dict:
    context = {"aws:principalaccount": [ctx.account_id], "kms:calleraccount": [ctx.account_id],
               "aws:principalarn": [f"arn:aws:iam::{ctx.account_id}:root"]}
    membership = organizations.principal_org(ctx.conn, ctx.account_id, ctx.principal.org_generation)
    if membership is not None:
        context["aws:principalorgid"] = [membership.org_id]
        context["aws:principalorgpaths"] = [membership.org_path]
    if via_ec2:
        context["kms:viaservice"] = [f"ec2.{key_row['region']}.amazonaws.com"]
    return context


def decide(ctx, key_row, action: str, via_ec2: bool = False, extra: dict | None = None, grants: bool = True) -> str:
    """Allow, Deny or NotApplicable for the caller doing `action` on the key, as the one evaluation
    (domain/authz.py) decides it: the key policy (or, unless `grants` is false, a grant) with the
    caller's own policies and SCPs; `extra` are condition keys of the request (grant_context)."""
    return verdict(decision(ctx, key_row, action, via_ec2, extra, grants))


def verdict(decision: authz.Decision) -> str:
    if decision.allowed:
        return policy.ALLOW
    return policy.DENY if decision.explicit_deny else policy.NOT_APPLICABLE


def decision(ctx, key_row, action: str, via_ec2: bool = False, extra: dict | None = None,
             grants: bool = True) -> authz.Decision:
    """The decision itself; while an explanation is recorded, with the key policy statements
    (by Sid), the caller's own statements and SCP statements, and the grants it was made from."""
    # EBS asks about several actions on one key in one call: what they share is read once per call.
    memo = ctx.memo.setdefault("kms-decisions", {})
    if (key_row["key_id"], via_ec2) not in memo:
        memo[(key_row["key_id"], via_ec2)] = as_resource(ctx, key_row, via_ec2)
    if "request" not in memo:
        memo["request"] = (authz.request_context(ctx.conn, ctx.principal, ctx.region, ctx.now, ctx.source_ip,
                                                 ctx.secure_transport), authz.scp_levels(ctx.conn, ctx.principal))
    resource = memo[(key_row["key_id"], via_ec2)]
    request_context, levels = memo["request"]
    granting = resource.granting(ctx.principal, action) if grants else []
    target = authz.Target(action, resource.arn, resource.account_id, resource.policy, resource.policy_required,
                          bool(granting))
    context = {**request_context, **resource.context, **(extra or {})}
    if via_ec2 and action in GRANT_ACTIONS:
        context["kms:grantisforawsresource"] = ["true"]  # EBS manages grants on the caller's behalf
    return authz.decide(ctx.conn, ctx.principal, target, context, levels, explain=trace.active(ctx),
                        grant_ids=tuple(granting))


def as_resource(ctx, key_row, via_ec2: bool = False) -> Resource:
    """The key as authorization sees it: its ARN, owner, key policy (the only authority over it),
    grants (with the operations each allows to a call that carries no encryption context) and
    the KMS condition keys."""
    grants = []
    for grant in store.grants(ctx.conn, key_row["key_id"]):
        constrained = bool(json.loads(grant["grant_constraints"] or "{}"))
        operations = [op for op in json.loads(grant["operations"])
                      if not constrained or op in UNCONSTRAINED_OPERATIONS or op == "CreateGrant"]
        grants.append((grant["grantee_principal"], frozenset(f"kms:{op}" for op in operations), grant["grant_id"]))
    context = {"kms:calleraccount": [ctx.account_id]}
    if via_ec2:
        context["kms:viaservice"] = [f"ec2.{key_row['region']}.amazonaws.com"]
    return Resource(key_arn(key_row), key_row["account_id"], context, policy.load_stored(key_row["policy"]), True,
                    tuple(grants))


def key_resource(ctx, key_ref: str, allow_alias: bool = True) -> Resource:
    """The key a call names, for the authorization step; an unknown key is NotFoundException first."""
    return as_resource(ctx, resolve(ctx, key_ref, allow_alias))


def alias_resource(ctx, alias_name: str) -> list[Resource]:
    """The key an alias of the caller's points to (none when there is no such alias)."""
    alias = store.alias(ctx.conn, ctx.account_id, ctx.region, alias_name) if isinstance(alias_name, str) else None
    row = store.key(ctx.conn, alias["key_id"]) if alias else None
    return [as_resource(ctx, row)] if row is not None else []


def _callers_grants(ctx, key_row) -> list[dict]:
    """The caller's grants on the key, as {"operations": set, "constraints": dict}."""
    out = []
    for grant in store.grants(ctx.conn, key_row["key_id"]):
        if grant["grantee_principal"] in (ctx.account_id, f"arn:aws:iam::{ctx.account_id}:root"):
            out.append({"operations": set(json.loads(grant["operations"])),
                        "constraints": json.loads(grant["grant_constraints"] or "{}")})
    return out


def _granting(ctx, key_row, action: str) -> list[dict]:
    """The caller's grants that allow `action`. amishare's calls carry no encryption context, so a
    grant with constraints allows only the operations its constraints don't apply to, and CreateGrant
    (whose child grants inherit the constraints, see create_grant)."""
    operation = action.split(":", 1)[1]
    return [g for g in _callers_grants(ctx, key_row)
            if operation in g["operations"]
            and (not g["constraints"] or operation in UNCONSTRAINED_OPERATIONS or operation == "CreateGrant")]


def _denied(ctx, key_row, action: str) -> AwsError:
    return AwsError(
        "AccessDeniedException",
        f"User: arn:aws:iam::{ctx.account_id}:root is not authorized to perform: {action} on resource: "
        f"{key_arn(key_row)} because no resource-based policy allows the {action} action",
    )


def resolve(ctx, key_ref: str, allow_alias: bool = True, region: str | None = None):
    """The key a KeyId names: a key id or alias in the caller's account, or a key or alias ARN."""
    region = region or ctx.region
    if not key_ref:
        raise AwsError("ValidationException", "KeyId must not be empty.")
    match = ARN_RE.fullmatch(key_ref)
    if match:
        arn_region, account, kind, rest = match.groups()
        if arn_region != region:
            raise _not_found(key_ref, ctx.account_id, region)
        if kind == "alias":
            alias = store.alias(ctx.conn, account, region, "alias/" + rest)
            row = store.key(ctx.conn, alias["key_id"]) if alias else None
        else:
            row = store.key(ctx.conn, rest)
        if row is None or row["account_id"] != account or row["region"] != region:
            raise _not_found(key_ref, ctx.account_id, region)
        return row
    if key_ref.startswith("alias/"):
        if not allow_alias:
            raise AwsError("ValidationException", "An alias is not accepted here; specify a key id or key ARN.")
        alias = store.alias(ctx.conn, ctx.account_id, region, key_ref)
        if alias is None:
            if key_ref == EBS_ALIAS:
                return store.key(ctx.conn, ensure_ebs_key(ctx, ctx.account_id, region))
            raise AwsError("NotFoundException", f"Alias arn:aws:kms:{region}:{ctx.account_id}:{key_ref} is not found.")
        return store.key(ctx.conn, alias["key_id"])
    row = store.key(ctx.conn, key_ref) if KEY_ID_RE.fullmatch(key_ref) else None
    if row is None or row["account_id"] != ctx.account_id or row["region"] != region:
        raise _not_found(key_ref, ctx.account_id, region)
    return row


def ensure_ebs_key(ctx, account_id: str, region: str) -> str:
    """The AWS managed EBS key of an account and Region, created on first use."""
    existing = store.alias(ctx.conn, account_id, region, EBS_ALIAS)
    if existing is not None:
        return existing["key_id"]
    key_id = str(uuid.uuid4())
    store.insert_key(ctx.conn, key_id=key_id, account_id=account_id, region=region,
                     description="Default key that protects my EBS volumes when no other key is defined",
                     key_manager="AWS", key_state="Enabled", policy=_aws_managed_policy(account_id, region),
                     created_at=ctx.now, deletion_date=None)
    store.insert_alias(ctx.conn, account_id=account_id, region=region, alias_name=EBS_ALIAS, key_id=key_id,
                       created_at=ctx.now)
    return key_id


def existing_ebs_key_arn(ctx, account_id: str, region: str) -> str | None:
    alias = store.alias(ctx.conn, account_id, region, EBS_ALIAS)
    return f"arn:aws:kms:{region}:{account_id}:key/{alias['key_id']}" if alias else None


def metadata(row) -> dict:
    return {
        "AWSAccountId": row["account_id"], "KeyId": row["key_id"], "Arn": key_arn(row),
        "CreationDate": row["created_at"], "Enabled": row["key_state"] == "Enabled",
        "Description": row["description"], "KeyUsage": "ENCRYPT_DECRYPT", "KeyState": row["key_state"],
        "DeletionDate": row["deletion_date"], "Origin": "AWS_KMS", "KeyManager": row["key_manager"],
        "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT", "KeySpec": "SYMMETRIC_DEFAULT",
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"], "MultiRegion": False,
    }


def _check_policy(ctx, text: str, bypass: bool, key_row=None) -> str:
    try:
        document = policy.parse(text)
    except policy.MalformedPolicy as exc:
        raise _malformed(str(exc)) from None
    if not bypass:
        probe = dict(key_row) if key_row is not None else {
            "key_id": "00000000-0000-0000-0000-000000000000", "account_id": ctx.account_id, "region": ctx.region}
        request = policy.Request(ctx.account_id, "kms:PutKeyPolicy", key_arn(probe), _context(ctx, probe, False))
        if policy.evaluate(document, request) != policy.ALLOW:
            raise _malformed("The new key policy will not allow you to update the key policy in the future.")
    return text


def create_key(ctx, params) -> dict:
    for unsupported, allowed in (("KeyUsage", "ENCRYPT_DECRYPT"), ("KeySpec", "SYMMETRIC_DEFAULT"),
                                 ("CustomerMasterKeySpec", "SYMMETRIC_DEFAULT"), ("Origin", "AWS_KMS")):
        if params.get(unsupported) not in (None, allowed):
            raise AwsError("UnsupportedOperationException", f"Only {unsupported}={allowed} keys are supported.")
    _check_tags(params.get("Tags") or [])
    text = params.get("Policy")
    text = _check_policy(ctx, text, bool(params.get("BypassPolicyLockoutSafetyCheck"))) if text else default_policy(ctx.account_id)
    key_id = str(uuid.uuid4())
    store.insert_key(ctx.conn, key_id=key_id, account_id=ctx.account_id, region=ctx.region,
                     description=params.get("Description", ""), key_manager="CUSTOMER", key_state="Enabled",
                     policy=text, created_at=ctx.now, deletion_date=None)
    return metadata(store.key(ctx.conn, key_id))


def _check_tags(tags: list) -> None:
    """Tags as KMS takes them: keys that are not reserved for AWS, each key once, at most 50.
    (amishare accepts them on CreateKey and does not keep them.)"""
    if len(tags) > MAX_TAGS:
        raise AwsError("TagException", f"A key can have at most {MAX_TAGS} tags.")
    seen = set()
    for tag in tags:
        key = tag["TagKey"]
        if key.lower().startswith("aws:"):
            raise AwsError("TagException", f"Tag key {key} is not allowed: tag keys beginning with aws: are reserved for AWS use.")
        if key in seen:
            raise AwsError("TagException", f"Duplicate tag key: {key}")
        seen.add(key)


def describe_key(ctx, key_ref) -> dict:
    return metadata(resolve(ctx, key_ref))


def _own_key(ctx, key_ref, action: str):
    row = resolve(ctx, key_ref, allow_alias=False)
    if row["account_id"] != ctx.account_id:
        raise _not_found(key_arn(row), ctx.account_id, ctx.region)
    if row["key_manager"] == "AWS" and action not in ("kms:GetKeyPolicy", "kms:ListKeyPolicies", "kms:DescribeKey"):
        raise AwsError("AccessDeniedException", f"{action} is not permitted on an AWS managed key.")
    return row


def list_keys(ctx, limit, marker):
    fp = pagination.fingerprint("kms-keys")
    limit = _limit(limit, default=100, high=1000)
    rows = store.keys_of(ctx.conn, ctx.account_id, ctx.region, _after(marker, fp), limit + 1)
    rows, token = pagination.page(rows, limit, "key_id", fp)
    return [{"KeyId": r["key_id"], "KeyArn": key_arn(r)} for r in rows], token


def _limit(limit, default: int, high: int) -> int:
    if limit is None:
        return default
    if limit < 1:
        raise _validation(f"Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
    if limit > high:
        raise _validation(f"Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to {high}")
    return limit


def _after(marker, fp):
    return pagination.decode(marker, fp, code="InvalidMarkerException")


def create_alias(ctx, alias_name, target_key_id) -> None:
    if not re.fullmatch(r"alias/[a-zA-Z0-9/_-]{1,250}", alias_name or ""):
        raise AwsError("ValidationException", f"Alias name {alias_name} is not valid; it must start with alias/.")
    if alias_name.startswith("alias/aws/"):
        raise AwsError("ValidationException", "Aliases that begin with alias/aws/ are reserved for AWS managed keys.")
    row = _own_key(ctx, target_key_id, "kms:CreateAlias")
    if store.alias(ctx.conn, ctx.account_id, ctx.region, alias_name) is not None:
        raise AwsError("AlreadyExistsException", f"An alias with the name arn:aws:kms:{ctx.region}:{ctx.account_id}:{alias_name} already exists")
    store.insert_alias(ctx.conn, account_id=ctx.account_id, region=ctx.region, alias_name=alias_name,
                       key_id=row["key_id"], created_at=ctx.now)


def delete_alias(ctx, alias_name) -> None:
    """Needs kms:DeleteAlias on the alias (the account's own, as IAM has no other principals here)
    and on the key it points to, in that key's policy."""
    alias = store.alias(ctx.conn, ctx.account_id, ctx.region, alias_name)
    if alias is None or alias_name.startswith("alias/aws/"):
        raise AwsError("NotFoundException", f"Alias arn:aws:kms:{ctx.region}:{ctx.account_id}:{alias_name} is not found.")
    store.delete_alias(ctx.conn, ctx.account_id, ctx.region, alias_name)


def list_aliases(ctx, key_ref, limit, marker):
    key_id = None
    if key_ref:
        key_id = resolve(ctx, key_ref, allow_alias=False)["key_id"]
    limit = _limit(limit, default=50, high=100)
    fp = pagination.fingerprint("kms-aliases", key_id)
    rows = store.aliases_of(ctx.conn, ctx.account_id, ctx.region, key_id, _after(marker, fp), limit + 1)
    rows, token = pagination.page(rows, limit, "alias_name", fp)
    return [{"AliasName": r["alias_name"], "AliasArn": f"arn:aws:kms:{ctx.region}:{ctx.account_id}:{r['alias_name']}",
             "TargetKeyId": r["key_id"], "CreationDate": r["created_at"], "LastUpdatedDate": r["created_at"]}
            for r in rows], token


def get_key_policy(ctx, key_ref, name) -> str:
    if name not in (None, "default"):
        raise AwsError("NotFoundException", f"Key policy {name} not found; the only policy name is 'default'.")
    return _own_key(ctx, key_ref, "kms:GetKeyPolicy")["policy"]


def put_key_policy(ctx, key_ref, name, text, bypass) -> None:
    if name not in (None, "default"):
        raise AwsError("ValidationException", "The only valid policy name is 'default'.")
    row = _own_key(ctx, key_ref, "kms:PutKeyPolicy")
    store.update_key(ctx.conn, row["key_id"], policy=_check_policy(ctx, text, bypass, row))


def list_key_policies(ctx, key_ref) -> list[str]:
    _own_key(ctx, key_ref, "kms:ListKeyPolicies")
    return ["default"]


def _pending(row):
    if row["key_state"] == "PendingDeletion":
        raise AwsError("KMSInvalidStateException", f"{key_arn(row)} is pending deletion.")


def enable_key(ctx, key_ref) -> None:
    row = _own_key(ctx, key_ref, "kms:EnableKey")
    _pending(row)
    store.update_key(ctx.conn, row["key_id"], key_state="Enabled")


def disable_key(ctx, key_ref) -> None:
    row = _own_key(ctx, key_ref, "kms:DisableKey")
    _pending(row)
    store.update_key(ctx.conn, row["key_id"], key_state="Disabled")


def schedule_deletion(ctx, key_ref, days) -> dict:
    row = _own_key(ctx, key_ref, "kms:ScheduleKeyDeletion")
    days = 30 if days is None else days
    if not 7 <= days <= 30:
        raise AwsError("ValidationException", "PendingWindowInDays must be between 7 and 30.")
    _pending(row)
    deletion = ctx.now + days * 86400
    store.update_key(ctx.conn, row["key_id"], key_state="PendingDeletion", deletion_date=deletion)
    return {"KeyId": key_arn(row), "DeletionDate": deletion, "KeyState": "PendingDeletion", "PendingWindowInDays": days}


def cancel_deletion(ctx, key_ref) -> str:
    row = _own_key(ctx, key_ref, "kms:CancelKeyDeletion")
    if row["key_state"] != "PendingDeletion":
        raise AwsError("KMSInvalidStateException", f"{key_arn(row)} is not pending deletion.")
    store.update_key(ctx.conn, row["key_id"], key_state="Disabled", deletion_date=None)
    return key_arn(row)


def _usable_state(row) -> None:
    if row["key_state"] == "Disabled":
        raise AwsError("DisabledException", f"{key_arn(row)} is disabled.")
    _pending(row)


def _check_grant(params) -> tuple[str, list[str], dict]:
    """(grantee, operations, constraints) of a CreateGrant request, validated."""
    grantee = params.get("GranteePrincipal")
    if not grantee:
        raise _validation("Value null at 'granteePrincipal' failed to satisfy constraint: Member must not be null")
    for field, value in (("granteePrincipal", grantee), ("retiringPrincipal", params.get("RetiringPrincipal"))):
        if value is not None and not (GRANTEE_RE.fullmatch(value) and (re.fullmatch(r"[0-9]{12}", value) or value.startswith("arn:aws:"))):
            raise AwsError("ValidationException", f"Invalid {field}: {value}; specify an account id or an ARN.")
    if params.get("Name") is not None and not GRANT_NAME_RE.fullmatch(params["Name"]):
        raise _validation(f"Value '{params['Name']}' at 'name' failed to satisfy constraint: "
                          "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$")
    operations = list(dict.fromkeys(params.get("Operations") or []))
    unknown = [o for o in operations if o not in GRANT_OPERATIONS]
    if not operations or unknown:
        raise AwsError("ValidationException", f"Invalid grant operations: {unknown or 'none given'}")
    constraints = {kind: dict(pairs) for kind, pairs in (params.get("Constraints") or {}).items() if pairs is not None}
    for kind, pairs in constraints.items():
        if len(pairs) > MAX_CONTEXT_PAIRS:
            raise AwsError("ValidationException", f"{kind} can have at most {MAX_CONTEXT_PAIRS} encryption context pairs.")
        if sum(len(k) + len(v) for k, v in pairs.items()) > MAX_CONTEXT_CHARS:
            raise AwsError("ValidationException", f"The encryption context in {kind} exceeds {MAX_CONTEXT_CHARS} characters.")
    no_context = sorted(NO_CONTEXT_OPERATIONS.intersection(operations))
    if constraints and no_context:
        raise AwsError("ValidationException", f"Grant constraints can't apply to operations without an encryption context: {no_context}")
    return grantee, operations, constraints


def grant_context(params: dict) -> dict:
    """The condition keys of a CreateGrant request: kms:GranteePrincipal, kms:RetiringPrincipal,
    kms:GrantOperations, kms:GrantConstraintType, and kms:GrantIsForAWSResource (false: a caller's
    own request; EBS's requests on a caller's behalf say true, see decide)."""
    context = {"kms:grantisforawsresource": ["false"]}
    for key, member in (("kms:granteeprincipal", "GranteePrincipal"), ("kms:retiringprincipal", "RetiringPrincipal")):
        if isinstance(params.get(member), str):
            context[key] = [params[member]]
    operations = [o for o in params.get("Operations") or [] if isinstance(o, str)]
    if operations:
        context["kms:grantoperations"] = list(dict.fromkeys(operations))
    constraints = params.get("Constraints")
    if isinstance(constraints, dict):
        kinds = [kind for kind in CONSTRAINT_TYPES if constraints.get(kind) is not None]
        if kinds:
            context["kms:grantconstrainttype"] = kinds
    return context


def _at_least_as_strict(child: dict, parent: dict) -> bool:
    """Child grant constraints are as strict as the parent's: every pair an EncryptionContextSubset
    requires is still required (by a Subset or an Equals), and an EncryptionContextEquals stays as it is."""
    required = parent.get("EncryptionContextSubset")
    if required:
        if not any(required.items() <= child.get(kind, {}).items() for kind in CONSTRAINT_TYPES if kind in child):
            return False
    exact = parent.get("EncryptionContextEquals")
    return exact is None or child.get("EncryptionContextEquals") == exact


def create_grant(ctx, params) -> tuple[str, str]:
    row = resolve(ctx, params["KeyId"], allow_alias=False)
    grantee, operations, constraints = _check_grant(params)
    # Whether the key policy (with the caller's own policies) allows it, grants aside: the request
    # was authorized already, but permission that comes from a grant limits what the new grant may be.
    decision = decide(ctx, row, "kms:CreateGrant", extra=grant_context(params), grants=False)
    if decision == policy.DENY:
        raise _denied(ctx, row, "kms:CreateGrant")
    if decision != policy.ALLOW:
        # CreateGrant permission from a grant is limited: a child grant allows some or all of its
        # parent's operations, under constraints at least as strict as the parent's.
        parents = _granting(ctx, row, "kms:CreateGrant")
        if not parents:
            raise _denied(ctx, row, "kms:CreateGrant")
        if not any(set(operations) <= p["operations"] and _at_least_as_strict(constraints, p["constraints"]) for p in parents):
            raise AwsError(
                "AccessDeniedException",
                f"User: arn:aws:iam::{ctx.account_id}:root is not authorized to perform: kms:CreateGrant on resource: "
                f"{key_arn(row)}: a grant created with permission from a grant can only allow operations of that grant "
                f"({', '.join(sorted(set().union(*(p['operations'] for p in parents))))}), "
                "with grant constraints at least as strict as its own",
            )
    _usable_state(row)
    grant_id = secrets.token_hex(32)
    store.insert_grant(ctx.conn, grant_id=grant_id, key_id=row["key_id"], grantee_principal=grantee,
                       retiring_principal=params.get("RetiringPrincipal"), operations=json.dumps(operations),
                       grant_constraints=json.dumps(constraints) if constraints else None,
                       name=params.get("Name"), issuing_account=ctx.account_id, created_at=ctx.now)
    return grant_id, secrets.token_urlsafe(48)


def list_grants(ctx, key_ref, limit=None, marker=None, grant_id=None, grantee=None):
    row = resolve(ctx, key_ref, allow_alias=False)
    limit = _limit(limit, default=50, high=100)
    fp = pagination.fingerprint("kms-grants", row["key_id"], grant_id, grantee)
    rows = store.grants(ctx.conn, row["key_id"], grant_id, grantee, _after(marker, fp), limit + 1)
    rows, token = pagination.page(rows, limit, "grant_id", fp)
    return [{"KeyId": key_arn(row), "GrantId": grant["grant_id"], "Name": grant["name"] or "",
             "CreationDate": grant["created_at"], "GranteePrincipal": grant["grantee_principal"],
             "RetiringPrincipal": grant["retiring_principal"],
             "IssuingAccount": f"arn:aws:iam::{grant['issuing_account']}:root",
             "Operations": json.loads(grant["operations"]),
             "Constraints": json.loads(grant["grant_constraints"]) if grant["grant_constraints"] else None}
            for grant in rows], token


def revoke_grant(ctx, key_ref, grant_id) -> None:
    row = resolve(ctx, key_ref, allow_alias=False)
    if store.delete_grant(ctx.conn, row["key_id"], grant_id) == 0:
        raise AwsError("NotFoundException", f"Grant ID {grant_id} not found")


# --- EBS's use of keys


def ebs_key_arn(ctx, encrypted: bool, key_ref: str | None) -> str | None:
    """The key ARN a new encrypted volume or snapshot is stored under, checked for the caller's use."""
    if not encrypted:
        return None
    if not key_ref:
        return f"arn:aws:kms:{ctx.region}:{ctx.account_id}:key/{ensure_ebs_key(ctx, ctx.account_id, ctx.region)}"
    try:
        row = resolve(ctx, key_ref)
    except AwsError:
        raise AwsError("InvalidParameterValue", f"The KMS key {key_ref} does not exist or is not accessible.") from None
    check_ebs_use(ctx, key_arn(row))
    return key_arn(row)


def check_ebs_use(ctx, arn: str, image_id: str | None = None) -> None:
    """EBS may use the key for the caller: enabled, and the key policy (or a grant) lets the caller
    describe the key while denying none of the operations EBS performs with it."""
    match = ARN_RE.fullmatch(arn or "")
    row = store.key(ctx.conn, match.group(4)) if match and match.group(3) == "key" else None
    subject = f" needed by {image_id}" if image_id else ""
    if row is None:
        trace.note(ctx, "kms-key", trace.DENIED, f"the KMS key {arn} does not exist", Source=arn)
        raise AwsError("InvalidParameterValue", f"The KMS key {arn}{subject} does not exist.")
    if row["key_state"] != "Enabled":
        state = "disabled" if row["key_state"] == "Disabled" else "pending deletion"
        trace.note(ctx, "kms-key", trace.DENIED, f"the KMS key {arn} is {state}", Source=arn)
        raise AwsError("IncorrectState", f"The KMS key {arn}{subject} is {state}, so its snapshots can't be used.")
    decisions = {action: decision(ctx, row, action, via_ec2=True) for action in EBS_OPERATIONS}
    verdicts = {action: verdict(d) for action, d in decisions.items()}
    usable = policy.DENY not in verdicts.values() and verdicts["kms:DescribeKey"] == policy.ALLOW
    if trace.active(ctx):
        for action, made in decisions.items():
            words = {policy.ALLOW: "allowed", policy.DENY: "explicitly denied"}.get(verdicts[action], "not allowed")
            trace.note(ctx, "kms-key", trace.ALLOWED if made.allowed else trace.DENIED,
                       f"{action} on {arn} for EBS: {words}" + (f" ({made.reason(action)})" if not made.allowed else ""),
                       Source=arn, Action=action, Statements=made.because)
    if not usable:
        raise AwsError(
            "UnauthorizedOperation",
            f"You are not authorized to use the KMS key {arn}{subject}. The key owner must allow account "
            f"{ctx.account_id} in the key policy or with a grant.", 403,
        )
