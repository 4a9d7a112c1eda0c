"""The web console (/console), driven with Playwright in Debian's chromium against a real
server, as two accounts; what the console does is checked through boto3, and the reverse."""

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from support import Server, server_env
from test_images import register

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("AMISHARE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"chromium is required in CI ({CHROMIUM}); scripts/test.sh installs it")
        pytest.skip(f"chromium not found at {CHROMIUM}")
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def pages(browser):
    """Open pages in fresh browser contexts (one cookie jar each); all closed after the test."""
    contexts = []

    def open_page(width=1280, height=800):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, endpoint: str, account, path: str = "/console/ec2/home") -> None:
    page.goto(endpoint + path)
    page.get_by_label("Access key ID").fill(account.access_key_id)
    page.get_by_label("Secret access key").fill(account.secret_access_key)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    assert "/console/signin" not in page.url


def open_edit_permissions(page, endpoint: str, image_id: str) -> None:
    page.goto(f"{endpoint}/console/ec2/amis/{image_id}?region=us-east-1")
    page.get_by_text("Actions", exact=True).click()
    page.get_by_role("link", name="Edit AMI permissions").click()
    page.get_by_role("heading", name="Edit AMI permissions").wait_for()


def launch_permissions(ec2, image_id: str) -> list[dict]:
    return ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]


def test_no_page_without_a_session(server, pages, alice):
    page = pages()
    for path in ("/console", "/console/ec2/home", "/console/ec2/amis?filter=public",
                 "/console/ec2/settings/data-protection"):
        page.goto(server.endpoint + path)
        assert "/console/signin" in page.url, path
        assert page.get_by_role("heading", name="Sign in").is_visible()
    # A wrong secret is refused; the right one signs in.
    page.get_by_label("Access key ID").fill(alice.access_key_id)
    page.get_by_label("Secret access key").fill(alice.secret_access_key + "x")
    page.get_by_role("button", name="Sign in", exact=True).click()
    assert page.get_by_role("alert").inner_text() == "The access key ID or secret access key is not valid."
    page.get_by_label("Access key ID").fill(alice.access_key_id)
    page.get_by_label("Secret access key").fill(alice.secret_access_key)
    page.get_by_role("button", name="Sign in", exact=True).click()
    assert page.locator("#account-id").inner_text() == alice.account_id
    assert page.locator("#principal-arn").inner_text() == f"arn:aws:iam::{alice.account_id}:root"
    cookie = next(c for c in page.context.cookies() if c["name"] == "amishare_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["expires"] > time.time()
    page.get_by_role("button", name="Sign out").click()
    page.goto(server.endpoint + "/console/ec2/amis")
    assert "/console/signin" in page.url


def test_share_with_an_account_through_the_console(server, pages, alice, bob, carol):
    owner, recipient = server.client(alice), server.client(bob)
    image_id = register(owner, "console-golden-image")
    other_id = register(owner, "console-other-image")

    page = pages()
    sign_in(page, server.endpoint, alice)
    # AMIs: Owned by me, search by name.
    page.get_by_role("link", name="AMIs", exact=True).first.click()
    table = page.locator("#images")
    assert image_id in table.inner_text() and other_id in table.inner_text()
    page.get_by_label("Search by AMI name").fill("golden")
    page.get_by_role("button", name="Search").click()
    assert image_id in table.inner_text() and other_id not in table.inner_text()
    shot(page, "amis-owned")

    # Edit AMI permissions: Add account ID, Share AMI, and the create-volume permission for its snapshot.
    open_edit_permissions(page, server.endpoint, image_id)
    page.get_by_text("Add account ID").click()
    page.get_by_label("AWS account ID").fill(bob.account_id)
    page.get_by_role("button", name="Share AMI").first.click()
    page.get_by_text('Add "create volume" permissions to the following associated snapshots').click()
    # Nothing is saved before "Save changes".
    assert launch_permissions(owner, image_id) == []
    shot(page, "edit-ami-permissions")
    page.get_by_role("button", name="Save changes").click()
    assert page.get_by_role("status").inner_text() == "AMI permissions saved."
    assert launch_permissions(owner, image_id) == [{"UserId": bob.account_id}]
    snapshot_id = owner.describe_images(ImageIds=[image_id])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    volume_permissions = owner.describe_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission")
    assert volume_permissions["CreateVolumePermissions"] == [{"UserId": bob.account_id}]
    assert bob.account_id in page.locator("#shared-accounts").inner_text()

    # The recipient sees it under "Shared with me", in their own console.
    theirs = pages()
    sign_in(theirs, server.endpoint, bob)
    theirs.goto(server.endpoint + "/console/ec2/amis")
    theirs.get_by_label("Owned by").select_option(label="Shared with me")
    theirs.get_by_role("button", name="Search").click()
    assert image_id in theirs.locator("#images").inner_text()
    assert other_id not in theirs.locator("#images").inner_text()
    # ... and cannot edit its permissions: the API's refusal, shown as it.
    theirs.goto(f"{server.endpoint}/console/ec2/amis/{image_id}?tab=permissions")
    assert "AuthFailure" in theirs.get_by_role("alert").inner_text() or \
        "InvalidAMIID" in theirs.get_by_role("alert").inner_text()

    # The reverse: what the API changes, the console shows; then the console removes it.
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": carol.account_id}]})
    open_edit_permissions(page, server.endpoint, image_id)
    accounts = page.locator("#shared-accounts")
    assert carol.account_id in accounts.inner_text() and bob.account_id in accounts.inner_text()
    page.get_by_label(bob.account_id).check()
    page.get_by_role("button", name="Remove selected").first.click()
    assert bob.account_id not in accounts.inner_text()
    page.get_by_role("button", name="Save changes").click()
    assert launch_permissions(owner, image_id) == [{"UserId": carol.account_id}]
    assert image_id not in {i["ImageId"] for i in recipient.describe_images(ExecutableUsers=["self"])["Images"]}
    theirs.goto(server.endpoint + "/console/ec2/amis?filter=shared")
    assert image_id not in theirs.locator("#images").inner_text()


def test_refusals_are_shown_inline_and_change_nothing(server, pages, alice, bob):
    owner = server.client(alice)
    image_id = register(owner, "console-refusals")
    owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    page = pages()
    sign_in(page, server.endpoint, alice)

    # Public while block public access is on (the AWS default): refused, and the account added with it is not saved.
    open_edit_permissions(page, server.endpoint, image_id)
    page.get_by_label("Public").check()
    page.get_by_text("Add account ID").click()
    page.get_by_label("AWS account ID").fill("111122223333")
    page.get_by_role("button", name="Share AMI").first.click()
    page.get_by_role("button", name="Save changes").click()
    alert = page.get_by_role("alert")
    code = alert.locator(".code").inner_text()
    try:
        owner.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}]})
        raise AssertionError("the API made the image public")
    except owner.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] == code
        assert exc.response["Error"]["Message"] == alert.locator(".message").inner_text()
    shot(page, "inline-error")
    assert launch_permissions(owner, image_id) == [{"UserId": bob.account_id}]

    # A malformed account id: the API's error, nothing changes.
    open_edit_permissions(page, server.endpoint, image_id)
    page.get_by_text("Add account ID").click()
    page.get_by_label("AWS account ID").fill("12345")
    page.get_by_label("AWS account ID").press("Enter")  # Enter adds what was typed
    assert "12345" in page.locator("#shared-accounts").inner_text()
    page.get_by_role("button", name="Save changes").click()
    assert page.get_by_role("alert").locator(".code").inner_text().startswith("Invalid")
    assert launch_permissions(owner, image_id) == [{"UserId": bob.account_id}]

    # An organization ARN given as a bare id is refused by the API, as the seed warns.
    open_edit_permissions(page, server.endpoint, image_id)
    page.get_by_text("Add organization/OU ARN").click()
    page.get_by_label("Organization/OU ARN").fill("o-123example")
    page.locator("#shared-orgs").get_by_role("button", name="Share AMI").click()
    page.get_by_role("button", name="Save changes").click()
    assert page.get_by_role("alert").locator(".code").inner_text()
    assert launch_permissions(owner, image_id) == [{"UserId": bob.account_id}]


def test_block_public_access_needs_confirm(server, pages, alice):
    ec2 = server.client(alice)
    image_id = register(ec2, "console-public")
    page = pages()
    sign_in(page, server.endpoint, alice)
    page.get_by_role("link", name="Data protection and security").first.click()
    section = page.locator("#block-public-access")
    assert "Block public access for AMIs" in section.inner_text()
    assert page.locator("#public-access").inner_text() == "New public sharing blocked"
    page.get_by_role("link", name="Manage").click()
    page.get_by_label("Block new public sharing").uncheck()
    page.get_by_role("button", name="Update").click()
    # The confirm step: anything but "confirm" changes nothing.
    page.get_by_label("To confirm, type confirm in the field.").fill("yes")
    page.get_by_role("button", name="Allow public sharing").click()
    assert page.get_by_role("alert").inner_text() == "Enter confirm to allow public sharing."
    assert ec2.get_image_block_public_access_state()["ImageBlockPublicAccessState"] == "block-new-sharing"
    page.get_by_label("To confirm, type confirm in the field.").fill("confirm")
    shot(page, "block-public-access-confirm")
    page.get_by_role("button", name="Allow public sharing").click()
    assert page.locator("#public-access").inner_text() == "New public sharing allowed"
    assert ec2.get_image_block_public_access_state()["ImageBlockPublicAccessState"] == "unblocked"

    # Now the image can be made public from the console.
    open_edit_permissions(page, server.endpoint, image_id)
    page.get_by_label("Public").check()
    page.get_by_role("button", name="Save changes").click()
    assert page.locator("#availability").inner_text() == "Public"
    assert launch_permissions(ec2, image_id) == [{"Group": "all"}]
    page.goto(server.endpoint + "/console/ec2/amis?filter=public&name=console-public")
    assert image_id in page.locator("#images").inner_text()
    page.goto(server.endpoint + "/console/ec2/amis?filter=private")
    assert image_id not in page.locator("#images").inner_text()

    # The reverse: the API turns it on again; the console shows it, and turning it on needs no confirm.
    ec2.enable_image_block_public_access(ImageBlockPublicAccessState="block-new-sharing")
    page.goto(server.endpoint + "/console/ec2/settings/data-protection")
    assert page.locator("#public-access").inner_text() == "New public sharing blocked"
    ec2.disable_image_block_public_access()
    page.goto(server.endpoint + "/console/ec2/settings/data-protection/block-public-access")
    page.get_by_label("Block new public sharing").check()
    page.get_by_role("button", name="Update").click()
    assert page.locator("#public-access").inner_text() == "New public sharing blocked"
    assert ec2.get_image_block_public_access_state()["ImageBlockPublicAccessState"] == "block-new-sharing"


def test_forms_without_the_session_csrf_token_are_refused(server, pages, alice, bob):
    owner = server.client(alice)
    image_id = register(owner, "console-csrf")
    page = pages()
    sign_in(page, server.endpoint, alice)
    form = {"availability": "private", "account": bob.account_id, "action": "save"}
    for token in (None, "forged"):
        data = dict(form, **({"csrf": token} if token else {}))
        response = page.request.post(f"{server.endpoint}/console/ec2/amis/{image_id}/permissions", form=data)
        assert response.status == 403
        assert "CSRF" in response.text()
    response = page.request.post(f"{server.endpoint}/console/ec2/settings/data-protection/block-public-access",
                                 form={"confirm_text": "confirm", "csrf": "forged"})
    assert response.status == 403
    assert launch_permissions(owner, image_id) == []
    assert owner.get_image_block_public_access_state()["ImageBlockPublicAccessState"] == "block-new-sharing"
    # The same form with the page's token goes through.
    token = re.search(r'name="csrf" value="([^"]+)"', page.content()).group(1)
    response = page.request.post(f"{server.endpoint}/console/ec2/amis/{image_id}/permissions",
                                 form=dict(form, csrf=token), max_redirects=0)
    assert response.status == 303
    assert launch_permissions(owner, image_id) == [{"UserId": bob.account_id}]


def test_region_selector_and_pagination(server, pages, alice):
    ec2 = server.client(alice)
    europe = server.client(alice, region="eu-west-1")
    here = register(ec2, "console-region-us")
    there = register(europe, "console-region-eu")
    page = pages()
    sign_in(page, server.endpoint, alice, "/console/ec2/amis?filter=owned&name=console-region")
    assert here in page.locator("#images").inner_text() and there not in page.locator("#images").inner_text()
    page.get_by_label("Region").select_option("eu-west-1")
    page.get_by_role("button", name="Switch").click()
    assert "region=eu-west-1" in page.url and "name=console-region" in page.url
    assert there in page.locator("#images").inner_text() and here not in page.locator("#images").inner_text()
    # Public images come page by page (DescribeImages' NextToken); the catalog fills more than one page
    # only at scale, so walk whatever pages there are and check that no image repeats.
    page.goto(server.endpoint + "/console/ec2/amis?filter=public&region=us-east-1")
    seen = []
    while True:
        seen += re.findall(r"ami-[0-9a-f]{8,}", page.locator("#images tbody").inner_text())
        next_link = page.get_by_role("link", name="Next page")
        if next_link.count() == 0:
            break
        next_link.click()
    assert seen and len(seen) == len(set(seen))


def test_phone_width_and_keyboard(server, pages, alice):
    image_id = register(server.client(alice), "console-phone")
    page = pages(390, 844)
    page.goto(server.endpoint + "/console/signin")
    # Keyboard only: tab into the fields, type, press Enter.
    page.get_by_label("Access key ID").focus()
    page.keyboard.type(alice.access_key_id)
    page.keyboard.press("Tab")
    page.keyboard.type(alice.secret_access_key)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/console/ec2/home.*"))
    page.goto(f"{server.endpoint}/console/ec2/amis/{image_id}?tab=details")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, width
    shot(page, "ami-details-phone")
    # Every input has a label.
    for path in (f"/console/ec2/amis/{image_id}/permissions", "/console/ec2/amis",
                 "/console/ec2/settings/data-protection/block-public-access"):
        page.goto(server.endpoint + path)
        unlabeled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select')]
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name)""")
        assert unlabeled == [], (path, unlabeled)


@pytest.fixture(scope="module")
def short_sessions(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("console-short-sessions")
    env = server_env(tmp)
    env["AMISHARE_CONSOLE_SESSION_SECONDS"] = "3"
    srv = Server(db_url=f"sqlite:///{tmp / 'amishare.db'}", env=env, log_path=tmp / "server.log").start()
    yield srv
    srv.stop()


def test_sessions_expire(short_sessions, pages):
    account = short_sessions.new_account()
    page = pages()
    sign_in(page, short_sessions.endpoint, account, "/console/ec2/amis")
    assert page.locator("#account-id").inner_text() == account.account_id
    time.sleep(3.5)
    page.goto(short_sessions.endpoint + "/console/ec2/amis")
    assert "/console/signin" in page.url
    # Signing in again returns to the page asked for.
    page.get_by_label("Access key ID").fill(account.access_key_id)
    page.get_by_label("Secret access key").fill(account.secret_access_key)
    page.get_by_role("button", name="Sign in", exact=True).click()
    assert re.search(r"/console/ec2/amis$", page.url.split("?")[0])


def test_login_profiles_and_password_sign_in(server, pages, alice):
    iam = server.client(alice, "iam")
    reader = server.new_user(alice, "console-reader", ["arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"])
    iam.create_user(UserName="console-nobody")
    image_id = register(server.client(alice), "console-password-image")

    # The IAM API: CreateLoginProfile, GetLoginProfile, UpdateLoginProfile, DeleteLoginProfile.
    with pytest.raises(iam.exceptions.ClientError) as short:
        iam.create_login_profile(UserName="console-reader", Password="short")
    assert short.value.response["Error"]["Code"] == "PasswordPolicyViolation"
    profile = iam.create_login_profile(UserName="console-reader", Password="correct horse 1", PasswordResetRequired=False)
    assert profile["LoginProfile"]["UserName"] == "console-reader"
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_login_profile(UserName="console-reader", Password="another one 2")
    assert iam.get_login_profile(UserName="console-reader")["LoginProfile"]["PasswordResetRequired"] is False
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_login_profile(UserName="console-nobody")
    iam.create_login_profile(UserName="console-nobody", Password="nobody's password")
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_user(UserName="console-nobody")

    # Signing in as the user; the wrong password, or the right one of another user, is refused.
    page = pages()
    page.goto(server.endpoint + "/console/signin")

    def password_sign_in(user, password):
        page.get_by_label("Account ID").fill(alice.account_id)
        page.get_by_label("IAM user name").fill(user)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in as IAM user").click()

    password_sign_in("console-reader", "nobody's password")
    assert page.get_by_role("alert").inner_text() == "The account ID, user name or password is not valid."
    password_sign_in("console-reader", "correct horse 1")
    assert page.locator("#principal-arn").inner_text() == reader.arn
    # The user's policies decide what the console shows: reading works, changing is refused by the API.
    page.goto(f"{server.endpoint}/console/ec2/amis?filter=owned")
    assert image_id in page.locator("#images").inner_text()
    open_edit_permissions(page, server.endpoint, image_id)
    page.get_by_text("Add account ID").click()
    page.get_by_label("AWS account ID").fill("111122223333")
    page.get_by_role("button", name="Share AMI").first.click()
    page.get_by_role("button", name="Save changes").click()
    assert page.get_by_role("alert").locator(".code").inner_text() == "UnauthorizedOperation"
    assert launch_permissions(server.client(alice), image_id) == []

    # A new password: the old one no longer signs in; deleting the profile ends the session.
    iam.update_login_profile(UserName="console-reader", Password="battery staple 2")
    other = pages()
    other.goto(server.endpoint + "/console/signin")
    other.get_by_label("Account ID").fill(alice.account_id)
    other.get_by_label("IAM user name").fill("console-reader")
    other.get_by_label("Password").fill("correct horse 1")
    other.get_by_role("button", name="Sign in as IAM user").click()
    assert "/console/signin" in other.url
    iam.delete_login_profile(UserName="console-reader")
    page.goto(server.endpoint + "/console/ec2/amis")
    assert "/console/signin" in page.url


def test_ami_actions_and_snapshots(server, pages, alice, bob):
    ec2, theirs = server.client(alice), server.client(bob)
    image_id = register(ec2, "console-actions")
    snapshot_id = ec2.describe_images(ImageIds=[image_id])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    page = pages()
    sign_in(page, server.endpoint, alice)

    def act(name: str):
        page.goto(f"{server.endpoint}/console/ec2/amis/{image_id}?region=us-east-1")
        page.get_by_text("Actions", exact=True).click()
        page.get_by_role("link", name=name).click()

    act("Launch instance from AMI")
    page.get_by_label("Instance type").select_option("t3.small")
    page.get_by_role("button", name="Launch instance").click()
    instance_id = re.search(r"i-[0-9a-f]+", page.locator("#done").inner_text()).group(0)
    instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert instance["ImageId"] == image_id and instance["InstanceType"] == "t3.small"

    act("Copy AMI")
    page.get_by_label("AMI copy name").fill("console-actions-copy")
    page.get_by_label("Destination Region").select_option("eu-west-1")
    page.get_by_role("button", name="Copy AMI").click()
    copy_id = page.locator("#done a").inner_text()
    copied = server.client(alice, region="eu-west-1").describe_images(ImageIds=[copy_id])["Images"][0]
    assert copied["Name"] == "console-actions-copy"

    act("Manage AMI deprecation")
    page.get_by_label("Enable").check()
    page.get_by_label("Deprecate on (UTC)").fill("2030-01-02T03:04")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("status").is_visible()
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["DeprecationTime"].startswith("2030-01-02T03:04")

    act("Disable AMI")
    page.get_by_role("button", name="Disable AMI").click()
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["State"] == "disabled"
    act("Re-enable AMI")
    page.get_by_role("button", name="Re-enable AMI").click()
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["State"] == "available"

    # Someone else's action is the API's refusal, inline.
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    other = pages()
    sign_in(other, server.endpoint, bob)
    other.goto(f"{server.endpoint}/console/ec2/amis/{image_id}/deregister")
    other.get_by_role("button", name="Deregister AMI").click()
    assert other.get_by_role("alert").locator(".code").inner_text()
    assert theirs.describe_images(ImageIds=[image_id])["Images"]

    act("Deregister AMI")
    page.get_by_role("button", name="Deregister AMI").click()
    assert ec2.describe_images(Owners=["self"], Filters=[{"Name": "image-id", "Values": [image_id]}])["Images"] == []
    # Its snapshot remains, in the Snapshots list.
    page.locator("#done").get_by_role("link", name="Snapshots").click()
    assert snapshot_id in page.locator("#snapshots").inner_text()
