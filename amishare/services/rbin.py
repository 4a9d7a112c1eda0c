"""Recycle Bin (REST-JSON): retention rules."""

from amishare.domain import recycle_bin
from amishare.services import operation


@operation("rbin")
def create_rule(ctx, params):
    return recycle_bin.create_rule(ctx, params)


@operation("rbin")
def get_rule(ctx, params):
    return recycle_bin.describe(recycle_bin.get_rule(ctx, params["Identifier"]), ctx.now)


@operation("rbin")
def list_rules(ctx, params):
    rules, token = recycle_bin.list_rules(ctx, params)
    return {"Rules": rules, "NextToken": token}


@operation("rbin")
def update_rule(ctx, params):
    return recycle_bin.update_rule(ctx, params)


@operation("rbin")
def delete_rule(ctx, params):
    recycle_bin.delete_rule(ctx, params["Identifier"])
    return {}


@operation("rbin")
def lock_rule(ctx, params):
    return recycle_bin.lock_rule(ctx, params["Identifier"], params["LockConfiguration"])


@operation("rbin")
def unlock_rule(ctx, params):
    return recycle_bin.unlock_rule(ctx, params["Identifier"])
