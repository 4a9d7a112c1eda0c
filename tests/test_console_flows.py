"""The seeds' other console flows, in the browser: the AMI Catalog, launching from an AMI, creating
an image from an instance, copying with encryption, deregistration protection and deregistering;
each checked through boto3, and the reverse."""

import re

from test_console import browser, pages, shot, sign_in  # noqa: F401  (fixtures)
from test_images import register


def choose_action(page, endpoint, image_id, name, region="us-east-1"):
    page.goto(f"{endpoint}/console/ec2/amis/{image_id}?region={region}")
    page.get_by_text("Actions", exact=True).click()
    page.get_by_role("link", name=name).click()


def test_catalog_and_launch(server, pages, alice, bob, carol):
    ec2, theirs = server.client(alice), server.client(bob)
    amazon = {i["ImageId"]: i for i in ec2.describe_images(Owners=["amazon"])["Images"]}
    market = ec2.describe_images(Owners=["aws-marketplace"])["Images"]
    theirs.disable_image_block_public_access()
    community = register(theirs, "console-community-image")
    theirs.modify_image_attribute(ImageId=community, LaunchPermission={"Add": [{"Group": "all"}]})
    private = register(theirs, "console-community-private")
    shared = register(server.client(carol), "console-catalog-shared")
    server.client(carol).modify_image_attribute(ImageId=shared,
                                                LaunchPermission={"Add": [{"UserId": alice.account_id}]})

    page = pages()
    sign_in(page, server.endpoint, alice)
    page.get_by_role("link", name="AMI Catalog").first.click()
    catalog = page.locator("#catalog")
    assert set(re.findall(r"ami-[0-9a-f]{8,}", catalog.inner_text())) == set(amazon)
    shot(page, "ami-catalog")
    page.get_by_role("link", name="AWS Marketplace AMIs").click()
    assert re.findall(r"ami-[0-9a-f]{8,}", catalog.inner_text()) == [market[0]["ImageId"]]
    page.get_by_role("link", name="Community AMIs").click()
    page.get_by_label("Search by AMI name").fill("console-community")
    page.get_by_role("button", name="Search").click()
    assert re.findall(r"ami-[0-9a-f]{8,}", catalog.inner_text()) == [community]
    assert private not in page.content()
    page.get_by_role("link", name="My AMIs").click()
    page.get_by_label("Shared with me").check()
    page.get_by_role("button", name="Search").click()
    assert shared in catalog.inner_text()

    # Select an AMI and launch it: Name, instance type, number of instances.
    page.get_by_role("link", name="Community AMIs").click()
    page.get_by_label("Search by AMI name").fill("console-community-image")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Select console-community-image").click()
    page.get_by_label("Name", exact=True).fill("console web")
    page.get_by_label("Instance type", exact=True).select_option("t3.medium")
    page.get_by_label("Number of instances").fill("2")
    shot(page, "launch-instance")
    page.get_by_role("button", name="Launch instance").click()
    launched = re.findall(r"i-[0-9a-f]+", page.locator("#done").inner_text())
    assert len(launched) == 2
    reservations = ec2.describe_instances(InstanceIds=launched)["Reservations"]
    instances = [i for r in reservations for i in r["Instances"]]
    assert {i["ImageId"] for i in instances} == {community} and {i["InstanceType"] for i in instances} == {"t3.medium"}
    assert all({"Key": "Name", "Value": "console web"} in i["Tags"] for i in instances)
    page.locator("#done").get_by_role("link", name="View all instances").click()
    assert all(i in page.locator("#instances").inner_text() for i in launched)
    # A count the form can't take is refused before any call (the browser's own check aside).
    page.goto(f"{server.endpoint}/console/ec2/amis/{community}/launch")
    token = re.search(r'name="csrf" value="([^"]+)"', page.content()).group(1)
    answer = page.request.post(f"{server.endpoint}/console/ec2/amis/{community}/launch",
                               form={"csrf": token, "count": "many", "instance_type": "t3.micro"})
    assert answer.status == 400 and "InvalidParameterValue" in answer.text()
    # The owner stops sharing it publicly: launching it again is the API's refusal.
    theirs.modify_image_attribute(ImageId=community, LaunchPermission={"Remove": [{"Group": "all"}]})
    page.goto(f"{server.endpoint}/console/ec2/amis/{community}/launch")
    code = page.get_by_role("alert").locator(".code").inner_text()
    try:
        ec2.run_instances(ImageId=community, MinCount=1, MaxCount=1)
        raise AssertionError("the API launched an image no longer shared")
    except ec2.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] == code == "InvalidAMIID.NotFound"
    assert len([i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]) == 2


def test_create_image_from_an_instance(server, pages, alice, bob):
    ec2 = server.client(alice)
    source = register(ec2, "console-instance-source")
    instance_id = ec2.run_instances(ImageId=source, MinCount=1, MaxCount=1, InstanceType="t3.micro")[
        "Instances"][0]["InstanceId"]
    page = pages()
    sign_in(page, server.endpoint, alice)
    page.get_by_role("link", name="Instances", exact=True).first.click()
    page.get_by_role("link", name=instance_id).click()
    page.get_by_text("Actions", exact=True).click()
    page.get_by_role("link", name="Create image").click()
    page.get_by_label("Image name").fill("console-from-instance")
    page.get_by_label("Image description - optional").fill("made in the console")
    page.get_by_label("No reboot").check()
    page.get_by_role("button", name="Create image").click()
    created = page.locator("#done a").inner_text()
    image = ec2.describe_images(ImageIds=[created])["Images"][0]
    assert image["Name"] == "console-from-instance" and image["Description"] == "made in the console"
    assert image["SourceInstanceId"] == instance_id
    # The same name again: the API's error, inline, and no second image.
    page.get_by_role("button", name="Create image").click()
    assert page.get_by_role("alert").locator(".code").inner_text() == "InvalidAMIName.Duplicate"
    assert len(ec2.describe_images(Owners=["self"], Filters=[{"Name": "name",
                                                               "Values": ["console-from-instance"]}])["Images"]) == 1
    # Another account's instance is not found, as the API says.
    other = pages()
    sign_in(other, server.endpoint, bob, f"/console/ec2/instances/{instance_id}/create-image")
    assert other.get_by_role("alert").locator(".code").inner_text() == "InvalidInstanceID.NotFound"


def test_copy_with_encryption_and_key(server, pages, alice):
    ec2 = server.client(alice)
    image_id = register(ec2, "console-copy-source")
    ec2.create_tags(Resources=[image_id], Tags=[{"Key": "team", "Value": "blue"}])
    key = server.client(alice, "kms", region="eu-west-1").create_key(Description="copies")["KeyMetadata"]
    page = pages()
    sign_in(page, server.endpoint, alice)
    choose_action(page, server.endpoint, image_id, "Copy AMI")
    page.get_by_label("AMI copy name").fill("console-copy-encrypted")
    page.get_by_label("Destination Region").select_option("eu-west-1")
    page.get_by_label("Copy tags").check()
    page.get_by_label("Encrypt EBS snapshots of AMI copy").check()
    page.get_by_label("KMS key").fill("alias/does-not-exist")
    page.get_by_role("button", name="Copy AMI").click()
    assert page.get_by_role("alert").locator(".code").inner_text()  # the API refuses the key
    europe = server.client(alice, region="eu-west-1")
    assert europe.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": ["console-copy-encrypted"]}])[
        "Images"] == []
    page.get_by_label("KMS key").fill(key["Arn"])
    shot(page, "copy-ami")
    page.get_by_role("button", name="Copy AMI").click()
    copy_id = page.locator("#done a").inner_text()
    copied = europe.describe_images(ImageIds=[copy_id])["Images"][0]
    ebs = copied["BlockDeviceMappings"][0]["Ebs"]
    assert ebs["Encrypted"] is True
    snapshot = europe.describe_snapshots(SnapshotIds=[ebs["SnapshotId"]])["Snapshots"][0]
    assert snapshot["KmsKeyId"] == key["Arn"]
    assert {"Key": "team", "Value": "blue"} in copied.get("Tags", [])
    page.locator("#done a").click()
    assert "eu-west-1" in page.url and page.get_by_role("heading", name=re.compile(copy_id)).is_visible()


def test_deregistration_protection_and_deregister(server, pages, alice):
    ec2 = server.client(alice)
    image_id = register(ec2, "console-protected")
    snapshot_id = ec2.describe_images(ImageIds=[image_id])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    page = pages()
    sign_in(page, server.endpoint, alice)
    choose_action(page, server.endpoint, image_id, "Manage AMI deregistration protection")
    page.get_by_label("Enable", exact=True).check()
    page.get_by_label("Enable 24-hour cooldown period").check()
    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("status").is_visible()
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["DeregistrationProtection"] == "enabled-with-cooldown"

    choose_action(page, server.endpoint, image_id, "Deregister AMI")
    page.get_by_label("Delete associated snapshots").check()
    page.get_by_role("button", name="Deregister AMI").click()
    assert page.get_by_role("alert").locator(".code").inner_text() == "OperationNotPermitted"
    assert ec2.describe_images(ImageIds=[image_id])["Images"]

    # Disabled with the cooldown, it stays protected for 24 hours: still refused.
    choose_action(page, server.endpoint, image_id, "Manage AMI deregistration protection")
    page.get_by_label("Disable", exact=True).check()
    page.get_by_role("button", name="Save").click()
    state = ec2.describe_images(ImageIds=[image_id])["Images"][0]["DeregistrationProtection"]
    assert state.startswith("disabled-until ")
    page.goto(f"{server.endpoint}/console/ec2/amis/{image_id}")
    assert page.locator("#deregistration-protection").inner_text() == state

    # The reverse: another image protected through the API shows so; unprotected, it deregisters
    # with its snapshots deleted.
    other = register(ec2, "console-unprotected")
    other_snapshot = ec2.describe_images(ImageIds=[other])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    ec2.enable_image_deregistration_protection(ImageId=other)
    page.goto(f"{server.endpoint}/console/ec2/amis/{other}")
    assert page.locator("#deregistration-protection").inner_text() == "enabled-without-cooldown"
    ec2.disable_image_deregistration_protection(ImageId=other)
    choose_action(page, server.endpoint, other, "Deregister AMI")
    page.get_by_label("Delete associated snapshots").check()
    page.get_by_role("button", name="Deregister AMI").click()
    assert "Its snapshots were deleted." in page.locator("#done").inner_text()
    assert ec2.describe_images(Owners=["self"], Filters=[{"Name": "image-id", "Values": [other]}])["Images"] == []
    remaining = {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    assert other_snapshot not in remaining and snapshot_id in remaining

    # Snapshots → Delete snapshot: refused while an AMI uses it, as the API says.
    page.goto(f"{server.endpoint}/console/ec2/snapshots")
    page.get_by_role("link", name=f"Delete snapshot {snapshot_id}").click()
    page.get_by_role("button", name="Delete").click()
    assert page.get_by_role("alert").locator(".code").inner_text() == "InvalidSnapshot.InUse"
    assert snapshot_id in {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    spare = ec2.create_snapshot(VolumeId=ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"])
    page.goto(f"{server.endpoint}/console/ec2/snapshots")
    page.get_by_role("link", name=f"Delete snapshot {spare['SnapshotId']}").click()
    page.get_by_role("button", name="Delete").click()
    assert page.get_by_role("status").inner_text() == f"Successfully deleted snapshot {spare['SnapshotId']}."
    assert spare["SnapshotId"] not in {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
