"""Test helpers: real servers on real databases, real clients."""

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import botocore.config
import psycopg

PG_ADMIN_URL = os.environ.get("AMISHARE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
CLIENT_CONFIG = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


@dataclass(frozen=True)
class Account:
    """Credentials of an account's root user, an IAM user (long-term key) or a role session."""

    account_id: str
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


@dataclass
class Server:
    db_url: str
    port: int
    env: dict
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    accounts: list = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, state_delay: float = 0.05) -> "Server":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "amishare", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--db", self.db_url, "--state-delay", str(state_delay)],
            stdout=log, stderr=subprocess.STDOUT, env=self.env,
        )
        return self._wait()

    def _wait(self) -> "Server":
        deadline = time.time() + 60
        import urllib.request

        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/_amishare/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            self.process.wait(timeout=30)

    def cli(self, *args: str) -> str:
        return subprocess.check_output([sys.executable, "-m", "amishare", *args], env=self.env, text=True)

    def new_account(self, account_id: str | None = None) -> Account:
        """Create an account straight in the database the server uses (as the CLI does)."""
        from amishare.domain import accounts
        from amishare.domain.secretbox import SecretBox
        from amishare.store.db import open_store

        store = open_store(self.db_url, run_migrations=False)
        try:
            with store.transaction() as conn:
                box = SecretBox.from_file(Path(self.env["AMISHARE_MASTER_KEY_FILE"]))
                creds = accounts.create_account(conn, box, account_id=account_id)
        finally:
            store.dispose()
        return Account(creds.account_id, creds.access_key_id, creds.secret_access_key)

    def new_user(self, account: Account, name: str, policy_arns=(), path: str = "/") -> Account:
        """An IAM user of `account` with the managed policies `policy_arns` and an access key."""
        iam = self.client(account, "iam")
        iam.create_user(UserName=name, Path=path)
        for arn in policy_arns:
            iam.attach_user_policy(UserName=name, PolicyArn=arn)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return Account(account.account_id, key["AccessKeyId"], key["SecretAccessKey"])

    def assume(self, caller: Account, role_arn: str, session: str = "session", **params) -> Account:
        """Credentials of a new session of `role_arn`, assumed by `caller`."""
        sts = self.client(caller, "sts")
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=session, **params)["Credentials"]
        return Account(role_arn.split(":")[4], creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])

    def client(self, account: Account, service: str = "ec2", region: str = "us-east-1"):
        return boto3.client(
            service, region_name=region, endpoint_url=self.endpoint, config=CLIENT_CONFIG,
            aws_access_key_id=account.access_key_id, aws_secret_access_key=account.secret_access_key,
            aws_session_token=account.session_token,
        )

    def aws(self, account: Account, *args: str, region: str = "us-east-1", check: bool = True):
        """Run the real aws CLI; returns (exit code, parsed JSON or None, stderr)."""
        env = dict(self.env, AWS_ACCESS_KEY_ID=account.access_key_id, AWS_SECRET_ACCESS_KEY=account.secret_access_key,
                   AWS_DEFAULT_REGION=region, AWS_ENDPOINT_URL=self.endpoint, AWS_PAGER="", AWS_RETRY_MODE="standard",
                   AWS_MAX_ATTEMPTS="1")
        env.pop("AWS_SESSION_TOKEN", None)
        env.pop("AWS_PROFILE", None)
        if account.session_token:
            env["AWS_SESSION_TOKEN"] = account.session_token
        proc = subprocess.run(["aws", *args, "--output", "json"], env=env, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed: {proc.stderr}")
        data = json.loads(proc.stdout) if proc.stdout.strip() else None
        return proc.returncode, data, proc.stderr


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
    if model.protocol == "json":
        headers = {"Content-Type": f"application/x-amz-json-{model.metadata['jsonVersion']}",
                   "X-Amz-Target": target or f"{model.metadata['targetPrefix']}.{operation}"}
    else:
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    creds = botocore.credentials.Credentials(account.access_key_id, account.secret_access_key)
    request = botocore.awsrequest.AWSRequest(method="POST", url=server.endpoint + "/", data=data, headers=headers)
    botocore.auth.SigV4Auth(creds, model.signing_name, region).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=data, headers=dict(prepared.headers), method="POST")
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
