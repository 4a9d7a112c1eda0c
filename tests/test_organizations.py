"""Organizations API and launch permissions for organizations and OUs (seed 004)."""

import json

import pytest
from botocore.exceptions import ClientError

from support import Account
from test_images import error_code, launch, register


def org_error(call):
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response["Error"]["Code"]


def join(server, mgmt_orgs, account):
    handshake = mgmt_orgs.invite_account_to_organization(Target={"Id": account.account_id, "Type": "ACCOUNT"})["Handshake"]
    server.client(account, "organizations").accept_handshake(HandshakeId=handshake["Id"])


def test_organization_lifecycle(server, alice, bob, carol):
    orgs = server.client(alice, "organizations")
    assert org_error(lambda: orgs.describe_organization()) == "AWSOrganizationsNotInUseException"
    org = orgs.create_organization(FeatureSet="ALL")["Organization"]
    assert org["Id"].startswith("o-") and len(org["Id"]) == 12
    assert org["Arn"] == f"arn:aws:organizations::{alice.account_id}:organization/{org['Id']}"
    assert org["MasterAccountId"] == alice.account_id
    assert org_error(lambda: orgs.create_organization()) == "AlreadyInOrganizationException"
    root = orgs.list_roots()["Roots"][0]
    assert root["Id"].startswith("r-") and len(root["Id"]) == 6
    ou = orgs.create_organizational_unit(ParentId=root["Id"], Name="Prod")["OrganizationalUnit"]
    assert ou["Id"].startswith(f"ou-{root['Id'][2:]}-")
    assert ou["Arn"] == f"arn:aws:organizations::{alice.account_id}:ou/{org['Id']}/{ou['Id']}"
    assert org_error(lambda: orgs.create_organizational_unit(ParentId=root["Id"], Name="Prod")) == "DuplicateOrganizationalUnitException"
    assert orgs.describe_organizational_unit(OrganizationalUnitId=ou["Id"])["OrganizationalUnit"]["Name"] == "Prod"
    orgs.update_organizational_unit(OrganizationalUnitId=ou["Id"], Name="Production")
    assert [u["Name"] for u in orgs.list_organizational_units_for_parent(ParentId=root["Id"])["OrganizationalUnits"]] == ["Production"]
    # Invitation and handshakes.
    handshake = orgs.invite_account_to_organization(Target={"Id": bob.account_id, "Type": "ACCOUNT"}, Notes="join us")["Handshake"]
    assert handshake["State"] == "OPEN" and handshake["Action"] == "INVITE"
    assert org_error(lambda: orgs.invite_account_to_organization(Target={"Id": bob.account_id, "Type": "ACCOUNT"})) == "DuplicateHandshakeException"
    bob_orgs = server.client(bob, "organizations")
    assert [h["Id"] for h in bob_orgs.list_handshakes_for_account()["Handshakes"]] == [handshake["Id"]]
    assert bob_orgs.accept_handshake(HandshakeId=handshake["Id"])["Handshake"]["State"] == "ACCEPTED"
    assert bob_orgs.describe_organization()["Organization"]["Id"] == org["Id"]
    assert org_error(lambda: bob_orgs.list_roots()) == "AccessDeniedException"
    second = orgs.invite_account_to_organization(Target={"Id": carol.account_id, "Type": "ACCOUNT"})["Handshake"]
    assert server.client(carol, "organizations").decline_handshake(HandshakeId=second["Id"])["Handshake"]["State"] == "DECLINED"
    third = orgs.invite_account_to_organization(Target={"Id": carol.account_id, "Type": "ACCOUNT"})["Handshake"]
    assert orgs.cancel_handshake(HandshakeId=third["Id"])["Handshake"]["State"] == "CANCELED"
    assert org_error(lambda: server.client(carol, "organizations").accept_handshake(HandshakeId=third["Id"])) == "InvalidHandshakeTransitionException"
    assert len(orgs.list_handshakes_for_organization()["Handshakes"]) == 3
    # Accounts, moves, parents and children.
    listed = {a["Id"]: a for a in orgs.list_accounts()["Accounts"]}
    assert set(listed) == {alice.account_id, bob.account_id}
    assert listed[bob.account_id]["JoinedMethod"] == "INVITED"
    orgs.move_account(AccountId=bob.account_id, SourceParentId=root["Id"], DestinationParentId=ou["Id"])
    assert orgs.list_parents(ChildId=bob.account_id)["Parents"] == [{"Id": ou["Id"], "Type": "ORGANIZATIONAL_UNIT"}]
    assert orgs.list_parents(ChildId=ou["Id"])["Parents"] == [{"Id": root["Id"], "Type": "ROOT"}]
    assert orgs.list_children(ParentId=ou["Id"], ChildType="ACCOUNT")["Children"] == [{"Id": bob.account_id, "Type": "ACCOUNT"}]
    assert [a["Id"] for a in orgs.list_accounts_for_parent(ParentId=ou["Id"])["Accounts"]] == [bob.account_id]
    assert org_error(lambda: orgs.move_account(AccountId=bob.account_id, SourceParentId=ou["Id"], DestinationParentId=ou["Id"])) == "DuplicateAccountException"
    assert org_error(lambda: orgs.move_account(AccountId=bob.account_id, SourceParentId=root["Id"],
                                               DestinationParentId="ou-zzzz-zzzzzzzz")) == "DestinationParentNotFoundException"
    assert org_error(lambda: orgs.delete_organizational_unit(OrganizationalUnitId=ou["Id"])) == "OrganizationalUnitNotEmptyException"
    assert org_error(lambda: orgs.describe_account(AccountId=carol.account_id)) == "AccountNotFoundException"
    assert org_error(lambda: orgs.list_parents(ChildId=carol.account_id)) == "ChildNotFoundException"
    # CreateAccount makes a member with credentials.
    status = orgs.create_account(Email="new@example.com", AccountName="Newbie")["CreateAccountStatus"]
    assert status["State"] == "SUCCEEDED" and status["AccountId"]
    assert orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"] == status["AccountId"]
    creds = json.loads(server.cli("accounts", "credentials", "--db", server.db_url, "--id", status["AccountId"]))
    newbie = Account(creds["AccountId"], creds["AccessKeyId"], creds["SecretAccessKey"])
    assert server.client(newbie, "sts").get_caller_identity()["Account"] == status["AccountId"]
    assert orgs.describe_account(AccountId=status["AccountId"])["Account"]["JoinedMethod"] == "CREATED"
    failed = orgs.create_account(Email="new@example.com", AccountName="Again")["CreateAccountStatus"]
    assert failed["State"] == "FAILED" and failed["FailureReason"] == "EMAIL_ALREADY_EXISTS"
    # Leaving and removal.
    assert org_error(lambda: orgs.leave_organization()) == "MasterCannotLeaveOrganizationException"
    assert org_error(lambda: orgs.delete_organization()) == "OrganizationNotEmptyException"
    server.client(newbie, "organizations").leave_organization()
    orgs.remove_account_from_organization(AccountId=bob.account_id)
    assert org_error(lambda: bob_orgs.describe_organization()) == "AWSOrganizationsNotInUseException"
    orgs.delete_organizational_unit(OrganizationalUnitId=ou["Id"])
    orgs.delete_organization()
    assert org_error(lambda: orgs.describe_organization()) == "AWSOrganizationsNotInUseException"


class Tree:
    """An organization managed by `mgmt`: root → Eng → {Platform → Core, Apps}, plus Sales."""

    def __init__(self, server, mgmt):
        self.orgs = server.client(mgmt, "organizations")
        self.org = self.orgs.create_organization()["Organization"]
        self.root = self.orgs.list_roots()["Roots"][0]["Id"]
        self.ou = {}
        for name, parent in (("Eng", None), ("Platform", "Eng"), ("Core", "Platform"), ("Apps", "Eng"), ("Sales", None)):
            parent_id = self.ou[parent]["Id"] if parent else self.root
            self.ou[name] = self.orgs.create_organizational_unit(ParentId=parent_id, Name=name)["OrganizationalUnit"]

    def place(self, server, account, ou_name):
        join(server, self.orgs, account)
        if ou_name:
            self.orgs.move_account(AccountId=account.account_id, SourceParentId=self.root,
                                   DestinationParentId=self.ou[ou_name]["Id"])

    def move(self, account, source, destination):
        source_id = self.ou[source]["Id"] if source else self.root
        destination_id = self.ou[destination]["Id"] if destination else self.root
        self.orgs.move_account(AccountId=account.account_id, SourceParentId=source_id, DestinationParentId=destination_id)


def can_launch(server, account, image_id) -> bool:
    ec2 = server.client(account)
    try:
        ec2.describe_images(ImageIds=[image_id])
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "InvalidAMIID.NotFound"
        with pytest.raises(ClientError) as run_error:
            ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)
        assert run_error.value.response["Error"]["Code"] == "InvalidAMIID.NotFound"
        assert image_id not in {i["ImageId"] for i in ec2.describe_images(ExecutableUsers=["self"])["Images"]}
        return False
    assert image_id in {i["ImageId"] for i in ec2.describe_images(ExecutableUsers=["self"])["Images"]}
    launched = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ec2.terminate_instances(InstanceIds=[launched])
    return True


def test_ou_grants_are_inherited_and_live(server):
    mgmt, core, apps, platform, sales, rootacct, outsider = (server.new_account() for _ in range(7))
    tree = Tree(server, mgmt)
    tree.place(server, core, "Core")
    tree.place(server, apps, "Apps")
    tree.place(server, platform, "Platform")
    tree.place(server, sales, "Sales")
    tree.place(server, rootacct, None)
    # The image owner is outside the organization: sharing with any org or OU is allowed.
    owner = server.new_account()
    ec2 = server.client(owner)
    image_id = register(ec2, "org-golden")
    platform_arn = tree.ou["Platform"]["Arn"]
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"OrganizationalUnitArn": platform_arn}]})
    expected = {core: True, platform: True, apps: False, sales: False, rootacct: False, outsider: False, mgmt: False}
    assert {a: can_launch(server, a, image_id) for a in expected} == expected
    attr = ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    assert attr["LaunchPermissions"] == [{"OrganizationalUnitArn": platform_arn}]
    # Another account id passed as ExecutableUsers does not include org/OU grants.
    assert image_id not in {i["ImageId"] for i in ec2.describe_images(ExecutableUsers=[core.account_id])["Images"]}
    # Moving an account changes access immediately.
    tree.move(apps, "Apps", "Core")
    assert can_launch(server, apps, image_id) is True
    tree.move(core, "Core", "Sales")
    assert can_launch(server, core, image_id) is False
    # Removing an account from the organization ends access.
    tree.orgs.remove_account_from_organization(AccountId=platform.account_id)
    assert can_launch(server, platform, image_id) is False
    # An organization grant covers every member; removal of a UserId grant keeps org access.
    org_arn = tree.org["Arn"]
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"OrganizationArn": org_arn}, {"UserId": sales.account_id}]})
    assert all(can_launch(server, a, image_id) for a in (sales, rootacct, mgmt, apps, core))
    assert can_launch(server, platform, image_id) is False and can_launch(server, outsider, image_id) is False
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Remove": [{"UserId": sales.account_id}]})
    assert can_launch(server, sales, image_id) is True
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Remove": [{"OrganizationArn": org_arn}]})
    assert can_launch(server, sales, image_id) is False and can_launch(server, apps, image_id) is True
    # Reset removes everything.
    ec2.reset_image_attribute(ImageId=image_id, Attribute="launchPermission")
    assert can_launch(server, apps, image_id) is False


def _member_and_ou_shared_image(server, member_ou, shared_ou, name):
    """A tree managed by a new account that owns an image shared with `shared_ou`; a member placed in `member_ou`."""
    mgmt, member = server.new_account(), server.new_account()
    tree = Tree(server, mgmt)
    tree.place(server, member, member_ou)
    owner = server.client(mgmt)
    image_id = register(owner, name)
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"OrganizationalUnitArn": tree.ou[shared_ou]["Arn"]}]})
    return tree, mgmt, member, image_id


def test_deleting_an_ou_ends_its_grant(server):
    tree, _, member, image_id = _member_and_ou_shared_image(server, "Sales", "Sales", "ou-delete")
    assert can_launch(server, member, image_id)
    tree.move(member, "Sales", None)
    tree.orgs.delete_organizational_unit(OrganizationalUnitId=tree.ou["Sales"]["Id"])
    assert can_launch(server, member, image_id) is False


def test_org_instance_image_and_copy(server):
    _, mgmt, member, image_id = _member_and_ou_shared_image(server, "Apps", "Eng", "org-derive")
    recipient = server.client(member)
    instance_id = launch(recipient, image_id)
    derived = recipient.create_image(InstanceId=instance_id, Name="derived")["ImageId"]
    assert recipient.describe_images(ImageIds=[derived])["Images"][0]["OwnerId"] == member.account_id
    assert image_id in {i["ImageId"] for i in recipient.describe_images(Owners=[mgmt.account_id])["Images"]}
    with pytest.raises(ClientError) as exc:
        recipient.copy_image(SourceImageId=image_id, SourceRegion="us-east-1", Name="copy")
    assert "permission to access the storage" in exc.value.response["Error"]["Message"]


def test_arn_validation(server, alice):
    ec2 = server.client(alice)
    image_id = register(ec2, "arn-check")
    for bad in ({"OrganizationArn": "o-123example"}, {"OrganizationalUnitArn": "ou-1234-5example"},
                {"OrganizationArn": "arn:aws:organizations::123:organization/o-123example"},
                {"OrganizationalUnitArn": "arn:aws:organizations::123456789012:ou/o-123example"}):
        assert error_code(lambda: ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [bad]})) == "InvalidParameter"
    assert ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"] == []
    # Any well-formed org or OU ARN is accepted, member or not, and without limit.
    arns = [{"OrganizationalUnitArn": f"arn:aws:organizations::123456789012:ou/o-123example99/ou-1234-{i:08d}"} for i in range(50)]
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": arns})
    ec2.modify_image_attribute(ImageId=image_id, Attribute="launchPermission", OperationType="add",
                               OrganizationArns=["arn:aws:organizations::123456789012:organization/o-123example99"])
    assert len(ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]) == 51


def test_seed_004_cli_commands(server):
    mgmt = server.new_account()
    tree = Tree(server, mgmt)
    image_id = register(server.client(mgmt), "seed-004")
    org_arn, ou = tree.org["Arn"], tree.ou["Eng"]
    _, arn, _ = server.aws(mgmt, "organizations", "describe-organization", "--query", "Organization.Arn")
    assert arn == org_arn
    _, ou_arn, _ = server.aws(mgmt, "organizations", "describe-organizational-unit", "--organizational-unit-id", ou["Id"],
                              "--query", "OrganizationalUnit.Arn")
    assert ou_arn == ou["Arn"]
    server.aws(mgmt, "ec2", "modify-image-attribute", "--image-id", image_id, "--launch-permission",
               f"Add=[{{OrganizationArn={org_arn}}}]")
    server.aws(mgmt, "ec2", "modify-image-attribute", "--image-id", image_id, "--launch-permission",
               f"Add=[{{OrganizationalUnitArn={ou_arn}}}]")
    server.aws(mgmt, "ec2", "modify-image-attribute", "--image-id", image_id, "--launch-permission",
               f"Remove=[{{OrganizationArn={org_arn}}}]")
    _, attr, _ = server.aws(mgmt, "ec2", "describe-image-attribute", "--image-id", image_id, "--attribute", "launchPermission")
    assert attr == {"ImageId": image_id, "LaunchPermissions": [{"OrganizationalUnitArn": ou_arn}]}
    server.aws(mgmt, "ec2", "reset-image-attribute", "--image-id", image_id, "--attribute", "launchPermission")
    _, attr, _ = server.aws(mgmt, "ec2", "describe-image-attribute", "--image-id", image_id, "--attribute", "launchPermission")
    assert attr["LaunchPermissions"] == []
    code, _, err = server.aws(mgmt, "ec2", "modify-image-attribute", "--image-id", image_id, "--launch-permission",
                              "Add=[{OrganizationArn=o-123example}]", check=False)
    assert code != 0 and "InvalidParameter" in err
