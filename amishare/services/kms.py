from amishare.domain import kms
from amishare.services import operation

SERVICE = "kms"


def key(param: str, allow_alias: bool = False):
    """The key named by `param`, with its key policy and grants, for the authorization step."""
    def name(ctx, params):
        return [kms.key_resource(ctx, params[param], allow_alias)] if params.get(param) else []

    return name


def aliased(ctx, params):
    return kms.alias_resource(ctx, params.get("AliasName"))


ON_KEY = dict(resource_policies=True)


def grant_request(ctx, params):
    return kms.grant_context(params)


def own_grant_call(ctx, params):
    """ListGrants and RevokeGrant called by the principal itself, not by a service for it."""
    return {"kms:grantisforawsresource": ["false"]}


@operation(SERVICE)
def create_key(ctx, params):
    return {"KeyMetadata": kms.create_key(ctx, params)}


# Describing alias/aws/ebs creates that AWS managed key on first use, so it writes.
@operation(SERVICE, writes=True, resources=key("KeyId", allow_alias=True), **ON_KEY)
def describe_key(ctx, params):
    return {"KeyMetadata": kms.describe_key(ctx, params["KeyId"])}


@operation(SERVICE)
def list_keys(ctx, params):
    keys, token = kms.list_keys(ctx, params.get("Limit"), params.get("Marker"))
    return {"Keys": keys, "NextMarker": token, "Truncated": token is not None}


@operation(SERVICE, resources=key("TargetKeyId"), **ON_KEY)
def create_alias(ctx, params):
    kms.create_alias(ctx, params["AliasName"], params["TargetKeyId"])
    return {}


@operation(SERVICE, resources=aliased, **ON_KEY)
def delete_alias(ctx, params):
    kms.delete_alias(ctx, params["AliasName"])
    return {}


@operation(SERVICE)
def list_aliases(ctx, params):
    aliases, token = kms.list_aliases(ctx, params.get("KeyId"), params.get("Limit"), params.get("Marker"))
    return {"Aliases": aliases, "NextMarker": token, "Truncated": token is not None}


@operation(SERVICE, resources=key("KeyId"), **ON_KEY)
def get_key_policy(ctx, params):
    return {"Policy": kms.get_key_policy(ctx, params["KeyId"], params.get("PolicyName")), "PolicyName": "default"}


@operation(SERVICE, resources=key("KeyId"), **ON_KEY)
def put_key_policy(ctx, params):
    kms.put_key_policy(ctx, params["KeyId"], params.get("PolicyName"), params["Policy"],
                       bool(params.get("BypassPolicyLockoutSafetyCheck")))
    return {}


@operation(SERVICE, resources=key("KeyId"), **ON_KEY)
def list_key_policies(ctx, params):
    return {"PolicyNames": kms.list_key_policies(ctx, params["KeyId"]), "Truncated": False}


@operation(SERVICE, resources=key("KeyId"), **ON_KEY)
def enable_key(ctx, params):
    kms.enable_key(ctx, params["KeyId"])
    return {}


@operation(SERVICE, resources=key("KeyId"), **ON_KEY)
def disable_key(ctx, params):
    kms.disable_key(ctx, params["KeyId"])
    return {}


@operation(SERVICE, resources=key("KeyId"), **ON_KEY)
def schedule_key_deletion(ctx, params):
    return kms.schedule_deletion(ctx, params["KeyId"], params.get("PendingWindowInDays"))


@operation(SERVICE, resources=key("KeyId"), **ON_KEY)
def cancel_key_deletion(ctx, params):
    return {"KeyId": kms.cancel_deletion(ctx, params["KeyId"])}


@operation(SERVICE, resources=key("KeyId"), context=grant_request, **ON_KEY)
def create_grant(ctx, params):
    grant_id, token = kms.create_grant(ctx, params)
    return {"GrantId": grant_id, "GrantToken": token}


@operation(SERVICE, resources=key("KeyId"), context=own_grant_call, **ON_KEY)
def list_grants(ctx, params):
    grants, token = kms.list_grants(ctx, params["KeyId"], params.get("Limit"), params.get("Marker"),
                                    params.get("GrantId"), params.get("GranteePrincipal"))
    return {"Grants": grants, "NextMarker": token, "Truncated": token is not None}


@operation(SERVICE, resources=key("KeyId"), context=own_grant_call, **ON_KEY)
def revoke_grant(ctx, params):
    kms.revoke_grant(ctx, params["KeyId"], params["GrantId"])
    return {}
