from amishare.domain import regions
from amishare.services import operation


@operation("ec2")
def describe_regions(ctx, params):
    return {"Regions": regions.describe_regions(ctx, params.get("RegionNames"), params.get("Filters"))}


@operation("ec2")
def describe_availability_zones(ctx, params):
    zones = regions.describe_zones(ctx, params.get("ZoneNames"), params.get("ZoneIds"), params.get("Filters"))
    return {"AvailabilityZones": zones}
