"""Allowed AMIs: per account and Region, which public and shared images the account may
discover and launch. The account's own images are always allowed.

`enabled` applies the criteria (others' images outside them are not listed and can't be
launched); `audit-mode` only reports, through ImageAllowed, what `enabled` would do.

A declarative policy for EC2 that sets the state decides both state and criteria in every
Region (ManagedBy declarative-policy); the account's own settings are then refused changes
and kept for when no policy decides."""

import re
import threading
from collections import OrderedDict

from amishare.domain import declarative_policies, ids
from amishare.domain.catalog import MARKETPLACE, AMAZON
from amishare.errors import AwsError
from amishare.store import allowed_images as store
from amishare.store import filters as filter_sql
from amishare.store import generations
from amishare.store import images as image_store

ENABLED, AUDIT, DISABLED = "enabled", "audit-mode", "disabled"
DAY = 86400
MAX_CRITERIA = 10
# Provider values and the accounts whose images they stand for; AWS Backup makes no images here.
PROVIDERS = {"amazon": AMAZON, "aws-marketplace": MARKETPLACE, "aws-backup-vault": None, "none": None}
NAME_RE = re.compile(r"[A-Za-z0-9()\[\]./\-'@_*? ]{1,128}")
PRODUCT_CODE_RE = re.compile(r"[A-Za-z0-9]{1,25}")


def _invalid(message):
    return AwsError("InvalidParameterValue", message)


_KNOWN: OrderedDict = OrderedDict()  # (account, Region, generations) -> (state, criteria)
_KNOWN_MAX = 10_000
_KNOWN_LOCK = threading.Lock()


def settings(ctx):
    """(state, criteria) in force for the caller's account in the Region: a declarative
    policy's, else the account's own; state is `disabled` until enabled.

    Read once per call; with the generations read with the caller's credential (the account's
    Allowed AMIs settings, and the organizations', which decide its declarative policy),
    remembered in this worker until either changes (store.generations), except by the call
    that changes them."""
    cached = ctx.memo.get("allowed_images")
    if cached is None:
        key = _generation_key(ctx)
        if key is not None:
            with _KNOWN_LOCK:
                cached = _KNOWN.get(key)
        if cached is None:
            cached = declarative_policies.effective(ctx).allowed_images or _own(ctx)
            if key is not None:
                with _KNOWN_LOCK:
                    _KNOWN[key] = cached
                    if len(_KNOWN) > _KNOWN_MAX:
                        _KNOWN.popitem(last=False)
        ctx.memo["allowed_images"] = cached
    return cached


def managed_by(ctx) -> str:
    return "declarative-policy" if declarative_policies.effective(ctx).allowed_images else "account"


def _generation_key(ctx):
    principal = ctx.principal
    if principal.allowed_images_generation is None or principal.org_generation is None:
        return None
    if generations.changed_here(ctx.conn, generations.ALLOWED_IMAGES, ctx.account_id) \
            or generations.changed_here(ctx.conn, generations.ORGANIZATIONS):
        return None
    return ctx.account_id, ctx.region, principal.allowed_images_generation, principal.org_generation


def _own(ctx):
    state, criteria = store.get(ctx.conn, ctx.account_id, ctx.region)
    return state or DISABLED, criteria


def _changeable(ctx):
    """The account's own settings, which it may change unless a declarative policy decides."""
    if declarative_policies.effective(ctx).allowed_images:
        raise declarative_policies.refuse_change(ctx)
    return _own(ctx)


def _put(ctx, state, criteria):
    store.put(ctx.conn, ctx.account_id, ctx.region, state, criteria)
    ctx.memo.pop("allowed_images", None)


def enable(ctx, state: str) -> str:
    if state not in (ENABLED, AUDIT):
        raise _invalid(f"Value ({state}) for parameter AllowedImagesSettingsState is invalid. "
                       "Valid values are enabled and audit-mode.")
    _put(ctx, state, _changeable(ctx)[1])
    return state


def disable(ctx) -> str:
    _put(ctx, DISABLED, _changeable(ctx)[1])
    return DISABLED


def _check_criterion(index, criterion) -> dict:
    where = f"ImageCriterion.{index}"
    out = {}
    providers = criterion.get("ImageProviders") or []
    if providers:
        if len(providers) > 200:
            raise _invalid(f"{where}: at most 200 ImageProviders values can be specified.")
        for p in providers:
            if p not in PROVIDERS and not ids.is_account_id(p):
                raise _invalid(f"{where}: invalid image provider '{p}'. Valid values are amazon, aws-marketplace, "
                               "aws-backup-vault, none and 12-digit account IDs.")
        if "none" in providers and len(providers) > 1:
            raise _invalid(f"{where}: when 'none' is specified, no other image providers can be specified.")
        out["ImageProviders"] = list(dict.fromkeys(providers))
    names = criterion.get("ImageNames") or []
    if names:
        if len(names) > 50:
            raise _invalid(f"{where}: at most 50 ImageNames values can be specified.")
        for name in names:
            if not NAME_RE.fullmatch(name) or ("?" in name and len(name) < 3):
                raise _invalid(f"{where}: invalid image name '{name}'.")
        out["ImageNames"] = list(dict.fromkeys(names))
    codes = criterion.get("MarketplaceProductCodes") or []
    if codes:
        if len(codes) > 50:
            raise _invalid(f"{where}: at most 50 MarketplaceProductCodes values can be specified.")
        for code in codes:
            if not PRODUCT_CODE_RE.fullmatch(code):
                raise _invalid(f"{where}: invalid product code '{code}'.")
        out["MarketplaceProductCodes"] = list(dict.fromkeys(codes))
    for key, field in (("CreationDateCondition", "MaximumDaysSinceCreated"),
                       ("DeprecationTimeCondition", "MaximumDaysSinceDeprecated")):
        condition = criterion.get(key)
        if condition is not None:
            value = condition.get(field)
            if value is None:
                raise AwsError("MissingParameter", f"{where}: {key} requires {field}.")
            out[key] = {field: value}
    if not out:
        raise _invalid(f"{where}: an image criterion must specify at least one criterion.")
    return out


def replace_criteria(ctx, criteria) -> None:
    criteria = criteria or []
    if len(criteria) > MAX_CRITERIA:
        raise _invalid(f"At most {MAX_CRITERIA} image criteria can be specified.")
    checked = [_check_criterion(i, cr) for i, cr in enumerate(criteria, 1)]
    _put(ctx, _changeable(ctx)[0], checked)


def _providers(ctx) -> dict:
    return {**PROVIDERS, **{p: p for cr in settings(ctx)[1] for p in cr.get("ImageProviders") or () if ids.is_account_id(p)}}


def condition(ctx):
    """The SQL condition of the images the settings allow, or None while disabled."""
    state, criteria = settings(ctx)
    if state == DISABLED:
        return None
    return store.allowed_condition(ctx.account_id, criteria, _providers(ctx), ctx.now)


def enforced(ctx) -> bool:
    return settings(ctx)[0] == ENABLED


def _name_pattern(name):
    """As the SQL LIKE of store.filters.match_text: * any run of characters, ? one, the rest literal."""
    return re.compile("".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in name), re.DOTALL)


def _matches(criterion, image, codes, now) -> bool:
    providers = criterion.get("ImageProviders")
    if providers:
        owners = {PROVIDERS.get(p) if p in PROVIDERS else p for p in providers} - {None}
        if image["owner_id"] not in owners:
            return False
    names = criterion.get("ImageNames")
    if names and not any(_name_pattern(n).fullmatch(image["name"] or "") for n in names):
        return False
    wanted = criterion.get("MarketplaceProductCodes")
    if wanted and not set(wanted) & set(codes):
        return False
    created = (criterion.get("CreationDateCondition") or {}).get("MaximumDaysSinceCreated")
    if created is not None and image["created_at"] < now - created * DAY:
        return False
    deprecated = (criterion.get("DeprecationTimeCondition") or {}).get("MaximumDaysSinceDeprecated")
    if deprecated is not None and image["deprecation_time"] is not None and image["deprecation_time"] <= now - deprecated * DAY:
        return False
    return True


def is_allowed(ctx, image, codes) -> bool:
    """`codes`: the image's product codes (strings)."""
    if image["owner_id"] == ctx.account_id:
        return True
    return any(_matches(cr, image, codes, ctx.now) for cr in settings(ctx)[1])


def image_filter(ctx):
    """The image-allowed filter: every image is allowed while the settings are disabled."""
    allowed = condition(ctx)
    if allowed is None:
        return None
    return lambda values, now: filter_sql.match_condition(allowed, values)


def check_launch(ctx, image) -> None:
    if not enforced(ctx) or image["owner_id"] == ctx.account_id:
        return
    codes = [c["product_code"] for c in image_store.product_codes(ctx.conn, [image["image_id"]])[image["image_id"]]]
    if not is_allowed(ctx, image, codes):
        # EC2 answers as for an image that doesn't exist (its error reference says so).
        raise ids.not_found("ami", [image["image_id"]])
