"""Console sessions: an AES-GCM-sealed cookie (the SecretBox), so nothing is stored server side.

The cookie names the access key the user signed in with, when the session expires and its
CSRF token. The principal is resolved from the key again on every request, so a deleted or
deactivated key ends its sessions at once.
"""

import base64
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag

from amishare.domain.secretbox import SecretBox

COOKIE = "amishare_console"
LOGIN_COOKIE = "amishare_console_login"  # the CSRF token of the sign-in form (double submit)
_ASSOCIATED = "amishare-console-session"


@dataclass(frozen=True)
class Session:
    access_key_id: str
    expires_at: float
    csrf: str

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf.encode(), token.encode())


def new_session(access_key_id: str, lifetime: float, now: float | None = None) -> Session:
    return Session(access_key_id, (time.time() if now is None else now) + lifetime, secrets.token_urlsafe(24))


def seal(box: SecretBox, session: Session) -> str:
    body = json.dumps({"k": session.access_key_id, "e": session.expires_at, "c": session.csrf})
    return base64.urlsafe_b64encode(box.seal(body, _ASSOCIATED).encode()).decode()


def unseal(box: SecretBox, cookie: str | None, now: float | None = None) -> Session | None:
    """The session in `cookie`, or None if it is missing, forged or expired."""
    if not cookie:
        return None
    try:
        data = json.loads(box.open(base64.urlsafe_b64decode(cookie.encode()).decode(), _ASSOCIATED))
        session = Session(str(data["k"]), float(data["e"]), str(data["c"]))
    except (ValueError, KeyError, TypeError, InvalidTag):
        return None
    if (time.time() if now is None else now) >= session.expires_at:
        return None
    return session
