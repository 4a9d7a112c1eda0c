"""Every DescribeImages filter of the EC2 API reference is accepted and answered from the
data held, through the same index-driven branches as any other filter."""

import re

import botocore.session
import pytest

from test_images import register

DOCUMENTED = re.findall(
    r"<li> <p> <code>([^<]+)</code>",
    botocore.session.get_session().get_service_model("ec2").operation_model("DescribeImages")
    .input_shape.members["Filters"].documentation,
)
# In the current EC2 API reference, not yet in every botocore release.
FILTER_NAMES = sorted(set(DOCUMENTED) - {"tag:&lt;key&gt;"} | {"tag:Name", "public-ssm-parameter-name"})
BOOLEAN = {"ena-support", "free-tier-eligible", "image-allowed", "is-public", "block-device-mapping.encrypted",
           "block-device-mapping.delete-on-termination"}
SAMPLE = {"block-device-mapping.volume-size": "8", "creation-date": "2024-*"}


def ids(ec2, **kwargs):
    return sorted(i["ImageId"] for i in ec2.describe_images(**kwargs)["Images"])


def test_every_documented_filter_is_accepted(server, alice):
    assert len(DOCUMENTED) >= 30
    ec2 = server.client(alice)
    register(ec2, "filtered")
    for name in FILTER_NAMES:
        value = "true" if name in BOOLEAN else SAMPLE.get(name, "x*")
        for kwargs in ({"Owners": ["self"]}, {}, {"ExecutableUsers": ["all"]}):
            ec2.describe_images(Filters=[{"Name": name, "Values": [value]}], MaxResults=5, **kwargs)
    with pytest.raises(Exception, match="InvalidParameterValue"):
        ec2.describe_images(Filters=[{"Name": "no-such-filter", "Values": ["x"]}])


def test_catalog_and_state_filters_answer_from_the_data(server, alice):
    ec2 = server.client(alice)
    own = register(ec2, "mine-not-free-tier")
    amazon = ids(ec2, Owners=["amazon"])
    market = ids(ec2, Owners=["aws-marketplace"])
    everything = ids(ec2, Owners=["self", "amazon", "aws-marketplace"])
    assert ids(ec2, Owners=["self", "amazon", "aws-marketplace"],
               Filters=[{"Name": "free-tier-eligible", "Values": ["true"]}]) == amazon
    assert ids(ec2, Owners=["self", "amazon", "aws-marketplace"],
               Filters=[{"Name": "free-tier-eligible", "Values": ["false"]}]) == sorted([own] + market)
    shown = {i["ImageId"]: i["FreeTierEligible"] for i in ec2.describe_images(Owners=["self", "amazon"])["Images"]}
    assert shown[own] is False and all(shown[i] for i in amazon)
    # No Allowed AMIs criteria are set, so every image is allowed.
    assert ids(ec2, Owners=["self", "amazon", "aws-marketplace"],
               Filters=[{"Name": "image-allowed", "Values": ["true"]}]) == everything
    assert ids(ec2, Owners=["self"], Filters=[{"Name": "image-allowed", "Values": ["false"]}]) == []
    # Only failed images have a state reason.
    for name in ("state-reason-code", "state-reason-message"):
        assert ids(ec2, Owners=["self", "amazon"], Filters=[{"Name": name, "Values": ["*"]}]) == []
    # Amazon's public parameters name its base images.
    al2023 = ec2.describe_images(Owners=["amazon"], Filters=[
        {"Name": "public-ssm-parameter-name",
         "Values": ["/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"]}])["Images"]
    assert [(i["Name"].startswith("al2023-ami-"), i["Architecture"]) for i in al2023] == [(True, "x86_64")]
    both = ec2.describe_images(Filters=[{"Name": "public-ssm-parameter-name", "Values": ["*al2023-ami-kernel-6.1-*"]}])
    assert sorted(i["Architecture"] for i in both["Images"]) == ["arm64", "x86_64"]
    assert ids(ec2, Owners=["self"], Filters=[{"Name": "public-ssm-parameter-name", "Values": ["*"]}]) == []
    # Copies name their source.
    west = server.client(alice, region="us-west-2")
    copy = west.copy_image(SourceImageId=own, SourceRegion="us-east-1", Name="copied")["ImageId"]
    assert ids(west, Owners=["self"], Filters=[{"Name": "source-image-id", "Values": [own]},
                                                {"Name": "source-image-region", "Values": ["us-east-1"]}]) == [copy]
