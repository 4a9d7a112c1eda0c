"""IAM users' console passwords (login profiles): Create/Get/Update/DeleteLoginProfile, and
signing in with one.

Only a salted scrypt hash is stored; checking a password costs the same whether or not
the user or its profile exists, and compares in constant time.
"""

import base64
import hashlib
import hmac
import os

from amishare.domain import iam_common as common
from amishare.domain.principal import Principal
from amishare.errors import AwsError
from amishare.store import iam as store

MIN_LENGTH = 8
_N, _R, _P, _LEN = 2 ** 14, 8, 1, 32


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_LEN)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def password_matches(stored: str, password: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return scheme == "scrypt" and hmac.compare_digest(expected, actual)


_DUMMY = hash_password("not a password", b"0" * 16)


def _check_policy(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise AwsError("PasswordPolicyViolation",
                       f"Password should have a minimum length of {MIN_LENGTH}", 400)


def _user(ctx, user_name: str | None):
    if user_name is None:
        principal = ctx.principal
        if principal.kind != "user":
            raise common.invalid_input("Must specify a user name when calling as the root user or a role.")
        user_name = principal.name
    return common.find(ctx, "user", user_name, lock=True)


def _view(user, profile) -> dict:
    return {"UserName": user["name"], "CreateDate": profile["created_at"],
            "PasswordResetRequired": bool(profile["password_reset_required"])}


def _not_found(user) -> AwsError:
    return common.no_such_entity(f"Login Profile for User {user['name']} cannot be found.")


def create_login_profile(ctx, user_name: str | None, password: str | None, reset_required: bool | None) -> dict:
    user = _user(ctx, user_name)
    if password is None:
        raise common.invalid_input("A password is required to create a login profile.")
    if store.login_profile(ctx.conn, user["user_id"]) is not None:
        raise common.entity_exists(f"Login Profile for user {user['name']} already exists.")
    _check_policy(password)
    store.put_login_profile(ctx.conn, user["user_id"], account_id=ctx.account_id, password_hash=hash_password(password),
                            password_reset_required=bool(reset_required), created_at=ctx.now)
    return _view(user, store.login_profile(ctx.conn, user["user_id"]))


def get_login_profile(ctx, user_name: str | None) -> dict:
    user = _user(ctx, user_name)
    profile = store.login_profile(ctx.conn, user["user_id"])
    if profile is None:
        raise _not_found(user)
    return _view(user, profile)


def update_login_profile(ctx, user_name: str, password: str | None, reset_required: bool | None) -> None:
    user = _user(ctx, user_name)
    if store.login_profile(ctx.conn, user["user_id"]) is None:
        raise _not_found(user)
    values = {}
    if password is not None:
        _check_policy(password)
        values["password_hash"] = hash_password(password)
    if reset_required is not None:
        values["password_reset_required"] = bool(reset_required)
    if values:
        store.put_login_profile(ctx.conn, user["user_id"], **values)


def delete_login_profile(ctx, user_name: str | None) -> None:
    user = _user(ctx, user_name)
    if not store.delete_login_profile(ctx.conn, user["user_id"]):
        raise _not_found(user)


def has_login_profile(conn, user_id: str) -> bool:
    return store.login_profile(conn, user_id) is not None


def user_principal(conn, user_id: str) -> Principal | None:
    """The principal of an IAM user signed in with a password, while user and password exist."""
    user = store.entity_by_id(conn, "user", user_id)
    if user is None or store.login_profile(conn, user_id) is None:
        return None
    return Principal(user["account_id"], "user", common.row_arn("user", user), user["user_id"], user["name"], None,
                     None, common.tag_pairs(user["tags"]))


def sign_in(conn, account_id: str, user_name: str, password: str) -> Principal | None:
    """The user's principal if `password` is theirs; None otherwise (taking as long either way)."""
    user = store.entity_by_name(conn, "user", account_id, user_name) if account_id.isdigit() else None
    profile = store.login_profile(conn, user["user_id"]) if user is not None else None
    matches = password_matches(profile["password_hash"] if profile else _DUMMY, password)
    if not matches or profile is None:
        return None
    return user_principal(conn, user["user_id"])
