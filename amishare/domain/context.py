from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from amishare.config import Settings
from amishare.domain.principal import Principal


@dataclass
class Ctx:
    """Everything one API call works with: its transaction, its principal, its Region and its clock."""

    conn: Connection
    principal: Principal
    region: str
    now: float
    settings: Settings
    request_id: str = ""
    secrets: object = None  # SecretBox, for operations that mint credentials
    memo: dict = field(default_factory=dict)  # per-call memo of facts read once (e.g. org membership)
    source_ip: str | None = None  # for aws:SourceIp
    secure_transport: bool = False  # for aws:SecureTransport

    @property
    def account_id(self) -> str:
        return self.principal.account_id
