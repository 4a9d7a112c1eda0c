"""IAM users' console passwords (login profiles): Create/Get/Update/DeleteLoginProfile,
ChangePassword, the account password policy (Update/Get/DeleteAccountPasswordPolicy), and
signing in with a password.

Only a salted scrypt hash is stored; checking a password costs the same whether or not
the user or its profile exists, and compares in constant time. The password policy is an
account setting (IAM is global: its Region is "global"); new passwords must meet it.
"""

import base64
import hashlib
import hmac
import os

from amishare.domain import iam_common as common
from amishare.domain.principal import Principal
from amishare.errors import AwsError
from amishare.store import iam as store
from amishare.store import settings as settings_store

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


def _check_policy(conn, account_id: str, password: str) -> None:
    policy = _stored_policy(conn, account_id)
    if policy is None:
        if len(password) < MIN_LENGTH:
            raise AwsError("PasswordPolicyViolation",
                           f"Password should have a minimum length of {MIN_LENGTH}", 400)
        return
    if not _meets(policy, password):
        raise AwsError("PasswordPolicyViolation", "Password does not conform to the account password policy.", 400)


def _meets(policy: dict, password: str) -> bool:
    classes = {
        "RequireSymbols": any(not c.isalnum() and not c.isspace() for c in password),
        "RequireNumbers": any(c.isdigit() for c in password),
        "RequireUppercaseCharacters": any("A" <= c <= "Z" for c in password),
        "RequireLowercaseCharacters": any("a" <= c <= "z" for c in password),
    }
    return len(password) >= policy["MinimumPasswordLength"] and all(
        present for name, present in classes.items() if policy[name])


# --- the account password policy

_POLICY_SETTING = "iam-password-policy"
_GLOBAL = "global"
_BOOLEANS = ("RequireSymbols", "RequireNumbers", "RequireUppercaseCharacters", "RequireLowercaseCharacters",
             "AllowUsersToChangePassword", "HardExpiry")
_DEFAULT_MIN_LENGTH = 6  # what UpdateAccountPasswordPolicy sets when MinimumPasswordLength is left out


def _stored_policy(conn, account_id: str) -> dict | None:
    row = settings_store.get_setting(conn, account_id, _GLOBAL, _POLICY_SETTING)
    if row is None:
        return None
    fields = dict(part.split("=", 1) for part in row["value"].split(";"))
    policy = {"MinimumPasswordLength": int(fields["min"])}
    policy.update({name: fields.get(name) == "1" for name in _BOOLEANS})
    if int(fields.get("age", 0)):
        policy["MaxPasswordAge"] = int(fields["age"])
    if int(fields.get("reuse", 0)):
        policy["PasswordReusePrevention"] = int(fields["reuse"])
    return policy


def update_account_password_policy(ctx, params: dict) -> None:
    """Replace the policy: every parameter left out takes its default, as IAM does."""
    values = {"min": str(params.get("MinimumPasswordLength") or _DEFAULT_MIN_LENGTH),
              "age": str(params.get("MaxPasswordAge") or 0), "reuse": str(params.get("PasswordReusePrevention") or 0)}
    values.update({name: "1" if params.get(name) else "0" for name in _BOOLEANS})
    settings_store.put_setting(ctx.conn, ctx.account_id, _GLOBAL, _POLICY_SETTING,
                               ";".join(f"{k}={v}" for k, v in values.items()))


def get_account_password_policy(ctx) -> dict:
    policy = _stored_policy(ctx.conn, ctx.account_id)
    if policy is None:
        raise common.no_such_entity(f"The Password Policy with domain name {ctx.account_id} cannot be found.")
    policy["ExpirePasswords"] = "MaxPasswordAge" in policy
    return policy


def delete_account_password_policy(ctx) -> None:
    if _stored_policy(ctx.conn, ctx.account_id) is None:
        raise common.no_such_entity("The account policy with name PasswordPolicy cannot be found.")
    settings_store.delete_setting(ctx.conn, ctx.account_id, _GLOBAL, _POLICY_SETTING)


def change_password(ctx, old_password: str, new_password: str) -> None:
    """The calling IAM user's own password; a successful change clears PasswordResetRequired."""
    principal = ctx.principal
    if principal.kind != "user":
        raise AwsError("InvalidUserType", "Only IAM users can change their own password.", 400)
    user = common.find(ctx, "user", principal.name, lock=True)
    profile = store.login_profile(ctx.conn, user["user_id"])
    if profile is None:
        raise _not_found(user)
    if not password_matches(profile["password_hash"], old_password):
        raise AwsError("InvalidUserType", "The old password is incorrect.", 400)
    _check_policy(ctx.conn, ctx.account_id, new_password)
    store.put_login_profile(ctx.conn, user["user_id"], password_hash=hash_password(new_password),
                            password_reset_required=False)


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
    _check_policy(ctx.conn, ctx.account_id, password)
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
        _check_policy(ctx.conn, ctx.account_id, password)
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
    signed_in = signed_in_user(conn, user_id)
    return signed_in[0] if signed_in is not None else None


def signed_in_user(conn, user_id: str) -> tuple[Principal, bool] | None:
    """(principal, whether the user must set a new password first) while user and password exist."""
    user = store.entity_by_id(conn, "user", user_id)
    profile = store.login_profile(conn, user_id) if user is not None else None
    if profile is None:
        return None
    return Principal(user["account_id"], "user", common.row_arn("user", user), user["user_id"], user["name"], None,
                     None, common.tag_pairs(user["tags"])), bool(profile["password_reset_required"])


def sign_in(conn, account_id: str, user_name: str, password: str) -> Principal | None:
    """The user's principal if `password` is theirs; None otherwise (taking as long either way)."""
    user = store.entity_by_name(conn, "user", account_id, user_name) if account_id.isdigit() else None
    profile = store.login_profile(conn, user["user_id"]) if user is not None else None
    matches = password_matches(profile["password_hash"] if profile else _DUMMY, password)
    if not matches or profile is None:
        return None
    return user_principal(conn, user["user_id"])
