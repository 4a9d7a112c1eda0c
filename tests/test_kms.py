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


def kms_failure(call):
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def test_a_grant_gives_creategrant_for_subsets_of_itself_only(server, alice, bob, carol):
    """A grantee whose CreateGrant permission comes from a grant creates grants for some or all of
    that grant's operations, with constraints at least as strict; a key policy sets no such limit."""
    kms = server.client(alice, "kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=bob.account_id, Operations=["CreateGrant", "DescribeKey"])
    bob_kms = server.client(bob, "kms")
    grant_count = len(kms.list_grants(KeyId=key["KeyId"])["Grants"])
    for grantee in (bob.account_id, f"arn:aws:iam::{bob.account_id}:root", carol.account_id):
        for operations in (["Decrypt"], ["DescribeKey", "ReEncryptFrom"], ["CreateGrant", "GenerateDataKey"]):
            assert kms_error(lambda: bob_kms.create_grant(KeyId=key["Arn"], GranteePrincipal=grantee,
                                                          Operations=operations)) == "AccessDeniedException"
    assert len(kms.list_grants(KeyId=key["KeyId"])["Grants"]) == grant_count
    bob_kms.create_grant(KeyId=key["Arn"], GranteePrincipal=carol.account_id, Operations=["DescribeKey"])
    bob_kms.create_grant(KeyId=key["Arn"], GranteePrincipal=carol.account_id, Operations=["CreateGrant", "DescribeKey"])
    # carol's CreateGrant is limited by her own grant in turn.
    carol_kms = server.client(carol, "kms")
    assert kms_error(lambda: carol_kms.create_grant(KeyId=key["Arn"], GranteePrincipal=carol.account_id,
                                                    Operations=["Decrypt"])) == "AccessDeniedException"
    # The owner's CreateGrant comes from the key policy: no limit.
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=carol.account_id, Operations=["Decrypt", "Encrypt"])
    # An explicit deny in the key policy wins over a grant.
    deny = {"Effect": "Deny", "Principal": {"AWS": bob.account_id}, "Action": "kms:CreateGrant", "Resource": "*"}
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy_with(alice.account_id, deny))
    assert kms_error(lambda: bob_kms.create_grant(KeyId=key["Arn"], GranteePrincipal=carol.account_id,
                                                  Operations=["DescribeKey"])) == "AccessDeniedException"


def test_child_grants_keep_their_parents_constraints(server, alice, bob, carol):
    kms = server.client(alice, "kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=bob.account_id, Operations=["CreateGrant", "Decrypt"],
                     Constraints={"EncryptionContextSubset": {"Department": "IT"}})
    parent = kms.list_grants(KeyId=key["KeyId"], GranteePrincipal=bob.account_id)["Grants"][0]
    assert parent["Constraints"] == {"EncryptionContextSubset": {"Department": "IT"}}
    bob_kms = server.client(bob, "kms")

    def child(**constraints):
        return bob_kms.create_grant(KeyId=key["Arn"], GranteePrincipal=carol.account_id, Operations=["Decrypt"],
                                    **({"Constraints": constraints} if constraints else {}))

    for weaker in ({}, {"EncryptionContextSubset": {"Team": "x"}}, {"EncryptionContextSubset": {"Department": "HR"}},
                   {"EncryptionContextEquals": {"Team": "x"}}):
        assert kms_error(lambda: child(**weaker)) == "AccessDeniedException"
    child(EncryptionContextSubset={"Department": "IT", "Team": "x"})
    child(EncryptionContextEquals={"Department": "IT"})
    # An Equals constraint can't be loosened into a Subset, nor changed.
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=carol.account_id, Operations=["CreateGrant", "Decrypt"],
                     Constraints={"EncryptionContextEquals": {"Department": "IT"}})
    carol_kms = server.client(carol, "kms")
    for weaker in ({"EncryptionContextSubset": {"Department": "IT"}}, {"EncryptionContextEquals": {"Department": "IT", "Team": "x"}}):
        assert kms_error(lambda: carol_kms.create_grant(KeyId=key["Arn"], GranteePrincipal=bob.account_id,
                                                        Operations=["Decrypt"], Constraints=weaker)) == "AccessDeniedException"
    carol_kms.create_grant(KeyId=key["Arn"], GranteePrincipal=bob.account_id, Operations=["Decrypt"],
                           Constraints={"EncryptionContextEquals": {"Department": "IT"}})
    # Constraints are checked as input: at most 8 pairs, none on operations without an encryption context.
    too_many = {f"k{i}": "v" for i in range(9)}
    assert kms_error(lambda: kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=bob.account_id, Operations=["Decrypt"],
                                              Constraints={"EncryptionContextSubset": too_many})) == "ValidationException"
    assert kms_error(lambda: kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=bob.account_id, Operations=["Sign"],
                                              Constraints={"EncryptionContextSubset": {"a": "b"}})) == "ValidationException"


def test_create_grant_input_is_validated(server, alice):
    from test_bad_input import json_call

    kms = server.client(alice, "kms")
    key = kms.create_key()["KeyMetadata"]
    for body in ({"KeyId": key["KeyId"], "Operations": ["Decrypt"]},
                 {"KeyId": key["KeyId"], "Operations": ["Decrypt"], "GranteePrincipal": None},
                 {"KeyId": key["KeyId"], "Operations": ["Decrypt"], "GranteePrincipal": "bob smith"},
                 {"KeyId": key["KeyId"], "Operations": [], "GranteePrincipal": alice.account_id},
                 {"KeyId": key["KeyId"], "Operations": ["Decrypt"], "GranteePrincipal": alice.account_id, "Name": "a b"}):
        assert json_call(server, alice, "kms", "CreateGrant", json.dumps(body))[:2] == (400, "ValidationException"), body
    assert kms.list_grants(KeyId=key["KeyId"])["Grants"] == []


def test_delete_alias_needs_the_key_policy(server, alice):
    kms = server.client(alice, "kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/keep", TargetKeyId=key["KeyId"])
    deny = {"Effect": "Deny", "Principal": {"AWS": alice.account_id}, "Action": "kms:DeleteAlias", "Resource": "*"}
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy_with(alice.account_id, deny))
    assert kms_failure(lambda: kms.delete_alias(AliasName="alias/keep"))[0] == "AccessDeniedException"
    assert "alias/keep" in [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy_with(alice.account_id))
    kms.delete_alias(AliasName="alias/keep")
    assert "alias/keep" not in [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    code, message = kms_failure(lambda: kms.delete_alias(AliasName="alias/keep"))
    assert (code, message) == ("NotFoundException", f"Alias arn:aws:kms:us-east-1:{alice.account_id}:alias/keep is not found.")


def test_tags_keys_reserved_for_aws_are_refused(server, alice):
    kms = server.client(alice, "kms")
    for tags in ([{"TagKey": "aws:owner", "TagValue": "me"}], [{"TagKey": "AWS:x", "TagValue": ""}],
                 [{"TagKey": "team", "TagValue": "a"}, {"TagKey": "team", "TagValue": "b"}],
                 [{"TagKey": f"k{i}", "TagValue": "v"} for i in range(51)]):
        assert kms_error(lambda: kms.create_key(Tags=tags)) == "TagException"
    assert kms.list_keys()["Keys"] == []
    kms.create_key(Tags=[{"TagKey": "team", "TagValue": "images"}, {"TagKey": "awsome", "TagValue": ""}])


def test_list_grants_pages_and_validates_limit_and_marker(server, alice, bob):
    kms = server.client(alice, "kms")
    key = kms.create_key()["KeyMetadata"]
    ids = sorted(kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=bob.account_id, Operations=["Decrypt"])["GrantId"]
                 for _ in range(3))
    first = kms.list_grants(KeyId=key["KeyId"], Limit=2)
    assert first["Truncated"] and [g["GrantId"] for g in first["Grants"]] == ids[:2]
    rest = kms.list_grants(KeyId=key["KeyId"], Limit=2, Marker=first["NextMarker"])
    assert not rest["Truncated"] and [g["GrantId"] for g in rest["Grants"]] == ids[2:]
    assert [g["GrantId"] for g in kms.list_grants(KeyId=key["KeyId"])["Grants"]] == ids
    from test_bad_input import json_call

    for limit in (0, -5, 101):  # botocore refuses 0 itself: send it raw
        status, code, _ = json_call(server, alice, "kms", "ListGrants", json.dumps({"KeyId": key["KeyId"], "Limit": limit}))
        assert (status, code) == (400, "ValidationException")
    for marker in ("garbage", first["NextMarker"] + "x", "eyJ9"):
        assert kms_error(lambda: kms.list_grants(KeyId=key["KeyId"], Marker=marker)) == "InvalidMarkerException"
    other = kms.create_key()["KeyMetadata"]
    assert kms_error(lambda: kms.list_grants(KeyId=other["KeyId"], Marker=first["NextMarker"])) == "InvalidMarkerException"


def test_not_found_messages_name_the_key_arn(server, alice):
    kms = server.client(alice, "kms")
    missing = "1234abcd-12ab-34cd-56ef-1234567890ab"
    arn = f"arn:aws:kms:us-east-1:{alice.account_id}:key/{missing}"
    for ref in (missing, arn):
        assert kms_failure(lambda: kms.describe_key(KeyId=ref)) == ("NotFoundException", f"Key '{arn}' does not exist")
    assert kms_failure(lambda: kms.describe_key(KeyId="not-a-key")) == ("NotFoundException", "Invalid keyId not-a-key")
    key = kms.create_key()["KeyMetadata"]
    west = server.client(alice, "kms", region="eu-west-1")
    assert kms_failure(lambda: west.describe_key(KeyId=key["KeyId"])) == (
        "NotFoundException", f"Key 'arn:aws:kms:eu-west-1:{alice.account_id}:key/{key['KeyId']}' does not exist")


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": [{"StringEquals": {"a": "b"}}]},
    {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": 5},
    {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"Null": []}},
    {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"Null": {"aws:PrincipalOrgID": []}}},
    {"Effect": "Allow", "Principal": "*", "Action": ["kms:*", None], "Resource": "*"},
    {"Effect": "Allow", "Principal": {"AWS": [[]]}, "Action": "kms:*", "Resource": "*"},
])
def test_malformed_key_policies_are_refused_and_never_stored(server, alice, statement):
    kms = server.client(alice, "kms")
    text = policy_with(alice.account_id, statement)
    assert kms_error(lambda: kms.create_key(Policy=text)) == "MalformedPolicyDocumentException"
    assert kms.list_keys()["Keys"] == []
    key = kms.create_key()["KeyMetadata"]
    stored = kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]
    assert kms_error(lambda: kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=text)) == "MalformedPolicyDocumentException"
    assert kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"] == stored
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
    deep = '{"Version": "2012-10-17", "Statement": ' + "[" * 5000 + "]" * 5000 + "}"
    assert kms_error(lambda: kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=deep)) == "MalformedPolicyDocumentException"


def test_a_stored_policy_that_no_longer_validates_denies_instead_of_failing(server, alice):
    from sqlalchemy import update

    from amishare.store.db import open_store
    from amishare.store.schema import kms_keys

    kms = server.client(alice, "kms")
    key = kms.create_key()["KeyMetadata"]
    store = open_store(server.db_url, run_migrations=False)
    try:
        with store.transaction() as conn:
            conn.execute(update(kms_keys).where(kms_keys.c.key_id == key["KeyId"]).values(
                policy='{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": 5}]}'))
    finally:
        store.dispose()
    assert kms_error(lambda: kms.describe_key(KeyId=key["KeyId"])) == "AccessDeniedException"
    assert kms_error(lambda: kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=alice.account_id,
                                             Operations=["Decrypt"])) == "AccessDeniedException"


def grant_ids(kms, key_id):
    return sorted(g["GrantId"] for g in kms.list_grants(KeyId=key_id)["Grants"])


def test_grant_condition_keys_in_key_policies(server, alice, bob):
    """kms:GrantIsForAWSResource is true when EBS uses the key on the caller's behalf and false on
    the caller's own CreateGrant, so the key policy AWS documents for sharing encrypted AMIs lets a
    recipient launch without letting it grant the key to anyone itself."""
    kms = server.client(alice, "kms")
    key = kms.create_key()["KeyMetadata"]
    image_id = encrypted_image(server, alice, "for-aws-resources", key["Arn"])
    server.client(alice).modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    bob_root = {"AWS": f"arn:aws:iam::{bob.account_id}:root"}
    use = {"Sid": "Allow use of the key", "Effect": "Allow", "Principal": bob_root, "Resource": "*",
           "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]}
    attach = {"Sid": "Allow attachment of persistent resources", "Effect": "Allow", "Principal": bob_root,
              "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
              "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy_with(alice.account_id, use, attach))
    recipient = server.client(bob)
    launch(recipient, image_id)
    theirs = server.client(bob, "kms")
    assert kms_error(lambda: theirs.create_grant(KeyId=key["Arn"], GranteePrincipal=bob.account_id,
                                                 Operations=["Decrypt"])) == "AccessDeniedException"
    assert kms_error(lambda: theirs.list_grants(KeyId=key["Arn"])) == "AccessDeniedException"
    assert grant_ids(kms, key["KeyId"]) == []
    # Denying grants for AWS resources blocks EBS (so the launch), not the owner's own grants.
    no_aws = {"Sid": "No grants for AWS resources", "Effect": "Deny", "Principal": "*", "Action": "kms:CreateGrant",
              "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default",
                       Policy=policy_with(alice.account_id, use, attach, no_aws))
    before = instance_count(server, bob)
    assert error_code(lambda: recipient.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)) == "UnauthorizedOperation"
    assert instance_count(server, bob) == before
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=bob.account_id, Operations=["DescribeKey"])


def test_grant_condition_keys_in_identity_policies(server, alice, bob, carol):
    """kms:GrantOperations, kms:GranteePrincipal, kms:RetiringPrincipal and kms:GrantConstraintType
    limit what a user may grant; a refused grant is never made."""
    kms = server.client(alice, "kms")
    key = kms.create_key()["KeyMetadata"]
    server.new_user(alice, "granter")
    server.client(alice, "iam").put_user_policy(UserName="granter", PolicyName="grants", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["kms:CreateGrant", "kms:ListGrants"], "Resource": key["Arn"],
             "Condition": {"ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt", "DescribeKey"]},
                           "StringEquals": {"kms:GranteePrincipal": f"arn:aws:iam::{bob.account_id}:root"},
                           "StringEqualsIfExists": {"kms:RetiringPrincipal": f"arn:aws:iam::{alice.account_id}:root"}}},
            {"Effect": "Deny", "Action": "kms:CreateGrant", "Resource": "*",
             "Condition": {"Null": {"kms:GrantConstraintType": "true"}}}]}))
    key_id = server.client(alice, "iam").create_access_key(UserName="granter")["AccessKey"]
    from support import Account

    granter = Account(alice.account_id, key_id["AccessKeyId"], key_id["SecretAccessKey"])
    theirs = server.client(granter, "kms")
    bob_root = f"arn:aws:iam::{bob.account_id}:root"
    constrained = {"EncryptionContextSubset": {"purpose": "ami"}}
    made = theirs.create_grant(KeyId=key["KeyId"], GranteePrincipal=bob_root, Operations=["Decrypt"],
                               Constraints=constrained, RetiringPrincipal=f"arn:aws:iam::{alice.account_id}:root")
    assert grant_ids(kms, key["KeyId"]) == [made["GrantId"]]
    refused = [
        dict(GranteePrincipal=bob_root, Operations=["Decrypt", "Encrypt"], Constraints=constrained),
        dict(GranteePrincipal=f"arn:aws:iam::{carol.account_id}:root", Operations=["Decrypt"], Constraints=constrained),
        dict(GranteePrincipal=bob_root, Operations=["Decrypt"], Constraints=constrained,
             RetiringPrincipal=f"arn:aws:iam::{bob.account_id}:root"),
        dict(GranteePrincipal=bob_root, Operations=["Decrypt"]),
    ]
    for params in refused:
        assert kms_error(lambda: theirs.create_grant(KeyId=key["KeyId"], **params)) == "AccessDeniedException", params
    assert grant_ids(kms, key["KeyId"]) == [made["GrantId"]]
    code, _, err = server.aws(granter, "kms", "create-grant", "--key-id", key["KeyId"], "--grantee-principal", bob_root,
                              "--operations", "Decrypt", "Encrypt", check=False)
    assert code != 0 and "AccessDeniedException" in err and "kms:CreateGrant" in err
    assert grant_ids(kms, key["KeyId"]) == [made["GrantId"]]
