"""The console's AWS accounts view (Organizations): finding an OU's ARN and sharing an AMI with
it, as the management account, a member and an account outside any organization."""

from test_console import browser, open_edit_permissions, pages, shot, sign_in  # noqa: F401  (fixtures)
from test_images import register


def test_find_an_ou_arn_and_share_with_it(server, pages, amishare):
    org = amishare.organization()
    management = org.management
    engineering = org.create_ou("Engineering")
    platform = org.create_ou("Platform", engineering["Id"])
    member = org.add_account(parent_id=platform["Id"])
    outsider = amishare.account()
    owner = server.client(management)
    image_id = register(owner, "console-org-image")

    page = pages()
    sign_in(page, server.endpoint, management)
    page.get_by_role("link", name="AWS accounts").click()
    assert page.locator("#organization-arn").inner_text() == org.arn
    assert engineering["Arn"] in page.locator("#units").inner_text()
    assert management.account_id in page.locator("#accounts").inner_text()
    page.get_by_role("link", name="Engineering").click()
    assert platform["Arn"] in page.locator("#units").inner_text()
    page.get_by_role("link", name="Platform").click()
    assert page.locator("#parent-arn").inner_text() == platform["Arn"]
    assert member.account_id in page.locator("#accounts").inner_text()
    crumbs = page.get_by_role("navigation", name="Organizational structure").get_by_role("listitem")
    assert [c.strip("/ \n") for c in crumbs.all_inner_texts()] == ["Root", "Engineering", "Platform"]
    shot(page, "organizations")

    # The ARN found there is what Edit AMI permissions takes; the member can then launch the AMI.
    open_edit_permissions(page, server.endpoint, image_id)
    page.get_by_text("Add organization/OU ARN").click()
    page.get_by_label("Organization/OU ARN").fill(platform["Arn"])
    page.locator("#shared-orgs").get_by_role("button", name="Share AMI").click()
    page.get_by_role("button", name="Save changes").click()
    assert platform["Arn"] in page.locator("#shared-orgs").inner_text()
    assert owner.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"] == \
        [{"OrganizationalUnitArn": platform["Arn"]}]
    shared = server.client(member).describe_images(ExecutableUsers=["self"])["Images"]
    assert image_id in {i["ImageId"] for i in shared}

    # A member sees its organization, and the API's refusal for the structure.
    theirs = pages()
    sign_in(theirs, server.endpoint, member, "/console/organizations")
    assert theirs.locator("#organization-arn").inner_text() == org.arn
    assert theirs.get_by_role("alert").locator(".code").inner_text() == "AccessDeniedException"
    assert platform["Arn"] not in theirs.content()
    # An account in no organization: the API's answer, and nothing else.
    outside = pages()
    sign_in(outside, server.endpoint, outsider, "/console/organizations")
    assert outside.get_by_role("alert").locator(".code").inner_text() == "AWSOrganizationsNotInUseException"
    assert outside.locator("#organization").count() == 0
    # A parent of another organization is the API's error, not another organization's data.
    other_org = amishare.organization()
    page.goto(f"{server.endpoint}/console/organizations?parent={other_org.root_id}")
    assert page.get_by_role("alert").locator(".code").inner_text() == "ParentNotFoundException"
    assert other_org.management.account_id not in page.locator("main").inner_text()
