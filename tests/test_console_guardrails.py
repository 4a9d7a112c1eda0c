"""The console's Data protection and security page shows Allowed AMIs and block public access
for snapshots beside block public access for AMIs, with who manages each: the account, or a
declarative policy of its organization (read live, as the API answers)."""

import json

from test_console import browser, pages, shot, sign_in  # noqa: F401  (fixtures shared with the console tests)
from test_organizations import Tree, join

PAGE = "/console/ec2/settings/data-protection?region=us-east-1"


def text(page, element_id):
    return page.locator(f"#{element_id}").inner_text().strip()


def test_guardrail_settings_beside_block_public_access(server, pages, alice, bob):  # noqa: F811
    ec2 = server.client(alice)
    ec2.enable_snapshot_block_public_access(State="block-all-sharing")
    ec2.replace_image_criteria_in_allowed_images_settings(
        ImageCriteria=[{"ImageProviders": ["amazon", bob.account_id]}, {"ImageNames": ["web-*"]}])
    ec2.enable_allowed_images_settings(AllowedImagesSettingsState="audit-mode")
    page = pages()
    sign_in(page, server.endpoint, alice, PAGE)
    page.get_by_role("heading", name="Allowed AMIs").wait_for()
    assert text(page, "snapshot-public-access") == "All public sharing blocked"
    assert text(page, "snapshot-managed-by") == "Account"
    assert text(page, "allowed-amis-state") == "Audit mode"
    assert text(page, "allowed-amis-managed-by") == "Account"
    assert text(page, "image-bpa-managed-by") == "Account"
    rows = page.locator("#allowed-amis-criteria tbody tr")
    assert rows.count() == 2
    assert f"amazon, {bob.account_id}" in rows.nth(0).inner_text()
    assert "web-*" in rows.nth(1).inner_text()

    # A declarative policy of the organization takes over; the page shows it at the next load.
    tree = Tree(server, bob)
    join(server, tree.orgs, alice)
    tree.orgs.enable_policy_type(RootId=tree.root, PolicyType="DECLARATIVE_POLICY_EC2")
    content = {"ec2_attributes": {
        "snapshot_block_public_access": {"state": {"@@assign": "block_new_sharing"}},
        "image_block_public_access": {"state": {"@@assign": "block_new_sharing"}},
        "allowed_images_settings": {"state": {"@@assign": "enabled"},
                                    "image_criteria": {"criteria_1": {"allowed_image_providers": {"@@assign": ["amazon"]}}}}}}
    policy_id = tree.orgs.create_policy(Content=json.dumps(content), Description="", Name="guardrails",
                                        Type="DECLARATIVE_POLICY_EC2")["Policy"]["PolicySummary"]["Id"]
    tree.orgs.attach_policy(PolicyId=policy_id, TargetId=alice.account_id)
    page.reload()
    assert text(page, "public-access") == "New public sharing blocked"
    assert text(page, "image-bpa-managed-by") == "Declarative policy"
    assert text(page, "snapshot-public-access") == "New public sharing blocked"
    assert text(page, "snapshot-managed-by") == "Declarative policy"
    assert (text(page, "allowed-amis-state"), text(page, "allowed-amis-managed-by")) == ("Enabled", "Declarative policy")
    assert page.locator("#allowed-amis-criteria tbody tr").count() == 1
    shot(page, "console-guardrail-settings")
    # Detached: the account's own settings again.
    tree.orgs.detach_policy(PolicyId=policy_id, TargetId=alice.account_id)
    page.reload()
    assert text(page, "snapshot-public-access") == "All public sharing blocked"
    assert text(page, "allowed-amis-state") == "Audit mode"
    assert text(page, "allowed-amis-managed-by") == "Account"
