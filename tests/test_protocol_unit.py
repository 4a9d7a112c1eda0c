"""The wire layer against botocore itself: what botocore serializes we parse to
the same parameters, and what we serialize botocore parses to the same result."""

import pytest
from botocore import parsers, serialize

from amishare.errors import AwsError
from amishare.protocol import jsonproto, query, xml
from amishare.models import operation_model, service_model


def _roundtrip_request(service, operation, params):
    model = operation_model(service, operation)
    body = serialize.create_serializer(service_model(service).protocol).serialize_to_request(params, model)["body"]
    flat = {k: str(v) for k, v in body.items()}
    return query.parse(flat, model.input_shape, service_model(service).protocol)


def test_ec2_request_parsing_matches_botocore_serializer():
    params = {
        "Name": "web",
        "RootDeviceName": "/dev/xvda",
        "BlockDeviceMappings": [
            {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0123456789abcdef0", "VolumeSize": 8, "DeleteOnTermination": False}},
            {"DeviceName": "/dev/sdb", "NoDevice": ""},
        ],
        "TagSpecifications": [{"ResourceType": "image", "Tags": [{"Key": "k", "Value": "v"}]}],
        "EnaSupport": True,
        "DryRun": False,
    }
    assert _roundtrip_request("ec2", "RegisterImage", params) == params


def test_ec2_launch_permission_forms_parse():
    params = {
        "ImageId": "ami-12345678",
        "LaunchPermission": {"Add": [{"UserId": "111122223333"}, {"Group": "all"}], "Remove": [{"UserId": "444455556666"}]},
        "UserIds": ["123456789012"],
        "OperationType": "add",
        "Attribute": "launchPermission",
    }
    assert _roundtrip_request("ec2", "ModifyImageAttribute", params) == params


def test_filters_and_lists_parse():
    params = {"Filters": [{"Name": "name", "Values": ["a*", "b"]}, {"Name": "tag:Team", "Values": ["x"]}],
              "Owners": ["self", "amazon"], "MaxResults": 10}
    assert _roundtrip_request("ec2", "DescribeImages", params) == params


def test_unknown_parameter_is_refused():
    model = operation_model("ec2", "DescribeImages")
    with pytest.raises(AwsError) as exc:
        query.parse({"Action": "DescribeImages", "Bogus.1": "x"}, model.input_shape, "ec2")
    assert exc.value.code == "UnknownParameter"


def test_bad_scalar_and_missing_required():
    model = operation_model("ec2", "DescribeImages")
    with pytest.raises(AwsError) as exc:
        query.parse({"MaxResults": "ten"}, model.input_shape, "ec2")
    assert exc.value.code == "InvalidParameterValue"
    with pytest.raises(AwsError) as exc:
        query.parse({"DryRun": "maybe"}, model.input_shape, "ec2")
    assert exc.value.code == "InvalidParameterValue"
    model = operation_model("ec2", "DeregisterImage")
    with pytest.raises(AwsError) as exc:
        query.parse({}, model.input_shape, "ec2")
    assert exc.value.code == "MissingParameter"


def test_query_protocol_member_lists():
    model = operation_model("sts", "AssumeRole")
    params = {"RoleArn": "arn:aws:iam::111122223333:role/x", "RoleSessionName": "session",
              "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}], "DurationSeconds": 900}
    body = serialize.create_serializer("query").serialize_to_request(params, model)["body"]
    assert query.parse({k: str(v) for k, v in body.items()}, model.input_shape, "query") == params


def _parse_response(service, operation, body, status=200):
    model = operation_model(service, operation)
    parser = parsers.create_parser(service_model(service).protocol)
    return parser.parse({"body": body, "headers": {}, "status_code": status}, model.output_shape)


def test_ec2_response_roundtrip():
    model = operation_model("ec2", "DescribeImages")
    result = {
        "Images": [{
            "ImageId": "ami-12345678", "Name": "n & <x>", "Public": False, "State": "available",
            "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8, "Encrypted": True}}],
            "ProductCodes": [{"ProductCodeId": "abc", "ProductCodeType": "marketplace"}],
            "Tags": [{"Key": "k", "Value": "v"}],
        }],
        "NextToken": "tok",
    }
    body = xml.ec2_response(model, result, "req-1", service_model("ec2").metadata["xmlNamespace"])
    parsed = _parse_response("ec2", "DescribeImages", body)
    parsed.pop("ResponseMetadata")
    assert parsed == result


def test_ec2_empty_list_is_present():
    model = operation_model("ec2", "DescribeImages")
    body = xml.ec2_response(model, {"Images": []}, "r", "ns")
    assert _parse_response("ec2", "DescribeImages", body)["Images"] == []


def test_ec2_error_document():
    body = xml.ec2_error("InvalidAMIID.NotFound", "The image id '[ami-1]' does not exist", "rid")
    parser = parsers.create_parser("ec2")
    parsed = parser.parse({"body": body, "headers": {}, "status_code": 400}, operation_model("ec2", "DescribeImages").output_shape)
    assert parsed["Error"]["Code"] == "InvalidAMIID.NotFound"
    assert parsed["ResponseMetadata"]["RequestId"] == "rid"


def test_query_response_roundtrip():
    model = operation_model("sts", "GetCallerIdentity")
    result = {"UserId": "1", "Account": "111122223333", "Arn": "arn:aws:iam::111122223333:root"}
    body = xml.query_response(model, result, "rid", service_model("sts").metadata["xmlNamespace"])
    parsed = _parse_response("sts", "GetCallerIdentity", body)
    assert parsed["ResponseMetadata"]["RequestId"] == "rid"
    parsed.pop("ResponseMetadata")
    assert parsed == result


def test_json_roundtrip():
    model = operation_model("kms", "DescribeKey")
    from datetime import datetime, timezone

    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    result = {"KeyMetadata": {"KeyId": "k", "Arn": "arn", "CreationDate": when, "Enabled": True}}
    parsed = _parse_response("kms", "DescribeKey", jsonproto.response(model, result))
    parsed.pop("ResponseMetadata", None)
    assert parsed == result
    body = serialize.create_serializer("json").serialize_to_request({"KeyId": "alias/x"}, model)["body"]
    assert jsonproto.parse(body, model.input_shape) == {"KeyId": "alias/x"}
    with pytest.raises(AwsError):
        jsonproto.parse(b"{not json", model.input_shape)
    with pytest.raises(AwsError) as exc:
        jsonproto.parse(b"{}", model.input_shape)
    assert exc.value.code == "MissingParameter"


def test_every_registered_operation_exists_in_the_models():
    from amishare.services import REGISTRY, load_all

    load_all()
    for service, operations in REGISTRY.items():
        names = set(service_model(service).operation_names)
        assert set(operations) <= names, set(operations) - names


def test_hostile_scalars_are_client_errors():
    model = operation_model("ec2", "EnableImageDeprecation")
    for value in ("1e300", "-1e300", "garbage", "9999-99-99"):
        with pytest.raises(AwsError) as exc:
            query.parse({"ImageId": "ami-12345678", "DeprecateAt": value}, model.input_shape, "ec2")
        assert exc.value.code == "InvalidParameterValue"
    with pytest.raises(AwsError):
        query.parse({"ImageId": "ami-\x00"}, model.input_shape, "ec2")
    many = {f"ImageId.{i}": "ami-12345678" for i in range(1, 1002)}
    with pytest.raises(AwsError):
        query.parse(many, operation_model("ec2", "DescribeImages").input_shape, "ec2")
