"""Declarative policies for EC2 through the real Organizations and EC2 APIs (boto3 and the aws
CLI): the policy language and its inheritance operators, the effective policy down the OU
tree, and what an enforced attribute does to the accounts it governs, read live."""

import json

import pytest
from botocore.exceptions import ClientError

from test_images import amazon_image, register, snapshot_of_new_volume
from test_organizations import Tree, join

DECL = "DECLARATIVE_POLICY_EC2"
MESSAGE = "Image settings are set by the platform team: see the wiki."


def refused(call):
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response["Error"]["Code"], exc.value.response["Error"].get("Message", "")


def code_of(call):
    return refused(call)[0]


def doc(**attributes):
    return json.dumps({"ec2_attributes": attributes})


def assign(value):
    return {"@@assign": value}


GUARDRAILS = doc(
    exception_message=assign(MESSAGE),
    image_block_public_access={"state": assign("block_new_sharing")},
    snapshot_block_public_access={"state": assign("block_new_sharing")},
    allowed_images_settings={"state": assign("enabled"),
                             "image_criteria": {"criteria_1": {"allowed_image_providers": assign(["amazon"])}}},
)


def create(orgs, name, content):
    return orgs.create_policy(Content=content, Description=name, Name=name, Type=DECL)["Policy"]["PolicySummary"]["Id"]


def decl_tree(server, mgmt, *members):
    tree = Tree(server, mgmt)
    for member in members:
        join(server, tree.orgs, member)
    tree.orgs.enable_policy_type(RootId=tree.root, PolicyType=DECL)
    return tree


def effective(orgs, target=None):
    kwargs = {"TargetId": target} if target else {}
    found = orgs.describe_effective_policy(PolicyType=DECL, **kwargs)["EffectivePolicy"]
    return json.loads(found["PolicyContent"])


def ids_of(orgs, **kwargs):
    return sorted(p["Id"] for p in orgs.list_policies(Filter=DECL, **kwargs)["Policies"])


def test_policy_api_and_validation(server):
    mgmt, member = server.new_account(), server.new_account()
    tree = Tree(server, mgmt)
    orgs = tree.orgs
    join(server, orgs, member)
    policy_id = create(orgs, "guardrails", GUARDRAILS)
    summary = orgs.describe_policy(PolicyId=policy_id)["Policy"]["PolicySummary"]
    assert summary["Type"] == DECL and summary["AwsManaged"] is False
    assert summary["Arn"] == f"arn:aws:organizations::{mgmt.account_id}:policy/{tree.org['Id']}/declarative_policy_ec2/{policy_id}"
    assert ids_of(orgs) == [policy_id]  # no AWS managed declarative policy
    assert orgs.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"][0]["Id"] == "p-FullAWSAccess"
    # Nothing is attached until the type is enabled in the root.
    assert code_of(lambda: orgs.attach_policy(PolicyId=policy_id, TargetId=tree.root)) == "PolicyTypeNotEnabledException"
    root = orgs.enable_policy_type(RootId=tree.root, PolicyType=DECL)["Root"]
    assert root["PolicyTypes"] == [{"Type": DECL, "Status": "ENABLED"}]
    assert code_of(lambda: orgs.enable_policy_type(RootId=tree.root, PolicyType=DECL)) == "PolicyTypeAlreadyEnabledException"
    assert orgs.list_policies_for_target(TargetId=tree.root, Filter=DECL)["Policies"] == []

    malformed = [
        "not json", json.dumps(["ec2_attributes"]), json.dumps({"s3_attributes": {}}),
        doc(image_block_public_access={"state": assign("blocked")}),
        doc(image_block_public_access={"state": "block_new_sharing"}),  # a setting takes operators
        doc(image_block_public_access={"state": {"@@append": ["block_new_sharing"]}}),  # lists only
        doc(image_block_public_access={"mode": assign("unblocked")}),
        doc(image_block_public_access={"state": assign("unblocked"), "@@enforced_for": ["ec2:image"]}),
        doc(image_block_public_access={"state": assign("unblocked"), "@@operators_allowed_for_child_policies": ["@@none", "@@assign"]}),
        doc(allowed_images_settings={"image_criteria": {"criteria_11": {"image_names": assign(["a"])}}}),
        doc(allowed_images_settings={"image_criteria": {"criteria_1": {"allowed_image_providers": assign(["aws-marketplace"])}}}),
        doc(allowed_images_settings={"state": assign("audit-mode")}),
        doc(ebs_encryption_by_default={"state": assign("enabled")}),
        '{"ec2_attributes": {}, "ec2_attributes": {}}',
    ]
    for content in malformed:
        assert code_of(lambda: orgs.create_policy(Content=content, Description="", Name="bad", Type=DECL)) == \
            "MalformedPolicyDocumentException", content
    too_big = doc(exception_message=assign("x" * 1000), instance_metadata_defaults={}) + " " * 10000
    assert code_of(lambda: orgs.create_policy(Content=too_big, Description="", Name="big", Type=DECL)) == \
        "ConstraintViolationException"
    assert ids_of(orgs) == [policy_id]
    # The attributes amishare has no resources for are accepted as AWS validates them.
    others = create(orgs, "others", doc(
        serial_console_access={"status": assign("disabled")},
        instance_metadata_defaults={"http_tokens": assign("required"), "http_put_response_hop_limit": assign("2")},
        vpc_block_public_access={"internet_gateway_block": {"mode": assign("block_ingress"),
                                                            "exclusions_allowed": assign("enabled")}}))
    assert code_of(lambda: create(orgs, "others", GUARDRAILS)) == "DuplicatePolicyException"
    assert code_of(lambda: orgs.update_policy(PolicyId=policy_id, Content=malformed[3])) == "MalformedPolicyDocumentException"
    assert orgs.describe_policy(PolicyId=policy_id)["Policy"]["Content"] == GUARDRAILS

    # Attachments: up to ten per target, none required.
    orgs.attach_policy(PolicyId=policy_id, TargetId=tree.ou["Eng"]["Id"])
    assert code_of(lambda: orgs.attach_policy(PolicyId=policy_id, TargetId=tree.ou["Eng"]["Id"])) == \
        "DuplicatePolicyAttachmentException"
    extra = [create(orgs, f"extra-{n}", doc(serial_console_access={"status": assign("enabled")})) for n in range(9)]
    for extra_id in extra:
        orgs.attach_policy(PolicyId=extra_id, TargetId=member.account_id)
    orgs.attach_policy(PolicyId=others, TargetId=member.account_id)
    with pytest.raises(ClientError) as exc:
        orgs.attach_policy(PolicyId=policy_id, TargetId=member.account_id)
    assert exc.value.response["Error"]["Code"] == "ConstraintViolationException"
    assert exc.value.response["Reason"] == "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"
    assert len(orgs.list_policies_for_target(TargetId=member.account_id, Filter=DECL)["Policies"]) == 10
    assert orgs.list_policies_for_target(TargetId=member.account_id, Filter="SERVICE_CONTROL_POLICY")["Policies"] == []
    for extra_id in [*extra, others]:
        orgs.detach_policy(PolicyId=extra_id, TargetId=member.account_id)
    assert orgs.list_policies_for_target(TargetId=member.account_id, Filter=DECL)["Policies"] == []
    assert [t["TargetId"] for t in orgs.list_targets_for_policy(PolicyId=policy_id)["Targets"]] == [tree.ou["Eng"]["Id"]]
    assert code_of(lambda: orgs.delete_policy(PolicyId=policy_id)) == "PolicyInUseException"
    # Only the management account manages policies.
    theirs = server.client(member, "organizations")
    assert code_of(lambda: theirs.create_policy(Content=GUARDRAILS, Description="", Name="x", Type=DECL)) == \
        "AccessDeniedException"
    assert code_of(lambda: theirs.detach_policy(PolicyId=policy_id, TargetId=tree.ou["Eng"]["Id"])) == \
        "AccessDeniedException"
    # Disabling the type detaches every declarative policy; the policies stay.
    assert orgs.disable_policy_type(RootId=tree.root, PolicyType=DECL)["Root"]["PolicyTypes"] == []
    assert orgs.list_targets_for_policy(PolicyId=policy_id)["Targets"] == []
    orgs.delete_policy(PolicyId=policy_id)
    assert policy_id not in ids_of(orgs)


def test_inheritance_operators_and_effective_policy(server):
    mgmt, member, other = server.new_account(), server.new_account(), server.new_account()
    tree = decl_tree(server, mgmt)
    orgs = tree.orgs
    tree.place(server, member, "Platform")
    tree.place(server, other, "Sales")
    provider = "111122223333"
    root_policy = create(orgs, "root", doc(allowed_images_settings={
        "state": {"@@assign": "enabled", "@@operators_allowed_for_child_policies": ["@@none"]},
        "image_criteria": {"criteria_1": {"allowed_image_providers": {
            "@@assign": ["amazon", "aws_marketplace"], "@@operators_allowed_for_child_policies": ["@@append"]}}}}))
    eng_policy = create(orgs, "eng", doc(allowed_images_settings={
        "state": assign("audit_mode"),  # the root allows no operator on state: ignored
        "image_criteria": {"criteria_1": {"allowed_image_providers": {
            "@@append": [provider], "@@remove": ["amazon"]}}}},  # only @@append is allowed below the root
        image_block_public_access={"state": assign("unblocked")}))
    platform_policy = create(orgs, "platform", doc(image_block_public_access={"state": assign("block_new_sharing")}))
    account_policy = create(orgs, "member", doc(allowed_images_settings={"image_criteria": {
        "criteria_2": {"image_names": assign(["web-*"]),
                       "creation_date_condition": {"maximum_days_since_created": assign(30)}},
        "criteria_1": {"allowed_image_providers": {"@@remove": ["aws_marketplace"]}}}}))
    orgs.attach_policy(PolicyId=root_policy, TargetId=tree.root)
    orgs.attach_policy(PolicyId=eng_policy, TargetId=tree.ou["Eng"]["Id"])
    orgs.attach_policy(PolicyId=platform_policy, TargetId=tree.ou["Platform"]["Id"])
    orgs.attach_policy(PolicyId=account_policy, TargetId=member.account_id)

    expected = {"ec2_attributes": {
        "allowed_images_settings": {"state": "enabled", "image_criteria": {
            "criteria_1": {"allowed_image_providers": ["amazon", "aws_marketplace", provider]},
            "criteria_2": {"image_names": ["web-*"], "creation_date_condition": {"maximum_days_since_created": 30}}}},
        "image_block_public_access": {"state": "block_new_sharing"}}}
    # The account asks for itself; the management account for any account.
    assert effective(server.client(member, "organizations")) == expected
    assert effective(orgs, member.account_id) == expected
    found = orgs.describe_effective_policy(PolicyType=DECL, TargetId=member.account_id)["EffectivePolicy"]
    assert (found["TargetId"], found["PolicyType"]) == (member.account_id, DECL)
    # Editing a policy on the path moves the effective policy's LastUpdatedTimestamp.
    orgs.update_policy(PolicyId=platform_policy, Content=doc(image_block_public_access={"state": assign("unblocked")}))
    edited = orgs.describe_effective_policy(PolicyType=DECL, TargetId=member.account_id)["EffectivePolicy"]
    assert edited["LastUpdatedTimestamp"] > found["LastUpdatedTimestamp"]
    assert json.loads(edited["PolicyContent"])["ec2_attributes"]["image_block_public_access"] == {"state": "unblocked"}
    orgs.update_policy(PolicyId=platform_policy, Content=doc(image_block_public_access={"state": assign("block_new_sharing")}))
    assert effective(orgs, other.account_id) == {"ec2_attributes": {"allowed_images_settings": {
        "state": "enabled", "image_criteria": {"criteria_1": {"allowed_image_providers": ["amazon", "aws_marketplace"]}}}}}
    # What EC2 answers is the effective policy, in the API's names.
    settings = server.client(member).get_allowed_images_settings()
    assert settings["State"] == "enabled" and settings["ManagedBy"] == "declarative-policy"
    assert settings["ImageCriteria"] == [
        {"ImageProviders": ["amazon", "aws-marketplace", provider]},
        {"ImageNames": ["web-*"], "CreationDateCondition": {"MaximumDaysSinceCreated": 30}}]

    theirs = server.client(member, "organizations")
    assert code_of(lambda: theirs.describe_effective_policy(PolicyType=DECL, TargetId=other.account_id)) == \
        "AccessDeniedException"
    code, _ = refused(lambda: orgs.describe_effective_policy(PolicyType=DECL, TargetId=tree.ou["Eng"]["Id"]))
    assert code == "InvalidInputException"
    assert code_of(lambda: orgs.describe_effective_policy(PolicyType=DECL, TargetId="999999999999")) == \
        "TargetNotFoundException"
    assert code_of(lambda: orgs.describe_effective_policy(PolicyType="TAG_POLICY", TargetId=member.account_id)) == \
        "EffectivePolicyNotFoundException"
    orgs.detach_policy(PolicyId=root_policy, TargetId=tree.root)
    assert code_of(lambda: orgs.describe_effective_policy(PolicyType=DECL, TargetId=other.account_id)) == \
        "EffectivePolicyNotFoundException"
    outsider = server.new_account()
    assert code_of(lambda: server.client(outsider, "organizations").describe_effective_policy(PolicyType=DECL)) == \
        "AWSOrganizationsNotInUseException"


def _public_launch_permission(ec2, image_id):
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}]})


def test_enforced_attributes_override_the_account_and_follow_it_live(server):
    mgmt, member, provider = server.new_account(), server.new_account(), server.new_account()
    tree = decl_tree(server, mgmt)
    orgs = tree.orgs
    tree.place(server, member, "Apps")
    ec2, west = server.client(member), server.client(member, region="us-west-2")
    # The account's own settings before any policy.
    ec2.disable_image_block_public_access()
    shared = register(server.client(provider), "provider-image")
    server.client(provider).modify_image_attribute(ImageId=shared, LaunchPermission={"Add": [{"UserId": member.account_id}]})
    own_image = register(ec2, "own-image")
    own_snapshot = snapshot_of_new_volume(ec2)

    policy_id = create(orgs, "guardrails", GUARDRAILS)
    orgs.attach_policy(PolicyId=policy_id, TargetId=tree.ou["Eng"]["Id"])  # Apps is under Eng

    for client in (ec2, west):  # a declarative policy applies in every Region
        state = client.get_image_block_public_access_state()
        assert (state["ImageBlockPublicAccessState"], state["ManagedBy"]) == ("block-new-sharing", "declarative-policy")
        state = client.get_snapshot_block_public_access_state()
        assert (state["State"], state["ManagedBy"]) == ("block-new-sharing", "declarative-policy")
        allowed = client.get_allowed_images_settings()
        assert (allowed["State"], allowed["ImageCriteria"], allowed["ManagedBy"]) == \
            ("enabled", [{"ImageProviders": ["amazon"]}], "declarative-policy")

    # The account can't change what the policy decides: refused with the policy's message, nothing changes.
    for call in (ec2.disable_image_block_public_access,
                 lambda: ec2.enable_image_block_public_access(ImageBlockPublicAccessState="block-new-sharing"),
                 ec2.disable_snapshot_block_public_access,
                 lambda: ec2.enable_snapshot_block_public_access(State="block-all-sharing"),
                 ec2.disable_allowed_images_settings,
                 lambda: ec2.enable_allowed_images_settings(AllowedImagesSettingsState="audit-mode"),
                 lambda: ec2.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[{"ImageProviders": ["amazon"]}]),
                 lambda: _public_launch_permission(ec2, own_image),
                 lambda: ec2.modify_snapshot_attribute(SnapshotId=own_snapshot, Attribute="createVolumePermission",
                                                       CreateVolumePermission={"Add": [{"Group": "all"}]})):
        assert refused(call) == ("OperationNotPermitted", MESSAGE)
    assert ec2.describe_image_attribute(ImageId=own_image, Attribute="launchPermission")["LaunchPermissions"] == []
    assert ec2.get_snapshot_block_public_access_state()["State"] == "block-new-sharing"

    # Allowed AMIs enforced: the provider's image is neither listed nor launchable; the account's own
    # images and Amazon's are.
    listed = {i["ImageId"] for i in ec2.describe_images(ExecutableUsers=["self"])["Images"]}
    assert shared not in listed
    assert code_of(lambda: ec2.describe_images(ImageIds=[shared])) == "InvalidAMIID.NotFound"
    assert code_of(lambda: ec2.run_instances(ImageId=shared, MinCount=1, MaxCount=1)) == "InvalidAMIID.NotFound"
    for image_id in (own_image, amazon_image(ec2)["ImageId"]):
        ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)

    # Moved out of Eng, the account's own settings apply again at once.
    tree.move(member, "Apps", "Sales")
    assert ec2.get_image_block_public_access_state()["ManagedBy"] == "account"
    assert ec2.get_image_block_public_access_state()["ImageBlockPublicAccessState"] == "unblocked"
    assert ec2.get_allowed_images_settings()["State"] == "disabled"
    assert ec2.get_snapshot_block_public_access_state()["ManagedBy"] == "account"
    assert shared in {i["ImageId"] for i in ec2.describe_images(ExecutableUsers=["self"])["Images"]}
    _public_launch_permission(ec2, own_image)
    # Moved back, the policy governs again; what is already public stays public (block-new-sharing).
    tree.move(member, "Sales", "Platform")
    assert ec2.get_image_block_public_access_state()["ManagedBy"] == "declarative-policy"
    assert ec2.describe_image_attribute(ImageId=own_image, Attribute="launchPermission")["LaunchPermissions"] == \
        [{"Group": "all"}]
    # Taking it private is always possible (and keeps other tests' listings of public images clean).
    ec2.modify_image_attribute(ImageId=own_image, LaunchPermission={"Remove": [{"Group": "all"}]})
    # Detached, the policy no longer decides.
    orgs.detach_policy(PolicyId=policy_id, TargetId=tree.ou["Eng"]["Id"])
    assert ec2.get_allowed_images_settings()["ManagedBy"] == "account"
    ec2.enable_allowed_images_settings(AllowedImagesSettingsState="audit-mode")
    assert ec2.get_allowed_images_settings()["State"] == "audit-mode"


def test_block_all_sharing_policy_hides_public_snapshots(server):
    mgmt, member, viewer = server.new_account(), server.new_account(), server.new_account()
    tree = decl_tree(server, mgmt)
    orgs = tree.orgs
    tree.place(server, member, "Apps")
    ec2, theirs = server.client(member), server.client(viewer)
    snapshot_id = snapshot_of_new_volume(ec2)
    ec2.modify_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission",
                                  CreateVolumePermission={"Add": [{"Group": "all"}]})

    def visible():
        found = theirs.describe_snapshots(OwnerIds=[member.account_id], RestorableByUserIds=["all"])["Snapshots"]
        return snapshot_id in {s["SnapshotId"] for s in found}

    assert visible()
    block_all = create(orgs, "block-all", doc(snapshot_block_public_access={"state": assign("block_all_sharing")}))
    orgs.attach_policy(PolicyId=block_all, TargetId=tree.ou["Sales"]["Id"])
    assert visible()  # attached elsewhere
    tree.move(member, "Apps", "Sales")
    assert not visible()
    assert code_of(lambda: theirs.describe_snapshots(SnapshotIds=[snapshot_id])) == "InvalidSnapshot.NotFound"
    # The owner still sees the permission, as with its own block-all-sharing.
    assert ec2.describe_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission")[
        "CreateVolumePermissions"] == [{"Group": "all"}]
    orgs.detach_policy(PolicyId=block_all, TargetId=tree.ou["Sales"]["Id"])
    assert visible()
    # Attached to the account itself, then edited to block-new-sharing: public again.
    orgs.attach_policy(PolicyId=block_all, TargetId=member.account_id)
    assert not visible()
    orgs.update_policy(PolicyId=block_all, Content=doc(snapshot_block_public_access={"state": assign("block_new_sharing")}))
    assert visible()
    orgs.update_policy(PolicyId=block_all, Content=doc(snapshot_block_public_access={"state": assign("block_all_sharing")}))
    assert not visible()
    # The account's own block-all-sharing, kept underneath, applies when the policy goes.
    orgs.detach_policy(PolicyId=block_all, TargetId=member.account_id)
    assert visible()
    orgs.attach_policy(PolicyId=block_all, TargetId=tree.root)
    assert not visible()
    orgs.remove_account_from_organization(AccountId=member.account_id)
    assert visible()
    ec2.reset_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission")
    assert not visible()


def test_management_account_is_governed_and_the_cli(server, tmp_path):
    """Unlike SCPs, declarative policies apply to the management account too."""
    mgmt = server.new_account()
    tree = decl_tree(server, mgmt)
    path = tmp_path / "policy.json"
    path.write_text(doc(image_block_public_access={"state": assign("block_new_sharing")}))
    _, created, _ = server.aws(mgmt, "organizations", "create-policy", "--type", DECL, "--name", "no-public-amis",
                               "--description", "Block public AMIs", "--content", f"file://{path}")
    policy_id = created["Policy"]["PolicySummary"]["Id"]
    server.aws(mgmt, "ec2", "disable-image-block-public-access")
    server.aws(mgmt, "organizations", "attach-policy", "--policy-id", policy_id, "--target-id", tree.root)
    _, state, _ = server.aws(mgmt, "ec2", "get-image-block-public-access-state")
    assert state == {"ImageBlockPublicAccessState": "block-new-sharing", "ManagedBy": "declarative-policy"}
    rc, _, err = server.aws(mgmt, "ec2", "disable-image-block-public-access", check=False)
    assert rc != 0 and "OperationNotPermitted" in err
    _, found, _ = server.aws(mgmt, "organizations", "describe-effective-policy", "--policy-type", DECL)
    assert json.loads(found["EffectivePolicy"]["PolicyContent"]) == \
        {"ec2_attributes": {"image_block_public_access": {"state": "block_new_sharing"}}}
    server.aws(mgmt, "organizations", "detach-policy", "--policy-id", policy_id, "--target-id", tree.root)
    _, state, _ = server.aws(mgmt, "ec2", "get-image-block-public-access-state")
    assert state == {"ImageBlockPublicAccessState": "unblocked", "ManagedBy": "account"}


def test_child_control_operators_bind_everything_below():
    """The inheritance rules themselves: a limit on an object binds its settings, at every level
    below it (a child can't widen it), and not the policies attached at the same level."""
    from amishare.domain.declarative_policies import effective_document, parse

    locked = json.loads(doc(image_block_public_access={"@@operators_allowed_for_child_policies": ["@@none"],
                                                       "state": assign("block_new_sharing")}))
    loosen = json.loads(doc(image_block_public_access={"@@operators_allowed_for_child_policies": ["@@all"],
                                                       "state": assign("unblocked")}))
    same_level = json.loads(doc(image_block_public_access={"state": assign("unblocked")}))
    state = lambda levels: effective_document(levels)["ec2_attributes"]["image_block_public_access"]["state"]  # noqa: E731
    assert state([[locked], [loosen], [same_level]]) == "block_new_sharing"
    assert state([[locked, same_level]]) == "unblocked"  # same level: applied in order, no limit between them
    assert state([[same_level], [locked]]) == "block_new_sharing"
    names = lambda *ops: json.loads(doc(allowed_images_settings={"image_criteria": {"criteria_1": {  # noqa: E731
        "image_names": dict(ops)}}}))
    top = json.loads(doc(allowed_images_settings={"@@operators_allowed_for_child_policies": ["@@append", "@@remove"],
                                                  "image_criteria": {"criteria_1": {"image_names": assign(["a", "b"])}}}))
    found = effective_document([[top], [names(("@@append", ["c"]), ("@@remove", ["a"]))],
                                [names(("@@assign", ["z"]))]])
    assert found["ec2_attributes"]["allowed_images_settings"]["image_criteria"]["criteria_1"]["image_names"] == ["b", "c"]
    # What the parser accepts is what the merge reads.
    assert parse(json.dumps(top)) == top
