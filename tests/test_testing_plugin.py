"""amishare's pytest plugin and test helpers, used as a project that installs amishare uses them."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import boto3

import amishare.testing

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "test_ami_sharing.py"


def test_every_test_gets_fresh_accounts_and_clients(amishare, amishare_account):
    alice, bob = amishare.account(), amishare.account()
    assert len({alice.account_id, bob.account_id, amishare_account.account_id}) == 3
    assert amishare.accounts == [amishare_account, alice, bob]
    for account in (alice, bob):
        assert amishare.client(account, "sts").get_caller_identity()["Arn"] == account.arn
        assert amishare.client(account, "ec2").describe_images(Owners=["self"])["Images"] == []
    west = amishare.client(alice, "ec2", region="eu-west-1")
    zones = west.describe_availability_zones()["AvailabilityZones"]
    assert {z["RegionName"] for z in zones} == {"eu-west-1"}
    _, identity, _ = amishare.aws(bob, "sts", "get-caller-identity")
    assert identity["Account"] == bob.account_id


def test_organization_helper_builds_the_tree_through_the_api(amishare):
    org = amishare.organization(members=1)
    orgs = org.client
    assert orgs.describe_organization()["Organization"]["Id"] == org.id
    assert org.arn == f"arn:aws:organizations::{org.management.account_id}:organization/{org.id}"
    prod = org.create_ou("Prod")
    team = org.create_ou("Team", parent_id=prod["Id"])
    member = org.add_account(parent_id=team["Id"])
    assert orgs.list_parents(ChildId=member.account_id)["Parents"][0]["Id"] == team["Id"]
    listed = {a["Id"] for a in orgs.list_accounts()["Accounts"]}
    assert member.account_id in listed and org.management.account_id in listed and len(listed) == 3
    # What the tree is for: an image shared with an OU reaches accounts below it.
    ec2 = amishare.client(org.management, "ec2")
    snapshot = ec2.create_snapshot(VolumeId=ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"])
    image = ec2.register_image(Name="ou-shared", RootDeviceName="/dev/xvda", BlockDeviceMappings=[
        {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot["SnapshotId"]}}])["ImageId"]
    ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"OrganizationalUnitArn": prod["Arn"]}]})
    seen = amishare.client(member, "ec2").describe_images(ExecutableUsers=["self"])["Images"]
    assert [i["ImageId"] for i in seen] == [image]


def test_iam_user_helper(amishare):
    account = amishare.account()
    user = amishare.user(account, "deployer", ["arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"])
    assert user.account_id == account.account_id and user.user_name == "deployer"
    identity = amishare.client(user, "sts").get_caller_identity()
    assert identity["Account"] == account.account_id
    assert identity["Arn"] == user.arn == f"arn:aws:iam::{account.account_id}:user/deployer"
    assert amishare.client(user, "ec2").describe_images(Owners=["self"])["Images"] == []


def test_server_context_manager_outside_pytest():
    with amishare.testing.server() as s:
        account = s.new_account()
        session = s.session(account)
        assert isinstance(session, boto3.Session)
        assert s.client(account, "sts").get_caller_identity()["Account"] == account.account_id
        process, db = s.process, Path(s.db_url.split("///", 1)[1])
        assert db.exists()
    assert process.poll() is not None
    assert not db.exists()


def _sample_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / EXAMPLE.name).write_text(EXAMPLE.read_text())
    return project


def _pytest(project: Path, *args: str, pythonpath: list[str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "AWS_"))}
    env["PYTHONPATH"] = os.pathsep.join(pythonpath + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           "--rootdir", str(project), *args, str(project)],
                          cwd=project, env=env, capture_output=True, text=True, timeout=600)


def test_readme_example_runs_as_a_sample_project(tmp_path):
    """The README's example is this file, and passes in a project holding nothing else."""
    readme = (ROOT / "README.md").read_text()
    assert EXAMPLE.read_text().strip() in readme
    project = _sample_project(tmp_path)
    result = _pytest(project, "-p", "amishare.testing.plugin", pythonpath=[])
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b2 passed\b", result.stdout), result.stdout


def test_entry_point_registers_the_plugin(tmp_path):
    """What `pip install amishare` installs: the pytest11 entry point declared in pyproject.toml
    loads the plugin without -p; --amishare-db picks the server's database."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["pytest11"]
    assert declared == {"amishare.testing.plugin": "amishare.testing.plugin"}
    site = tmp_path / "site"
    dist = site / "amishare_entry_point_check-0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: amishare-entry-point-check\nVersion: 0\n")
    (dist / "entry_points.txt").write_text(
        "[pytest11]\n" + "".join(f"{name} = {target}\n" for name, target in declared.items()))
    project = _sample_project(tmp_path)
    db = tmp_path / "chosen.db"
    result = _pytest(project, f"--amishare-db=sqlite:///{db}", pythonpath=[str(site)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b2 passed\b", result.stdout), result.stdout
    assert db.exists()
