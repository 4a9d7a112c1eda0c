"""Accounts and their access keys."""

import re
import secrets
import string
import time
from dataclasses import dataclass

from amishare.domain import ids
from amishare.domain.secretbox import SecretBox
from amishare.errors import AwsError
from amishare.store import accounts as store

_KEY_ALPHABET = string.ascii_uppercase + "234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"
# AWS's formats: AKIA and 16 upper-case base32 characters; a 40-character base64 secret.
ACCESS_KEY_ID_RE = re.compile(r"AKIA[A-Z2-7]{16}")
SECRET_RE = re.compile(r"[A-Za-z0-9+/]{40}")


@dataclass(frozen=True)
class NewCredentials:
    account_id: str
    access_key_id: str
    secret_access_key: str
    created_at: float = 0.0


def new_access_key_id(prefix: str = "AKIA") -> str:
    """AKIA… for long-term keys, ASIA… for temporary ones."""
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def new_secret() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def check_given_key(conn, access_key_id: str, secret_access_key: str) -> None:
    """An access key chosen by the caller: in AWS's formats, and not already in use."""
    if not isinstance(access_key_id, str) or not ACCESS_KEY_ID_RE.fullmatch(access_key_id):
        raise AwsError("InvalidParameterValue", f"Access key id '{access_key_id}' must be AKIA followed by 16 "
                                                "upper-case letters A-Z or digits 2-7.")
    if not isinstance(secret_access_key, str) or not SECRET_RE.fullmatch(secret_access_key):
        raise AwsError("InvalidParameterValue", "The secret access key must be 40 characters: letters, digits, "
                                                "'+' and '/'.")
    if store.get_access_key(conn, access_key_id) is not None:
        raise AwsError("EntityAlreadyExists", f"Access key {access_key_id} is already in use.")


def create_account(conn, box: SecretBox, account_id: str | None = None, name: str | None = None,
                   email: str | None = None, access_key_id: str | None = None,
                   secret_access_key: str | None = None) -> NewCredentials:
    """A new account and its first access key: a new one, or the one given (both parts)."""
    if (access_key_id is None) != (secret_access_key is None):
        raise AwsError("MissingParameter", "An access key id and its secret access key are given together.")
    if access_key_id is not None:
        check_given_key(conn, access_key_id, secret_access_key)
    if account_id is None:
        account_id = ids.new_account_id()
        while store.get_account(conn, account_id) is not None:
            account_id = ids.new_account_id()
    elif not ids.is_account_id(account_id):
        raise AwsError("InvalidParameterValue", f"Account id '{account_id}' must be 12 digits.")
    elif store.get_account(conn, account_id) is not None:
        raise AwsError("DuplicateAccountException", f"Account {account_id} already exists.")
    now = time.time()
    store.insert_account(
        conn, account_id=account_id, name=name or f"account-{account_id}", email=email,
        kind="customer", alias=None, created_at=now,
    )
    return add_access_key(conn, box, account_id, access_key_id=access_key_id, secret_access_key=secret_access_key)


def add_access_key(conn, box: SecretBox, account_id: str, user_id: str | None = None,
                   access_key_id: str | None = None, secret_access_key: str | None = None) -> NewCredentials:
    """A new active key for the account's root user, or for its IAM user `user_id`; with
    `access_key_id` and `secret_access_key`, those fixed values (validated by the caller)."""
    key_id, secret, now = access_key_id or new_access_key_id(), secret_access_key or new_secret(), time.time()
    store.insert_access_key(
        conn, access_key_id=key_id, account_id=account_id, user_id=user_id,
        secret_ciphertext=box.seal(secret, key_id), status="Active", created_at=now,
    )
    return NewCredentials(account_id, key_id, secret, now)


def ensure_system_account(conn, account_id: str, name: str, alias: str) -> None:
    if store.get_account(conn, account_id) is None:
        store.insert_account(conn, account_id=account_id, name=name, email=None, kind="system",
                             alias=alias, created_at=time.time())


def exists(conn, account_id: str) -> bool:
    return store.get_account(conn, account_id) is not None


def key_row(conn, access_key_id: str):
    """The stored access key (account, status, sealed secret), or None."""
    return store.get_access_key(conn, access_key_id)


def list_accounts(conn) -> list[dict]:
    out = []
    for row in store.list_accounts(conn):
        if row["kind"] != "customer":
            continue
        out.append({
            "AccountId": row["account_id"],
            "Name": row["name"],
            "AccessKeyIds": [k["access_key_id"] for k in store.keys_of(conn, row["account_id"])],
        })
    return out


def credentials_of(conn, box: SecretBox, account_id: str) -> NewCredentials | None:
    keys = store.keys_of(conn, account_id)
    if not keys:
        return None
    first = min(keys, key=lambda k: k["created_at"])
    return NewCredentials(account_id, first["access_key_id"], box.open(first["secret_ciphertext"], first["access_key_id"]))
