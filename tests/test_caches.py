"""What a worker remembers across requests (the caller's organization and OUs, its SCP levels,
its Allowed AMIs settings) never outlives a change: the next request sees it, in every worker."""

import pytest
from botocore.exceptions import ClientError

from support import Server, database_url, free_port, server_env
from test_images import register

CHECKS = 8  # fresh connections per check: the kernel spreads them over both workers


@pytest.fixture
def two_workers(backend, tmp_path):
    url, cleanup = database_url(backend, tmp_path)
    srv = Server(db_url=url, port=free_port(), env=server_env(tmp_path), log_path=tmp_path / "server.log",
                 state_delay=0.0, workers=2).start()
    yield srv
    srv.stop()
    cleanup()


def sees(srv, account, image_id) -> list[bool]:
    """Whether `account` can describe the image, asked on CHECKS new connections."""
    seen = []
    for _ in range(CHECKS):
        try:
            srv.client(account).describe_images(ImageIds=[image_id])
            seen.append(True)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "InvalidAMIID.NotFound"
            seen.append(False)
    return seen


def test_organization_changes_are_seen_at_once_by_every_worker(two_workers):
    srv = two_workers
    mgmt, member = srv.new_account(), srv.new_account()
    orgs = srv.client(mgmt, "organizations")
    orgs.create_organization(FeatureSet="ALL")
    root = orgs.list_roots()["Roots"][0]["Id"]
    ou = orgs.create_organizational_unit(ParentId=root, Name="Eng")["OrganizationalUnit"]
    handshake = orgs.invite_account_to_organization(Target={"Id": member.account_id, "Type": "ACCOUNT"})["Handshake"]
    srv.client(member, "organizations").accept_handshake(HandshakeId=handshake["Id"])
    ec2 = srv.client(mgmt)
    image_id = register(ec2, "for-the-ou")
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"OrganizationalUnitArn": ou["Arn"]}]})
    assert sees(srv, member, image_id) == [False] * CHECKS  # in the root, not in the OU
    orgs.move_account(AccountId=member.account_id, SourceParentId=root, DestinationParentId=ou["Id"])
    assert sees(srv, member, image_id) == [True] * CHECKS
    orgs.move_account(AccountId=member.account_id, SourceParentId=ou["Id"], DestinationParentId=root)
    assert sees(srv, member, image_id) == [False] * CHECKS
    # A service control policy that denies DescribeImages binds at once, and its detachment frees at once.
    orgs.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    deny = orgs.create_policy(
        Name="no-describe", Description="", Type="SERVICE_CONTROL_POLICY",
        Content='{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:DescribeImages","Resource":"*"}]}',
    )["Policy"]["PolicySummary"]["Id"]
    assert srv.client(member).describe_images(Owners=["self"])["Images"] == []
    orgs.attach_policy(PolicyId=deny, TargetId=member.account_id)
    for _ in range(CHECKS):
        with pytest.raises(ClientError) as refused:
            srv.client(member).describe_images(Owners=["self"])
        assert refused.value.response["Error"]["Code"] == "UnauthorizedOperation"
    orgs.detach_policy(PolicyId=deny, TargetId=member.account_id)
    for _ in range(CHECKS):
        assert srv.client(member).describe_images(Owners=["self"])["Images"] == []


def test_allowed_images_changes_are_seen_at_once_by_every_worker(two_workers):
    srv = two_workers
    owner, caller = srv.new_account(), srv.new_account()
    ec2 = srv.client(owner)
    image_id = register(ec2, "shared-one")
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": caller.account_id}]})
    assert sees(srv, caller, image_id) == [True] * CHECKS
    settings = srv.client(caller)
    settings.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[{"ImageProviders": ["amazon"]}])
    settings.enable_allowed_images_settings(AllowedImagesSettingsState="enabled")
    assert sees(srv, caller, image_id) == [False] * CHECKS
    settings.replace_image_criteria_in_allowed_images_settings(
        ImageCriteria=[{"ImageProviders": ["amazon", owner.account_id]}])
    assert sees(srv, caller, image_id) == [True] * CHECKS
    settings.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[{"ImageProviders": ["amazon"]}])
    assert sees(srv, caller, image_id) == [False] * CHECKS
    settings.disable_allowed_images_settings()
    assert sees(srv, caller, image_id) == [True] * CHECKS
