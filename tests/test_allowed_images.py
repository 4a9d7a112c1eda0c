"""Allowed AMIs: per account and Region settings, criteria, discovery and launch."""

import datetime as dt
import time

from test_images import error_code, register

AMAZON, MARKETPLACE = "137112412989", "679593333241"


def described(ec2, **kwargs):
    return {i["ImageId"]: i for i in ec2.describe_images(**kwargs)["Images"]}


def share(ec2, image_id, account):
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": account.account_id}]})


def test_settings_round_trip(server, alice, bob):
    ec2 = server.client(alice)
    got = ec2.get_allowed_images_settings()
    assert (got["State"], got.get("ImageCriteria", []), got["ManagedBy"]) == ("disabled", [], "account")
    assert ec2.enable_allowed_images_settings(AllowedImagesSettingsState="audit-mode")["AllowedImagesSettingsState"] == "audit-mode"
    criteria = [
        {"ImageProviders": ["amazon", bob.account_id]},
        {"ImageNames": ["golden-*", "web-??"], "CreationDateCondition": {"MaximumDaysSinceCreated": 30}},
        {"MarketplaceProductCodes": ["8fvb2dpwxzu4mvqp1jn4n8i7u"],
         "DeprecationTimeCondition": {"MaximumDaysSinceDeprecated": 0}},
    ]
    assert ec2.replace_image_criteria_in_allowed_images_settings(ImageCriteria=criteria)["ReturnValue"] is True
    got = ec2.get_allowed_images_settings()
    assert got["State"] == "audit-mode" and got["ImageCriteria"] == criteria
    # Other Regions and accounts are untouched.
    assert server.client(alice, region="us-west-2").get_allowed_images_settings()["State"] == "disabled"
    assert server.client(bob).get_allowed_images_settings()["State"] == "disabled"
    assert ec2.disable_allowed_images_settings()["AllowedImagesSettingsState"] == "disabled"
    assert ec2.get_allowed_images_settings()["ImageCriteria"] == criteria
    # The aws CLI.
    _, out, _ = server.aws(alice, "ec2", "enable-allowed-images-settings", "--allowed-images-settings-state", "enabled",
                           "--region", "us-east-1")
    assert out == {"AllowedImagesSettingsState": "enabled"}


def test_bad_criteria_change_nothing(server, alice):
    ec2 = server.client(alice)
    ec2.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[{"ImageProviders": ["amazon"]}])
    bad = [
        [{"ImageProviders": ["someone"]}],
        [{"ImageProviders": ["none", "amazon"]}],
        [{"ImageNames": ["bad|name"]}],
        [{"ImageNames": ["a?"]}],
        [{"MarketplaceProductCodes": ["not-a-code!"]}],
        [{"ImageProviders": ["amazon"]}] * 11,
        [{"ImageProviders": ["111111111111"] * 201}],
    ]
    for criteria in bad:
        assert error_code(lambda: ec2.replace_image_criteria_in_allowed_images_settings(ImageCriteria=criteria)) \
            == "InvalidParameterValue", criteria
    assert ec2.get_allowed_images_settings()["ImageCriteria"] == [{"ImageProviders": ["amazon"]}]
    assert error_code(lambda: ec2.enable_allowed_images_settings(AllowedImagesSettingsState="on")) == "InvalidParameterValue"
    assert ec2.get_allowed_images_settings()["State"] == "disabled"


def test_audit_mode_reports_and_enabled_enforces(server, alice, bob, carol):
    mine, theirs, stranger = server.client(alice), server.client(bob), server.client(carol)
    own = register(mine, "own-image")
    trusted = register(theirs, "golden-base")
    untrusted = register(server.client(carol), "random-image")
    share(theirs, trusted, alice)
    share(stranger, untrusted, alice)
    amazon = [i["ImageId"] for i in mine.describe_images(Owners=["amazon"])["Images"]]
    marketplace = [i["ImageId"] for i in mine.describe_images(Owners=["aws-marketplace"])["Images"]]

    # Disabled: no ImageAllowed, every image passes the filter.
    listed = described(mine)
    assert "ImageAllowed" not in listed[own]
    assert set(described(mine, Filters=[{"Name": "image-allowed", "Values": ["false"]}])) == set()

    mine.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[
        {"ImageProviders": ["amazon"]},
        {"ImageProviders": [bob.account_id], "ImageNames": ["golden-*"]},
    ])
    mine.enable_allowed_images_settings(AllowedImagesSettingsState="audit-mode")
    listed = described(mine)
    assert {own, trusted, untrusted} <= set(listed)
    assert listed[own]["ImageAllowed"] is True and listed[trusted]["ImageAllowed"] is True
    assert listed[untrusted]["ImageAllowed"] is False
    assert all(listed[i]["ImageAllowed"] for i in amazon)
    assert not any(listed[i]["ImageAllowed"] for i in marketplace)
    assert set(described(mine, Filters=[{"Name": "image-allowed", "Values": ["false"]}])) == {untrusted, *marketplace}
    assert untrusted not in described(mine, Filters=[{"Name": "image-allowed", "Values": ["true"]}])
    # Audit mode still launches anything.
    mine.run_instances(ImageId=untrusted, MinCount=1, MaxCount=1)
    # The settings are the caller's: bob sees no ImageAllowed.
    assert "ImageAllowed" not in described(theirs, ImageIds=[trusted])[trusted]

    mine.enable_allowed_images_settings(AllowedImagesSettingsState="enabled")
    listed = described(mine)
    assert {own, trusted, *amazon} <= set(listed)
    assert untrusted not in listed and not set(marketplace) & set(listed)
    assert all(i["ImageAllowed"] for i in listed.values())
    assert untrusted not in described(mine, ExecutableUsers=["self"])
    assert not described(mine, Owners=[carol.account_id])
    assert error_code(lambda: mine.describe_images(ImageIds=[untrusted])) == "InvalidAMIID.NotFound"
    assert error_code(lambda: mine.run_instances(ImageId=untrusted, MinCount=1, MaxCount=1)) == "InvalidAMIID.NotFound"
    assert error_code(lambda: mine.run_instances(ImageId=marketplace[0], MinCount=1, MaxCount=1)) == "InvalidAMIID.NotFound"
    mine.run_instances(ImageId=trusted, MinCount=1, MaxCount=1)
    mine.run_instances(ImageId=own, MinCount=1, MaxCount=1)
    mine.run_instances(ImageId=amazon[0], MinCount=1, MaxCount=1)
    # Others are unaffected.
    theirs_view = described(server.client(carol), ImageIds=[untrusted])
    assert untrusted in theirs_view

    # No criteria at all: only the account's own images.
    mine.replace_image_criteria_in_allowed_images_settings()
    assert set(described(mine)) == {own}
    assert error_code(lambda: mine.run_instances(ImageId=trusted, MinCount=1, MaxCount=1)) == "InvalidAMIID.NotFound"
    mine.disable_allowed_images_settings()
    assert {own, trusted, untrusted} <= set(described(mine))


def test_product_code_creation_and_deprecation_criteria(server, alice, bob):
    mine, theirs = server.client(alice), server.client(bob)
    fresh = register(theirs, "fresh")
    deprecated = register(theirs, "deprecated")
    share(theirs, fresh, alice)
    share(theirs, deprecated, alice)
    marketplace = [i["ImageId"] for i in mine.describe_images(Owners=["aws-marketplace"])["Images"]]
    mine.enable_allowed_images_settings(AllowedImagesSettingsState="enabled")
    mine.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[
        {"MarketplaceProductCodes": ["8fvb2dpwxzu4mvqp1jn4n8i7u"]},
    ])
    listed = described(mine)
    assert set(marketplace) <= set(listed) and fresh not in listed
    mine.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[
        {"ImageProviders": [bob.account_id], "CreationDateCondition": {"MaximumDaysSinceCreated": 1}},
    ])
    listed = described(mine)
    assert {fresh, deprecated} <= set(listed) and not set(marketplace) & set(listed)
    # Zero days: only images created from now on.
    mine.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[
        {"ImageProviders": [bob.account_id], "CreationDateCondition": {"MaximumDaysSinceCreated": 0}},
    ])
    assert not {fresh, deprecated} & set(described(mine))
    # Deprecation: not deprecated, or deprecated at most N days ago.
    mine.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[
        {"ImageProviders": [bob.account_id], "DeprecationTimeCondition": {"MaximumDaysSinceDeprecated": 0}},
    ])
    assert {fresh, deprecated} <= set(described(mine, IncludeDeprecated=True))
    # An image whose deprecation time is still ahead is not deprecated yet.
    theirs.enable_image_deprecation(ImageId=deprecated, DeprecateAt=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
    listed = described(mine, IncludeDeprecated=True)
    assert {fresh, deprecated} <= set(listed)
    mine.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[
        {"ImageProviders": [bob.account_id], "DeprecationTimeCondition": {"MaximumDaysSinceDeprecated": 1}},
    ])
    assert {fresh, deprecated} <= set(described(mine, IncludeDeprecated=True))


def test_deprecated_long_ago_is_not_allowed(server, alice, bob):
    from sqlalchemy import text

    from amishare.store.db import make_engine

    mine, theirs = server.client(alice), server.client(bob)
    recent, old = register(theirs, "deprecated-recently"), register(theirs, "deprecated-long-ago")
    for image_id in (recent, old):
        share(theirs, image_id, alice)
    # Deprecated 2 and 40 days ago (the stored deprecation times moved into the past).
    engine = make_engine(server.db_url)
    try:
        with engine.begin() as conn:
            for image_id, days in ((recent, 2), (old, 40)):
                conn.execute(text("UPDATE images SET deprecation_time = :t WHERE image_id = :i"),
                             {"t": time.time() - days * 86400, "i": image_id})
    finally:
        engine.dispose()
    mine.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[
        {"ImageProviders": [bob.account_id], "DeprecationTimeCondition": {"MaximumDaysSinceDeprecated": 30}}])
    mine.enable_allowed_images_settings(AllowedImagesSettingsState="audit-mode")
    listed = described(mine, IncludeDeprecated=True, Owners=[bob.account_id])
    assert listed[recent]["ImageAllowed"] is True and listed[old]["ImageAllowed"] is False
    assert set(described(mine, IncludeDeprecated=True, Filters=[{"Name": "image-allowed", "Values": ["false"]}])) >= {old}
    mine.enable_allowed_images_settings(AllowedImagesSettingsState="enabled")
    assert set(described(mine, IncludeDeprecated=True, Owners=[bob.account_id])) == {recent}
    assert error_code(lambda: mine.run_instances(ImageId=old, MinCount=1, MaxCount=1)) == "InvalidAMIID.NotFound"
    mine.run_instances(ImageId=recent, MinCount=1, MaxCount=1)


def test_instance_image_metadata_shows_what_describe_images_hides(server, alice, bob):
    """DescribeInstanceImageMetadata: the AMI an instance was launched from, even once Allowed AMIs
    hide it, it is no longer shared, or it is deregistered."""
    mine, provider = server.client(alice), server.client(bob)
    image_id = register(provider, "provider-web")
    provider.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": alice.account_id}]})
    instance_id = mine.run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                                     TagSpecifications=[{"ResourceType": "instance",
                                                         "Tags": [{"Key": "team", "Value": "web"}]}])["Instances"][0]["InstanceId"]
    amazon = mine.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    other = mine.run_instances(ImageId=amazon, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    mine.replace_image_criteria_in_allowed_images_settings(ImageCriteria=[{"ImageProviders": ["amazon"]}])
    mine.enable_allowed_images_settings(AllowedImagesSettingsState="enabled")
    assert error_code(lambda: mine.describe_images(ImageIds=[image_id])) == "InvalidAMIID.NotFound"

    [found] = mine.describe_instance_image_metadata(InstanceIds=[instance_id])["InstanceImageMetadata"]
    assert found["InstanceId"] == instance_id and found["OwnerId"] == alice.account_id
    assert found["State"]["Name"] in ("pending", "running") and found["ZoneId"]
    assert found["Tags"] == [{"Key": "team", "Value": "web"}]
    metadata = found["ImageMetadata"]
    assert (metadata["ImageId"], metadata["Name"], metadata["OwnerId"]) == (image_id, "provider-web", bob.account_id)
    assert metadata["ImageAllowed"] is False and metadata["IsPublic"] is False
    by_filter = mine.describe_instance_image_metadata(Filters=[{"Name": "image-allowed", "Values": ["false"]}])
    assert [m["InstanceId"] for m in by_filter["InstanceImageMetadata"]] == [instance_id]
    by_owner = mine.describe_instance_image_metadata(Filters=[{"Name": "owner-alias", "Values": ["amazon"]}])
    assert [m["InstanceId"] for m in by_owner["InstanceImageMetadata"]] == [other]
    assert {m["InstanceId"] for m in mine.describe_instance_image_metadata(
        Filters=[{"Name": "zone-id", "Values": [found["ZoneId"]]}])["InstanceImageMetadata"]} >= {instance_id}
    # Gone for good: only its id is left.
    provider.deregister_image(ImageId=image_id)
    [found] = mine.describe_instance_image_metadata(InstanceIds=[instance_id])["InstanceImageMetadata"]
    assert found["ImageMetadata"] == {"ImageId": image_id}
    # Only the caller's own instances.
    assert error_code(lambda: provider.describe_instance_image_metadata(InstanceIds=[instance_id])) == \
        "InvalidInstanceID.NotFound"
    assert error_code(lambda: mine.describe_instance_image_metadata(
        Filters=[{"Name": "image-id", "Values": [image_id]}])) == "InvalidParameterValue"
    mine.disable_allowed_images_settings()
