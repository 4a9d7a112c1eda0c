"""The AMI page's "Activity" tab (the image's CloudTrail Event history) and "Who can launch" tab
(the access analysis), read as the signed-in principal: what the API answers, and its refusals
inline."""

import json

from botocore.exceptions import ClientError

from test_analysis import _client as amishare_client
from test_console import browser, pages, shot, sign_in  # noqa: F401  (fixtures shared with the console tests)
from test_images import register
from test_kms import encrypted_image, policy_with

READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"


def tab(endpoint: str, image_id: str, key: str) -> str:
    return f"{endpoint}/console/ec2/amis/{image_id}?region=us-east-1&tab={key}"


def rows(page, name: str):
    return page.locator(f'#event-history tbody.event[data-event-name="{name}"]')


def api_error(call) -> dict:
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]
    raise AssertionError("the call was not refused")


def test_activity_shows_the_images_trail_newest_first(server, pages, alice, bob):
    ec2 = server.client(alice)
    image_id = register(ec2, "audited-image")
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    reader = server.new_user(alice, "reader", [READ_ONLY])
    refusal = api_error(lambda: server.client(reader).modify_image_attribute(
        ImageId=image_id, Description={"Value": "not yours to change"}))
    assert refusal["Code"] == "UnauthorizedOperation"
    server.client(bob).run_instances(ImageId=image_id, InstanceType="t3.micro", MinCount=1, MaxCount=1)

    page = pages()
    sign_in(page, server.endpoint, alice, f"/console/ec2/amis/{image_id}?region=us-east-1")
    page.get_by_role("navigation", name="AMI details").get_by_role("link", name="Activity").click()
    page.get_by_role("heading", name="Event history").wait_for()
    headers = page.locator("#event-history thead th").all_inner_texts()
    assert headers == ["Event time", "User name", "Event name", "Event source", "Resource type", "Resource name",
                       "Error code"]
    names = page.locator("#event-history tbody td.event-name").all_inner_texts()
    # Newest first: bob's launch (the owner's copy), the refused change, the share, the registration.
    assert names[:4] == ["RunInstances", "ModifyImageAttribute", "ModifyImageAttribute", "RegisterImage"]

    refused, shared = rows(page, "ModifyImageAttribute").nth(0), rows(page, "ModifyImageAttribute").nth(1)
    assert "reader" in refused.inner_text()
    assert refused.locator("td.error-code").inner_text() == "Client.UnauthorizedOperation"
    assert "refused" in refused.get_attribute("class")
    assert shared.locator("td.error-code").inner_text() == "–"
    assert "root" in shared.inner_text() and "ec2.amazonaws.com" in shared.inner_text()
    assert "AWS::EC2::Image" in shared.inner_text() and image_id in shared.inner_text()
    # The CloudTrail record is there to read.
    shared.locator("summary").click()
    record = json.loads(shared.locator("pre").inner_text())
    assert record["eventName"] == "ModifyImageAttribute" and "errorCode" not in record
    assert record["requestParameters"]["launchPermission"] == {"add": {"items": [{"userId": bob.account_id}]}}
    # The other account's launch, as the owner's trail has it: who, not what they made.
    launch = rows(page, "RunInstances").first
    launch.locator("summary").click()
    launched = json.loads(launch.locator("pre").inner_text())
    assert launched["userIdentity"]["accountId"] == bob.account_id
    assert launched["recipientAccountId"] == alice.account_id
    assert launch.locator("td.user-name").inner_text() == f"account {bob.account_id}"
    refused.locator("summary").click()
    shot(page, "console-ami-activity")


def test_activity_pages_with_the_next_token(server, pages, alice):
    ec2 = server.client(alice)
    image_id = register(ec2, "busy-image")
    for n in range(26):  # one page is 25 events
        ec2.create_tags(Resources=[image_id], Tags=[{"Key": "n", "Value": str(n)}])
    page = pages()
    sign_in(page, server.endpoint, alice, f"/console/ec2/amis/{image_id}?region=us-east-1&tab=activity")
    first = page.locator("#event-history tbody.event").count()
    assert first == 25 and rows(page, "RegisterImage").count() == 0
    page.get_by_role("link", name="Older events").click()
    page.get_by_role("link", name="Newest events").wait_for()
    assert page.locator("#event-history tbody td.event-name").all_inner_texts() == ["CreateTags", "RegisterImage"]
    assert page.get_by_role("link", name="Older events").count() == 0


def test_who_can_launch_groups_and_broken_shares(server, pages, alice, bob, carol):
    ec2 = server.client(alice)
    image_id = register(ec2, "plain-share")
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    kms = server.client(alice, "kms")
    key = kms.create_key()["KeyMetadata"]
    admit_bob = {"Sid": "Bob", "Effect": "Allow", "Principal": {"AWS": bob.account_id},
                 "Action": ["kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey",
                            "kms:CreateGrant"], "Resource": "*"}
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy_with(alice.account_id, admit_bob))
    encrypted_id = encrypted_image(server, alice, "encrypted-share", key["Arn"])
    ec2.modify_image_attribute(ImageId=encrypted_id, LaunchPermission={"Add": [
        {"UserId": bob.account_id}, {"UserId": carol.account_id}]})

    page = pages()
    sign_in(page, server.endpoint, alice, f"/console/ec2/amis/{image_id}?region=us-east-1")
    page.get_by_role("navigation", name="AMI details").get_by_role("link", name="Who can launch").click()
    page.get_by_role("heading", name=f"account {bob.account_id}").wait_for()
    assert bob.account_id in page.locator(".launcher-group").inner_text()
    assert page.locator("#cannot-launch").count() == 0

    page.goto(tab(server.endpoint, encrypted_id, "who-can-launch"))
    broken = page.get_by_role("region", name="Granted but cannot launch")
    [row] = broken.locator("tbody tr").all()
    assert carol.account_id in row.inner_text() and "UnauthorizedOperation" in row.inner_text()
    assert "kms:DescribeKey" in row.inner_text()
    answer = amishare_client(server, alice).list_image_launchers(ImageId=encrypted_id)
    [api_broken] = answer["GrantedButCannotLaunch"]
    assert api_broken["AccountId"] == carol.account_id and api_broken["Reason"] in row.inner_text()
    assert page.get_by_role("heading", name=f"account {bob.account_id}").count() == 1
    carols = page.get_by_role("region", name=f"account {carol.account_id}")
    assert "No account in this group can launch" in carols.inner_text()
    shot(page, "console-ami-who-can-launch")

    # Explain, for the account the key policy doesn't admit: the KMS step is the one that denies.
    page.get_by_role("link", name=f"Explain access of account {carol.account_id}").click()
    explanation = page.get_by_role("region", name=f"Explanation for {carol.account_id}")
    explanation.wait_for()
    denied = explanation.locator("tr.refused").all_inner_texts()
    assert any("kms:DescribeKey" in text for text in denied), denied
    shot(page, "console-ami-explain")


def test_refusals_are_the_apis_words_inline(server, pages, alice, bob):
    ec2 = server.client(alice)
    image_id = register(ec2, "guarded-tabs")
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    reader = server.new_user(alice, "tab-reader", [READ_ONLY])
    trail_error = api_error(lambda: server.client(reader, "cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": image_id}]))
    analysis_error = api_error(lambda: amishare_client(server, reader).list_image_launchers(ImageId=image_id))

    page = pages()
    sign_in(page, server.endpoint, reader, f"/console/ec2/amis/{image_id}?region=us-east-1&tab=activity")
    alert = page.get_by_role("alert")
    assert alert.locator(".code").inner_text() == trail_error["Code"]
    assert alert.locator(".message").inner_text() == trail_error["Message"]
    assert page.locator("#event-history").count() == 0
    shot(page, "console-ami-activity-refused")

    page.goto(tab(server.endpoint, image_id, "who-can-launch"))
    alert = page.get_by_role("alert")
    assert alert.locator(".code").inner_text() == analysis_error["Code"]
    assert alert.locator(".message").inner_text() == analysis_error["Message"]
    assert page.locator(".launcher-group").count() == 0

    # Only the owner may ask who can launch: the account it is shared with is told so, inline.
    other = pages()
    sign_in(other, server.endpoint, bob, f"/console/ec2/amis/{image_id}?region=us-east-1&tab=who-can-launch")
    not_owner = api_error(lambda: amishare_client(server, bob).list_image_launchers(ImageId=image_id))
    assert other.get_by_role("alert").locator(".code").inner_text() == not_owner["Code"] == "AuthFailure"
