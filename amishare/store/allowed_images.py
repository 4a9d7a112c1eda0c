"""Allowed AMIs settings, and their image criteria as SQL conditions on images."""

import json

from sqlalchemy import and_, bindparam, exists, false, insert, literal, or_, select, true, update

from amishare.store import generations
from amishare.store.filters import match_text
from amishare.store.prepared import Query
from amishare.store.schema import allowed_images_settings as t
from amishare.store.schema import image_product_codes as pc
from amishare.store.schema import images

c = images.c


_SETTINGS = Query(select(t.c.state, t.c.criteria).where(t.c.account_id == bindparam("account_id"),
                                                        t.c.region == bindparam("region")))


def get(conn, account_id, region):
    row = _SETTINGS.first(conn, account_id=account_id, region=region)
    if row is None:
        return None, []
    return row["state"], json.loads(row["criteria"])


def put(conn, account_id, region, state, criteria) -> None:
    generations.bump(conn, generations.ALLOWED_IMAGES, account_id)
    values = dict(state=state, criteria=json.dumps(criteria, sort_keys=True))
    where = (t.c.account_id == account_id, t.c.region == region)
    if conn.execute(update(t).where(*where).values(**values)).rowcount == 0:
        conn.execute(insert(t).values(account_id=account_id, region=region, **values))


def criterion_condition(criterion: dict, providers: dict, now: float):
    """One criterion: every part it names holds (`providers`: provider value -> owner id or None)."""
    parts = []
    if criterion.get("ImageProviders"):
        owners = [providers[p] for p in criterion["ImageProviders"] if providers.get(p)]
        parts.append(c.owner_id.in_(owners) if owners else false())
    if criterion.get("ImageNames"):
        parts.append(match_text(c.name, criterion["ImageNames"]))
    if criterion.get("MarketplaceProductCodes"):
        parts.append(exists(select(literal(1)).where(pc.c.image_id == c.image_id,
                                                     pc.c.product_code.in_(criterion["MarketplaceProductCodes"]))))
    created = (criterion.get("CreationDateCondition") or {}).get("MaximumDaysSinceCreated")
    if created is not None:
        parts.append(c.created_at >= now - created * 86400)
    deprecated = (criterion.get("DeprecationTimeCondition") or {}).get("MaximumDaysSinceDeprecated")
    if deprecated is not None:
        parts.append(c.deprecation_time.is_(None) | (c.deprecation_time > now - deprecated * 86400))
    return and_(*parts) if parts else true()


def allowed_condition(account_id, criteria, providers, now):
    """The caller's own images, and those matching any criterion."""
    return or_(c.owner_id == account_id, *[criterion_condition(cr, providers, now) for cr in criteria])
