"""DescribeImageReferences: the caller's resources, in the Region, that use the named images.

Of the resource types the API knows, amishare has EC2 instances; launch templates, Systems
Manager parameters and Image Builder recipes don't exist here, so an account has none."""

from amishare.domain import ids, pagination
from amishare.errors import AwsError
from amishare.store import instances as instance_store

INSTANCE = "ec2:Instance"
TYPES = ("ec2:Instance", "ec2:LaunchTemplate", "ssm:Parameter", "imagebuilder:ImageRecipe",
         "imagebuilder:ContainerRecipe")
INSTANCE_STATES = ("pending", "running", "shutting-down", "terminated", "stopping", "stopped")
OPTIONS = {"ec2:Instance": "state-name", "ec2:LaunchTemplate": "version-depth"}


def _invalid(message):
    return AwsError("InvalidParameterValue", message)


def _instance_states(request):
    """The states asked for (None: all of them)."""
    states = None
    for option in request.get("ResourceTypeOptions") or ():
        name, values = option.get("OptionName"), option.get("OptionValues") or []
        expected = OPTIONS.get(request.get("ResourceType"))
        if name != expected:
            raise _invalid(f"The option {name} is not valid for resource type {request.get('ResourceType')}.")
        if name == "state-name":
            for value in values:
                if value not in INSTANCE_STATES:
                    raise _invalid(f"Invalid value '{value}' for option state-name. Valid values are "
                                   + " | ".join(INSTANCE_STATES) + ".")
            states = (states or set()) | set(values)
        else:
            for value in values:
                if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 10000:
                    raise _invalid(f"Invalid value '{value}' for option version-depth: an integer from 1 to 10000.")
    return states


def _position(text: str) -> tuple[str, str]:
    """Where a NextToken resumes: after (image id, instance id)."""
    image_id, _, instance_id = text.partition("/")
    try:
        return ids.check("ami", image_id), ids.check("i", instance_id)
    except AwsError:
        raise ValueError(text) from None


def describe(ctx, params):
    image_ids = list(dict.fromkeys(ids.check_all("ami", params.get("ImageIds") or [])))
    if not image_ids:
        raise AwsError("MissingParameter", "The request must contain the parameter ImageIds")
    if len(image_ids) > 10:
        raise _invalid("At most 10 image IDs can be specified.")
    requests = params.get("ResourceTypes") or []
    if not requests and not params.get("IncludeAllResourceTypes"):
        raise AwsError("MissingParameter", "Either IncludeAllResourceTypes or ResourceTypes must be specified.")
    wanted, states = set(), None
    for request in requests:
        resource_type = request.get("ResourceType")
        if resource_type not in TYPES:
            raise _invalid(f"Invalid resource type: {resource_type}")
        wanted.add(resource_type)
        if resource_type == INSTANCE:
            states = _instance_states(request)
        else:
            _instance_states(request)
    if params.get("IncludeAllResourceTypes"):
        wanted |= set(TYPES)
    limit = params.get("MaxResults")
    if limit is not None and not 5 <= limit <= 1000:
        raise _invalid(f"Value ( {limit} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.")
    fingerprint = pagination.fingerprint("image-references", ctx.account_id, ctx.region, sorted(image_ids),
                                         sorted(wanted), sorted(states) if states is not None else None)
    after = pagination.decode(params.get("NextToken"), fingerprint, _position)
    if INSTANCE not in wanted:
        return [], None
    rows = instance_store.referencing(ctx.conn, ctx.region, ctx.account_id, image_ids, states, ctx.now, after,
                                      None if limit is None else limit + 1)
    token = None
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
        token = pagination.encode(f"{rows[-1].image_id}/{rows[-1].instance_id}", fingerprint)
    references = [{"ImageId": r.image_id, "ResourceType": INSTANCE,
                   "Arn": f"arn:aws:ec2:{ctx.region}:{ctx.account_id}:instance/{r.instance_id}"} for r in rows]
    return references, token
