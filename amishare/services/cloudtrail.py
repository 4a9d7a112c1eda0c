"""CloudTrail (JSON 1.1): looking up the audit trail's management events."""

from amishare.domain import trail
from amishare.services import operation


# AWS authorizes cloudtrail:LookupEvents on "*": the events of the caller's account and Region.
@operation("cloudtrail", writes=False)
def lookup_events(ctx, params):
    return trail.lookup_events(ctx, params)
