"""Who an access key belongs to, read fresh for every request.

The key's row is read on every request, so a deleted or deactivated key stops
working at once in every worker; only the decrypted secret is remembered, in a
bounded cache keyed by the stored ciphertext, so a changed key is never served
from it.
"""

from collections import OrderedDict
from dataclasses import dataclass

from amishare.domain import accounts
from amishare.domain.principal import Principal
from amishare.domain.secretbox import SecretBox
from amishare.store.db import Store

_MAX_CACHED_SECRETS = 10_000


@dataclass(frozen=True)
class Identity:
    secret: str
    principal: Principal


class Identities:
    def __init__(self, store: Store, box: SecretBox):
        self.store = store
        self.box = box
        self._secrets: OrderedDict[tuple[str, str], str] = OrderedDict()

    def by_access_key(self, access_key_id: str) -> Identity | None:
        """The active key's secret and principal, or None for an unknown or inactive key."""
        with self.store.transaction(write=False) as conn:
            row = accounts.key_row(conn, access_key_id)
        if row is None or row["status"] != "Active":
            return None
        secret = self._secret(access_key_id, row["secret_ciphertext"])
        return Identity(secret, Principal.root(row["account_id"], access_key_id))

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
