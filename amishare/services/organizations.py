from amishare.domain import org_policies as policies
from amishare.domain import org_resources
from amishare.domain import organizations as orgs
from amishare.services import operation

SERVICE = "organizations"


def _names(*members):
    """The resources a call names, as the service authorization reference lists them for its
    action: (kind, parameter) pairs, kind one of org_resources.Scope's namers."""
    def name(ctx, params):
        scope = org_resources.Scope(ctx)
        return [getattr(scope, kind)(params[member]) for kind, member in members
                if isinstance(params.get(member), str)]

    return name


def _handshake(ctx, params):
    return [org_resources.handshake(ctx, params["HandshakeId"])] if isinstance(params.get("HandshakeId"), str) else []


def _policy_type(member: str):
    """organizations:PolicyType, for a request that names the type of policy it is about."""
    def context(ctx, params):
        value = params.get(member)
        return {"organizations:policytype": [value]} if isinstance(value, str) else {}

    return context


@operation(SERVICE)
def create_organization(ctx, params):
    return {"Organization": orgs.create_organization(ctx, params.get("FeatureSet"))}


@operation(SERVICE)
def describe_organization(ctx, params):
    return {"Organization": orgs.describe_organization(ctx)}


@operation(SERVICE)
def delete_organization(ctx, params):
    orgs.delete_organization(ctx)
    return {}


@operation(SERVICE)
def list_roots(ctx, params):
    return {"Roots": orgs.list_roots(ctx)}


@operation(SERVICE, resources=_names(("parent", "ParentId")))
def create_organizational_unit(ctx, params):
    return {"OrganizationalUnit": orgs.create_ou(ctx, params["ParentId"], params["Name"])}


@operation(SERVICE, resources=_names(("ou", "OrganizationalUnitId")))
def describe_organizational_unit(ctx, params):
    return {"OrganizationalUnit": orgs.describe_ou(ctx, params["OrganizationalUnitId"])}


@operation(SERVICE, resources=_names(("ou", "OrganizationalUnitId")))
def update_organizational_unit(ctx, params):
    return {"OrganizationalUnit": orgs.update_ou(ctx, params["OrganizationalUnitId"], params.get("Name"))}


@operation(SERVICE, resources=_names(("ou", "OrganizationalUnitId")))
def delete_organizational_unit(ctx, params):
    orgs.delete_ou(ctx, params["OrganizationalUnitId"])
    return {}


@operation(SERVICE, resources=_names(("parent", "ParentId")))
def list_organizational_units_for_parent(ctx, params):
    units, token = orgs.list_ous_for_parent(ctx, params["ParentId"], params.get("MaxResults"), params.get("NextToken"))
    return {"OrganizationalUnits": units, "NextToken": token}


@operation(SERVICE, resources=_names(("parent", "ParentId")))
def list_children(ctx, params):
    children, token = orgs.list_children(ctx, params["ParentId"], params["ChildType"], params.get("MaxResults"),
                                         params.get("NextToken"))
    return {"Children": children, "NextToken": token}


@operation(SERVICE, resources=_names(("target", "ChildId")))
def list_parents(ctx, params):
    return {"Parents": orgs.list_parents(ctx, params["ChildId"])}


@operation(SERVICE)
def list_accounts(ctx, params):
    accounts, token = orgs.list_accounts(ctx, params.get("MaxResults"), params.get("NextToken"))
    return {"Accounts": accounts, "NextToken": token}


@operation(SERVICE, resources=_names(("parent", "ParentId")))
def list_accounts_for_parent(ctx, params):
    accounts, token = orgs.list_accounts(ctx, params.get("MaxResults"), params.get("NextToken"), params["ParentId"])
    return {"Accounts": accounts, "NextToken": token}


@operation(SERVICE, resources=_names(("account", "AccountId")))
def describe_account(ctx, params):
    return {"Account": orgs.describe_account(ctx, params["AccountId"])}


@operation(SERVICE, resources=_names(("account", "AccountId"), ("parent", "SourceParentId"), ("parent", "DestinationParentId")))
def move_account(ctx, params):
    orgs.move_account(ctx, params["AccountId"], params["SourceParentId"], params["DestinationParentId"])
    return {}


@operation(SERVICE, resources=_names(("account", "AccountId")))
def remove_account_from_organization(ctx, params):
    orgs.remove_account(ctx, params["AccountId"])
    return {}


@operation(SERVICE)
def leave_organization(ctx, params):
    orgs.leave_organization(ctx)
    return {}


@operation(SERVICE)
def create_account(ctx, params):
    return {"CreateAccountStatus": orgs.create_account(ctx, params["Email"], params["AccountName"])}


@operation(SERVICE)
def describe_create_account_status(ctx, params):
    return {"CreateAccountStatus": orgs.describe_create_account_status(ctx, params["CreateAccountRequestId"])}


@operation(SERVICE)
def invite_account_to_organization(ctx, params):
    return {"Handshake": orgs.invite(ctx, params["Target"], params.get("Notes"))}


@operation(SERVICE, resources=_handshake)
def accept_handshake(ctx, params):
    return {"Handshake": orgs.accept_handshake(ctx, params["HandshakeId"])}


@operation(SERVICE, resources=_handshake)
def decline_handshake(ctx, params):
    return {"Handshake": orgs.decline_handshake(ctx, params["HandshakeId"])}


@operation(SERVICE, resources=_handshake)
def cancel_handshake(ctx, params):
    return {"Handshake": orgs.cancel_handshake(ctx, params["HandshakeId"])}


@operation(SERVICE)
def list_handshakes_for_account(ctx, params):
    handshakes, token = orgs.list_handshakes(ctx, False, params.get("MaxResults"), params.get("NextToken"))
    return {"Handshakes": handshakes, "NextToken": token}


@operation(SERVICE)
def list_handshakes_for_organization(ctx, params):
    handshakes, token = orgs.list_handshakes(ctx, True, params.get("MaxResults"), params.get("NextToken"))
    return {"Handshakes": handshakes, "NextToken": token}


# --- policies (service control policies)


@operation(SERVICE, resources=_names(("root", "RootId")), context=_policy_type("PolicyType"))
def enable_policy_type(ctx, params):
    return {"Root": policies.enable_policy_type(ctx, params["RootId"], params["PolicyType"])}


@operation(SERVICE, resources=_names(("root", "RootId")), context=_policy_type("PolicyType"))
def disable_policy_type(ctx, params):
    return {"Root": policies.disable_policy_type(ctx, params["RootId"], params["PolicyType"])}


@operation(SERVICE, context=_policy_type("Type"))
def create_policy(ctx, params):
    return {"Policy": policies.create_policy(ctx, params["Content"], params["Description"], params["Name"],
                                             params["Type"], params.get("Tags"))}


@operation(SERVICE, resources=_names(("policy", "PolicyId")))
def describe_policy(ctx, params):
    return {"Policy": policies.describe_policy(ctx, params["PolicyId"])}


@operation(SERVICE, resources=_names(("policy", "PolicyId")))
def update_policy(ctx, params):
    return {"Policy": policies.update_policy(ctx, params["PolicyId"], params.get("Name"), params.get("Description"),
                                             params.get("Content"))}


@operation(SERVICE, resources=_names(("policy", "PolicyId")))
def delete_policy(ctx, params):
    policies.delete_policy(ctx, params["PolicyId"])
    return {}


@operation(SERVICE, context=_policy_type("Filter"))
def list_policies(ctx, params):
    found, token = policies.list_policies(ctx, params["Filter"], params.get("MaxResults"), params.get("NextToken"))
    return {"Policies": found, "NextToken": token}


@operation(SERVICE, resources=_names(("target", "TargetId")), context=_policy_type("Filter"))
def list_policies_for_target(ctx, params):
    found, token = policies.list_policies_for_target(ctx, params["TargetId"], params["Filter"],
                                                     params.get("MaxResults"), params.get("NextToken"))
    return {"Policies": found, "NextToken": token}


@operation(SERVICE, resources=_names(("policy", "PolicyId")))
def list_targets_for_policy(ctx, params):
    targets, token = policies.list_targets_for_policy(ctx, params["PolicyId"], params.get("MaxResults"),
                                                      params.get("NextToken"))
    return {"Targets": targets, "NextToken": token}


@operation(SERVICE, resources=_names(("policy", "PolicyId"), ("target", "TargetId")))
def attach_policy(ctx, params):
    policies.attach_policy(ctx, params["PolicyId"], params["TargetId"])
    return {}


@operation(SERVICE, resources=_names(("policy", "PolicyId"), ("target", "TargetId")))
def detach_policy(ctx, params):
    policies.detach_policy(ctx, params["PolicyId"], params["TargetId"])
    return {}


@operation(SERVICE, resources=_names(("tagged", "ResourceId")))
def tag_resource(ctx, params):
    policies.tag_resource(ctx, params["ResourceId"], params["Tags"])
    return {}


@operation(SERVICE, resources=_names(("tagged", "ResourceId")))
def untag_resource(ctx, params):
    policies.untag_resource(ctx, params["ResourceId"], params["TagKeys"])
    return {}


@operation(SERVICE, resources=_names(("tagged", "ResourceId")))
def list_tags_for_resource(ctx, params):
    tags, token = policies.list_tags(ctx, params["ResourceId"], params.get("NextToken"))
    return {"Tags": tags, "NextToken": token}


@operation(SERVICE)
def describe_effective_policy(ctx, params):
    return {"EffectivePolicy": policies.describe_effective_policy(ctx, params["PolicyType"], params.get("TargetId"))}
