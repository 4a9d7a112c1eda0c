"""`amishare import` of what the aws CLI prints for a real account, and `amishare export` back."""

import json
import random
import subprocess
import sys
import time

import pytest

from support import Account, server_env

REGION = "us-east-1"


def new_account_id() -> str:
    return str(random.randrange(10**11, 10**12))


def rand(n: int, alphabet="abcdefghijklmnopqrstuvwxyz0123456789") -> str:
    return "".join(random.choice(alphabet) for _ in range(n))


def image_record(owner: str, index: int, name: str | None = None, **extra) -> dict:
    """One image as `aws ec2 describe-images --owners self` prints it."""
    image_id = f"ami-{random.getrandbits(68):017x}"
    name = name or f"app-{index}"
    record = {
        "Architecture": "x86_64", "CreationDate": "2024-03-01T12:00:00.000Z", "ImageId": image_id,
        "ImageLocation": f"{owner}/{name}", "ImageType": "machine", "Public": False, "OwnerId": owner,
        "PlatformDetails": "Linux/UNIX", "UsageOperation": "RunInstances", "State": "available",
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {
            "DeleteOnTermination": True, "SnapshotId": f"snap-{random.getrandbits(68):017x}", "VolumeSize": 8,
            "VolumeType": "gp3", "Encrypted": False}}],
        "Description": f"application image {index}", "EnaSupport": True, "Hypervisor": "xen", "Name": name,
        "RootDeviceName": "/dev/xvda", "RootDeviceType": "ebs", "SriovNetSupport": "simple",
        "VirtualizationType": "hvm", "BootMode": "uefi-preferred", "DeprecationTime": "2034-03-01T12:00:00.000Z",
        "ImdsSupport": "v2.0", "Tags": [{"Key": "team", "Value": f"t{index % 7}"}],
        "DeregistrationProtection": "disabled", "FreeTierEligible": False,
    }
    record.update(extra)
    return record


def snapshot_record(owner: str, image: dict) -> dict:
    """The root snapshot of `image` as `aws ec2 describe-snapshots --owner-ids self` prints it."""
    ebs = image["BlockDeviceMappings"][0]["Ebs"]
    return {
        "Description": f"Created by CreateImage(i-0123456789abcdef0) for {image['ImageId']}", "Encrypted": False,
        "OwnerId": owner, "Progress": "100%", "SnapshotId": ebs["SnapshotId"],
        "StartTime": "2024-03-01T11:58:00.512000+00:00", "State": "completed", "VolumeId": "vol-0123456789abcdef0",
        "VolumeSize": 8, "StorageTier": "standard", "Tags": [{"Key": "backup", "Value": "daily"}],
    }


def write(path, document):
    path.write_text(json.dumps(document, indent=4))
    return str(path)


def amishare(server, *args):
    return subprocess.run([sys.executable, "-m", "amishare", *args], env=server.env, capture_output=True, text=True)


def credentials(server, account_id) -> Account:
    created = json.loads(server.cli("accounts", "credentials", "--db", server.db_url, "--id", account_id))
    return Account(created["AccountId"], created["AccessKeyId"], created["SecretAccessKey"])


def real_organization(owner: str):
    """What list-organizational-units-for-parent and list-accounts print for an organization
    managed by `owner`: OUs Prod and Prod/Team, a member in Team."""
    org, root = f"o-{rand(10)}", f"r-{rand(4)}"
    prod, team = f"ou-{root[2:]}-{rand(8)}", f"ou-{root[2:]}-{rand(8)}"
    member = new_account_id()

    def ou(ou_id, name, path):
        return {"Id": ou_id, "Arn": f"arn:aws:organizations::{owner}:ou/{org}/{ou_id}", "Name": name,
                "Path": f"{org}/{root}/{path}"}

    def account(account_id, name, method, path):
        return {"Id": account_id, "Arn": f"arn:aws:organizations::{owner}:account/{org}/{account_id}",
                "Email": f"{name}@example.com", "Name": name, "Status": "ACTIVE", "State": "ACTIVE",
                "JoinedMethod": method, "JoinedTimestamp": "2021-05-04T10:00:00.123000+00:00",
                "Paths": [f"{org}/{root}/{path}{account_id}/"]}

    units = {"OrganizationalUnits": [ou(team, "Team", f"{prod}/{team}/"), ou(prod, "Prod", f"{prod}/")]}
    accounts = {"Accounts": [account(owner, "management", "CREATED", ""),
                             account(member, "team-member", "INVITED", f"{prod}/{team}/")]}
    return {"org": org, "root": root, "prod": prod, "team": team, "member": member, "units": units,
            "accounts": accounts}


def test_import_rehearses_sharing_on_a_copy_of_the_real_account(server, tmp_path):
    owner, partner = new_account_id(), new_account_id()
    org = real_organization(owner)
    prod_arn = org["units"]["OrganizationalUnits"][1]["Arn"]
    images = [image_record(owner, 0, "web"), image_record(owner, 1, "base"), image_record(owner, 2, "private")]
    web, base, private = (i["ImageId"] for i in images)
    permissions = [{"ImageId": web, "LaunchPermissions": [{"UserId": partner}]},
                   {"ImageId": base, "LaunchPermissions": [{"OrganizationalUnitArn": prod_arn}]},
                   {"ImageId": private, "LaunchPermissions": []}]
    files = [write(tmp_path / "permissions.json", permissions), write(tmp_path / "images.json", {"Images": images}),
             write(tmp_path / "snapshots.json", {"Snapshots": [snapshot_record(owner, i) for i in images]}),
             write(tmp_path / "accounts.json", org["accounts"]), write(tmp_path / "ous.json", org["units"])]
    imported = amishare(server, "import", "--db", server.db_url, "--account", owner, "--region", REGION, *files)
    assert imported.returncode == 0, imported.stderr
    summary = json.loads(imported.stdout)
    assert summary["images"] == {"created": 3, "updated": 0}
    assert summary["snapshots"] == {"created": 3, "updated": 0}
    assert summary["organizational-units"] == {"created": 2, "updated": 0}
    assert summary["accounts"] == {"created": 1, "updated": 1}
    assert sorted(summary["accounts_created"]) == sorted([owner, org["member"]])

    # The copy answers through the API as the real account did.
    me = credentials(server, owner)
    ec2 = server.client(me)
    described = {i["ImageId"]: i for i in ec2.describe_images(Owners=["self"])["Images"]}
    assert set(described) == {web, base, private}
    assert described[web]["Name"] == "web" and described[web]["Tags"] == [{"Key": "team", "Value": "t0"}]
    assert described[web]["CreationDate"] == "2024-03-01T12:00:00.000Z"
    assert ec2.describe_image_attribute(ImageId=base, Attribute="launchPermission")["LaunchPermissions"] == [
        {"OrganizationalUnitArn": prod_arn}]
    snapshots = ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
    assert len(snapshots) == 3 and all(s["State"] == "completed" for s in snapshots)
    orgs = server.client(me, "organizations")
    assert orgs.describe_organization()["Organization"]["Id"] == org["org"]
    assert orgs.list_parents(ChildId=org["member"])["Parents"] == [{"Id": org["team"], "Type": "ORGANIZATIONAL_UNIT"}]
    assert [u["Name"] for u in orgs.list_organizational_units_for_parent(ParentId=org["prod"])[
        "OrganizationalUnits"]] == ["Team"]

    # Rehearse the change: the member in Team (below Prod) launches base; withdraw the OU grant.
    member = server.client(credentials(server, org["member"]))
    assert [i["ImageId"] for i in member.describe_images(ExecutableUsers=["self"])["Images"]] == [base]
    member.run_instances(ImageId=base, InstanceType="t3.micro", MinCount=1, MaxCount=1)
    ec2.modify_image_attribute(ImageId=base, LaunchPermission={"Remove": [{"OrganizationalUnitArn": prod_arn}]})
    assert member.describe_images(ExecutableUsers=["self"])["Images"] == []
    server.cli("accounts", "create", "--db", server.db_url, "--id", partner)
    theirs = server.client(credentials(server, partner))
    assert [i["ImageId"] for i in theirs.describe_images(ExecutableUsers=["self"])["Images"]] == [web]

    # Export writes what was imported (as changed since), in the same formats.
    for kind in ("images", "snapshots", "launch-permissions"):
        out = tmp_path / f"export-{kind}.json"
        exported = amishare(server, "export", "--db", server.db_url, "--account", owner, "--region", REGION,
                            "--kind", kind, "--out", str(out))
        assert exported.returncode == 0, exported.stderr
    exported_images = {i["ImageId"]: i for i in json.loads((tmp_path / "export-images.json").read_text())["Images"]}
    assert exported_images[base].pop("LastLaunchedTime")  # the rehearsal launched it
    for image in images:
        assert exported_images[image["ImageId"]] == image
    exported_snapshots = json.loads((tmp_path / "export-snapshots.json").read_text())["Snapshots"]
    assert sorted(exported_snapshots, key=lambda s: s["SnapshotId"]) == sorted(
        (snapshot_record(owner, i) for i in images), key=lambda s: s["SnapshotId"])
    exported_permissions = json.loads((tmp_path / "export-launch-permissions.json").read_text())
    assert sorted(exported_permissions, key=lambda p: p["ImageId"]) == sorted([
        permissions[0], {"ImageId": base, "LaunchPermissions": []}, permissions[2]], key=lambda p: p["ImageId"])

    # Importing the export (or the real account again) updates in place.
    images[2]["Description"] = "changed upstream"
    write(tmp_path / "images.json", {"Images": images})
    again = amishare(server, "import", "--db", server.db_url, "--account", owner, "--region", REGION, "--quiet",
                     *files[1:3], str(tmp_path / "export-launch-permissions.json"))
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["images"] == {"created": 0, "updated": 3} and summary["snapshots"] == {"created": 0, "updated": 3}
    assert ec2.describe_images(ImageIds=[private])["Images"][0]["Description"] == "changed upstream"
    assert len(ec2.describe_images(Owners=["self"])["Images"]) == 3
    assert ec2.describe_image_attribute(ImageId=base, Attribute="launchPermission")["LaunchPermissions"] == []


def _refused(server, tmp_path, owner, documents):
    files = [write(tmp_path / f"file{i}.json", d) for i, d in enumerate(documents)]
    return amishare(server, "import", "--db", server.db_url, "--account", owner, "--region", REGION, "--quiet", *files)


def test_a_bad_record_is_named_and_nothing_is_imported(server, tmp_path):
    owner = new_account_id()
    images = [image_record(owner, i) for i in range(5)]
    images[3]["ImageId"] = "ami-xyz"
    snapshots = {"Snapshots": [snapshot_record(owner, i) for i in images]}
    refused = _refused(server, tmp_path, owner, [snapshots, {"Images": images}])
    assert refused.returncode == 1
    assert "file1.json: Images[3] (ami-xyz): Invalid id" in refused.stderr and "nothing was imported" in refused.stderr
    listed = json.loads(server.cli("accounts", "list", "--db", server.db_url))["Accounts"]
    assert owner not in {a["AccountId"] for a in listed}  # not even the account the import would have made
    out = tmp_path / "after.json"
    server.cli("export", "--db", server.db_url, "--account", owner, "--region", REGION, "--kind", "snapshots",
               "--out", str(out))
    assert json.loads(out.read_text()) == {"Snapshots": []}


def _invalid(case: str, owner: str):
    """(documents, where the error points, what it says) of one kind of bad inventory."""
    image = image_record(owner, 0)
    ou = "ou-ab12-abcdefgh"
    return {
        "other owner": ([{"Images": [image, image_record("999999999999", 1)]}],
                        "Images[1]", "owned by 999999999999, not by account"),
        "same name": ([{"Images": [image, image_record(owner, 1, name="app-0")]}],
                      "Images[1]", f"AMI name app-0 is already in use by AMI {image['ImageId']}"),
        "unknown image": ([{"ImageId": "ami-0123456789abcdef0", "LaunchPermissions": []}],
                          "LaunchPermissions[0] (ami-0123456789abcdef0)", "no such image here"),
        "bad grantee": ([{"Images": [image]}, {"ImageId": image["ImageId"], "LaunchPermissions": [{"UserId": "12"}]}],
                        f"LaunchPermissions[0] ({image['ImageId']})", "Invalid attribute item value"),
        "unknown file": ([{"Reservations": []}], "file0.json", "not an output of describe-images"),
        "bad timestamp": ([{"Images": [image_record(owner, 0, CreationDate="yesterday")]}],
                          "Images[0]", "CreationDate is not a timestamp"),
        "orphan OU": ([{"OrganizationalUnits": [{
            "Id": ou, "Name": "Lost", "Arn": f"arn:aws:organizations::{owner}:ou/o-abcdefghij/{ou}",
            "Path": f"o-abcdefghij/r-ab12/ou-ab12-zzzzzzzz/{ou}/"}]}],
            f"OrganizationalUnits[0] ({ou})", "import the OUs above it first"),
        "too many public": ([{"Images": [image_record(owner, i, Public=True) for i in range(6)]}],
                            "", "over the quota of 5"),
        "disabled public": ([{"Images": [image_record(owner, 0, Public=True, State="disabled")]}],
                            "Images[0]", "a disabled image can't be public"),
    }[case]


@pytest.mark.parametrize("case", ["other owner", "same name", "unknown image", "bad grantee", "unknown file",
                                  "bad timestamp", "orphan OU", "too many public", "disabled public"])
def test_invalid_inventories_are_refused_with_the_record_named(server, tmp_path, case):
    owner = new_account_id()
    documents, where, message = _invalid(case, owner)
    refused = _refused(server, tmp_path, owner, documents)
    assert refused.returncode == 1, refused.stdout
    assert where in refused.stderr and message in refused.stderr, refused.stderr


def test_ten_thousand_images_import_in_well_under_a_minute(tmp_path, record_property):
    """The import rate is printed and recorded; the bound (10,000 a minute) is generous."""
    owner = new_account_id()
    images = [image_record(owner, i) for i in range(10_000)]
    path = write(tmp_path / "images.json", {"Images": images})
    db = f"sqlite:///{tmp_path / 'amishare.db'}"
    env = server_env(tmp_path)
    subprocess.run([sys.executable, "-m", "amishare", "accounts", "list", "--db", db], env=env, check=True,
                   capture_output=True)  # the schema, made before the clock starts
    started = time.perf_counter()
    imported = subprocess.run([sys.executable, "-m", "amishare", "import", "--db", db, "--account", owner,
                               "--region", REGION, path], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    assert imported.returncode == 0, imported.stderr
    assert "10000/10000" in imported.stderr  # the progress bar's last state
    summary = json.loads(imported.stdout)
    assert summary["images"] == {"created": 10_000, "updated": 0}
    assert summary["snapshots"] == {"created": 10_000, "updated": 0}
    rate = 10_000 / elapsed * 60
    print(f"imported 10,000 images in {elapsed:.1f} s ({rate:,.0f} images a minute; "
          f"{summary['seconds']:.1f} s inside the import)")
    record_property("images_per_minute", round(rate))
    assert elapsed < 60, f"{rate:,.0f} images a minute"

    import sqlite3

    with sqlite3.connect(tmp_path / "amishare.db") as conn:
        count = lambda sql: conn.execute(sql, (owner,)).fetchone()[0]  # noqa: E731
        assert count("select count(*) from images where owner_id = ?") == 10_000
        assert count("select count(*) from snapshots where owner_id = ?") == 10_000
        assert count("select value from usage_counters where account_id = ? and name = 'images'") == 10_000
        assert count("select count(*) from tags where owner_id = ?") == 10_000
        sample = random.choice(images)
        row = conn.execute("select name, description, created_at from images where image_id = ?",
                           (sample["ImageId"],)).fetchone()
        assert row[:2] == (sample["Name"], sample["Description"])
