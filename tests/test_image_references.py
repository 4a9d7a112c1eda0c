"""DescribeImageReferences: the caller's instances that use an image."""

from test_images import amazon_image, error_code, launch, register


def references(ec2, **kwargs):
    kwargs.setdefault("IncludeAllResourceTypes", True)
    return ec2.describe_image_references(**kwargs)["ImageReferences"]


def test_instances_referencing_images(server, alice, bob):
    ec2, theirs = server.client(alice), server.client(bob)
    base = amazon_image(ec2)["ImageId"]
    mine = register(ec2, "referenced")
    running = launch(ec2, mine)
    stopped = launch(ec2, mine)
    ec2.stop_instances(InstanceIds=[stopped])
    from_base = launch(ec2, base)
    launch(theirs, base)  # another account's instance is never the caller's reference
    got = references(ec2, ImageIds=[mine, base])
    arn = f"arn:aws:ec2:us-east-1:{alice.account_id}:instance/"
    assert sorted((r["ImageId"], r["Arn"]) for r in got) == sorted(
        [(mine, arn + running), (mine, arn + stopped), (base, arn + from_base)])
    assert all(r["ResourceType"] == "ec2:Instance" for r in got)
    # By state.
    only_running = references(ec2, ImageIds=[mine], IncludeAllResourceTypes=False, ResourceTypes=[
        {"ResourceType": "ec2:Instance", "ResourceTypeOptions": [{"OptionName": "state-name", "OptionValues": ["running"]}]}])
    assert [r["Arn"] for r in only_running] == [arn + running]
    # Types amishare has none of.
    assert references(ec2, ImageIds=[mine], IncludeAllResourceTypes=False,
                      ResourceTypes=[{"ResourceType": "ec2:LaunchTemplate"}]) == []
    # Other Regions and other accounts.
    assert references(server.client(alice, region="us-west-2"), ImageIds=[mine]) == []
    assert references(theirs, ImageIds=[mine]) == []
    # Paging.
    seen, token = [], None
    for _ in range(3):
        launch(ec2, mine)
    while True:
        page = ec2.describe_image_references(ImageIds=[mine, base], IncludeAllResourceTypes=True, MaxResults=5,
                                             **({"NextToken": token} if token else {}))
        seen += [r["Arn"] for r in page["ImageReferences"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == len(set(seen)) == 6
    # The aws CLI.
    _, out, _ = server.aws(alice, "ec2", "describe-image-references", "--image-ids", base, "--include-all-resource-types",
                           "--region", "us-east-1")
    assert out["ImageReferences"] == [{"ImageId": base, "ResourceType": "ec2:Instance", "Arn": arn + from_base}]


def test_bad_requests(server, alice):
    ec2 = server.client(alice)
    image = register(ec2, "bad-requests")
    assert error_code(lambda: ec2.describe_image_references(ImageIds=[image])) == "MissingParameter"
    assert error_code(lambda: ec2.describe_image_references(ImageIds=["ami-bad"], IncludeAllResourceTypes=True)) \
        == "InvalidAMIID.Malformed"
    assert error_code(lambda: ec2.describe_image_references(ImageIds=[image], ResourceTypes=[
        {"ResourceType": "ec2:Instance", "ResourceTypeOptions": [{"OptionName": "state-name", "OptionValues": ["gone"]}]}])) \
        == "InvalidParameterValue"
    assert error_code(lambda: ec2.describe_image_references(ImageIds=[image], ResourceTypes=[
        {"ResourceType": "ec2:Instance", "ResourceTypeOptions": [{"OptionName": "version-depth", "OptionValues": ["1"]}]}])) \
        == "InvalidParameterValue"
    assert error_code(lambda: ec2.describe_image_references(ImageIds=[image], IncludeAllResourceTypes=True,
                                                            NextToken="forged")) == "InvalidPaginationToken"
