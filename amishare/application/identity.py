"""Who an access key belongs to, read fresh for every request.

The key's row is read on every request (with the principal's name, path and tags,
and the generations of the worker's caches, in one indexed query), so a deleted or deactivated key, or a deleted role's
sessions, stop working at once in every worker; only the decrypted secret is
remembered, in a bounded cache keyed by the stored ciphertext, so a changed key
is never served from it.

Temporary credentials (ASIA…) are valid only with their session token, which
must match; once expired they are still recognised, so the caller is told so.
"""

import hmac
import time
from collections import OrderedDict
from dataclasses import dataclass

from amishare.domain import iam, iam_passwords
from amishare.domain.principal import Principal
from amishare.domain.secretbox import SecretBox
from amishare.domain.sts import token_digest
from amishare.store.db import Store

_MAX_CACHED_SECRETS = 10_000


@dataclass(frozen=True)
class Identity:
    secret: str
    principal: Principal
    expired: bool = False  # temporary credentials past their expiration


class Identities:
    def __init__(self, store: Store, box: SecretBox):
        self.store = store
        self.box = box
        self._secrets: OrderedDict[tuple[str, str], str] = OrderedDict()

    def by_access_key(self, access_key_id: str, session_token: str | None = None,
                      now: float | None = None) -> Identity | None:
        """The key's secret and principal, or None for an unknown or inactive key, a temporary
        key without its session token, or a long-term key presented with one."""
        with self.store.single_read() as conn:  # one indexed read
            found = iam.credential(conn, access_key_id)
        if found is None or not found.active:
            return None
        if (found.token_hash is None) != (session_token is None):
            return None
        if found.token_hash is not None and not hmac.compare_digest(found.token_hash, token_digest(session_token)):
            return None
        expired = found.expires_at is not None and (time.time() if now is None else now) >= found.expires_at
        return Identity(self._secret(access_key_id, found.secret_ciphertext), found.principal, expired)

    def by_password(self, account_id: str, user_name: str, password: str) -> Principal | None:
        """The IAM user's principal if `password` is the user's console password (its login profile)."""
        with self.store.transaction(write=False) as conn:
            return iam_passwords.sign_in(conn, account_id, user_name, password)

    def by_user_id(self, user_id: str) -> Principal | None:
        """An IAM user signed in with a password, read fresh: None once the user or its password is deleted."""
        with self.store.transaction(write=False) as conn:
            return iam_passwords.user_principal(conn, user_id)

    def signed_in_user(self, user_id: str) -> tuple[Principal, bool] | None:
        """(principal, must the user set a new password first) of an IAM user signed in with a
        password, read fresh: None once the user or its password is deleted."""
        with self.store.transaction(write=False) as conn:
            return iam_passwords.signed_in_user(conn, user_id)

    def _secret(self, access_key_id: str, ciphertext: str) -> str:
        cache_key = (access_key_id, ciphertext)
        secret = self._secrets.get(cache_key)
        if secret is None:
            secret = self.box.open(ciphertext, access_key_id)
            self._secrets[cache_key] = secret
            if len(self._secrets) > _MAX_CACHED_SECRETS:
                self._secrets.popitem(last=False)
        else:
            self._secrets.move_to_end(cache_key)
        return secret
