"""Every call is authorized as AWS's policy evaluation logic decides: identity policies,
permissions boundaries, session policies, service control policies and resource conditions,
through the real API with boto3 and the aws CLI. A refusal changes nothing."""

import json

from support import expect_error, policy_document
from test_images import launch, register, snapshot_of_new_volume
from test_org_policies import SCP, enabled_tree, scp

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
EC2_FULL = "arn:aws:iam::aws:policy/AmazonEC2FullAccess"
EC2_READ = "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"
BPA_ACTIONS = ["ec2:EnableImageBlockPublicAccess", "ec2:DisableImageBlockPublicAccess"]


def bpa_state(server, account):
    return server.client(account).get_image_block_public_access_state()["ImageBlockPublicAccessState"]


def test_only_the_administrator_may_change_block_public_access(server, alice):
    """Seed 000: restrict IAM permissions to an administrator user so that only they can enable
    or disable block public access; a developer has EC2 full access minus those actions."""
    admin = server.new_user(alice, "admin", [ADMIN])
    developer = server.new_user(alice, "developer", [EC2_FULL])
    server.client(alice, "iam").put_user_policy(UserName="developer", PolicyName="no-bpa", PolicyDocument=policy_document(
        {"Sid": "NoBlockPublicAccessChanges", "Effect": "Deny", "Action": BPA_ACTIONS, "Resource": "*"}))
    before = bpa_state(server, alice)
    message = expect_error(lambda: server.client(developer).disable_image_block_public_access(), "UnauthorizedOperation", 403)
    assert (f"User: arn:aws:iam::{alice.account_id}:user/developer is not authorized to perform: "
            "ec2:DisableImageBlockPublicAccess on resource: *") in message
    assert "with an explicit deny in an identity-based policy" in message
    assert bpa_state(server, alice) == before
    encoded = message.split("Encoded authorization failure message: ")[1]
    decoded = json.loads(server.client(admin, "sts").decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])
    assert decoded["allowed"] is False and decoded["explicitDeny"] is True
    assert decoded["context"]["action"] == "ec2:DisableImageBlockPublicAccess"
    assert decoded["context"]["principal"]["arn"].endswith(":user/developer")
    # The developer may do the rest of EC2; the administrator may change the setting.
    assert server.client(developer).describe_images(Owners=["self"])["Images"] == []
    server.client(admin).disable_image_block_public_access()
    assert bpa_state(server, alice) == "unblocked"
    server.client(admin).enable_image_block_public_access(ImageBlockPublicAccessState="block-new-sharing")


def test_the_cli_shows_the_refusal_and_decodes_it(server, alice):
    server.new_user(alice, "cli-admin", [ADMIN])
    reader = server.new_user(alice, "reader", [EC2_READ])
    code, _, err = server.aws(reader, "ec2", "disable-image-block-public-access", check=False)
    assert code != 0 and "UnauthorizedOperation" in err
    encoded = err.split("Encoded authorization failure message: ")[1].strip()
    _, decoded, _ = server.aws(alice, "sts", "decode-authorization-message", "--encoded-message", encoded)
    assert json.loads(decoded["DecodedMessage"])["explicitDeny"] is False
    # Another account can't read this account's messages.
    other = server.new_account()
    expect_error(lambda: server.client(other, "sts").decode_authorization_message(EncodedMessage=encoded),
                 "InvalidAuthorizationMessageException")


def test_a_user_needs_an_allow(server, alice):
    nobody = server.new_user(alice, "nobody")
    message = expect_error(lambda: server.client(nobody).describe_images(Owners=["self"]), "UnauthorizedOperation")
    assert "because no identity-based policy allows the ec2:DescribeImages action" in message
    reader = server.new_user(alice, "ro", [EC2_READ])
    server.client(reader).describe_images(Owners=["amazon"])
    expect_error(lambda: server.client(reader).create_volume(AvailabilityZone="us-east-1a", Size=1), "UnauthorizedOperation")
    assert server.client(alice).describe_volumes()["Volumes"] == []
    expect_error(lambda: server.client(nobody, "kms").create_key(), "AccessDeniedException")
    expect_error(lambda: server.client(nobody, "organizations").create_organization(), "AccessDeniedException")
    assert server.client(alice, "kms").list_keys()["Keys"] == []


def test_resource_tags_and_permission_changes_as_conditions(server, alice, bob):
    ec2 = server.client(alice)
    tagged, untagged = register(ec2, "shareable"), register(ec2, "private")
    ec2.create_tags(Resources=[tagged], Tags=[{"Key": "Shareable", "Value": "true"}])
    server.client(alice, "iam").create_user(UserName="sharer")
    server.client(alice, "iam").put_user_policy(UserName="sharer", PolicyName="share", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "ec2:ModifyImageAttribute", "Resource": "arn:aws:ec2:*::image/*",
         "Condition": {"StringEquals": {"ec2:ResourceTag/Shareable": "true"}}},
        {"Effect": "Deny", "Action": "ec2:ModifyImageAttribute", "Resource": "*",
         "Condition": {"StringEquals": {"ec2:Add/group": "all"}}}))
    key = server.client(alice, "iam").create_access_key(UserName="sharer")["AccessKey"]
    from support import Account

    sharer = server.client(Account(alice.account_id, key["AccessKeyId"], key["SecretAccessKey"]))
    sharer.modify_image_attribute(ImageId=tagged, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    message = expect_error(lambda: sharer.modify_image_attribute(
        ImageId=untagged, LaunchPermission={"Add": [{"UserId": bob.account_id}]}), "UnauthorizedOperation")
    assert f"on resource: arn:aws:ec2:us-east-1::image/{untagged}" in message
    server.client(alice).disable_image_block_public_access()
    expect_error(lambda: sharer.modify_image_attribute(ImageId=tagged, LaunchPermission={"Add": [{"Group": "all"}]}),
                 "UnauthorizedOperation")
    permissions = ec2.describe_image_attribute(ImageId=tagged, Attribute="launchPermission")["LaunchPermissions"]
    assert permissions == [{"UserId": bob.account_id}]
    assert ec2.describe_image_attribute(ImageId=untagged, Attribute="launchPermission")["LaunchPermissions"] == []


def test_global_condition_keys(server, alice):
    iam = server.client(alice, "iam")
    iam.create_user(UserName="tagged", Tags=[{"Key": "team", "Value": "build"}])
    iam.put_user_policy(UserName="tagged", PolicyName="scoped", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "build", "aws:RequestedRegion": "us-east-1"},
                       "IpAddress": {"aws:SourceIp": "127.0.0.0/8"},
                       "Bool": {"aws:SecureTransport": "false"},
                       "DateLessThan": {"aws:CurrentTime": "2100-01-01T00:00:00Z"}}}))
    key = iam.create_access_key(UserName="tagged")["AccessKey"]
    from support import Account

    user = Account(alice.account_id, key["AccessKeyId"], key["SecretAccessKey"])
    server.client(user).describe_images(Owners=["self"])
    expect_error(lambda: server.client(user, region="eu-west-1").describe_images(Owners=["self"]), "UnauthorizedOperation")
    iam.tag_user(UserName="tagged", Tags=[{"Key": "team", "Value": "sales"}])
    expect_error(lambda: server.client(user).describe_images(Owners=["self"]), "UnauthorizedOperation")


def test_boundaries_and_session_policies_intersect(server, alice):
    iam = server.client(alice, "iam")
    boundary = iam.create_policy(PolicyName="describe-only", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": ["ec2:Describe*", "sts:AssumeRole"], "Resource": "*"}))["Policy"]["Arn"]
    bounded = server.new_user(alice, "bounded", [ADMIN])
    iam.put_user_permissions_boundary(UserName="bounded", PermissionsBoundary=boundary)
    server.client(bounded).describe_images(Owners=["self"])
    message = expect_error(lambda: server.client(bounded).create_volume(AvailabilityZone="us-east-1a", Size=1),
                           "UnauthorizedOperation")
    assert "because no permissions boundary allows the ec2:CreateVolume action" in message
    role = iam.create_role(RoleName="builder", AssumeRolePolicyDocument=policy_document(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{alice.account_id}:user/bounded"},
         "Action": "sts:AssumeRole"}))["Role"]["Arn"]
    iam.attach_role_policy(RoleName="builder", PolicyArn=ADMIN)
    session = server.assume(bounded, role, Policy=policy_document(
        {"Effect": "Allow", "Action": "ec2:DescribeImages", "Resource": "*"}))
    server.client(session).describe_images(Owners=["self"])
    message = expect_error(lambda: server.client(session).describe_volumes(), "UnauthorizedOperation")
    assert "because no session policy allows" in message
    assert server.client(alice).describe_volumes()["Volumes"] == []


def test_service_control_policies_bind_member_accounts_live(server):
    mgmt, member = server.new_account(), server.new_account()
    tree = enabled_tree(server, mgmt, member)
    guard = tree.orgs.create_policy(Name="image-guard", Type=SCP, Description="no public AMIs", Content=scp(
        {"Sid": "NoBlockPublicAccessOff", "Effect": "Deny", "Action": "ec2:DisableImageBlockPublicAccess", "Resource": "*"},
        {"Sid": "NoPublicSharing", "Effect": "Deny", "Action": "ec2:ModifyImageAttribute", "Resource": "*",
         "Condition": {"StringEquals": {"ec2:Add/group": "all"}}}))["Policy"]["PolicySummary"]["Id"]
    tree.orgs.attach_policy(PolicyId=guard, TargetId=tree.ou["Platform"]["Id"])
    tree.move(member, None, "Core")
    ec2 = server.client(member)
    message = expect_error(lambda: ec2.disable_image_block_public_access(), "UnauthorizedOperation")
    assert f"User: arn:aws:iam::{member.account_id}:root" in message
    assert "with an explicit deny in a service control policy" in message
    assert bpa_state(server, member) == "block-new-sharing"
    image = register(ec2, "member-image")
    other = server.new_account()
    ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"UserId": other.account_id}]})
    expect_error(lambda: ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"Group": "all"}]}),
                 "UnauthorizedOperation")
    # The management account is never limited by SCPs.
    server.client(mgmt).disable_image_block_public_access()
    # Moving the account out of the OU lifts the policy at once.
    tree.move(member, "Core", "Sales")
    ec2.disable_image_block_public_access()
    assert bpa_state(server, member) == "unblocked"
    # An SCP that allows only some actions leaves everything else implicitly denied.
    narrow = tree.orgs.create_policy(Name="describe-only", Type=SCP, Description="", Content=scp(
        {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}))["Policy"]["PolicySummary"]["Id"]
    tree.orgs.attach_policy(PolicyId=narrow, TargetId=member.account_id)
    tree.orgs.detach_policy(PolicyId="p-FullAWSAccess", TargetId=member.account_id)
    ec2.describe_images(Owners=["self"])
    message = expect_error(lambda: ec2.create_volume(AvailabilityZone="us-east-1a", Size=1), "UnauthorizedOperation")
    assert "because no service control policy allows the ec2:CreateVolume action" in message


def test_cross_account_pipeline_role_publishes_and_a_recipient_role_launches(server):
    """A pipeline in a tools account assumes a role in the build account, registers and shares
    an AMI; the recipient account's role launches it; the recipient's unprivileged user can't."""
    tools, build, recipient = server.new_account(), server.new_account(), server.new_account()
    pipeline_user = server.new_user(tools, "pipeline", [])
    server.client(tools, "iam").put_user_policy(UserName="pipeline", PolicyName="assume", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{build.account_id}:role/ami-publisher"}))
    build_iam = server.client(build, "iam")
    role = build_iam.create_role(RoleName="ami-publisher", AssumeRolePolicyDocument=policy_document(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{tools.account_id}:root"}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"sts:ExternalId": "pipeline-1"}}}))["Role"]["Arn"]
    build_iam.put_role_policy(RoleName="ami-publisher", PolicyName="publish", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": ["ec2:CreateVolume", "ec2:CreateSnapshot", "ec2:RegisterImage", "ec2:Describe*",
                                       "ec2:ModifyImageAttribute"], "Resource": "*"}))
    session = server.assume(pipeline_user, role, ExternalId="pipeline-1")
    publisher = server.client(session)
    image = register(publisher, "golden-1")
    publisher.modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"UserId": recipient.account_id}]})
    expect_error(lambda: publisher.deregister_image(ImageId=image), "UnauthorizedOperation")
    recipient_iam = server.client(recipient, "iam")
    recipient_user = server.new_user(recipient, "operator", [])
    launcher = recipient_iam.create_role(RoleName="launcher", AssumeRolePolicyDocument=policy_document(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{recipient.account_id}:user/operator"},
         "Action": "sts:AssumeRole"}))["Role"]["Arn"]
    recipient_iam.put_role_policy(RoleName="launcher", PolicyName="launch", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "arn:aws:ec2:*::image/*",
         "Condition": {"StringEquals": {"ec2:Owner": build.account_id}}},
        {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": [
            "arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:*:*:volume/*"]},
        {"Effect": "Allow", "Action": ["ec2:DescribeImages", "ec2:DescribeInstances"], "Resource": "*"}))
    expect_error(lambda: server.client(recipient_user).run_instances(ImageId=image, MinCount=1, MaxCount=1),
                 "UnauthorizedOperation")
    recipient_session = server.client(server.assume(recipient_user, launcher))
    assert [i["ImageId"] for i in recipient_session.describe_images(ExecutableUsers=["self"])["Images"]] == [image]
    instance = launch(recipient_session, image)
    assert server.client(recipient).describe_instances(InstanceIds=[instance])["Reservations"][0]["OwnerId"] == recipient.account_id


def test_key_policies_combine_with_identity_policies(server, alice, bob):
    """Seed 004's key policies with IAM: a key policy that names the account delegates to the
    account's IAM policies; one that names a user is enough in its own account; across accounts
    both the key policy and the caller's identity policies must allow."""
    kms = server.client(alice, "kms")
    delegating = kms.create_key()["KeyMetadata"]["Arn"]  # the default policy: the account (root) may do everything
    plain = server.new_user(alice, "plain")
    message = expect_error(lambda: server.client(plain, "kms").describe_key(KeyId=delegating), "AccessDeniedException")
    assert f"on resource: {delegating} because no identity-based policy allows the kms:DescribeKey action" in message
    server.client(alice, "iam").put_user_policy(UserName="plain", PolicyName="kms-read", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": delegating}))
    server.client(plain, "kms").describe_key(KeyId=delegating)
    expect_error(lambda: server.client(plain, "kms").disable_key(KeyId=delegating), "AccessDeniedException")
    assert kms.describe_key(KeyId=delegating)["KeyMetadata"]["Enabled"] is True

    named = server.new_user(alice, "named")
    only_named = kms.create_key(BypassPolicyLockoutSafetyCheck=True, Policy=policy_document(
        {"Sid": "NamedUserOnly", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{alice.account_id}:user/named"},
         "Action": "kms:*", "Resource": "*"}))["KeyMetadata"]["Arn"]
    server.client(named, "kms").describe_key(KeyId=only_named)  # no identity policy needed: the key policy names it
    message = expect_error(lambda: kms.describe_key(KeyId=only_named), "AccessDeniedException")
    assert "because no resource-based policy allows the kms:DescribeKey action" in message

    shared = kms.create_key(Policy=policy_document(
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{alice.account_id}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Allow use of the key by the other account", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{bob.account_id}:root"},
         "Action": ["kms:DescribeKey", "kms:CreateGrant", "kms:Decrypt", "kms:ReEncrypt*"], "Resource": "*"}))["KeyMetadata"]["Arn"]
    server.client(bob, "kms").describe_key(KeyId=shared)
    outsider = server.new_user(bob, "outsider")
    expect_error(lambda: server.client(outsider, "kms").describe_key(KeyId=shared), "AccessDeniedException")
    server.client(bob, "iam").put_user_policy(UserName="outsider", PolicyName="use-key", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": shared}))
    server.client(outsider, "kms").describe_key(KeyId=shared)
    expect_error(lambda: server.client(bob, "kms").disable_key(KeyId=shared), "AccessDeniedException")


def test_simulation_answers_from_the_same_evaluation(server, alice):
    iam = server.client(alice, "iam")
    developer = server.new_user(alice, "sim-dev", [EC2_FULL])
    iam.put_user_policy(UserName="sim-dev", PolicyName="no-bpa", PolicyDocument=policy_document(
        {"Effect": "Deny", "Action": BPA_ACTIONS, "Resource": "*"}))
    user_arn = f"arn:aws:iam::{alice.account_id}:user/sim-dev"
    results = iam.simulate_principal_policy(PolicySourceArn=user_arn, ActionNames=[
        "ec2:DisableImageBlockPublicAccess", "ec2:DescribeImages", "kms:CreateKey"])["EvaluationResults"]
    decisions = {r["EvalActionName"]: r for r in results}
    assert decisions["ec2:DisableImageBlockPublicAccess"]["EvalDecision"] == "explicitDeny"
    assert {(m["SourcePolicyId"], m["SourcePolicyType"]) for m in decisions["ec2:DisableImageBlockPublicAccess"]["MatchedStatements"]} \
        >= {("no-bpa", "user")}
    assert decisions["ec2:DescribeImages"]["EvalDecision"] == "allowed"
    assert decisions["ec2:DescribeImages"]["MatchedStatements"][0]["SourcePolicyId"] == EC2_FULL
    assert decisions["kms:CreateKey"]["EvalDecision"] == "implicitDeny"
    # What the simulator says is what a call gets.
    expect_error(lambda: server.client(developer).disable_image_block_public_access(), "UnauthorizedOperation")
    server.client(developer).describe_images(Owners=["self"])
    expect_error(lambda: server.client(developer, "kms").create_key(), "AccessDeniedException")

    custom = iam.simulate_custom_policy(
        PolicyInputList=[policy_document({"Effect": "Allow", "Action": "ec2:*", "Resource": "*",
                                          "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}})],
        ActionNames=["ec2:RunInstances"],
        ContextEntries=[{"ContextKeyName": "aws:RequestedRegion", "ContextKeyValues": ["eu-west-1"],
                         "ContextKeyType": "string"}])["EvaluationResults"]
    assert custom[0]["EvalDecision"] == "allowed"
    expect_error(lambda: iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{alice.account_id}:user/ghost",
                                                       ActionNames=["ec2:DescribeImages"]), "NoSuchEntity", 404)


def test_iam_calls_name_the_entity_they_act_on(server, alice):
    """Joining a group acts on the group; listings act on "*"; a create acts on the path it asks
    for; iam:PolicyARN and aws:TagKeys are supplied, so guardrails on them hold."""
    iam = server.client(alice, "iam")
    iam.create_group(GroupName="admins")
    iam.attach_group_policy(GroupName="admins", PolicyArn=ADMIN)
    me = server.new_user(alice, "selfish")
    iam.put_user_policy(UserName="selfish", PolicyName="self", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "iam:*", "Resource": f"arn:aws:iam::{alice.account_id}:user/selfish"}))
    mine = server.client(me, "iam")
    expect_error(lambda: mine.add_user_to_group(GroupName="admins", UserName="selfish"), "AccessDenied")
    expect_error(lambda: mine.get_account_authorization_details(), "AccessDenied")
    expect_error(lambda: mine.list_users(), "AccessDenied")
    assert iam.get_group(GroupName="admins")["Users"] == []
    delegated = server.new_user(alice, "delegated")
    iam.put_user_policy(UserName="delegated", PolicyName="limited", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": ["iam:AttachUserPolicy", "iam:CreateUser", "iam:TagUser"], "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:AttachUserPolicy", "Resource": "*",
         "Condition": {"ArnLike": {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}}},
        {"Effect": "Deny", "Action": "iam:CreateUser", "Resource": f"arn:aws:iam::{alice.account_id}:user/privileged/*"},
        {"Effect": "Deny", "Action": "iam:TagUser", "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}}))
    client = server.client(delegated, "iam")
    expect_error(lambda: client.attach_user_policy(UserName="delegated", PolicyArn=ADMIN), "AccessDenied")
    client.attach_user_policy(UserName="delegated", PolicyArn=EC2_READ)
    expect_error(lambda: client.create_user(UserName="boss", Path="/privileged/"), "AccessDenied")
    client.create_user(UserName="intern", Path="/interns/")
    expect_error(lambda: client.tag_user(UserName="intern", Tags=[{"Key": "team", "Value": "prod"}]), "AccessDenied")
    client.tag_user(UserName="intern", Tags=[{"Key": "note", "Value": "x"}])
    expect_error(lambda: iam.simulate_custom_policy(PolicyInputList=[policy_document(
        {"Effect": "Allow", "Action": "*", "Resource": "*"})], ActionNames=["ec2:DescribeImages"], ResourceOwner="x"),
        "InvalidInput")


def test_forwarded_headers_do_not_change_the_source_ip(server, alice):
    iam = server.client(alice, "iam")
    user = server.new_user(alice, "from-vpn")
    iam.put_user_policy(UserName="from-vpn", PolicyName="vpn", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "ec2:DescribeRegions", "Resource": "*",
         "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "Bool": {"aws:SecureTransport": "true"}}}))
    ec2 = server.client(user)

    def spoof(request, **_):
        request.headers["X-Forwarded-For"] = "10.9.9.9"
        request.headers["X-Forwarded-Proto"] = "https"

    ec2.meta.events.register("before-sign.ec2.DescribeRegions", spoof)
    expect_error(lambda: ec2.describe_regions(), "UnauthorizedOperation")


def test_deregistering_with_snapshots_needs_delete_snapshot_on_each(server, alice):
    """DeregisterImage with DeleteAssociatedSnapshots deletes only the snapshots the caller may
    ec2:DeleteSnapshot; the others are kept and reported missing-permissions, as EC2 does."""
    ec2 = server.client(alice)
    kept, gone = snapshot_of_new_volume(ec2), snapshot_of_new_volume(ec2)
    ec2.create_tags(Resources=[kept], Tags=[{"Key": "Retain", "Value": "true"}])
    protected, plain = register(ec2, "protected", kept), register(ec2, "plain", gone)
    cleaner = server.new_user(alice, "cleaner", [EC2_FULL])
    server.client(alice, "iam").put_user_policy(UserName="cleaner", PolicyName="retain", PolicyDocument=policy_document(
        {"Effect": "Deny", "Action": "ec2:DeleteSnapshot", "Resource": "*",
         "Condition": {"StringEquals": {"ec2:ResourceTag/Retain": "true"}}}))
    mine = server.client(cleaner)
    expect_error(lambda: mine.delete_snapshot(SnapshotId=kept), "UnauthorizedOperation")
    answer = mine.deregister_image(ImageId=protected, DeleteAssociatedSnapshots=True)
    assert answer["DeleteSnapshotResults"] == [{"SnapshotId": kept, "ReturnCode": "missing-permissions"}]
    assert ec2.describe_snapshots(SnapshotIds=[kept])["Snapshots"][0]["Tags"] == [{"Key": "Retain", "Value": "true"}]
    expect_error(lambda: ec2.describe_images(ImageIds=[protected]), "InvalidAMIID.NotFound")
    answer = mine.deregister_image(ImageId=plain, DeleteAssociatedSnapshots=True)
    assert answer["DeleteSnapshotResults"] == [{"SnapshotId": gone, "ReturnCode": "success"}]
    expect_error(lambda: ec2.describe_snapshots(SnapshotIds=[gone]), "InvalidSnapshot.NotFound")
    # A snapshot another image still uses is skipped.
    first, second = register(ec2, "first", kept), register(ec2, "second", kept)
    answer = ec2.deregister_image(ImageId=first, DeleteAssociatedSnapshots=True)
    assert answer["DeleteSnapshotResults"] == [{"SnapshotId": kept, "ReturnCode": "skipped"}]
    assert ec2.describe_images(ImageIds=[second])["Images"][0]["State"] == "available"
    # Without DeleteSnapshot at all (read-only plus DeregisterImage) nothing but the image goes.
    deregistrar = server.new_user(alice, "deregistrar", [EC2_READ])
    server.client(alice, "iam").put_user_policy(UserName="deregistrar", PolicyName="d", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": "ec2:DeregisterImage", "Resource": "*"}))
    fresh = snapshot_of_new_volume(ec2)
    image = register(ec2, "fresh", fresh)
    answer = server.client(deregistrar).deregister_image(ImageId=image, DeleteAssociatedSnapshots=True)
    assert answer["DeleteSnapshotResults"] == [{"SnapshotId": fresh, "ReturnCode": "missing-permissions"}]
    assert ec2.describe_snapshots(SnapshotIds=[fresh])["Snapshots"][0]["SnapshotId"] == fresh


def test_policy_variables_name_each_callers_own(server, alice):
    """One managed policy with ${aws:username} and ${aws:PrincipalTag/…} serves every user: each
    manages its own access keys and the volumes tagged with its name, no one else's."""
    iam, ec2 = server.client(alice, "iam"), server.client(alice)
    self_service = iam.create_policy(PolicyName="self-service", PolicyDocument=policy_document(
        {"Effect": "Allow", "Action": ["iam:ListAccessKeys", "iam:UpdateAccessKey"],
         "Resource": f"arn:aws:iam::{alice.account_id}:user/${{aws:username}}"},
        {"Effect": "Allow", "Action": "ec2:DescribeVolumes", "Resource": "*"},
        {"Effect": "Allow", "Action": "ec2:DeleteVolume", "Resource": "*",
         "Condition": {"StringEquals": {"ec2:ResourceTag/Owner": "${aws:username}",
                                        "ec2:ResourceTag/Team": "${aws:PrincipalTag/team, 'none'}"}}}))["Policy"]["Arn"]
    ana, bo = server.new_user(alice, "ana", [self_service]), server.new_user(alice, "bo", [self_service])
    iam.tag_user(UserName="ana", Tags=[{"Key": "team", "Value": "build"}])
    assert [k["UserName"] for k in server.client(ana, "iam").list_access_keys(UserName="ana")["AccessKeyMetadata"]] == ["ana"]
    expect_error(lambda: server.client(ana, "iam").list_access_keys(UserName="bo"), "AccessDenied")
    bo_key = iam.list_access_keys(UserName="bo")["AccessKeyMetadata"][0]["AccessKeyId"]
    expect_error(lambda: server.client(ana, "iam").update_access_key(UserName="bo", AccessKeyId=bo_key,
                                                                     Status="Inactive"), "AccessDenied")
    assert iam.list_access_keys(UserName="bo")["AccessKeyMetadata"][0]["Status"] == "Active"
    server.client(bo, "iam").list_access_keys(UserName="bo")

    def volume(owner, team):
        return ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, TagSpecifications=[{
            "ResourceType": "volume", "Tags": [{"Key": "Owner", "Value": owner}, {"Key": "Team", "Value": team}]}])["VolumeId"]

    anas, bos, untagged_team = volume("ana", "build"), volume("bo", "none"), volume("ana", "none")
    expect_error(lambda: server.client(ana).delete_volume(VolumeId=bos), "UnauthorizedOperation")
    expect_error(lambda: server.client(ana).delete_volume(VolumeId=untagged_team), "UnauthorizedOperation")
    expect_error(lambda: server.client(bo).delete_volume(VolumeId=anas), "UnauthorizedOperation")
    assert len(ec2.describe_volumes(VolumeIds=[anas, bos, untagged_team])["Volumes"]) == 3
    server.client(ana).delete_volume(VolumeId=anas)
    code, _, err = server.aws(bo, "ec2", "delete-volume", "--volume-id", bos)
    assert code == 0
    assert [v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]] == [untagged_team]
