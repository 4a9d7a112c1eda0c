"""One call of one operation by one principal, and how it ended."""

import uuid
from dataclasses import dataclass, field

from amishare.domain.principal import Principal
from amishare.errors import AwsError


@dataclass
class Call:
    principal: Principal
    region: str
    service: str  # the wire service name: ec2, kms, organizations, sts
    operation: str  # the model's operation name: DescribeImages
    params: dict
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    dry_run: bool = False
    source_ip: str | None = None
    user_agent: str | None = None
    secure_transport: bool = False


@dataclass
class Outcome:
    """What a call produced: a result, or the error it was refused or failed with."""

    result: dict | None = None
    error: AwsError | None = None
    dry_run_passed: bool = False
    started_at: float = 0.0
    finished_at: float = 0.0
    # Why the transaction was run again, once per retry: "conflict" (a unique key) or "lock".
    retries: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.error is None
