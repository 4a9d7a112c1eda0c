"""botocore's service models: the single description of every wire shape."""

from functools import lru_cache

import botocore.loaders
from botocore.model import ServiceModel


@lru_cache(maxsize=None)
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.Loader()


@lru_cache(maxsize=None)
def service_model(name: str) -> ServiceModel:
    return ServiceModel(_loader().load_service_model(name, "service-2"), service_name=name)


@lru_cache(maxsize=None)
def operation_model(service: str, operation: str):
    return service_model(service).operation_model(operation)


@lru_cache(maxsize=None)
def commercial_regions() -> frozenset[str]:
    data = _loader().load_data("endpoints")
    for partition in data["partitions"]:
        if partition["partition"] == "aws":
            return frozenset(partition["regions"])
    raise RuntimeError("botocore endpoints data has no aws partition")
