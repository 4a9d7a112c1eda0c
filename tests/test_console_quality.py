"""What people expect of every console page: none without a session, every field labelled, usable
at 1280×800 and at phone width, and no other account's private data."""

import pytest

from test_console import browser, pages, shot, sign_in  # noqa: F401  (fixtures)
from test_images import register

UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name || e.id)"""
OVERFLOW = "document.documentElement.scrollWidth"


@pytest.fixture
def world(server, alice):
    ec2 = server.client(alice)
    image_id = register(ec2, "console-quality-image")
    instance_id = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    return image_id, instance_id


def page_paths(image_id, instance_id):
    amis = f"/console/ec2/amis/{image_id}"
    return [
        "/console/ec2/home", "/console/ec2/amis", "/console/ec2/amis?filter=public&q=architecture:x86_64",
        amis, amis + "?tab=permissions", amis + "?tab=storage", amis + "?tab=tags", amis + "?tab=activity",
        amis + "?tab=who-can-launch", amis + "/permissions",
        amis + "/launch", amis + "/copy", amis + "/deprecation", amis + "/protection", amis + "/disable",
        amis + "/deregister", "/console/ec2/ami-catalog", "/console/ec2/ami-catalog?tab=community",
        "/console/ec2/instances", f"/console/ec2/instances/{instance_id}",
        f"/console/ec2/instances/{instance_id}/create-image", "/console/ec2/snapshots",
        "/console/ec2/snapshots/snap-0123456789abcdef0/delete", "/console/ec2/settings/data-protection", "/console/ec2/settings/data-protection/block-public-access",
        "/console/organizations", "/console/password",
    ]


def test_no_page_without_a_session(server, pages, world):
    page = pages()
    for path in page_paths(*world):
        page.goto(server.endpoint + path)
        assert "/console/signin" in page.url, path
        assert "console-quality-image" not in page.content(), path
    for path in (f"/console/ec2/amis/{world[0]}/permissions", f"/console/ec2/instances/{world[1]}/create-image",
                 "/console/password"):
        answer = page.request.post(server.endpoint + path, form={"name": "x"}, max_redirects=0)
        assert answer.status == 303 and "/console/signin" in answer.headers["location"], path


@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)])
def test_every_page_is_labelled_and_fits(server, pages, alice, world, width, height):
    page = pages(width, height)
    sign_in(page, server.endpoint, alice)
    for path in page_paths(*world):
        page.goto(server.endpoint + path)
        assert page.get_by_role("heading", level=1).count() == 1, path
        assert page.evaluate(UNLABELLED) == [], path
        assert page.evaluate(OVERFLOW) <= width + 1, path
    if width < 500:
        for path, name in ((page_paths(*world)[1], "amis-phone"), ("/console/ec2/ami-catalog", "catalog-phone"),
                           (f"/console/ec2/amis/{world[0]}/permissions", "edit-permissions-phone"),
                           (f"/console/ec2/amis/{world[0]}?tab=activity", "ami-activity-phone")):
            page.goto(server.endpoint + path)
            shot(page, name)


def test_keyboard_reaches_the_actions(server, pages, alice, world):
    image_id, _ = world
    page = pages()
    sign_in(page, server.endpoint, alice, f"/console/ec2/amis/{image_id}")
    # The skip link comes first; Actions opens from the keyboard and its links follow it.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.locator("summary", has_text="Actions").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Launch instance from AMI"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Edit AMI permissions").wait_for()


def test_another_accounts_private_things_stay_private(server, pages, alice, bob, world):
    image_id, instance_id = world
    page = pages()
    sign_in(page, server.endpoint, bob)
    for path in (f"/console/ec2/amis/{image_id}", f"/console/ec2/amis/{image_id}/copy",
                 f"/console/ec2/instances/{instance_id}", f"/console/ec2/amis?filter=public&q=owner:{alice.account_id}",
                 "/console/ec2/snapshots", "/console/ec2/instances"):
        page.goto(server.endpoint + path)
        main = page.locator("main").inner_text()
        assert "console-quality-image" not in main, path
    # What bob asked for by id is the API's "not found", nothing of it shown.
    page.goto(f"{server.endpoint}/console/ec2/amis/{image_id}")
    assert page.get_by_role("alert").locator(".code").inner_text() == "InvalidAMIID.NotFound"
    page.goto(f"{server.endpoint}/console/ec2/instances/{instance_id}")
    assert page.get_by_role("alert").locator(".code").inner_text() == "InvalidInstanceID.NotFound"
    assert image_id not in page.locator("main").inner_text()
    page.goto(f"{server.endpoint}/console/ec2/instances")
    assert instance_id not in page.locator("main").inner_text()
