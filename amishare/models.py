"""botocore's service models: the single description of every wire shape. amishare's own
service (access analysis, `amishare`) is described the same way, in `service_models/`,
so that its parsing, serialization and clients (botocore with AWS_DATA_PATH) work alike."""

from functools import lru_cache
from pathlib import Path

import botocore.loaders
from botocore.model import ServiceModel


@lru_cache(maxsize=None)
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.Loader(extra_search_paths=[str(OWN_MODELS)])


OWN_MODELS = Path(__file__).resolve().parent / "service_models"


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
