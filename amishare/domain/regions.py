import re

from amishare.errors import AwsError
from amishare.protocol.models import commercial_regions


def is_region(name: str) -> bool:
    return name in commercial_regions()


def check_region(name: str, parameter: str = "SourceRegion") -> str:
    if not is_region(name):
        raise AwsError("InvalidParameterValue", f"Invalid value '{name}' for {parameter}: not a valid region.")
    return name


def check_zone(ctx, zone: str | None) -> str:
    if zone is None:
        return ctx.region + "a"
    if not re.fullmatch(re.escape(ctx.region) + r"[a-f]", zone):
        raise AwsError("InvalidParameterValue", f"Invalid availability zone: [{zone}]")
    return zone
