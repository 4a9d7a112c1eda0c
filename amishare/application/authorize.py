"""The authorization step of every call. Its rule lives beside the operations it
authorizes (`services/authorization.py`), so that access analysis asks the very same
function what it would decide."""

from amishare.services.authorization import authorize, refusal

__all__ = ["authorize", "refusal"]
