from amishare.domain import kms
from amishare.services import operation

SERVICE = "kms"


@operation(SERVICE)
def create_key(ctx, params):
    return {"KeyMetadata": kms.create_key(ctx, params)}


@operation(SERVICE, writes=True)  # describing alias/aws/ebs creates that AWS managed key on first use
def describe_key(ctx, params):
    return {"KeyMetadata": kms.describe_key(ctx, params["KeyId"])}


@operation(SERVICE)
def list_keys(ctx, params):
    keys, token = kms.list_keys(ctx, params.get("Limit"), params.get("Marker"))
    return {"Keys": keys, "NextMarker": token, "Truncated": token is not None}


@operation(SERVICE)
def create_alias(ctx, params):
    kms.create_alias(ctx, params["AliasName"], params["TargetKeyId"])
    return {}


@operation(SERVICE)
def delete_alias(ctx, params):
    kms.delete_alias(ctx, params["AliasName"])
    return {}


@operation(SERVICE)
def list_aliases(ctx, params):
    aliases, token = kms.list_aliases(ctx, params.get("KeyId"), params.get("Limit"), params.get("Marker"))
    return {"Aliases": aliases, "NextMarker": token, "Truncated": token is not None}


@operation(SERVICE)
def get_key_policy(ctx, params):
    return {"Policy": kms.get_key_policy(ctx, params["KeyId"], params.get("PolicyName")), "PolicyName": "default"}


@operation(SERVICE)
def put_key_policy(ctx, params):
    kms.put_key_policy(ctx, params["KeyId"], params.get("PolicyName"), params["Policy"],
                       bool(params.get("BypassPolicyLockoutSafetyCheck")))
    return {}


@operation(SERVICE)
def list_key_policies(ctx, params):
    return {"PolicyNames": kms.list_key_policies(ctx, params["KeyId"]), "Truncated": False}


@operation(SERVICE)
def enable_key(ctx, params):
    kms.enable_key(ctx, params["KeyId"])
    return {}


@operation(SERVICE)
def disable_key(ctx, params):
    kms.disable_key(ctx, params["KeyId"])
    return {}


@operation(SERVICE)
def schedule_key_deletion(ctx, params):
    return kms.schedule_deletion(ctx, params["KeyId"], params.get("PendingWindowInDays"))


@operation(SERVICE)
def cancel_key_deletion(ctx, params):
    return {"KeyId": kms.cancel_deletion(ctx, params["KeyId"])}


@operation(SERVICE)
def create_grant(ctx, params):
    grant_id, token = kms.create_grant(ctx, params)
    return {"GrantId": grant_id, "GrantToken": token}


@operation(SERVICE)
def list_grants(ctx, params):
    grants, token = kms.list_grants(ctx, params["KeyId"], params.get("Limit"), params.get("Marker"),
                                    params.get("GrantId"), params.get("GranteePrincipal"))
    return {"Grants": grants, "NextMarker": token, "Truncated": token is not None}


@operation(SERVICE)
def revoke_grant(ctx, params):
    kms.revoke_grant(ctx, params["KeyId"], params["GrantId"])
    return {}
