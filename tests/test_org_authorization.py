"""Organizations calls are authorized on the resources AWS's service authorization reference
names for them (root, OUs, accounts, policies under the management account's ARNs), with
aws:ResourceTag/… and organizations:PolicyType, through the real API. A refusal changes nothing."""

from support import expect_error, policy_document
from test_org_policies import SCP, enabled_tree, scp, targets

FULL_ARN = "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"
READ = {"Effect": "Allow", "Action": ["organizations:Describe*", "organizations:List*"], "Resource": "*"}


def org_user(server, mgmt, name, *statements):
    """A user of the management account with an inline policy of `statements`."""
    user = server.new_user(mgmt, name)
    server.client(mgmt, "iam").put_user_policy(UserName=name, PolicyName="orgs", PolicyDocument=policy_document(*statements))
    return user


def test_attach_policy_names_the_policy_and_the_target(server):
    mgmt = server.new_account()
    tree = enabled_tree(server, mgmt)
    org_id, prefix = tree.org["Id"], f"arn:aws:organizations::{mgmt.account_id}"
    tagged = tree.orgs.create_policy(Content=scp({"Effect": "Deny", "Action": "ec2:DeleteSnapshot", "Resource": "*"}),
                                     Description="d", Name="tagged", Type=SCP,
                                     Tags=[{"Key": "Team", "Value": "platform"}])["Policy"]["PolicySummary"]
    untagged = tree.orgs.create_policy(Content=scp({"Effect": "Deny", "Action": "ec2:DeleteVolume", "Resource": "*"}),
                                       Description="d", Name="untagged", Type=SCP)["Policy"]["PolicySummary"]
    assert tagged["Arn"] == f"{prefix}:policy/{org_id}/service_control_policy/{tagged['Id']}"
    sales = tree.ou["Sales"]
    admin = org_user(server, mgmt, "org-admin", READ,
                     {"Effect": "Allow", "Action": ["organizations:AttachPolicy", "organizations:DetachPolicy"],
                      "Resource": sales["Arn"]},
                     {"Effect": "Allow", "Action": ["organizations:AttachPolicy", "organizations:DetachPolicy"],
                      "Resource": f"{prefix}:policy/{org_id}/service_control_policy/*",
                      "Condition": {"StringEquals": {"aws:ResourceTag/Team": "platform",
                                                     "organizations:PolicyType": SCP}}})
    orgs = server.client(admin, "organizations")
    orgs.attach_policy(PolicyId=tagged["Id"], TargetId=sales["Id"])
    assert targets(tree.orgs, tagged["Id"]) == [sales["Id"]]
    # Another OU is not among the resources allowed.
    eng = tree.ou["Eng"]
    message = expect_error(lambda: orgs.attach_policy(PolicyId=tagged["Id"], TargetId=eng["Id"]),
                           "AccessDeniedException")
    assert f"organizations:AttachPolicy on resource: {eng['Arn']}" in message
    assert eng["Arn"] == f"{prefix}:ou/{org_id}/{eng['Id']}"
    # A policy without the tag isn't either, nor is the root.
    message = expect_error(lambda: orgs.attach_policy(PolicyId=untagged["Id"], TargetId=sales["Id"]),
                           "AccessDeniedException")
    assert f"on resource: {untagged['Arn']}" in message
    message = expect_error(lambda: orgs.attach_policy(PolicyId=tagged["Id"], TargetId=tree.root), "AccessDeniedException")
    assert f"on resource: {prefix}:root/{org_id}/{tree.root}" in message
    assert targets(tree.orgs, tagged["Id"]) == [sales["Id"]]
    assert targets(tree.orgs, untagged["Id"]) == []
    # Untagging the policy takes the permission away at once; the CLI sees the same refusal.
    tree.orgs.untag_resource(ResourceId=tagged["Id"], TagKeys=["Team"])
    code, _, err = server.aws(admin, "organizations", "detach-policy", "--policy-id", tagged["Id"],
                              "--target-id", sales["Id"], check=False)
    assert code != 0 and "AccessDeniedException" in err
    assert targets(tree.orgs, tagged["Id"]) == [sales["Id"]]


def test_policy_type_and_the_aws_managed_policy(server):
    mgmt = server.new_account()
    tree = enabled_tree(server, mgmt)
    keeper = org_user(server, mgmt, "keeper", READ,
                      {"Effect": "Allow", "Action": "organizations:*", "Resource": "*"},
                      {"Effect": "Deny", "Action": ["organizations:DisablePolicyType", "organizations:CreatePolicy"],
                       "Resource": "*", "Condition": {"StringEquals": {"organizations:PolicyType": SCP}}})
    orgs = server.client(keeper, "organizations")
    message = expect_error(lambda: orgs.disable_policy_type(RootId=tree.root, PolicyType=SCP), "AccessDeniedException")
    assert f"root/{tree.org['Id']}/{tree.root}" in message and "explicit deny" in message
    assert tree.orgs.list_roots()["Roots"][0]["PolicyTypes"] == [{"Type": SCP, "Status": "ENABLED"}]
    expect_error(lambda: orgs.create_policy(Content=scp({"Effect": "Allow", "Action": "*", "Resource": "*"}),
                                            Description="d", Name="n", Type=SCP), "AccessDeniedException")
    assert [p["Name"] for p in tree.orgs.list_policies(Filter=SCP)["Policies"]] == ["FullAWSAccess"]
    # The AWS managed policy is named by its own ARN.
    reader = org_user(server, mgmt, "reader", {"Effect": "Allow", "Action": "organizations:DescribePolicy",
                                                "Resource": "arn:aws:organizations::aws:policy/*"})
    described = server.client(reader, "organizations").describe_policy(PolicyId="p-FullAWSAccess")
    assert described["Policy"]["PolicySummary"]["Arn"] == FULL_ARN
    mine = tree.orgs.create_policy(Content=scp({"Effect": "Allow", "Action": "*", "Resource": "*"}),
                                   Description="d", Name="mine", Type=SCP)["Policy"]["PolicySummary"]
    expect_error(lambda: server.client(reader, "organizations").describe_policy(PolicyId=mine["Id"]),
                 "AccessDeniedException")


def test_accounts_and_moves_name_the_account_and_both_parents(server):
    mgmt, member = server.new_account(), server.new_account()
    tree = enabled_tree(server, mgmt, member)
    prefix, org_id = f"arn:aws:organizations::{mgmt.account_id}", tree.org["Id"]
    account_arn = f"{prefix}:account/{org_id}/{member.account_id}"
    tree.orgs.tag_resource(ResourceId=member.account_id, Tags=[{"Key": "Stage", "Value": "dev"}])
    mover = org_user(server, mgmt, "mover",
                     {"Effect": "Allow", "Action": "organizations:MoveAccount",
                      "Resource": [f"{prefix}:root/{org_id}/*", tree.ou["Sales"]["Arn"]]},
                     {"Effect": "Allow", "Action": ["organizations:MoveAccount", "organizations:DescribeAccount"],
                      "Resource": f"{prefix}:account/{org_id}/*",
                      "Condition": {"StringEquals": {"aws:ResourceTag/Stage": "dev"}}})
    orgs = server.client(mover, "organizations")
    assert orgs.describe_account(AccountId=member.account_id)["Account"]["Arn"] == account_arn
    message = expect_error(lambda: orgs.move_account(AccountId=member.account_id, SourceParentId=tree.root,
                                                     DestinationParentId=tree.ou["Eng"]["Id"]), "AccessDeniedException")
    assert tree.ou["Eng"]["Arn"] in message
    assert tree.orgs.list_parents(ChildId=member.account_id)["Parents"][0]["Id"] == tree.root
    orgs.move_account(AccountId=member.account_id, SourceParentId=tree.root, DestinationParentId=tree.ou["Sales"]["Id"])
    assert tree.orgs.list_parents(ChildId=member.account_id)["Parents"][0]["Id"] == tree.ou["Sales"]["Id"]
    tree.orgs.tag_resource(ResourceId=member.account_id, Tags=[{"Key": "Stage", "Value": "prod"}])
    expect_error(lambda: orgs.describe_account(AccountId=member.account_id), "AccessDeniedException")
