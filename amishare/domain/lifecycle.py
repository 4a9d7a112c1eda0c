"""Timed state transitions (pending -> available, running, completed ...).

A resource row stores its state and, while in transition, the state it moves
to and when. Reads settle the state against the clock, so nothing has to poll.
"""


def settled(row, now: float) -> str:
    next_at = row["next_state_at"]
    if row["next_state"] is not None and next_at is not None and next_at <= now:
        return row["next_state"]
    return row["state"]


def transition(state: str, target: str, now: float, delay: float) -> dict:
    """Column values for a resource entering `state` on its way to `target`."""
    if delay <= 0:
        return {"state": target, "next_state": None, "next_state_at": None}
    return {"state": state, "next_state": target, "next_state_at": now + delay}


def fixed(state: str) -> dict:
    return {"state": state, "next_state": None, "next_state_at": None}
