"""Console sessions: an AES-GCM-sealed cookie (the SecretBox), so nothing is stored server side.

The cookie names who signed in (the access key, with its session token for temporary
credentials, or the IAM user who signed in with a password), when the session expires and
its CSRF token. The principal is resolved again on
every request, so a deleted or deactivated key, or a deleted password, ends its sessions.
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
    subject: str  # an access key id, or (kind "user") an IAM user id
    expires_at: float
    csrf: str
    kind: str = "key"
    token: str | None = None  # the session token of temporary credentials (sealed in the cookie)

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf.encode(), token.encode())


def new_session(subject: str, lifetime: float, kind: str = "key", now: float | None = None,
                token: str | None = None) -> Session:
    return Session(subject, (time.time() if now is None else now) + lifetime, secrets.token_urlsafe(24), kind, token)


def seal(box: SecretBox, session: Session) -> str:
    body = json.dumps({"k": session.subject, "e": session.expires_at, "c": session.csrf, "t": session.kind,
                       "s": session.token})
    return base64.urlsafe_b64encode(box.seal(body, _ASSOCIATED).encode()).decode()


def unseal(box: SecretBox, cookie: str | None, now: float | None = None) -> Session | None:
    """The session in `cookie`, or None if it is missing, forged or expired."""
    if not cookie:
        return None
    try:
        data = json.loads(box.open(base64.urlsafe_b64decode(cookie.encode()).decode(), _ASSOCIATED))
        token = data.get("s")
        session = Session(str(data["k"]), float(data["e"]), str(data["c"]), str(data.get("t", "key")),
                          str(token) if token is not None else None)
    except (ValueError, KeyError, TypeError, InvalidTag):
        return None
    if (time.time() if now is None else now) >= session.expires_at:
        return None
    return session
