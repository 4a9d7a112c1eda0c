"""Bad input gets an AWS-style client error, never an internal error: every operation is
called with nothing, and with a junk value for each parameter."""

import json
import urllib.request
from urllib.error import HTTPError
from urllib.parse import urlencode

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest

from amishare.models import service_model
from amishare.services import REGISTRY, load_all

load_all()

JUNK = {"string": "ami-zzz", "integer": "-1", "long": "99999999999999999999", "boolean": "maybe",
        "timestamp": "yesterday", "double": "nan-ish", "blob": "!!"}


def _send(server, account, service, operation, params):
    model = service_model(service)
    creds = botocore.credentials.Credentials(account.access_key_id, account.secret_access_key)
    if model.protocol == "json":
        body = json.dumps(params).encode()
        headers = {"Content-Type": f"application/x-amz-json-{model.metadata['jsonVersion']}",
                   "X-Amz-Target": f"{model.metadata['targetPrefix']}.{operation}"}
    else:
        body = urlencode({"Action": operation, "Version": model.api_version, **params}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    request = botocore.awsrequest.AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers=headers)
    botocore.auth.SigV4Auth(creds, model.signing_name, "us-east-1").add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=body, headers=dict(prepared.headers), method="POST")
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, resp.read().decode()
    except HTTPError as exc:
        return exc.code, exc.read().decode()


def _junk_params(service, operation):
    shape = service_model(service).operation_model(operation).input_shape
    if shape is None:
        return []
    variants = []
    for name, member in shape.members.items():
        if service_model(service).protocol == "json":
            value = {"string": 12345, "integer": "x", "long": "x", "boolean": "x", "list": "x",
                     "structure": "x", "map": "x", "timestamp": "x", "blob": 5}.get(member.type_name, "x")
            variants.append({name: value})
        else:
            key = member.serialization.get("name", name)
            key = key[0].upper() + key[1:] if service_model(service).protocol == "ec2" else key
            if member.type_name in ("list", "structure", "map"):
                variants.append({f"{key}.1": "junk"})
            else:
                variants.append({key: JUNK.get(member.type_name, "junk")})
    return variants


CASES = [(service, operation) for service in sorted(REGISTRY) for operation in sorted(REGISTRY[service])]


@pytest.mark.parametrize("service,operation", CASES)
def test_operation_never_fails_internally(server, alice, service, operation):
    for params in [{}] + _junk_params(service, operation):
        status, body = _send(server, alice, service, operation, params)
        assert status < 500, f"{operation} {params}: {status} {body[:500]}"
