"""Regions and Availability Zones: the commercial partition as botocore knows it."""

import hashlib
import re
from fnmatch import fnmatchcase

from amishare.errors import AwsError
from amishare.models import commercial_regions

# us-east-1 has six zones, as on AWS; every other Region offers three.
_ZONE_LETTERS = {"us-east-1": "abcdef"}


def is_region(name: str) -> bool:
    return name in commercial_regions()


def check_region(name: str, parameter: str = "SourceRegion") -> str:
    if not is_region(name):
        raise AwsError("InvalidParameterValue", f"Invalid value '{name}' for {parameter}: not a valid region.")
    return name


def zone_names(region: str) -> list[str]:
    return [region + letter for letter in _ZONE_LETTERS.get(region, "abc")]


def zone_id(zone: str) -> str:
    region, letter = zone[:-1], zone[-1]
    short = "".join(part[:3] if i == 0 else part[0] for i, part in enumerate(region.split("-")[:-1]))
    digit = int(hashlib.sha256(region.encode()).hexdigest(), 16) % 9 + 1
    return f"{short}{digit}-az{'abcdef'.index(letter) + 1}"


def check_zone(ctx, zone: str | None) -> str:
    if zone is None:
        return ctx.region + "a"
    if zone not in zone_names(ctx.region):
        raise AwsError("InvalidParameterValue", f"Invalid availability zone: [{zone}]")
    return zone


def _matches(filters, fields: dict) -> bool:
    for item in filters or ():
        name = item.get("Name")
        if name not in fields:
            raise AwsError("InvalidParameterValue", f"The filter '{name}' is invalid")
        if not any(fnmatchcase(fields[name], v) for v in item.get("Values") or ()):
            return False
    return True


def describe_regions(ctx, names, filters) -> list[dict]:
    for name in names or ():
        if not is_region(name):
            raise AwsError("InvalidParameterValue", f"Invalid region: {name}")
    out = []
    for region in sorted(commercial_regions()):
        if names and region not in names:
            continue
        fields = {"region-name": region, "endpoint": f"ec2.{region}.amazonaws.com",
                  "opt-in-status": "opt-in-not-required"}
        if _matches(filters, fields):
            out.append({"RegionName": region, "Endpoint": fields["endpoint"], "OptInStatus": "opt-in-not-required"})
    return out


def describe_zones(ctx, names, ids, filters) -> list[dict]:
    out = []
    for zone in zone_names(ctx.region):
        fields = {"zone-name": zone, "zone-id": zone_id(zone), "region-name": ctx.region, "state": "available",
                  "zone-type": "availability-zone", "group-name": ctx.region, "opt-in-status": "opt-in-not-required"}
        if names and zone not in names or ids and fields["zone-id"] not in ids:
            continue
        if _matches(filters, fields):
            out.append({"ZoneName": zone, "ZoneId": fields["zone-id"], "State": "available", "RegionName": ctx.region,
                        "ZoneType": "availability-zone", "GroupName": ctx.region, "NetworkBorderGroup": ctx.region,
                        "OptInStatus": "opt-in-not-required", "Messages": []})
    for name in names or ():
        if not re.fullmatch(re.escape(ctx.region) + r"[a-z]", name) or name not in zone_names(ctx.region):
            raise AwsError("InvalidParameterValue", f"Invalid availability zone: [{name}]")
    return out
