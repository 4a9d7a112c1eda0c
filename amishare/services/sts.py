from amishare.services import operation


@operation("sts")
def get_caller_identity(ctx, params):
    return {"UserId": ctx.account_id, "Account": ctx.account_id, "Arn": ctx.principal.arn}
