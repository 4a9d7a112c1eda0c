"""Organizations policies: service control policies through the real API (boto3 and the aws
CLI), and the SCP levels the authorization engine evaluates, read from the same database."""

import json

import pytest
from botocore.exceptions import ClientError

from amishare.domain import organizations, policy
from amishare.store.db import open_store
from test_organizations import Tree, join

SCP = "SERVICE_CONTROL_POLICY"
FULL = "p-FullAWSAccess"
FULL_ARN = "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"


def refused(call):
    """The error code and the parsed error response of a call that must fail."""
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response["Error"]["Code"], exc.value.response


def code_of(call):
    return refused(call)[0]


def scp(*statements, version="2012-10-17"):
    return json.dumps({"Version": version, "Statement": list(statements)})


DENY_EC2_DELETE = scp({"Effect": "Deny", "Action": ["ec2:DeregisterImage", "ec2:DeleteSnapshot"], "Resource": "*"})
ALLOW_EC2 = scp({"Effect": "Allow", "Action": "ec2:*", "Resource": "*"})


def targets(orgs, policy_id):
    return sorted(t["TargetId"] for t in orgs.list_targets_for_policy(PolicyId=policy_id)["Targets"])


def attached(orgs, target_id):
    return sorted(p["Id"] for p in orgs.list_policies_for_target(TargetId=target_id, Filter=SCP)["Policies"])


def policy_ids(orgs):
    return sorted(p["Id"] for p in orgs.list_policies(Filter=SCP)["Policies"])


def enabled_tree(server, mgmt, *members):
    """A Tree with SCPs enabled; members placed at the root."""
    tree = Tree(server, mgmt)
    for member in members:
        join(server, tree.orgs, member)
    tree.orgs.enable_policy_type(RootId=tree.root, PolicyType=SCP)
    return tree


def test_full_aws_access_and_policy_types(server):
    mgmt, member, outsider = server.new_account(), server.new_account(), server.new_account()
    assert code_of(lambda: server.client(outsider, "organizations").list_policies(Filter=SCP)) == "AWSOrganizationsNotInUseException"
    tree = Tree(server, mgmt)
    orgs = tree.orgs
    join(server, orgs, member)
    assert orgs.describe_organization()["Organization"]["AvailablePolicyTypes"] == [{"Type": SCP, "Status": "ENABLED"}]
    assert orgs.list_roots()["Roots"][0]["PolicyTypes"] == []
    # FullAWSAccess is AWS managed and listed before SCPs are enabled.
    [full] = orgs.list_policies(Filter=SCP)["Policies"]
    assert full == {"Id": FULL, "Arn": FULL_ARN, "Name": "FullAWSAccess", "Description": "Allows access to every operation",
                    "Type": SCP, "AwsManaged": True}
    content = json.loads(orgs.describe_policy(PolicyId=FULL)["Policy"]["Content"])
    assert content == {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    assert orgs.list_policies(Filter="TAG_POLICY")["Policies"] == []
    assert targets(orgs, FULL) == []
    # Nothing can be attached until the type is enabled in the root.
    custom = orgs.create_policy(Content=DENY_EC2_DELETE, Description="", Name="no-deletes", Type=SCP)["Policy"]
    assert code_of(lambda: orgs.attach_policy(PolicyId=custom["PolicySummary"]["Id"], TargetId=tree.root)) == "PolicyTypeNotEnabledException"
    assert code_of(lambda: orgs.disable_policy_type(RootId=tree.root, PolicyType=SCP)) == "PolicyTypeNotEnabledException"
    assert code_of(lambda: orgs.enable_policy_type(RootId="r-zzzz", PolicyType=SCP)) == "RootNotFoundException"
    assert code_of(lambda: orgs.enable_policy_type(RootId="root", PolicyType=SCP)) == "InvalidInputException"
    assert code_of(lambda: orgs.enable_policy_type(RootId=tree.root, PolicyType="TAG_POLICY")) == \
        "PolicyTypeNotAvailableForOrganizationException"
    # Only the management account manages policies.
    member_orgs = server.client(member, "organizations")
    for call in (lambda: member_orgs.enable_policy_type(RootId=tree.root, PolicyType=SCP),
                 lambda: member_orgs.list_policies(Filter=SCP), lambda: member_orgs.describe_policy(PolicyId=FULL),
                 lambda: member_orgs.create_policy(Content=ALLOW_EC2, Description="", Name="x", Type=SCP)):
        assert code_of(call) == "AccessDeniedException"
    assert orgs.list_roots()["Roots"][0]["PolicyTypes"] == []
    # Enabling attaches FullAWSAccess to the root, every OU and every account.
    root = orgs.enable_policy_type(RootId=tree.root, PolicyType=SCP)["Root"]
    assert root["Id"] == tree.root and root["PolicyTypes"] == [{"Type": SCP, "Status": "ENABLED"}]
    assert orgs.list_roots()["Roots"][0]["PolicyTypes"] == [{"Type": SCP, "Status": "ENABLED"}]
    assert code_of(lambda: orgs.enable_policy_type(RootId=tree.root, PolicyType=SCP)) == "PolicyTypeAlreadyEnabledException"
    everything = sorted([tree.root, mgmt.account_id, member.account_id] + [ou["Id"] for ou in tree.ou.values()])
    assert targets(orgs, FULL) == everything
    listed = {t["TargetId"]: t for t in orgs.list_targets_for_policy(PolicyId=FULL)["Targets"]}
    assert listed[tree.root] == {"TargetId": tree.root, "Type": "ROOT", "Name": "Root",
                                 "Arn": f"arn:aws:organizations::{mgmt.account_id}:root/{tree.org['Id']}/{tree.root}"}
    assert listed[tree.ou["Eng"]["Id"]] == {"TargetId": tree.ou["Eng"]["Id"], "Type": "ORGANIZATIONAL_UNIT",
                                            "Name": "Eng", "Arn": tree.ou["Eng"]["Arn"]}
    assert listed[member.account_id]["Type"] == "ACCOUNT"
    assert listed[member.account_id]["Arn"] == f"arn:aws:organizations::{mgmt.account_id}:account/{tree.org['Id']}/{member.account_id}"
    # New OUs and accounts get it too, invited or created.
    ou = orgs.create_organizational_unit(ParentId=tree.ou["Sales"]["Id"], Name="EMEA")["OrganizationalUnit"]
    invited = server.new_account()
    join(server, orgs, invited)
    created = orgs.create_account(Email="scp-created@example.com", AccountName="created")["CreateAccountStatus"]["AccountId"]
    for target in (ou["Id"], invited.account_id, created):
        assert attached(orgs, target) == [FULL]
    # Leaving the tree takes the attachments along.
    orgs.delete_organizational_unit(OrganizationalUnitId=ou["Id"])
    orgs.remove_account_from_organization(AccountId=invited.account_id)
    assert ou["Id"] not in targets(orgs, FULL) and invited.account_id not in targets(orgs, FULL)
    # Disabling detaches every SCP and keeps the policies; enabling again starts from FullAWSAccess only.
    orgs.attach_policy(PolicyId=custom["PolicySummary"]["Id"], TargetId=tree.ou["Eng"]["Id"])
    assert orgs.disable_policy_type(RootId=tree.root, PolicyType=SCP)["Root"]["PolicyTypes"] == []
    assert orgs.describe_organization()["Organization"]["AvailablePolicyTypes"] == [{"Type": SCP, "Status": "ENABLED"}]
    assert targets(orgs, FULL) == [] and targets(orgs, custom["PolicySummary"]["Id"]) == []
    assert attached(orgs, tree.ou["Eng"]["Id"]) == []
    assert policy_ids(orgs) == sorted([FULL, custom["PolicySummary"]["Id"]])
    orgs.enable_policy_type(RootId=tree.root, PolicyType=SCP)
    assert attached(orgs, tree.ou["Eng"]["Id"]) == [FULL]
    # The organization can be deleted with its policies once the members are gone.
    orgs.remove_account_from_organization(AccountId=member.account_id)
    server.client(_credentials(server, created), "organizations").leave_organization()
    for ou_name in ("Core", "Platform", "Apps", "Eng", "Sales"):
        orgs.delete_organizational_unit(OrganizationalUnitId=tree.ou[ou_name]["Id"])
    orgs.delete_organization()
    assert code_of(lambda: orgs.list_policies(Filter=SCP)) == "AWSOrganizationsNotInUseException"


def _credentials(server, account_id):
    from support import Account

    creds = json.loads(server.cli("accounts", "credentials", "--db", server.db_url, "--id", account_id))
    return Account(creds["AccountId"], creds["AccessKeyId"], creds["SecretAccessKey"])


def test_create_describe_update_delete_policy(server):
    mgmt = server.new_account()
    tree = enabled_tree(server, mgmt)
    orgs = tree.orgs
    created = orgs.create_policy(Content=DENY_EC2_DELETE, Description="No deregistering", Name="guardrail", Type=SCP)["Policy"]
    summary = created["PolicySummary"]
    policy_id = summary["Id"]
    assert policy_id.startswith("p-") and len(policy_id) == 10 and policy_id[2:].isalnum()
    assert summary == {"Id": policy_id, "Name": "guardrail", "Description": "No deregistering", "Type": SCP,
                       "AwsManaged": False,
                       "Arn": f"arn:aws:organizations::{mgmt.account_id}:policy/{tree.org['Id']}/service_control_policy/{policy_id}"}
    assert created["Content"] == DENY_EC2_DELETE
    assert orgs.describe_policy(PolicyId=policy_id)["Policy"] == created
    # Refusals change nothing.
    bad_documents = {
        "not json": "MalformedPolicyDocumentException",
        json.dumps([{"Effect": "Allow"}]): "MalformedPolicyDocumentException",
        scp({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}): "MalformedPolicyDocumentException",
        scp({"Effect": "Deny", "NotPrincipal": {"AWS": "123456789012"}, "Action": "*"}): "MalformedPolicyDocumentException",
        scp({"Effect": "Maybe", "Action": "*"}): "MalformedPolicyDocumentException",
        scp({"Effect": "Allow", "Resource": "*"}): "MalformedPolicyDocumentException",
        scp({"Effect": "Allow", "Action": "ec2 describe"}): "MalformedPolicyDocumentException",
        scp({"Effect": "Deny", "Action": "*", "Resource": "bucket"}): "MalformedPolicyDocumentException",
        scp({"Effect": "Deny", "Action": "*", "Condition": {"StringSounds": {"aws:PrincipalTag/x": "y"}}}):
            "MalformedPolicyDocumentException",
        scp({"Effect": "Allow", "Action": "*"}, version="2008-10-17"): "MalformedPolicyDocumentException",
        '{"Version": "2012-10-17", "Statement": [], "Statement": [{"Effect": "Allow", "Action": "*"}]}':
            "MalformedPolicyDocumentException",
        scp({"Effect": "Allow", "Action": "*", "Resource": "*", "Sid": "x" * 5200}): "ConstraintViolationException",
    }
    for document, expected in bad_documents.items():
        code, response = refused(lambda: orgs.create_policy(Content=document, Description="", Name="bad", Type=SCP))
        assert code == expected, document
        if expected == "ConstraintViolationException":
            assert response["Reason"] == "POLICY_CONTENT_LIMIT_EXCEEDED"
        code, _ = refused(lambda: orgs.update_policy(PolicyId=policy_id, Content=document, Name="renamed"))
        assert code == expected, document
    assert code_of(lambda: orgs.create_policy(Content=ALLOW_EC2, Description="", Name="guardrail", Type=SCP)) == "DuplicatePolicyException"
    assert code_of(lambda: orgs.create_policy(Content=ALLOW_EC2, Description="", Name="FullAWSAccess", Type=SCP)) == \
        "DuplicatePolicyException"
    assert code_of(lambda: orgs.create_policy(Content=ALLOW_EC2, Description="", Name="tags", Type="TAG_POLICY")) == \
        "PolicyTypeNotAvailableForOrganizationException"
    assert policy_ids(orgs) == sorted([FULL, policy_id])
    assert orgs.describe_policy(PolicyId=policy_id)["Policy"] == created
    # The SCP language as AWS has it: no Principal, conditions, NotAction, NotResource, wildcards.
    region_guard = scp({"Sid": "DenyOutsideEU", "Effect": "Deny", "NotAction": ["iam:*", "organizations:*"],
                        "NotResource": "arn:aws:iam::*:role/Admin",
                        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]},
                                      "BoolIfExists": {"aws:MultiFactorAuthPresent": False},
                                      "ForAnyValue:StringLike": {"aws:TagKeys": "secret*"}}})
    orgs.create_policy(Content=region_guard, Description="", Name="region-guard", Type=SCP)
    # Update: name, description and content, each alone.
    other = orgs.create_policy(Content=ALLOW_EC2, Description="", Name="other", Type=SCP)["Policy"]["PolicySummary"]["Id"]
    assert code_of(lambda: orgs.update_policy(PolicyId=policy_id, Name="other")) == "DuplicatePolicyException"
    updated = orgs.update_policy(PolicyId=policy_id, Name="guardrail-v2")["Policy"]
    assert updated["PolicySummary"]["Name"] == "guardrail-v2" and updated["Content"] == DENY_EC2_DELETE
    assert orgs.update_policy(PolicyId=policy_id, Name="guardrail-v2")["Policy"]["PolicySummary"]["Name"] == "guardrail-v2"
    orgs.update_policy(PolicyId=policy_id, Description="changed")
    orgs.update_policy(PolicyId=policy_id, Content=ALLOW_EC2)
    described = orgs.describe_policy(PolicyId=policy_id)["Policy"]
    assert (described["PolicySummary"]["Description"], described["Content"]) == ("changed", ALLOW_EC2)
    # AWS managed FullAWSAccess can't be changed or deleted.
    for call in (lambda: orgs.update_policy(PolicyId=FULL, Name="mine"), lambda: orgs.delete_policy(PolicyId=FULL)):
        code, response = refused(call)
        assert (code, response["Reason"]) == ("InvalidInputException", "IMMUTABLE_POLICY")
    assert orgs.describe_policy(PolicyId=FULL)["Policy"]["PolicySummary"]["Name"] == "FullAWSAccess"
    # Delete: refused while attached.
    orgs.attach_policy(PolicyId=policy_id, TargetId=tree.ou["Eng"]["Id"])
    assert code_of(lambda: orgs.delete_policy(PolicyId=policy_id)) == "PolicyInUseException"
    assert orgs.describe_policy(PolicyId=policy_id)["Policy"]["PolicySummary"]["Name"] == "guardrail-v2"
    orgs.detach_policy(PolicyId=policy_id, TargetId=tree.ou["Eng"]["Id"])
    orgs.delete_policy(PolicyId=policy_id)
    orgs.delete_policy(PolicyId=other)
    for call in (lambda: orgs.describe_policy(PolicyId=policy_id), lambda: orgs.delete_policy(PolicyId=policy_id),
                 lambda: orgs.update_policy(PolicyId=policy_id, Name="x"),
                 lambda: orgs.list_targets_for_policy(PolicyId=policy_id)):
        assert code_of(call) == "PolicyNotFoundException"
    code, response = refused(lambda: orgs.describe_policy(PolicyId="policy-1"))
    assert (code, response["Reason"]) == ("InvalidInputException", "INVALID_SYNTAX_POLICY_ID")
    # Another organization's policy is not found.
    stranger = Tree(server, server.new_account()).orgs
    assert code_of(lambda: stranger.describe_policy(PolicyId=other)) == "PolicyNotFoundException"


def test_attach_and_detach(server):
    mgmt, member, outsider = server.new_account(), server.new_account(), server.new_account()
    tree = enabled_tree(server, mgmt, member)
    orgs = tree.orgs
    ids = [orgs.create_policy(Content=ALLOW_EC2, Description="", Name=f"p{i}", Type=SCP)["Policy"]["PolicySummary"]["Id"]
           for i in range(5)]
    eng = tree.ou["Eng"]["Id"]
    # Root, OU and account targets.
    for target in (tree.root, eng, member.account_id):
        orgs.attach_policy(PolicyId=ids[0], TargetId=target)
        assert attached(orgs, target) == sorted([FULL, ids[0]])
    assert targets(orgs, ids[0]) == sorted([tree.root, eng, member.account_id])
    assert code_of(lambda: orgs.attach_policy(PolicyId=ids[0], TargetId=eng)) == "DuplicatePolicyAttachmentException"
    refusals = {
        "ou-zzzz-zzzzzzzz": "TargetNotFoundException", "r-zzzz": "TargetNotFoundException",
        outsider.account_id: "TargetNotFoundException", "not-a-target": "InvalidInputException",
    }
    for target, expected in refusals.items():
        assert code_of(lambda: orgs.attach_policy(PolicyId=ids[1], TargetId=target)) == expected
        assert code_of(lambda: orgs.detach_policy(PolicyId=ids[0], TargetId=target)) == expected
    assert code_of(lambda: orgs.list_policies_for_target(TargetId=outsider.account_id, Filter=SCP)) == "TargetNotFoundException"
    assert code_of(lambda: orgs.attach_policy(PolicyId="p-00000000", TargetId=eng)) == "PolicyNotFoundException"
    assert code_of(lambda: orgs.detach_policy(PolicyId="p-00000000", TargetId=eng)) == "PolicyNotFoundException"
    # At most five SCPs on one target.
    for policy_id in ids[1:4]:
        orgs.attach_policy(PolicyId=policy_id, TargetId=eng)
    assert len(attached(orgs, eng)) == 5
    code, response = refused(lambda: orgs.attach_policy(PolicyId=ids[4], TargetId=eng))
    assert (code, response["Reason"]) == ("ConstraintViolationException", "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
    assert attached(orgs, eng) == sorted([FULL] + ids[:4])
    # Detach: not attached, and never the last SCP of a target.
    assert code_of(lambda: orgs.detach_policy(PolicyId=ids[4], TargetId=eng)) == "PolicyNotAttachedException"
    orgs.detach_policy(PolicyId=FULL, TargetId=member.account_id)
    assert attached(orgs, member.account_id) == [ids[0]]
    code, response = refused(lambda: orgs.detach_policy(PolicyId=ids[0], TargetId=member.account_id))
    assert (code, response["Reason"]) == ("ConstraintViolationException", "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
    assert attached(orgs, member.account_id) == [ids[0]]
    orgs.attach_policy(PolicyId=FULL, TargetId=member.account_id)
    orgs.detach_policy(PolicyId=ids[0], TargetId=member.account_id)
    assert attached(orgs, member.account_id) == [FULL]
    # Only the management account attaches.
    assert code_of(lambda: server.client(member, "organizations").attach_policy(PolicyId=ids[4], TargetId=eng)) == \
        "AccessDeniedException"
    # Pages of policies, targets and attachments.
    pages, token = [], None
    while True:
        kwargs = {"NextToken": token} if token else {}
        answer = orgs.list_policies(Filter=SCP, MaxResults=2, **kwargs)
        pages.append([p["Id"] for p in answer["Policies"]])
        token = answer.get("NextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [2, 2, 2] and sorted(sum(pages, [])) == sorted([FULL] + ids)
    first = orgs.list_targets_for_policy(PolicyId=FULL, MaxResults=3)
    rest = orgs.list_targets_for_policy(PolicyId=FULL, NextToken=first["NextToken"])
    assert sorted(t["TargetId"] for t in first["Targets"] + rest["Targets"]) == targets(orgs, FULL)
    first = orgs.list_policies_for_target(TargetId=eng, Filter=SCP, MaxResults=4)
    rest = orgs.list_policies_for_target(TargetId=eng, Filter=SCP, NextToken=first["NextToken"])
    assert sorted(p["Id"] for p in first["Policies"] + rest["Policies"]) == sorted([FULL] + ids[:4])
    assert code_of(lambda: orgs.list_policies(Filter=SCP, MaxResults=21)) == "InvalidInputException"
    assert code_of(lambda: orgs.list_policies(Filter=SCP, NextToken=first["NextToken"])) == "InvalidInputException"  # reason INVALID_NEXT_TOKEN


def test_consolidated_billing_has_no_scps(server):
    orgs = server.client(server.new_account(), "organizations")
    orgs.create_organization(FeatureSet="CONSOLIDATED_BILLING")
    assert orgs.describe_organization()["Organization"]["AvailablePolicyTypes"] == []
    root = orgs.list_roots()["Roots"][0]["Id"]
    assert code_of(lambda: orgs.enable_policy_type(RootId=root, PolicyType=SCP)) == "PolicyTypeNotAvailableForOrganizationException"
    assert code_of(lambda: orgs.create_policy(Content=ALLOW_EC2, Description="", Name="x", Type=SCP)) == \
        "PolicyTypeNotAvailableForOrganizationException"
    assert orgs.list_policies(Filter=SCP)["Policies"] == []
    assert code_of(lambda: orgs.describe_policy(PolicyId=FULL)) == "PolicyNotFoundException"


def test_tags_on_policies_and_the_tree(server):
    mgmt, member = server.new_account(), server.new_account()
    tree = enabled_tree(server, mgmt, member)
    orgs = tree.orgs
    policy_id = orgs.create_policy(Content=ALLOW_EC2, Description="", Name="tagged", Type=SCP,
                                   Tags=[{"Key": "team", "Value": "platform"}])["Policy"]["PolicySummary"]["Id"]
    assert orgs.list_tags_for_resource(ResourceId=policy_id)["Tags"] == [{"Key": "team", "Value": "platform"}]
    for resource in (policy_id, tree.root, tree.ou["Eng"]["Id"], member.account_id):
        orgs.tag_resource(ResourceId=resource, Tags=[{"Key": "env", "Value": "prod"}, {"Key": "owner", "Value": ""}])
        orgs.tag_resource(ResourceId=resource, Tags=[{"Key": "env", "Value": "dev"}])
        orgs.untag_resource(ResourceId=resource, TagKeys=["owner", "absent"])
        tags = {t["Key"]: t["Value"] for t in orgs.list_tags_for_resource(ResourceId=resource)["Tags"]}
        assert tags == ({"team": "platform", "env": "dev"} if resource == policy_id else {"env": "dev"})
    refusals = [
        (policy_id, [{"Key": "aws:reserved", "Value": "x"}], "InvalidInputException", "INVALID_SYSTEM_TAGS_PARAMETER"),
        (policy_id, [{"Key": "k", "Value": "a"}, {"Key": "k", "Value": "b"}], "InvalidInputException", "DUPLICATE_TAG_KEY"),
        (policy_id, [{"Key": f"k{i}", "Value": "v"} for i in range(49)], "ConstraintViolationException", "MAX_TAG_LIMIT_EXCEEDED"),
        (FULL, [{"Key": "k", "Value": "v"}], "InvalidInputException", "IMMUTABLE_POLICY"),
    ]
    for resource, tags, expected, reason in refusals:
        code, response = refused(lambda: orgs.tag_resource(ResourceId=resource, Tags=tags))
        assert (code, response["Reason"]) == (expected, reason)
    assert len(orgs.list_tags_for_resource(ResourceId=policy_id)["Tags"]) == 2
    for missing in ("p-00000000", "ou-zzzz-zzzzzzzz", server.new_account().account_id):
        assert code_of(lambda: orgs.list_tags_for_resource(ResourceId=missing)) == "TargetNotFoundException"
    assert code_of(lambda: server.client(member, "organizations").list_tags_for_resource(ResourceId=policy_id)) == \
        "AccessDeniedException"
    # Tags go with their resource.
    orgs.delete_policy(PolicyId=policy_id)
    again = orgs.create_policy(Content=ALLOW_EC2, Description="", Name="tagged", Type=SCP)["Policy"]["PolicySummary"]["Id"]
    assert orgs.list_tags_for_resource(ResourceId=again)["Tags"] == []


def test_scp_flow_with_the_aws_cli(server, tmp_path):
    mgmt, member = server.new_account(), server.new_account()
    tree = Tree(server, mgmt)
    join(server, tree.orgs, member)
    _, root, _ = server.aws(mgmt, "organizations", "enable-policy-type", "--root-id", tree.root,
                            "--policy-type", SCP)
    assert root["Root"]["PolicyTypes"] == [{"Type": SCP, "Status": "ENABLED"}]
    document = tmp_path / "scp.json"
    document.write_text(DENY_EC2_DELETE)
    _, created, _ = server.aws(mgmt, "organizations", "create-policy", "--content", f"file://{document}",
                               "--name", "DenyImageDeletion", "--type", SCP, "--description", "keep images")
    policy_id = created["Policy"]["PolicySummary"]["Id"]
    server.aws(mgmt, "organizations", "attach-policy", "--policy-id", policy_id, "--target-id", member.account_id)
    _, listed, _ = server.aws(mgmt, "organizations", "list-policies-for-target", "--target-id", member.account_id,
                              "--filter", SCP, "--query", "Policies[].Name")
    assert sorted(listed) == ["DenyImageDeletion", "FullAWSAccess"]
    _, found, _ = server.aws(mgmt, "organizations", "list-targets-for-policy", "--policy-id", policy_id)
    assert [t["TargetId"] for t in found["Targets"]] == [member.account_id]
    rc, _, stderr = server.aws(mgmt, "organizations", "delete-policy", "--policy-id", policy_id, check=False)
    assert rc != 0 and "PolicyInUseException" in stderr
    rc, _, stderr = server.aws(member, "organizations", "list-policies", "--filter", SCP, check=False)
    assert rc != 0 and "AccessDeniedException" in stderr
    server.aws(mgmt, "organizations", "detach-policy", "--policy-id", policy_id, "--target-id", member.account_id)
    server.aws(mgmt, "organizations", "delete-policy", "--policy-id", policy_id)
    _, roots, _ = server.aws(mgmt, "organizations", "disable-policy-type", "--root-id", tree.root, "--policy-type", SCP)
    assert roots["Root"]["PolicyTypes"] == []


# --- the levels the authorization engine evaluates


def levels_of(server, account_id):
    store = open_store(server.db_url, run_migrations=False)
    try:
        with store.transaction(write=False) as conn:
            levels = organizations.scp_levels(conn, account_id)
    finally:
        store.dispose()
    return None if levels is None else [[policy_id for policy_id, _ in level] for level in levels]


def test_scp_levels_follow_the_tree_live(server):
    mgmt, member, outsider = server.new_account(), server.new_account(), server.new_account()
    tree = Tree(server, mgmt)
    orgs = tree.orgs
    tree.place(server, member, "Core")
    assert levels_of(server, member.account_id) is None  # SCPs not enabled
    orgs.enable_policy_type(RootId=tree.root, PolicyType=SCP)
    assert levels_of(server, outsider.account_id) is None  # in no organization
    assert levels_of(server, mgmt.account_id) is None  # SCPs don't apply to the management account
    # Root, Eng, Platform, Core, the account.
    assert levels_of(server, member.account_id) == [[FULL]] * 5
    deny = orgs.create_policy(Content=DENY_EC2_DELETE, Description="", Name="deny", Type=SCP)["Policy"]["PolicySummary"]["Id"]
    ec2_only = orgs.create_policy(Content=ALLOW_EC2, Description="", Name="ec2", Type=SCP)["Policy"]["PolicySummary"]["Id"]
    orgs.attach_policy(PolicyId=deny, TargetId=tree.ou["Platform"]["Id"])
    orgs.attach_policy(PolicyId=ec2_only, TargetId=tree.ou["Eng"]["Id"])
    orgs.detach_policy(PolicyId=FULL, TargetId=tree.ou["Eng"]["Id"])
    assert levels_of(server, member.account_id) == [[FULL], [ec2_only], sorted([FULL, deny]), [FULL], [FULL]]
    # Moving the account changes its levels at once.
    tree.move(member, "Core", "Sales")
    assert levels_of(server, member.account_id) == [[FULL], [FULL], [FULL]]
    tree.move(member, "Sales", "Apps")
    assert levels_of(server, member.account_id) == [[FULL], [ec2_only], [FULL], [FULL]]
    tree.move(member, "Apps", None)
    assert levels_of(server, member.account_id) == [[FULL], [FULL]]
    orgs.attach_policy(PolicyId=deny, TargetId=member.account_id)
    assert levels_of(server, member.account_id) == [[FULL], sorted([FULL, deny])]
    # Documents come parsed; disabling SCPs ends them.
    store = open_store(server.db_url, run_migrations=False)
    try:
        with store.transaction(write=False) as conn:
            levels = organizations.scp_levels(conn, member.account_id)
    finally:
        store.dispose()
    assert dict(levels[1])[deny] == json.loads(DENY_EC2_DELETE)
    assert dict(levels[0])[FULL]["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    orgs.disable_policy_type(RootId=tree.root, PolicyType=SCP)
    assert levels_of(server, member.account_id) is None
    orgs.remove_account_from_organization(AccountId=member.account_id)
    orgs.enable_policy_type(RootId=tree.root, PolicyType=SCP)
    assert levels_of(server, member.account_id) is None


FULL_DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_evaluate_scps():
    ec2_only = doc({"Effect": "Allow", "Action": "ec2:*", "Resource": "*"})
    no_delete = doc({"Sid": "NoDelete", "Effect": "Deny", "Action": ["ec2:DeregisterImage", "ec2:Delete*"], "Resource": "*"})
    eu_only = doc({"Effect": "Deny", "NotAction": "iam:*", "Resource": "*",
                   "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}})
    image = "arn:aws:ec2:eu-west-1::image/ami-12345678901234567"
    assert organizations.evaluate_scps(None, "ec2:RunInstances", image) == (policy.ALLOW, [])
    levels = [[("p-FullAWSAccess", FULL_DOC)], [("p-ec2only1", ec2_only)], [("p-FullAWSAccess", FULL_DOC)]]
    decision, matched = organizations.evaluate_scps(levels, "ec2:RunInstances", image)
    assert decision == policy.ALLOW and [(m.level, m.policy_id) for m in matched] == [
        (0, "p-FullAWSAccess"), (1, "p-ec2only1"), (2, "p-FullAWSAccess")]
    # Every level must allow: an OU allowing only EC2 implicitly denies KMS below it.
    decision, matched = organizations.evaluate_scps(levels, "kms:Decrypt", "*")
    assert decision == policy.NOT_APPLICABLE and {m.level for m in matched} == {0, 2}
    # A deny at any level wins.
    levels[2].append(("p-nodelete1", no_delete))
    decision, matched = organizations.evaluate_scps(levels, "ec2:DeleteSnapshot", "*")
    assert decision == policy.DENY and [(m.level, m.policy_id, m.statement["Sid"]) for m in matched] == [(2, "p-nodelete1", "NoDelete")]
    assert organizations.evaluate_scps(levels, "ec2:CreateImage", "*")[0] == policy.ALLOW
    # Conditions read the request context, keys in any case.
    levels = [[("p-FullAWSAccess", FULL_DOC), ("p-euonly111", eu_only)]]
    assert organizations.evaluate_scps(levels, "ec2:RunInstances", "*", {"aws:RequestedRegion": "eu-west-1"})[0] == policy.ALLOW
    assert organizations.evaluate_scps(levels, "ec2:RunInstances", "*", {"AWS:requestedregion": "us-east-1"})[0] == policy.DENY
    assert organizations.evaluate_scps(levels, "iam:CreateRole", "*", {"aws:RequestedRegion": "us-east-1"})[0] == policy.ALLOW
    # A level with no policy (never, while AWS's invariants hold) allows nothing.
    assert organizations.evaluate_scps([[("p-FullAWSAccess", FULL_DOC)], []], "ec2:RunInstances", "*")[0] == policy.NOT_APPLICABLE
    # Conditions the engine can't evaluate never widen access: they deny, and they don't allow.
    odd_deny = doc({"Effect": "Deny", "Action": "ec2:*", "Resource": "*",
                    "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}})
    odd_allow = doc({"Effect": "Allow", "Action": "ec2:*", "Resource": "*",
                     "Condition": {"NumericLessThan": {"ec2:VolumeSize": "10"}}})
    assert organizations.evaluate_scps([[("p-FullAWSAccess", FULL_DOC), ("p-odddeny11", odd_deny)]],
                                       "ec2:RunInstances", "*")[0] == policy.DENY
    assert organizations.evaluate_scps([[("p-oddallow1", odd_allow)]], "ec2:RunInstances", "*")[0] == policy.NOT_APPLICABLE
    assert organizations.evaluate_scps([[("p-oddallow1", odd_allow)]], "s3:GetObject", "*")[0] == policy.NOT_APPLICABLE
