"""Concurrent calls on a multi-worker server keep the rules: quotas hold, nothing fails internally."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from support import Server, database_url, free_port, server_env
from test_images import register


@pytest.fixture
def busy_server(backend, tmp_path):
    url, cleanup = database_url(backend, tmp_path)
    env = server_env(tmp_path)
    env["AMISHARE_MAX_SHARED_ACCOUNTS"] = "5"
    env["AMISHARE_MAX_PUBLIC_IMAGES"] = "2"
    env["AMISHARE_BLOCK_PUBLIC_ACCESS_DEFAULT"] = "unblocked"
    srv = Server(db_url=url, port=free_port(), env=env, log_path=tmp_path / "server.log", state_delay=0.0,
                 workers=2).start()
    yield srv
    srv.stop()
    cleanup()


def _outcomes(calls):
    def run(call):
        try:
            call()
            return "ok"
        except ClientError as exc:
            return exc.response["Error"]["Code"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(run, calls))


def test_concurrent_sharing_respects_quotas(busy_server):
    srv = busy_server
    owner = srv.new_account()
    ec2 = srv.client(owner)
    image_id = register(ec2, "contended")
    clients = [srv.client(owner) for _ in range(8)]
    calls = [
        (lambda c=clients[i % 8], i=i: c.modify_image_attribute(
            ImageId=image_id, LaunchPermission={"Add": [{"UserId": f"{200000000000 + i}"}]}))
        for i in range(20)
    ]
    outcomes = _outcomes(calls)
    assert set(outcomes) <= {"ok", "ResourceLimitExceeded"}, outcomes
    entries = ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]
    assert len(entries) == outcomes.count("ok") == 5
    images = [register(ec2, f"public-{i}") for i in range(6)]
    outcomes = _outcomes([
        (lambda c=clients[i], image=image: c.modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"Group": "all"}]}))
        for i, image in enumerate(images)
    ])
    assert outcomes.count("ok") == 2 and set(outcomes) <= {"ok", "ResourceLimitExceeded"}, outcomes
    public = [i for i in ec2.describe_images(Owners=["self"])["Images"] if i["Public"]]
    assert len(public) == 2


def test_concurrent_registrations_are_all_kept(busy_server):
    srv = busy_server
    owner = srv.new_account()
    ec2 = srv.client(owner)
    snapshot_volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"]
    snapshot_id = ec2.create_snapshot(VolumeId=snapshot_volume)["SnapshotId"]
    clients = [srv.client(owner) for _ in range(8)]
    names = [f"parallel-{i}" for i in range(40)] + ["parallel-0"] * 4
    outcomes = _outcomes([
        (lambda c=clients[i % 8], name=name: c.register_image(
            Name=name, RootDeviceName="/dev/xvda",
            BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot_id}}]))
        for i, name in enumerate(names)
    ])
    assert set(outcomes) <= {"ok", "InvalidAMIName.Duplicate"}, outcomes
    assert outcomes.count("ok") == 40
    assert sorted(i["Name"] for i in ec2.describe_images(Owners=["self"])["Images"]) == sorted(set(names))


def test_concurrent_policy_changes_keep_the_scp_limits(busy_server):
    srv = busy_server
    mgmt = srv.new_account()
    orgs = srv.client(mgmt, "organizations")
    orgs.create_organization()
    root = orgs.list_roots()["Roots"][0]["Id"]
    allow = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
    ids = [orgs.create_policy(Content=allow, Description="", Name=f"p{i}", Type="SERVICE_CONTROL_POLICY")
           ["Policy"]["PolicySummary"]["Id"] for i in range(8)]
    clients = [srv.client(mgmt, "organizations") for _ in range(8)]
    # OUs created while SCPs are being enabled all end up with FullAWSAccess.
    outcomes = _outcomes([lambda: clients[0].enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")] + [
        (lambda c=clients[i], i=i: c.create_organizational_unit(ParentId=root, Name=f"ou{i}")) for i in range(1, 8)])
    assert set(outcomes) == {"ok"}, outcomes
    for ou in orgs.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]:
        assert [p["Id"] for p in orgs.list_policies_for_target(TargetId=ou["Id"], Filter="SERVICE_CONTROL_POLICY")["Policies"]] \
            == ["p-FullAWSAccess"]
    # At most five SCPs on a target, and never fewer than one.
    outcomes = _outcomes([(lambda c=clients[i], p=p: c.attach_policy(PolicyId=p, TargetId=root)) for i, p in enumerate(ids)])
    assert outcomes.count("ok") == 4 and set(outcomes) <= {"ok", "ConstraintViolationException"}, outcomes
    attached = [p["Id"] for p in orgs.list_policies_for_target(TargetId=root, Filter="SERVICE_CONTROL_POLICY")["Policies"]]
    assert len(attached) == 5
    outcomes = _outcomes([(lambda c=clients[i], p=p: c.detach_policy(PolicyId=p, TargetId=root)) for i, p in enumerate(attached)])
    assert outcomes.count("ok") == 4 and set(outcomes) <= {"ok", "ConstraintViolationException"}, outcomes
    assert len(orgs.list_policies_for_target(TargetId=root, Filter="SERVICE_CONTROL_POLICY")["Policies"]) == 1


def test_policy_changes_apply_at_once_in_every_worker(busy_server):
    """Workers cache the compiled policies of a principal; an IAM change in the account makes
    every worker read them again on the next request."""
    srv = busy_server
    owner = srv.new_account()
    user = srv.new_user(owner, "cached", ["arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"])
    clients = [srv.client(user) for _ in range(4)]
    assert set(_outcomes([(lambda c=c: c.describe_images(Owners=["self"])) for c in clients * 3])) == {"ok"}
    iam = srv.client(owner, "iam")
    iam.put_user_policy(UserName="cached", PolicyName="deny", PolicyDocument=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:DescribeImages","Resource":"*"}]}'))
    assert set(_outcomes([(lambda c=c: c.describe_images(Owners=["self"])) for c in clients * 3])) == {"UnauthorizedOperation"}
    iam.delete_user_policy(UserName="cached", PolicyName="deny")
    iam.detach_user_policy(UserName="cached", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
    assert set(_outcomes([(lambda c=c: c.describe_images(Owners=["self"])) for c in clients * 3])) == {"UnauthorizedOperation"}
