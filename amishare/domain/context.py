from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from amishare.config import Settings


@dataclass(frozen=True)
class Caller:
    account_id: str
    region: str
    access_key_id: str | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:root"


@dataclass
class Ctx:
    """Everything one API call works with: its transaction, its caller and its clock."""

    conn: Connection
    caller: Caller
    now: float
    settings: Settings
    request_id: str = ""
    secrets: object = None  # SecretBox, for operations that mint credentials
    memo: dict = field(default_factory=dict)  # per-call memo of facts read once (e.g. org membership)

    @property
    def account_id(self) -> str:
        return self.caller.account_id

    @property
    def region(self) -> str:
        return self.caller.region
