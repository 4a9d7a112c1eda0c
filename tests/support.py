"""Test helpers: real servers on real databases, real clients. The server and its
accounts are amishare's own test machinery (amishare.testing); this adds the
throw-away PostgreSQL databases the suite runs on."""

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg

from amishare import testing
from amishare.testing.server import _client_config
from amishare.testing import Account, free_port  # noqa: F401  (the suite's names for them)

CLIENT_CONFIG = _client_config()  # clients that don't retry, as the suite's servers are local
PG_ADMIN_URL = os.environ.get("AMISHARE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Server(testing.Server):
    """The suite's servers keep new resources pending briefly, so that waiters are exercised."""

    state_delay: float = 0.05


def pg_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


class PgDatabase:
    """A throw-away PostgreSQL database for one test session."""

    def __init__(self):
        self.name = f"amishare_t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        self.url = f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{self.name}"

    def drop(self):
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def database_url(backend: str, tmp: Path):
    """(url, cleanup) for a fresh database of the given backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'amishare.db'}", lambda: None
    db = PgDatabase()
    return db.url, db.drop


def server_env(tmp: Path) -> dict:
    env = dict(os.environ)
    env["AMISHARE_MASTER_KEY_FILE"] = str(tmp / "master.key")
    env["AWS_CONFIG_FILE"] = str(tmp / "aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp / "aws-credentials")
    return env


def send_signed(server: "Server", account: Account, service: str, body, operation: str | None = None,
                region: str = "us-east-1", target: str | None = None) -> tuple[int, bytes]:
    """POST `body` (bytes or str) to the server signed with SigV4 as `account`, past every client-side
    check: for JSON services, `operation` names the X-Amz-Target (or `target` gives it whole); query
    services read the action from the form body. Returns (HTTP status, response body)."""
    import urllib.request
    from urllib.error import HTTPError

    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials

    from amishare.models import service_model

    model = service_model(service)
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    method, path = "POST", "/"
    if model.protocol == "json":
        headers = {"Content-Type": f"application/x-amz-json-{model.metadata['jsonVersion']}",
                   "X-Amz-Target": target or f"{model.metadata['targetPrefix']}.{operation}"}
    elif model.protocol == "rest-json":
        # The operation's method and path (the model's requestUri, placeholders filled in).
        import re

        http = model.operation_model(operation).http
        method, path = http["method"], re.sub(r"\{[^}]+\}", "abcdefghijk", http["requestUri"])
        headers = {"Content-Type": "application/json"}
    else:
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    creds = botocore.credentials.Credentials(account.access_key_id, account.secret_access_key)
    request = botocore.awsrequest.AWSRequest(method=method, url=server.endpoint + path, data=data, headers=headers)
    botocore.auth.SigV4Auth(creds, model.signing_name, region).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=data, headers=dict(prepared.headers), method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read()
    except HTTPError as exc:
        return exc.code, exc.read()


def wait_until(predicate, timeout=10.0, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not reached in time")


def expect_error(call, code: str, status: int | None = None) -> str:
    """Run `call`, which must fail with the AWS error `code` (and HTTP `status`); its message."""
    import pytest
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as exc:
        call()
    error = exc.value.response["Error"]
    assert error["Code"] == code, error
    if status is not None:
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    return error["Message"]


def policy_document(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
