"""Operation handlers by service. A handler takes (ctx, params) and returns the
output structure of its botocore operation model as a dict."""

from dataclasses import dataclass
from typing import Callable

READ_PREFIXES = ("Describe", "Get", "List")


@dataclass(frozen=True)
class Operation:
    name: str
    handler: Callable
    writes: bool


REGISTRY: dict[str, dict[str, Operation]] = {}


def operation(service: str, name: str | None = None, writes: bool | None = None):
    def register(fn):
        op_name = name or "".join(part.capitalize() for part in fn.__name__.split("_"))
        does_write = writes if writes is not None else not op_name.startswith(READ_PREFIXES)
        REGISTRY.setdefault(service, {})[op_name] = Operation(op_name, fn, does_write)
        return fn

    return register


def load_all() -> None:
    from amishare.services import ec2, kms, organizations, sts  # noqa: F401  (registration by import)
