"""Bounds on how much one call may ask for, checked before it runs, so that no
single request can make the service do unbounded work (AWS enforces the same
kind of limits, with these error codes)."""

from amishare.errors import AwsError
from amishare.services import Operation

MAX_FILTERS = 50
MAX_FILTER_VALUES = 200  # in total, across a call's filters
MAX_IDS = 1000  # ids, owners or users named in one call
# List parameters that name resources, owners or principals to look up one by one.
_ID_LISTS = ("ImageIds", "Owners", "ExecutableUsers", "SnapshotIds", "OwnerIds", "RestorableByUserIds", "VolumeIds",
             "InstanceIds", "Resources", "ReportIds", "AccountIds", "RegionNames", "ZoneNames", "ZoneIds")


def bound_request(ctx, operation: Operation, params: dict) -> None:
    filters = params.get("Filters")
    if filters:
        values = sum(len(f.get("Values") or ()) for f in filters)
        if len(filters) > MAX_FILTERS or values > MAX_FILTER_VALUES:
            raise AwsError("FilterLimitExceeded",
                           f"The request uses too many filters or too many filter values: at most {MAX_FILTERS} "
                           f"filters and {MAX_FILTER_VALUES} values in all are accepted.")
    for name in _ID_LISTS:
        values = params.get(name)
        if isinstance(values, list) and len(values) > MAX_IDS:
            raise AwsError("InvalidParameterValue", f"Too many values for {name}: at most {MAX_IDS} are accepted.")
