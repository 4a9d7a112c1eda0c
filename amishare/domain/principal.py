"""Who is calling: the account root, an IAM user or an assumed-role session.

Built once per request by whoever authenticated it (the HTTP front end, the
console, the command line) and carried unchanged through authorization, the
operation, the audit trail and events.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    account_id: str
    kind: str = "root"  # root | user | assumed-role
    arn: str = ""
    unique_id: str = ""  # AWS's "userId": the account id for root, AIDA… for users, AROA…:session for roles
    name: str | None = None  # the user name, or the role name of a session
    session_name: str | None = None
    access_key_id: str | None = None
    tags: tuple[tuple[str, str], ...] = field(default=())
    # The account's IAM policy generation when the credential was read (None: unknown, don't cache).
    policy_generation: int | None = None
    # The generations of the organizations and of the account's Allowed AMIs settings when the
    # credential was read (store.generations; None: unknown, read them live).
    org_generation: int | None = None
    allowed_images_generation: int | None = None
    # For a role session: the role's ARN (with its path) and when the session was created
    # (the audit trail's sessionContext).
    issuer_arn: str | None = None
    session_created_at: float | None = None

    @classmethod
    def root(cls, account_id: str, access_key_id: str | None = None, **generations) -> "Principal":
        return cls(account_id, "root", f"arn:aws:iam::{account_id}:root", account_id, access_key_id=access_key_id,
                   **generations)

    @property
    def is_root(self) -> bool:
        return self.kind == "root"

    def tag(self, key: str) -> str | None:
        wanted = key.lower()  # aws:PrincipalTag keys compare case-insensitively, as on AWS
        for k, v in self.tags:
            if k.lower() == wanted:
                return v
        return None
