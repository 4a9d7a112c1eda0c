"""SQL of EventBridge: rules and targets by account and Region, connections, API
destinations, the delivery outbox (taken by workers through its `due_at` index) and
dead letters."""

from sqlalchemy import and_, delete, func, insert, select, update

from amishare.store import paging
from amishare.store.db import transaction_memo
from amishare.store.schema import (
    event_api_destinations,
    event_connections,
    event_dead_letters,
    event_outbox,
    event_rules,
    event_targets,
    images,
)


def _scope(t, account_id, region):
    return and_(t.c.account_id == account_id, t.c.region == region)


_RULES_MEMO = "enabled_event_rules"


def _rules_changed(conn) -> None:
    """What this transaction read of the buses' rules and targets is stale from here on."""
    transaction_memo(conn).pop(_RULES_MEMO, None)


# --- rules


def rule(conn, account_id, region, name):
    t = event_rules
    return conn.execute(select(t).where(_scope(t, account_id, region), t.c.name == name)).mappings().first()


def insert_rule(conn, **values):
    _rules_changed(conn)
    conn.execute(insert(event_rules).values(**values))


def update_rule(conn, account_id, region, name, **values):
    _rules_changed(conn)
    t = event_rules
    conn.execute(update(t).where(_scope(t, account_id, region), t.c.name == name).values(**values))


def delete_rule(conn, account_id, region, name):
    _rules_changed(conn)
    t = event_rules
    conn.execute(delete(t).where(_scope(t, account_id, region), t.c.name == name))


def rules_page(conn, account_id, region, prefix, after, limit):
    t = event_rules
    query = select(t).where(_scope(t, account_id, region))
    if prefix:
        query = query.where(t.c.name >= prefix, t.c.name < prefix + "\U0010ffff")
    return paging.page(conn, query, t.c.name, after, limit)


def rule_count(conn, account_id, region) -> int:
    t = event_rules
    return conn.execute(select(func.count()).select_from(t).where(_scope(t, account_id, region))).scalar_one()


def enabled_rules_with_targets(conn, account_id, region):
    """Every enabled rule of the bus with its targets, one row per (rule, target): what an event
    is matched against. Bounded by the rules-per-bus quota. Read once per bus and transaction:
    the audit trail's writer publishes a whole batch of records in one transaction, most of
    them to buses with no rule at all."""
    memo = transaction_memo(conn).setdefault(_RULES_MEMO, {})
    found = memo.get((account_id, region))
    if found is None:
        found = memo[(account_id, region)] = _enabled_rules_with_targets(conn, account_id, region)
    return found


def _enabled_rules_with_targets(conn, account_id, region):
    r, t = event_rules, event_targets
    query = (select(r.c.name, r.c.event_pattern, t.c.target_id, t.c.arn, t.c.config)
             .select_from(r.join(t, and_(t.c.account_id == r.c.account_id, t.c.region == r.c.region,
                                         t.c.rule_name == r.c.name)))
             .where(_scope(r, account_id, region), r.c.state != "DISABLED", r.c.event_pattern.is_not(None)))
    return conn.execute(query).mappings().all()


# --- targets


def targets(conn, account_id, region, rule_name):
    t = event_targets
    query = select(t).where(_scope(t, account_id, region), t.c.rule_name == rule_name).order_by(t.c.target_id)
    return conn.execute(query).mappings().all()


def put_target(conn, account_id, region, rule_name, target_id, arn, config):
    _rules_changed(conn)
    t = event_targets
    key = and_(_scope(t, account_id, region), t.c.rule_name == rule_name, t.c.target_id == target_id)
    if conn.execute(update(t).where(key).values(arn=arn, config=config)).rowcount == 0:
        conn.execute(insert(t).values(account_id=account_id, region=region, rule_name=rule_name,
                                      target_id=target_id, arn=arn, config=config))


def delete_targets(conn, account_id, region, rule_name, target_ids=None) -> int:
    _rules_changed(conn)
    t = event_targets
    query = delete(t).where(_scope(t, account_id, region), t.c.rule_name == rule_name)
    if target_ids is not None:
        query = query.where(t.c.target_id.in_(list(target_ids)))
    return conn.execute(query).rowcount


# --- connections and API destinations


def connection(conn, account_id, region, name):
    t = event_connections
    return conn.execute(select(t).where(_scope(t, account_id, region), t.c.name == name)).mappings().first()


def insert_connection(conn, **values):
    conn.execute(insert(event_connections).values(**values))


def delete_connection(conn, account_id, region, name):
    t = event_connections
    conn.execute(delete(t).where(_scope(t, account_id, region), t.c.name == name))


def api_destination(conn, account_id, region, name):
    t = event_api_destinations
    return conn.execute(select(t).where(_scope(t, account_id, region), t.c.name == name)).mappings().first()


def insert_api_destination(conn, **values):
    conn.execute(insert(event_api_destinations).values(**values))


def delete_api_destination(conn, account_id, region, name):
    t = event_api_destinations
    conn.execute(delete(t).where(_scope(t, account_id, region), t.c.name == name))


def api_destinations_page(conn, account_id, region, prefix, connection_arn, after, limit):
    t = event_api_destinations
    query = select(t).where(_scope(t, account_id, region))
    if prefix:
        query = query.where(t.c.name >= prefix, t.c.name < prefix + "\U0010ffff")
    if connection_arn:
        query = query.where(t.c.connection_arn == connection_arn)
    return paging.page(conn, query, t.c.name, after, limit)


def destinations_using(conn, account_id, region, connection_arn) -> int:
    t = event_api_destinations
    return conn.execute(select(func.count()).select_from(t).where(
        _scope(t, account_id, region), t.c.connection_arn == connection_arn)).scalar_one()


# --- the outbox


def enqueue(conn, **values):
    conn.execute(insert(event_outbox).values(attempts=0, lease_owner=None, last_error=None, **values))


def due(conn, now, limit):
    t = event_outbox
    query = select(t).where(t.c.due_at <= now).order_by(t.c.due_at).limit(limit)
    return conn.execute(query).mappings().all()


def claim(conn, delivery_id, seen_due_at, owner, lease_until) -> bool:
    """Take the delivery if no other worker took it since it was read."""
    t = event_outbox
    query = (update(t).where(t.c.delivery_id == delivery_id, t.c.due_at == seen_due_at)
             .values(due_at=lease_until, lease_owner=owner))
    return conn.execute(query).rowcount == 1


def finish(conn, delivery_id, owner) -> bool:
    t = event_outbox
    return conn.execute(delete(t).where(t.c.delivery_id == delivery_id, t.c.lease_owner == owner)).rowcount == 1


def reschedule(conn, delivery_id, owner, due_at, attempts, error) -> bool:
    t = event_outbox
    query = (update(t).where(t.c.delivery_id == delivery_id, t.c.lease_owner == owner)
             .values(due_at=due_at, attempts=attempts, lease_owner=None, last_error=error))
    return conn.execute(query).rowcount == 1


def pending_count(conn, account_id=None) -> int:
    t = event_outbox
    query = select(func.count()).select_from(t)
    if account_id:
        query = query.where(t.c.account_id == account_id)
    return conn.execute(query).scalar_one()


def insert_dead_letter(conn, **values):
    conn.execute(insert(event_dead_letters).values(**values))


def dead_letters(conn, account_id, region, after=None, limit=100):
    t = event_dead_letters
    query = select(t).where(_scope(t, account_id, region))
    return paging.page(conn, query, t.c.dead_letter_id, after, limit)


# --- images whose timed state has come due


def due_images(conn, now, limit):
    t = images
    query = (select(t.c.image_id, t.c.region, t.c.owner_id, t.c.next_state, t.c.next_state_at)
             .where(t.c.next_state_at <= now, t.c.next_state.is_not(None)).order_by(t.c.next_state_at).limit(limit))
    return conn.execute(query).mappings().all()


def settle_image(conn, image_id, next_state, next_state_at) -> bool:
    """Write the image's settled state, if no one else did since it was read."""
    t = images
    query = (update(t).where(t.c.image_id == image_id, t.c.next_state == next_state,
                             t.c.next_state_at == next_state_at)
             .values(state=next_state, next_state=None, next_state_at=None))
    return conn.execute(query).rowcount == 1


def purge_dead_letters(conn, before: float, limit: int = 1000) -> int:
    t = event_dead_letters
    old = select(t.c.dead_letter_id).where(t.c.failed_at < before).order_by(t.c.failed_at).limit(limit)
    return conn.execute(delete(t).where(t.c.dead_letter_id.in_(old.scalar_subquery()))).rowcount
