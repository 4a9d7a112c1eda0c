"""Operation handlers by service. A handler takes (ctx, params) and returns the
output structure of its botocore operation model as a dict.

Each handler is registered with what authorization needs to know about it: the
IAM action it is (``ec2:ModifyImageAttribute``) and how to name the resources
it touches. The application authorizes a call from that declaration, once,
before the handler runs.
"""

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable

from botocore import xform_name

from amishare.models import service_model

READ_PREFIXES = ("Describe", "Get", "List")

# resources(ctx, params) -> the ARNs (or Resource records) a call acts on; None means "*".
ResourceNamer = Callable[..., list]


@dataclass(frozen=True)
class Operation:
    service: str
    name: str
    handler: Callable
    writes: bool
    action: str
    resources: ResourceNamer | None = None
    # context(ctx, params) -> condition keys the request itself supplies (ec2:Add/group, …).
    context: Callable | None = None
    # The operation decides who may call it itself (sts:AssumeRole evaluates the role's trust
    # policy and the caller's policies), or AWS never refuses it (sts:GetCallerIdentity).
    authorizes_itself: bool = False
    # The resources it names carry a resource policy that must be evaluated even for an
    # account's root user (KMS key policies).
    resource_policies: bool = False


REGISTRY: dict[str, dict[str, Operation]] = {}


@lru_cache(maxsize=None)
def _operation_names(service: str) -> dict[str, str]:
    """snake_case function name -> the model's operation name (DescribeImages, CreateOrganizationalUnit, ...)."""
    return {xform_name(name): name for name in service_model(service).operation_names}


def iam_prefix(service: str) -> str:
    return service_model(service).signing_name


def operation(service: str, *, writes: bool | None = None, action: str | None = None,
              resources: ResourceNamer | None = None, context: Callable | None = None,
              authorizes_itself: bool = False, resource_policies: bool = False):
    def register(fn):
        name = _operation_names(service).get(fn.__name__)
        if name is None:
            raise LookupError(f"{service} has no operation named like {fn.__name__}")
        does_write = writes if writes is not None else not name.startswith(READ_PREFIXES)
        REGISTRY.setdefault(service, {})[name] = Operation(
            service, name, fn, does_write, action or f"{iam_prefix(service)}:{name}", resources, context,
            authorizes_itself, resource_policies)
        return fn

    return register


def lookup(service: str, name: str | None) -> Operation | None:
    return REGISTRY.get(service, {}).get(name or "")


def default_resources(service: str, namer_for: Callable[[str], ResourceNamer], context: Callable | None = None) -> None:
    """Name the resources (namer_for(operation name)) and request condition keys of every
    operation of `service` that doesn't declare its own."""
    for name, op in REGISTRY.get(service, {}).items():
        if op.resources is None:
            op = replace(op, resources=namer_for(name))
        if op.context is None and context is not None:
            op = replace(op, context=context)
        REGISTRY[service][name] = op


def load_all() -> None:
    from amishare.services import (  # noqa: F401  (registration by import)
        analysis, cloudtrail, ec2, events, iam, kms, organizations, rbin, sts)
