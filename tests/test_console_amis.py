"""The console's AMIs list: the property filter (as DescribeImages filters) and pages both ways."""

import re

from test_console import browser, pages, shot, sign_in  # noqa: F401  (fixtures)
from test_images import register, snapshot_of_new_volume


def listed(page) -> list[str]:
    return re.findall(r"ami-[0-9a-f]{8,}", page.locator("#images tbody").inner_text())


def add_filter(page, prop: str, value: str) -> None:
    page.get_by_label("Property", exact=True).select_option(label=prop)
    page.get_by_label("Value", exact=True).fill(value)
    page.get_by_role("button", name="Add filter").click()


def test_filter_by_property(server, pages, alice, bob):
    owner, other = server.client(alice), server.client(bob)
    snapshot = snapshot_of_new_volume(owner)
    x86 = register(owner, "console-prop-x86", snapshot)
    arm = owner.register_image(Name="console-prop-arm", RootDeviceName="/dev/xvda", Architecture="arm64",
                               BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot}}],
                               VirtualizationType="hvm")["ImageId"]
    owner.create_tags(Resources=[arm], Tags=[{"Key": "Team", "Value": "blue"}])
    theirs = register(other, "console-prop-theirs")
    other.modify_image_attribute(ImageId=theirs, LaunchPermission={"Add": [{"UserId": alice.account_id}]})

    page = pages()
    sign_in(page, server.endpoint, alice, "/console/ec2/amis?filter=owned&name=console-prop")
    assert set(listed(page)) == {x86, arm}
    add_filter(page, "Architecture", "arm64")
    assert listed(page) == [arm]
    assert "Architecture = arm64" in page.locator("#filters").inner_text()
    # Filters add up (AND), like DescribeImages filters; the API agrees.
    add_filter(page, "Tag (key=value)", "Team=blue")
    assert listed(page) == [arm]
    api = owner.describe_images(Owners=["self"], Filters=[{"Name": "architecture", "Values": ["arm64"]},
                                                          {"Name": "tag:Team", "Values": ["blue"]}])["Images"]
    assert [i["ImageId"] for i in api] == [arm]
    shot(page, "amis-property-filter")
    page.get_by_role("link", name="Remove filter Architecture = arm64").click()
    assert listed(page) == [arm]
    page.get_by_role("link", name="Remove filter Tag (key=value) = Team=blue").click()
    assert set(listed(page)) == {x86, arm}
    add_filter(page, "AMI ID", x86)
    assert listed(page) == [x86]

    # Owner: another account's image only through what DescribeImages lets alice see.
    page.goto(f"{server.endpoint}/console/ec2/amis?filter=shared")
    add_filter(page, "Owner", bob.account_id)
    assert listed(page) == [theirs]
    other.modify_image_attribute(ImageId=theirs, LaunchPermission={"Remove": [{"UserId": alice.account_id}]})
    page.reload()
    assert listed(page) == []
    page.goto(f"{server.endpoint}/console/ec2/amis?filter=public")
    add_filter(page, "Owner", bob.account_id)
    assert listed(page) == []
    # A malformed value is the API's refusal, shown inline.
    add_filter(page, "Owner", "not-an-owner")
    assert page.get_by_role("alert").locator(".code").inner_text() == "InvalidUserID.Malformed"
    # Visibility, as the console words it.
    page.goto(f"{server.endpoint}/console/ec2/amis?filter=owned&name=console-prop")
    add_filter(page, "Visibility", "Private")
    assert set(listed(page)) == {x86, arm}
    add_filter(page, "Visibility", "Public")  # Public or Private: both
    assert set(listed(page)) == {x86, arm}
    # "Disabled images": what DisableImage set aside, still the owner's to see.
    owner.disable_image(ImageId=arm)
    page.get_by_label("Owned by").select_option(label="Disabled images")
    page.get_by_role("button", name="Search").click()
    assert listed(page) == [arm]


def test_pages_forward_and_back(server, pages, alice):
    ec2 = server.client(alice)
    snapshot = snapshot_of_new_volume(ec2)
    ids = sorted(register(ec2, f"console-pages-{n:03d}", snapshot) for n in range(112))
    page = pages()
    sign_in(page, server.endpoint, alice, "/console/ec2/amis?filter=owned&name=console-pages")
    first = listed(page)
    assert len(first) == 50 and page.get_by_role("link", name="Previous page").count() == 0
    page.get_by_role("link", name="Next page").click()
    second = listed(page)
    page.get_by_role("link", name="Next page").click()
    third = listed(page)
    assert len(second) == 50 and len(third) == 12
    assert sorted(first + second + third) == ids
    assert page.get_by_role("link", name="Next page").count() == 0
    page.get_by_role("link", name="Previous page").click()
    assert listed(page) == second
    page.get_by_role("link", name="Previous page").click()
    assert listed(page) == first
    assert page.get_by_role("link", name="Previous page").count() == 0
    # Pages keep the search: the Region selector keeps it too, and starts over at the first page.
    page.get_by_role("link", name="Next page").click()
    page.get_by_label("Region").select_option("eu-west-1")
    page.get_by_role("button", name="Switch").click()
    assert "name=console-pages" in page.url and "next_token" not in page.url
    assert listed(page) == []
