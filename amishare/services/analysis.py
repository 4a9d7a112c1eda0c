"""amishare's own service: access analysis of AMI sharing (JSON protocol, model in
`amishare/service_models/amishare`). Its IAM actions are `amishare:<Operation>`, authorized
like every other call; who may ask about whom is the domain's (`domain/analysis.py`).

The IAM part of every answer is `services.authorization.decisions`, the function that
authorizes every call, run for the principal asked about on the call it would make."""

from amishare.domain import analysis, analysis_reports, trace
from amishare.services import authorization, lookup, operation
from amishare.services.ec2.targets import IMAGE, named

# The call each analysed action is, as the principal asked about would make it.
_CALLS = {
    analysis.SEE: ("ec2", "DescribeImages", lambda ctx, image: {"ImageIds": [image["image_id"]]}),
    analysis.LAUNCH: ("ec2", "RunInstances", lambda ctx, image: {"ImageId": image["image_id"], "MinCount": 1,
                                                                 "MaxCount": 1}),
    analysis.COPY: ("ec2", "CopyImage", lambda ctx, image: {"SourceImageId": image["image_id"],
                                                            "SourceRegion": ctx.region, "Name": "copy"}),
}


_REFUSED = "UnauthorizedOperation"  # what EC2 answers a call IAM refuses


def iam_allows(ctx, action: str, image) -> bool:
    """Whether IAM lets ctx's principal make the action's call, noting the statements it decided from."""
    service, name, params = _CALLS[action]
    op = lookup(service, name)
    made = authorization.decisions(ctx, op, params(ctx, image), explain=True)
    if not made:
        trace.note(ctx, "iam", trace.ALLOWED, f"{op.action}: the root user of account {ctx.account_id}, "
                   "which no service control policy limits", Action=op.action)
    for arn, decision, _context in made:
        detail = f"{op.action} on {arn}" + (f" is denied {decision.reason(op.action)}" if not decision.allowed
                                           else " is allowed")
        trace.note(ctx, "iam", trace.ALLOWED if decision.allowed else trace.DENIED, detail, Action=op.action,
                   Statements=decision.because, ErrorCode=None if decision.allowed else _REFUSED)
    return all(decision.allowed for _arn, decision, _context in made)


@operation("amishare", writes=False, resources=named(IMAGE, "ImageId"))
def explain_image_access(ctx, params):
    return analysis.explain(ctx, params["ImageId"], params.get("Principal"), iam_allows)


@operation("amishare", resources=named(IMAGE, "ImageId"))
def list_image_launchers(ctx, params):
    return analysis_reports.launchers(ctx, params["ImageId"], params.get("MaxResults"), params.get("NextToken"),
                                      iam_allows)


@operation("amishare")
def list_launchable_images(ctx, params):
    return analysis_reports.launchable(ctx, params.get("Principal"), params.get("Scope") or "shared",
                                       params.get("MaxResults"), params.get("NextToken"), iam_allows)


@operation("amishare")
def get_exposure_report(ctx, params):
    return analysis_reports.exposure(ctx, params.get("MaxResults"), params.get("NextToken"), iam_allows)


@operation("amishare", writes=True, resources=named(IMAGE, "ImageId"))
def simulate_access_change(ctx, params):
    def apply(change_ctx, service, name, change_params):
        # The change as the caller would make it: authorized, then run, by the same code.
        op = lookup(service, name)
        authorization.authorize(change_ctx, op, change_params)
        op.handler(change_ctx, change_params)

    return analysis_reports.what_if(ctx, params["ImageId"], params["Change"], params.get("MaxAccounts"), iam_allows,
                                    apply)
