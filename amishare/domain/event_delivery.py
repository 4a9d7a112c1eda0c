"""The rules of delivering the outbox: who takes a delivery, when it is tried again, and
when it is given up on (then recorded as a dead letter).

A delivery is taken with a lease: taking it moves its `due_at` to the end of the lease
and names the taker, so a worker that dies mid-delivery loses nothing (the row comes
due again when the lease lapses) and two workers don't deliver the same row in normal
operation. Delivery is at least once: a worker that delivered but died before
recording it delivers again after the lease.

A target's RetryPolicy bounds the retries (MaximumRetryAttempts, default 185) and the
event's age (MaximumEventAgeInSeconds, default 24 hours); the backoff between tries
is exponential with jitter.
"""

import json
import random

from amishare.store import events as store

DEFAULT_RETRIES = 185
DEFAULT_AGE = 86400


def take(conn, now: float, owner: str, lease: float, limit: int) -> list[dict]:
    """Deliveries due now, taken by `owner` until `now + lease`."""
    taken = []
    for row in store.due(conn, now, limit):
        if store.claim(conn, row["delivery_id"], row["due_at"], owner, now + lease):
            taken.append(dict(row, lease_owner=owner))
    return taken


def has_due(conn, now: float) -> bool:
    return bool(store.due(conn, now, 1))


def delivered(conn, row: dict) -> None:
    store.finish(conn, row["delivery_id"], row["lease_owner"])


def failed(conn, row: dict, now: float, code: str, message: str, retryable: bool, base: float, cap: float) -> bool:
    """Record a failed try: schedule the next one, or give up and keep a dead letter. True if given up."""
    policy = json.loads(row["target"]).get("RetryPolicy") or {}
    max_retries = policy.get("MaximumRetryAttempts", DEFAULT_RETRIES)
    max_age = policy.get("MaximumEventAgeInSeconds", DEFAULT_AGE)
    attempts = row["attempts"] + 1
    delay = min(cap, base * (2 ** min(row["attempts"], 30))) * (0.5 + random.random() / 2)
    exhausted = None
    if not retryable:
        exhausted = "NotRetryable"
    elif attempts > max_retries:
        exhausted = "MaximumRetryAttempts"
    elif now + delay - row["created_at"] > max_age:
        exhausted = "MaximumEventAgeInSeconds"
    if exhausted is None:
        store.reschedule(conn, row["delivery_id"], row["lease_owner"], now + delay, attempts, message[:512])
        return False
    if store.finish(conn, row["delivery_id"], row["lease_owner"]):
        target = json.loads(row["target"])
        store.insert_dead_letter(
            conn, account_id=row["account_id"], region=row["region"], rule_name=row["rule_name"],
            target_id=row["target_id"], target_arn=row["target_arn"],
            dead_letter_arn=(target.get("DeadLetterConfig") or {}).get("Arn"), event_id=row["event_id"],
            body=row["body"], error_code=code, error_message=f"{message} ({exhausted})"[:512], attempts=attempts,
            failed_at=now)
    return True


def dead_letters(conn, account_id: str, region: str, after: int | None = None, limit: int = 100) -> list[dict]:
    """Failed deliveries of an account and Region, oldest first, as `amishare events dead-letters` lists them."""
    return [{"DeadLetterId": r["dead_letter_id"], "Rule": r["rule_name"], "TargetId": r["target_id"],
             "TargetArn": r["target_arn"], "DeadLetterArn": r["dead_letter_arn"], "EventId": r["event_id"],
             "ErrorCode": r["error_code"], "ErrorMessage": r["error_message"], "Attempts": r["attempts"],
             "FailedAt": r["failed_at"], "Body": r["body"]}
            for r in store.dead_letters(conn, account_id, region, after, limit)]


def purge_dead_letters(conn, now: float, retention_days: float) -> int:
    """Forget dead letters older than the retention (SQS keeps a message at most 14 days)."""
    return store.purge_dead_letters(conn, now - retention_days * 86400)


def settle_due_images_exist(conn, now: float) -> bool:
    return bool(store.due_images(conn, now, 1))
