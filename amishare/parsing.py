"""Exact reading of numbers and timestamps from text, for every layer that reads them.

ASCII digits only (int() and float() would also take Arabic-Indic or full-width digits,
"1_000" and surrounding white space), and the whole text must match (a `$` anchor would
let a trailing newline through).
"""

import re
from datetime import datetime, timedelta, timezone

INTEGER_RE = re.compile(r"[-+]?[0-9]+")
DECIMAL_RE = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
ISO8601_RE = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[Tt ](?P<time>[0-9]{2}:[0-9]{2}(?::[0-9]{2})?)(?:\.(?P<fraction>[0-9]{1,9}))?"
    r"(?P<zone>[Zz]|[-+][0-9]{2}:?[0-9]{2})?)?"
)


def from_epoch(seconds) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def parse_timestamp(text: str) -> datetime | None:
    """An ISO 8601 timestamp (date, or date and time with optional fraction and zone; UTC when
    no zone is given) or epoch seconds, written exactly: nothing before or after it."""
    if DECIMAL_RE.fullmatch(text) and "e" not in text.lower():
        return from_epoch(float(text))
    match = ISO8601_RE.fullmatch(text)
    if match is None:
        return None
    time_part = match["time"] or "00:00:00"
    if len(time_part) == 5:
        time_part += ":00"
    zone = match["zone"] or "Z"
    offset = timedelta(0)
    if zone not in ("Z", "z"):
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if zone[0] == "-":
            offset = -offset
    try:
        moment = datetime.strptime(f"{match['date']}T{time_part}", "%Y-%m-%dT%H:%M:%S")
        moment += timedelta(microseconds=int((match["fraction"] or "0")[:6].ljust(6, "0")))
        return moment.replace(tzinfo=timezone(offset)).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None
