"""KMS keys and encrypted shared AMIs (seeds 001 and 004)."""

import json

import pytest
from botocore.exceptions import ClientError

from test_images import error_code, launch, register, snapshot_of_new_volume
from test_organizations import Tree


def kms_error(call):
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response["Error"]["Code"]


def policy_with(owner_id, *statements):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{owner_id}:root"},
         "Action": "kms:*", "Resource": "*"}, *statements]})


def encrypted_image(server, owner, name, key_arn):
    ec2 = server.client(owner)
    return register(ec2, name, snapshot_of_new_volume(ec2, Encrypted=True, KmsKeyId=key_arn))


def instance_count(server, account):
    return sum(len(r["Instances"]) for r in server.client(account).describe_instances()["Reservations"])


def test_key_lifecycle_and_aliases(server, alice, bob):
    kms = server.client(alice, "kms")
    key = kms.create_key(Description="golden images")["KeyMetadata"]
    assert key["KeyState"] == "Enabled" and key["KeyManager"] == "CUSTOMER" and key["AWSAccountId"] == alice.account_id
    assert key["Arn"] == f"arn:aws:kms:us-east-1:{alice.account_id}:key/{key['KeyId']}"
    kms.create_alias(AliasName="alias/golden", TargetKeyId=key["KeyId"])
    assert kms.describe_key(KeyId="alias/golden")["KeyMetadata"]["KeyId"] == key["KeyId"]
    assert kms.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyId"] == key["KeyId"]
    assert kms_error(lambda: kms.create_alias(AliasName="alias/golden", TargetKeyId=key["KeyId"])) == "AlreadyExistsException"
    assert kms_error(lambda: kms.create_alias(AliasName="alias/aws/mine", TargetKeyId=key["KeyId"])) == "ValidationException"
    assert [k["KeyId"] for k in kms.list_keys()["Keys"]] == [key["KeyId"]]
    assert "alias/golden" in [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    assert json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])["Statement"][0]["Action"] == "kms:*"
    assert kms.list_key_policies(KeyId=key["KeyId"])["PolicyNames"] == ["default"]
    # Keys are Regional and per account.
    assert kms_error(lambda: server.client(alice, "kms", region="eu-west-1").describe_key(KeyId=key["KeyId"])) == "NotFoundException"
    assert kms_error(lambda: server.client(bob, "kms").describe_key(KeyId=key["KeyId"])) == "NotFoundException"
    assert kms_error(lambda: server.client(bob, "kms").describe_key(KeyId=key["Arn"])) == "AccessDeniedException"
    # The AWS managed EBS key appears once EBS first uses it.
    assert "alias/aws/ebs" not in [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    server.client(alice).create_volume(AvailabilityZone="us-east-1a", Size=1, Encrypted=True)
    ebs = [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/aws/ebs"]
    assert len(ebs) == 1 and kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["KeyManager"] == "AWS"
    # Disable, enable, schedule and cancel deletion.
    kms.disable_key(KeyId=key["KeyId"])
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    assert kms_error(lambda: kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=bob.account_id,
                                              Operations=["Decrypt"])) == "DisabledException"
    kms.enable_key(KeyId=key["KeyId"])
    scheduled = kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    assert scheduled["KeyState"] == "PendingDeletion"
    assert kms_error(lambda: kms.enable_key(KeyId=key["KeyId"])) == "KMSInvalidStateException"
    assert kms_error(lambda: kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=3)) == "ValidationException"
    kms.cancel_key_deletion(KeyId=key["KeyId"])
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    assert kms_error(lambda: kms.describe_key(KeyId="alias/missing")) == "NotFoundException"


def test_key_policy_validation(server, alice):
    kms = server.client(alice, "kms")
    assert kms_error(lambda: kms.create_key(Policy="{not json")) == "MalformedPolicyDocumentException"
    locked_out = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"}]})
    assert kms_error(lambda: kms.create_key(Policy=locked_out)) == "MalformedPolicyDocumentException"
    assert kms.list_keys()["Keys"] == []
    key = kms.create_key(Policy=locked_out, BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]
    assert kms_error(lambda: kms.describe_key(KeyId=key["KeyId"])) == "AccessDeniedException"


def test_encrypted_share_needs_key_policy(server, alice, bob, carol):
    """Seed 001: sharing an AMI backed by a customer managed key needs the key shared too."""
    kms = server.client(alice, "kms")
    key = kms.create_key()["KeyMetadata"]
    image_id = encrypted_image(server, alice, "encrypted-share", key["Arn"])
    owner = server.client(alice)
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    recipient = server.client(bob)
    assert recipient.describe_images(ImageIds=[image_id])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    assert error_code(lambda: recipient.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "UnauthorizedOperation"
    assert instance_count(server, bob) == 0
    assert recipient.describe_volumes()["Volumes"] == []
    allow_bob = {"Sid": "Allow use of the key", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{bob.account_id}:root"},
                 "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"],
                 "Resource": "*"}
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy_with(alice.account_id, allow_bob))
    launch(recipient, image_id)
    # The owner launches; a third account sees nothing.
    launch(owner, image_id)
    assert error_code(lambda: server.client(carol).run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "InvalidAMIID.NotFound"
    # Explicit deny wins over the allow.
    deny_bob = {"Sid": "Deny", "Effect": "Deny", "Principal": {"AWS": bob.account_id}, "Action": "kms:Decrypt", "Resource": "*"}
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy_with(alice.account_id, allow_bob, deny_bob))
    before = instance_count(server, bob)
    assert error_code(lambda: recipient.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "UnauthorizedOperation"
    assert instance_count(server, bob) == before
    # A disabled key, or one pending deletion, blocks everyone, the owner too.
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy_with(alice.account_id, allow_bob))
    kms.disable_key(KeyId=key["KeyId"])
    assert error_code(lambda: recipient.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "IncorrectState"
    assert error_code(lambda: owner.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "IncorrectState"
    kms.enable_key(KeyId=key["KeyId"])
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    assert error_code(lambda: recipient.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "IncorrectState"
    kms.cancel_key_deletion(KeyId=key["KeyId"])
    kms.enable_key(KeyId=key["KeyId"])
    launch(recipient, image_id)


def test_grants_let_a_recipient_use_the_key(server, alice, bob):
    kms = server.client(alice, "kms")
    key = kms.create_key()["KeyMetadata"]
    image_id = encrypted_image(server, alice, "granted", key["Arn"])
    server.client(alice).modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    recipient = server.client(bob)
    assert error_code(lambda: recipient.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "UnauthorizedOperation"
    grant = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=f"arn:aws:iam::{bob.account_id}:root",
                             Operations=["Decrypt", "DescribeKey", "CreateGrant", "ReEncryptFrom", "GenerateDataKeyWithoutPlaintext"])
    grants = kms.list_grants(KeyId=key["KeyId"])["Grants"]
    assert [g["GrantId"] for g in grants] == [grant["GrantId"]]
    assert grants[0]["IssuingAccount"] == f"arn:aws:iam::{alice.account_id}:root"
    launch(recipient, image_id)
    kms.revoke_grant(KeyId=key["KeyId"], GrantId=grant["GrantId"])
    assert error_code(lambda: recipient.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "UnauthorizedOperation"
    assert kms_error(lambda: kms.revoke_grant(KeyId=key["KeyId"], GrantId=grant["GrantId"])) == "NotFoundException"
    assert kms_error(lambda: kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=bob.account_id, Operations=["Fly"])) == "ValidationException"


def test_seed_004_organization_key_policies(server):
    mgmt, member_platform, member_sales, member_root, outsider = (server.new_account() for _ in range(5))
    tree = Tree(server, mgmt)
    tree.place(server, member_platform, "Core")
    tree.place(server, member_sales, "Sales")
    tree.place(server, member_root, None)
    org_id = tree.org["Id"]
    kms = server.client(mgmt, "kms")
    key = kms.create_key()["KeyMetadata"]
    image_id = encrypted_image(server, mgmt, "org-encrypted", key["Arn"])
    owner = server.client(mgmt)
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"OrganizationArn": tree.org["Arn"]}]})
    members = (member_platform, member_sales, member_root)
    for account in members:
        assert error_code(lambda: server.client(account).run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "UnauthorizedOperation"
    org_statement = {
        "Sid": "Allow access for Org Admin", "Effect": "Allow", "Principal": "*",
        "Action": ["kms:Describe*", "kms:List*", "kms:Get*"], "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": org_id}},
    }
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy_with(mgmt.account_id, org_statement))
    for account in members:
        launch(server.client(account), image_id)
    # An account outside the organization is refused even when the image is shared with it directly.
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": outsider.account_id}]})
    assert error_code(lambda: server.client(outsider).run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "UnauthorizedOperation"
    # The OU-path policy: only accounts under the named OUs (and their descendants).
    root_id = tree.root
    ou_statement = {
        "Sid": "Allow access for specific OUs and their descendants", "Effect": "Allow", "Principal": "*",
        "Action": ["kms:Describe*", "kms:List*", "kms:Get*"], "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:PrincipalOrgID": org_id},
            "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [
                f"{org_id}/{root_id}/{tree.ou['Eng']['Id']}/{tree.ou['Platform']['Id']}/*",
                f"{org_id}/{root_id}/{tree.ou['Apps']['Id']}/*"]},
        },
    }
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy_with(mgmt.account_id, ou_statement))
    launch(server.client(member_platform), image_id)
    for account in (member_sales, member_root):
        assert error_code(lambda: server.client(account).run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "UnauthorizedOperation"
    # Moving an account into the named OU subtree grants it, live.
    tree.move(member_sales, "Sales", "Platform")
    launch(server.client(member_sales), image_id)


def test_copy_encrypted_image_reencrypts_under_callers_key(server, alice, bob):
    kms = server.client(alice, "kms")
    key = kms.create_key()["KeyMetadata"]
    snapshot_owner = server.client(alice)
    snapshot_id = snapshot_of_new_volume(snapshot_owner, Encrypted=True, KmsKeyId=key["Arn"])
    image_id = register(snapshot_owner, "copy-encrypted", snapshot_id)
    snapshot_owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    snapshot_owner.modify_snapshot_attribute(SnapshotId=snapshot_id, CreateVolumePermission={"Add": [{"UserId": bob.account_id}]})
    bob_west = server.client(bob, region="us-west-2")
    bob_key = server.client(bob, "kms", region="us-west-2").create_key()["KeyMetadata"]
    assert error_code(lambda: bob_west.copy_image(SourceImageId=image_id, SourceRegion="us-east-1", Name="mine",
                                                  Encrypted=True, KmsKeyId=bob_key["Arn"])) == "UnauthorizedOperation"
    assert bob_west.describe_images(Owners=["self"])["Images"] == []
    allow_bob = {"Effect": "Allow", "Principal": {"AWS": bob.account_id}, "Action": "kms:*", "Resource": "*"}
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy_with(alice.account_id, allow_bob))
    copy_id = bob_west.copy_image(SourceImageId=image_id, SourceRegion="us-east-1", Name="mine", Encrypted=True,
                                  KmsKeyId=bob_key["Arn"])["ImageId"]
    copy = bob_west.describe_images(ImageIds=[copy_id])["Images"][0]
    assert copy["OwnerId"] == bob.account_id
    assert copy["BlockDeviceMappings"][0]["Ebs"]["KmsKeyId"] == bob_key["Arn"]
    # The copy depends on bob's key only: the original key's policy no longer matters for it.
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy_with(alice.account_id))
    bob_west.get_waiter("image_available").wait(ImageIds=[copy_id], WaiterConfig={"Delay": 0.1})
    launch(bob_west, copy_id)
    # Encrypting an unencrypted copy under a key of the wrong Region fails and creates nothing.
    plain = register(snapshot_owner, "plain")
    assert error_code(lambda: snapshot_owner.copy_image(SourceImageId=plain, SourceRegion="us-east-1", Name="plain-copy",
                                                        Encrypted=True, KmsKeyId=bob_key["Arn"])) == "InvalidParameterValue"
