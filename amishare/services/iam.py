"""IAM (Query protocol, global): users, groups, roles, access keys, managed and inline
policies, permissions boundaries and tags."""

from amishare.domain import iam_entities as entities
from amishare.domain import iam_passwords as passwords
from amishare.domain import iam_policies as policies
from amishare.domain import iam_simulation as simulation
from amishare.domain import resources
from amishare.services import default_resources, operation

SERVICE = "iam"


def _paging(params) -> tuple:
    return params.get("Marker"), params.get("MaxItems")


# --- users


@operation(SERVICE)
def create_user(ctx, params):
    return {"User": entities.create_user(ctx, params["UserName"], params.get("Path"), params.get("PermissionsBoundary"),
                                         params.get("Tags"))}


@operation(SERVICE)
def get_user(ctx, params):
    return {"User": entities.get_user(ctx, params.get("UserName"))}


@operation(SERVICE)
def list_users(ctx, params):
    return entities.list_users(ctx, params.get("PathPrefix"), *_paging(params))


@operation(SERVICE)
def delete_user(ctx, params):
    entities.delete_user(ctx, params["UserName"])
    return {}


# --- access keys


@operation(SERVICE)
def create_access_key(ctx, params):
    return {"AccessKey": entities.create_access_key(ctx, params.get("UserName"))}


@operation(SERVICE)
def list_access_keys(ctx, params):
    return entities.list_access_keys(ctx, params.get("UserName"), *_paging(params))


@operation(SERVICE)
def update_access_key(ctx, params):
    entities.update_access_key(ctx, params.get("UserName"), params["AccessKeyId"], params["Status"])
    return {}


@operation(SERVICE)
def delete_access_key(ctx, params):
    entities.delete_access_key(ctx, params.get("UserName"), params["AccessKeyId"])
    return {}


# --- login profiles (console passwords)


@operation(SERVICE)
def create_login_profile(ctx, params):
    return {"LoginProfile": passwords.create_login_profile(ctx, params.get("UserName"), params.get("Password"),
                                                           params.get("PasswordResetRequired"))}


@operation(SERVICE)
def get_login_profile(ctx, params):
    return {"LoginProfile": passwords.get_login_profile(ctx, params.get("UserName"))}


@operation(SERVICE)
def update_login_profile(ctx, params):
    passwords.update_login_profile(ctx, params["UserName"], params.get("Password"), params.get("PasswordResetRequired"))
    return {}


@operation(SERVICE)
def delete_login_profile(ctx, params):
    passwords.delete_login_profile(ctx, params.get("UserName"))
    return {}


@operation(SERVICE)
def change_password(ctx, params):
    passwords.change_password(ctx, params["OldPassword"], params["NewPassword"])
    return {}


@operation(SERVICE)
def update_account_password_policy(ctx, params):
    passwords.update_account_password_policy(ctx, params)
    return {}


@operation(SERVICE)
def get_account_password_policy(ctx, params):
    return {"PasswordPolicy": passwords.get_account_password_policy(ctx)}


@operation(SERVICE)
def delete_account_password_policy(ctx, params):
    passwords.delete_account_password_policy(ctx)
    return {}


# --- groups


@operation(SERVICE)
def create_group(ctx, params):
    return {"Group": entities.create_group(ctx, params["GroupName"], params.get("Path"))}


@operation(SERVICE)
def get_group(ctx, params):
    return entities.get_group(ctx, params["GroupName"], *_paging(params))


@operation(SERVICE)
def list_groups(ctx, params):
    return entities.list_groups(ctx, params.get("PathPrefix"), *_paging(params))


@operation(SERVICE)
def delete_group(ctx, params):
    entities.delete_group(ctx, params["GroupName"])
    return {}


@operation(SERVICE)
def add_user_to_group(ctx, params):
    entities.add_user_to_group(ctx, params["GroupName"], params["UserName"])
    return {}


@operation(SERVICE)
def remove_user_from_group(ctx, params):
    entities.remove_user_from_group(ctx, params["GroupName"], params["UserName"])
    return {}


@operation(SERVICE)
def list_groups_for_user(ctx, params):
    return entities.list_groups_for_user(ctx, params["UserName"], *_paging(params))


# --- roles


@operation(SERVICE)
def create_role(ctx, params):
    return {"Role": entities.create_role(
        ctx, params["RoleName"], params["AssumeRolePolicyDocument"], params.get("Path"), params.get("Description"),
        params.get("MaxSessionDuration"), params.get("PermissionsBoundary"), params.get("Tags"))}


@operation(SERVICE)
def get_role(ctx, params):
    return {"Role": entities.get_role(ctx, params["RoleName"])}


@operation(SERVICE)
def list_roles(ctx, params):
    return entities.list_roles(ctx, params.get("PathPrefix"), *_paging(params))


@operation(SERVICE)
def delete_role(ctx, params):
    entities.delete_role(ctx, params["RoleName"])
    return {}


@operation(SERVICE)
def update_assume_role_policy(ctx, params):
    entities.update_assume_role_policy(ctx, params["RoleName"], params["PolicyDocument"])
    return {}


@operation(SERVICE)
def update_role(ctx, params):
    entities.update_role(ctx, params["RoleName"], params.get("Description"), params.get("MaxSessionDuration"))
    return {}


# --- managed policies


@operation(SERVICE)
def create_policy(ctx, params):
    return {"Policy": policies.create_policy(ctx, params["PolicyName"], params["PolicyDocument"], params.get("Path"),
                                             params.get("Description"), params.get("Tags"))}


@operation(SERVICE)
def get_policy(ctx, params):
    return {"Policy": policies.get_policy(ctx, params["PolicyArn"])}


@operation(SERVICE)
def list_policies(ctx, params):
    return policies.list_policies(ctx, params.get("Scope"), bool(params.get("OnlyAttached")), params.get("PathPrefix"),
                                  params.get("PolicyUsageFilter"), *_paging(params))


@operation(SERVICE)
def delete_policy(ctx, params):
    policies.delete_policy(ctx, params["PolicyArn"])
    return {}


@operation(SERVICE)
def get_policy_version(ctx, params):
    return {"PolicyVersion": policies.get_policy_version(ctx, params["PolicyArn"], params["VersionId"])}


@operation(SERVICE)
def create_policy_version(ctx, params):
    return {"PolicyVersion": policies.create_policy_version(ctx, params["PolicyArn"], params["PolicyDocument"],
                                                            bool(params.get("SetAsDefault")))}


@operation(SERVICE)
def list_policy_versions(ctx, params):
    return policies.list_policy_versions(ctx, params["PolicyArn"], *_paging(params))


@operation(SERVICE)
def delete_policy_version(ctx, params):
    policies.delete_policy_version(ctx, params["PolicyArn"], params["VersionId"])
    return {}


@operation(SERVICE)
def set_default_policy_version(ctx, params):
    policies.set_default_policy_version(ctx, params["PolicyArn"], params["VersionId"])
    return {}


@operation(SERVICE)
def list_entities_for_policy(ctx, params):
    return policies.entities_for_policy(ctx, params["PolicyArn"], params.get("EntityFilter"), params.get("PathPrefix"),
                                        *_paging(params))


@operation(SERVICE)
def tag_policy(ctx, params):
    policies.tag_policy(ctx, params["PolicyArn"], params["Tags"])
    return {}


@operation(SERVICE)
def untag_policy(ctx, params):
    policies.untag_policy(ctx, params["PolicyArn"], params["TagKeys"])
    return {}


@operation(SERVICE)
def list_policy_tags(ctx, params):
    return policies.list_policy_tags(ctx, params["PolicyArn"], *_paging(params))


# --- attached managed policies


def _attach(kind: str):
    def handler(ctx, params):
        policies.attach(ctx, kind, params[f"{kind.title()}Name"], params["PolicyArn"])
        return {}
    return handler


def _detach(kind: str):
    def handler(ctx, params):
        policies.detach(ctx, kind, params[f"{kind.title()}Name"], params["PolicyArn"])
        return {}
    return handler


def _list_attached(kind: str):
    def handler(ctx, params):
        return policies.list_attached(ctx, kind, params[f"{kind.title()}Name"], params.get("PathPrefix"),
                                      *_paging(params))
    return handler


# --- inline policies


def _put_inline(kind: str):
    def handler(ctx, params):
        policies.put_inline(ctx, kind, params[f"{kind.title()}Name"], params["PolicyName"], params["PolicyDocument"])
        return {}
    return handler


def _get_inline(kind: str):
    def handler(ctx, params):
        return policies.get_inline(ctx, kind, params[f"{kind.title()}Name"], params["PolicyName"])
    return handler


def _delete_inline(kind: str):
    def handler(ctx, params):
        policies.delete_inline(ctx, kind, params[f"{kind.title()}Name"], params["PolicyName"])
        return {}
    return handler


def _list_inline(kind: str):
    def handler(ctx, params):
        return policies.list_inline(ctx, kind, params[f"{kind.title()}Name"], *_paging(params))
    return handler


# --- permissions boundaries and tags of users and roles


def _put_boundary(kind: str):
    def handler(ctx, params):
        policies.put_boundary(ctx, kind, params[f"{kind.title()}Name"], params["PermissionsBoundary"])
        return {}
    return handler


def _delete_boundary(kind: str):
    def handler(ctx, params):
        policies.delete_boundary(ctx, kind, params[f"{kind.title()}Name"])
        return {}
    return handler


def _tag(kind: str):
    def handler(ctx, params):
        entities.tag(ctx, kind, params[f"{kind.title()}Name"], params["Tags"])
        return {}
    return handler


def _untag(kind: str):
    def handler(ctx, params):
        entities.untag(ctx, kind, params[f"{kind.title()}Name"], params["TagKeys"])
        return {}
    return handler


def _list_tags(kind: str):
    def handler(ctx, params):
        return entities.list_tags(ctx, kind, params[f"{kind.title()}Name"], *_paging(params))
    return handler


def _register(name: str, make, kind: str) -> None:
    """Register the same handler for users, groups or roles under the operation's model name."""
    handler = make(kind)
    handler.__name__ = name
    operation(SERVICE)(handler)


for _kind in ("user", "group", "role"):
    _register(f"attach_{_kind}_policy", _attach, _kind)
    _register(f"detach_{_kind}_policy", _detach, _kind)
    _register(f"list_attached_{_kind}_policies", _list_attached, _kind)
    _register(f"put_{_kind}_policy", _put_inline, _kind)
    _register(f"get_{_kind}_policy", _get_inline, _kind)
    _register(f"delete_{_kind}_policy", _delete_inline, _kind)
    _register(f"list_{_kind}_policies", _list_inline, _kind)
for _kind in ("user", "role"):
    _register(f"put_{_kind}_permissions_boundary", _put_boundary, _kind)
    _register(f"delete_{_kind}_permissions_boundary", _delete_boundary, _kind)
    _register(f"tag_{_kind}", _tag, _kind)
    _register(f"untag_{_kind}", _untag, _kind)
    _register(f"list_{_kind}_tags", _list_tags, _kind)


@operation(SERVICE)
def get_account_authorization_details(ctx, params):
    return entities.authorization_details(ctx, params.get("Filter"), *_paging(params))



@operation(SERVICE)
def simulate_principal_policy(ctx, params):
    return simulation.simulate_principal(ctx, params)


@operation(SERVICE)
def simulate_custom_policy(ctx, params):
    return simulation.simulate_custom(ctx, params)


def _entity_of(operation: str):
    return lambda ctx, params: resources.iam_entity(ctx, params, operation)


# IAM names the user, role, group or policy a call acts on, and the request's own condition keys.
default_resources(SERVICE, _entity_of, context=lambda ctx, params: resources.iam_request_context(ctx, params))
