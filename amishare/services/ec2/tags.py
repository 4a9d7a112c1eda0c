from amishare.domain import tags
from amishare.services import operation
from amishare.services.ec2.targets import tagged


@operation("ec2", resources=tagged)
def create_tags(ctx, params):
    tags.create_tags(ctx, params["Resources"], params["Tags"])
    return {}


@operation("ec2", resources=tagged)
def delete_tags(ctx, params):
    tags.delete_tags(ctx, params["Resources"], params.get("Tags"))
    return {}


@operation("ec2")
def describe_tags(ctx, params):
    rows, token = tags.describe_tags(ctx, params.get("Filters"), params.get("MaxResults"), params.get("NextToken"))
    out = [{"Key": r["key"], "Value": r["value"], "ResourceId": r["resource_id"], "ResourceType": r["resource_type"]}
           for r in rows]
    return {"Tags": out, "NextToken": token}
