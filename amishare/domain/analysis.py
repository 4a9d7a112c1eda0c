"""Access analysis: who can see, launch and copy an image, and why.

Nothing here decides access. Each answer is what the enforcing code decides when
run for the principal asked about: the IAM authorization of the call (handed in by
the service layer as `iam_allows`, the same function that authorizes every call),
the launch permission (`access.can_launch`), and the checks RunInstances, CopyImage
and DescribeImages make (`instances.launch_checks`, `images.copy_checks`,
`images.check_discoverable`: Allowed AMIs, disabled images, snapshots, KMS key policies
and grants through `kms.decide` → `authz`). Those functions note what they decided in a
`trace` record, which becomes the explanation, so an explanation can't disagree with a call.
"""

from dataclasses import replace
from typing import Callable

from amishare.domain import access, accounts, iam, ids, images, instances, trace
from amishare.domain import iam_common as common
from amishare.domain.principal import Principal
from amishare.errors import AwsError
from amishare.store import images as image_store
from amishare.store import iam as iam_store

SEE, LAUNCH, COPY = "see", "launch", "copy"
ACTIONS = (SEE, LAUNCH, COPY)
# What the service layer supplies: does IAM (with SCPs and resource policies) let the
# subject's context make `action` (one of ACTIONS) on the image? It notes its statements.
IamCheck = Callable[[object, str, dict], bool]
ANALYSIS_SESSION = "access-analysis"


def _denied(message: str) -> AwsError:
    return AwsError("AccessDeniedException", message, 400)


def subject(ctx, ref: str | None) -> Principal:
    """The principal a question is about: the caller (no ref), an account (its id or root ARN),
    an IAM user or a role (its ARN; a role as a session of it with no session policy)."""
    if not ref:
        return ctx.principal
    if ids.is_account_id(ref):
        ref = f"arn:aws:iam::{ref}:root"
    parts = ref.split(":", 5)
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "iam"] or not ids.is_account_id(parts[4]):
        raise AwsError("ValidationException", f"Principal must be an account id or an IAM ARN (root, user or role): {ref[:200]}")
    account_id, resource = parts[4], parts[5]
    if not accounts.exists(ctx.conn, account_id):
        raise AwsError("ResourceNotFoundException", f"Account {account_id} does not exist.", 400)
    if resource == "root":
        return Principal.root(account_id)
    kind, _, rest = resource.partition("/")
    if kind not in ("user", "role") or not rest:
        raise AwsError("ValidationException", f"Principal must be an account id or an IAM ARN (root, user or role): {ref[:200]}")
    row = iam_store.entity_by_name(ctx.conn, kind, account_id, rest.rsplit("/", 1)[-1])
    if row is None or common.row_arn(kind, row) != ref:
        raise AwsError("ResourceNotFoundException", f"The entity {ref[:200]} does not exist.", 400)
    tags = common.tag_pairs(row["tags"])
    if kind == "user":
        return Principal(account_id, iam.USER, ref, row["user_id"], row["name"], tags=tags)
    return Principal(account_id, iam.ASSUMED_ROLE, iam.session_arn(account_id, row["name"], ANALYSIS_SESSION),
                     f"{row['role_id']}:{ANALYSIS_SESSION}", row["name"], ANALYSIS_SESSION, tags=tags)


def as_principal(ctx, principal: Principal):
    """A context for `principal` in the same transaction, Region and clock, with nothing remembered."""
    return replace(ctx, principal=principal, memo={}, source_ip=None, secure_transport=True)


def _image(ctx, image_id: str):
    ids.check("ami", image_id)
    image = image_store.get_in_region(ctx.conn, ctx.region, image_id)
    if image is None:
        raise ids.not_found("ami", [image_id])
    return image


def check_may_ask(ctx, image, who: Principal) -> None:
    """A principal asks about its own account's principals; an image's owner about anyone."""
    if who.account_id != ctx.account_id and image["owner_id"] != ctx.account_id:
        raise _denied(f"{ctx.principal.arn} may ask about principals of its own account, or about any principal "
                      f"for its own images; {image['image_id']} belongs to another account.")


def explain(ctx, image_id: str, principal_ref: str | None, iam_allows: IamCheck) -> dict:
    image = _image(ctx, image_id)
    who = subject(ctx, principal_ref)
    check_may_ask(ctx, image, who)
    sctx = as_principal(ctx, who)
    decisions = []
    for action in ACTIONS:
        allowed, steps = decide(sctx, image, action, iam_allows)
        decisions.append({"Action": action, "Allowed": allowed, "Steps": steps})
    return {"ImageId": image_id, "OwnerId": image["owner_id"], "Principal": who.arn, "Region": ctx.region,
            "Decisions": decisions}


def decide(sctx, image, action: str, iam_allows: IamCheck) -> tuple[bool, list]:
    """Whether the subject of `sctx` may `action` the image, and the steps that decided, in
    the order the call takes them: IAM, the launch permission, then the operation's checks
    (all of them, so the chain shows every reason, not only the first)."""
    steps = trace.start(sctx)
    sctx.memo.pop("grantees", None)
    allowed = iam_allows(sctx, action, image)
    visible = access.can_launch(sctx, image)
    allowed = visible and allowed
    if action == SEE:
        checks = [("allowed-images", "the image is discoverable under the Allowed AMIs settings",
                   lambda: images.check_discoverable(sctx, [image]))]
    elif action == LAUNCH:
        checks, _ = instances.launch_checks(sctx, image)
    else:
        devices = image_store.block_devices(sctx.conn, [image["image_id"]])[image["image_id"]]
        checks = images.copy_checks(sctx, image, devices)
    allowed = trace.explain(sctx, checks) and allowed
    if action == LAUNCH and image["deprecation_time"] is not None and image["deprecation_time"] <= sctx.now:
        trace.note(sctx, "deprecation", trace.ALLOWED, "the image is deprecated: launching from it is still allowed")
    sctx.memo.pop("trace", None)
    return allowed, steps


def first_refusal(steps: list) -> tuple[str, str]:
    """(reason, error code): what the first step that refused says, and the error the call answers."""
    refused = [step for step in steps if step["Decision"] == trace.DENIED]
    if not refused:
        return "", ""
    return refused[0]["Detail"], next((s["ErrorCode"] for s in refused if s.get("ErrorCode")), "")
