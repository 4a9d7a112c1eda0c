from amishare.domain import org_policies as policies
from amishare.domain import organizations as orgs
from amishare.services import operation

SERVICE = "organizations"


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


@operation(SERVICE)
def create_organizational_unit(ctx, params):
    return {"OrganizationalUnit": orgs.create_ou(ctx, params["ParentId"], params["Name"])}


@operation(SERVICE)
def describe_organizational_unit(ctx, params):
    return {"OrganizationalUnit": orgs.describe_ou(ctx, params["OrganizationalUnitId"])}


@operation(SERVICE)
def update_organizational_unit(ctx, params):
    return {"OrganizationalUnit": orgs.update_ou(ctx, params["OrganizationalUnitId"], params.get("Name"))}


@operation(SERVICE)
def delete_organizational_unit(ctx, params):
    orgs.delete_ou(ctx, params["OrganizationalUnitId"])
    return {}


@operation(SERVICE)
def list_organizational_units_for_parent(ctx, params):
    units, token = orgs.list_ous_for_parent(ctx, params["ParentId"], params.get("MaxResults"), params.get("NextToken"))
    return {"OrganizationalUnits": units, "NextToken": token}


@operation(SERVICE)
def list_children(ctx, params):
    children, token = orgs.list_children(ctx, params["ParentId"], params["ChildType"], params.get("MaxResults"),
                                         params.get("NextToken"))
    return {"Children": children, "NextToken": token}


@operation(SERVICE)
def list_parents(ctx, params):
    return {"Parents": orgs.list_parents(ctx, params["ChildId"])}


@operation(SERVICE)
def list_accounts(ctx, params):
    accounts, token = orgs.list_accounts(ctx, params.get("MaxResults"), params.get("NextToken"))
    return {"Accounts": accounts, "NextToken": token}


@operation(SERVICE)
def list_accounts_for_parent(ctx, params):
    accounts, token = orgs.list_accounts(ctx, params.get("MaxResults"), params.get("NextToken"), params["ParentId"])
    return {"Accounts": accounts, "NextToken": token}


@operation(SERVICE)
def describe_account(ctx, params):
    return {"Account": orgs.describe_account(ctx, params["AccountId"])}


@operation(SERVICE)
def move_account(ctx, params):
    orgs.move_account(ctx, params["AccountId"], params["SourceParentId"], params["DestinationParentId"])
    return {}


@operation(SERVICE)
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


@operation(SERVICE)
def accept_handshake(ctx, params):
    return {"Handshake": orgs.accept_handshake(ctx, params["HandshakeId"])}


@operation(SERVICE)
def decline_handshake(ctx, params):
    return {"Handshake": orgs.decline_handshake(ctx, params["HandshakeId"])}


@operation(SERVICE)
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


@operation(SERVICE)
def enable_policy_type(ctx, params):
    return {"Root": policies.enable_policy_type(ctx, params["RootId"], params["PolicyType"])}


@operation(SERVICE)
def disable_policy_type(ctx, params):
    return {"Root": policies.disable_policy_type(ctx, params["RootId"], params["PolicyType"])}


@operation(SERVICE)
def create_policy(ctx, params):
    return {"Policy": policies.create_policy(ctx, params["Content"], params["Description"], params["Name"],
                                             params["Type"], params.get("Tags"))}


@operation(SERVICE)
def describe_policy(ctx, params):
    return {"Policy": policies.describe_policy(ctx, params["PolicyId"])}


@operation(SERVICE)
def update_policy(ctx, params):
    return {"Policy": policies.update_policy(ctx, params["PolicyId"], params.get("Name"), params.get("Description"),
                                             params.get("Content"))}


@operation(SERVICE)
def delete_policy(ctx, params):
    policies.delete_policy(ctx, params["PolicyId"])
    return {}


@operation(SERVICE)
def list_policies(ctx, params):
    found, token = policies.list_policies(ctx, params["Filter"], params.get("MaxResults"), params.get("NextToken"))
    return {"Policies": found, "NextToken": token}


@operation(SERVICE)
def list_policies_for_target(ctx, params):
    found, token = policies.list_policies_for_target(ctx, params["TargetId"], params["Filter"],
                                                     params.get("MaxResults"), params.get("NextToken"))
    return {"Policies": found, "NextToken": token}


@operation(SERVICE)
def list_targets_for_policy(ctx, params):
    targets, token = policies.list_targets_for_policy(ctx, params["PolicyId"], params.get("MaxResults"),
                                                      params.get("NextToken"))
    return {"Targets": targets, "NextToken": token}


@operation(SERVICE)
def attach_policy(ctx, params):
    policies.attach_policy(ctx, params["PolicyId"], params["TargetId"])
    return {}


@operation(SERVICE)
def detach_policy(ctx, params):
    policies.detach_policy(ctx, params["PolicyId"], params["TargetId"])
    return {}


@operation(SERVICE)
def tag_resource(ctx, params):
    policies.tag_resource(ctx, params["ResourceId"], params["Tags"])
    return {}


@operation(SERVICE)
def untag_resource(ctx, params):
    policies.untag_resource(ctx, params["ResourceId"], params["TagKeys"])
    return {}


@operation(SERVICE)
def list_tags_for_resource(ctx, params):
    tags, token = policies.list_tags(ctx, params["ResourceId"], params.get("NextToken"))
    return {"Tags": tags, "NextToken": token}


@operation(SERVICE)
def describe_effective_policy(ctx, params):
    return {"EffectivePolicy": policies.describe_effective_policy(ctx, params["PolicyType"], params.get("TargetId"))}
