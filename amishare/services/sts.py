from amishare.domain import authz
from amishare.domain import sts
from amishare.errors import AwsError
from amishare.services import operation


@operation("sts", authorizes_itself=True)  # AWS answers GetCallerIdentity for every valid credential
def get_caller_identity(ctx, params):
    return sts.caller_identity(ctx)


@operation("sts", authorizes_itself=True)  # the role's trust policy and the caller's policies decide
def assume_role(ctx, params):
    return sts.assume_role(ctx, params)


@operation("sts")
def decode_authorization_message(ctx, params):
    decoded = authz.decode_message(ctx, params["EncodedMessage"])
    if decoded is None:
        raise AwsError("InvalidAuthorizationMessageException",
                       "The message is not a valid authorization message of this account.")
    return {"DecodedMessage": decoded}
