"""A real amishare server in a subprocess, and the accounts, organizations, users and
clients a test (or any script) needs to talk to it with boto3 and the aws CLI."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Account:
    """Credentials of an account's root user (or, with `user_name`, of one of its IAM users; with
    `session_token`, of a role session)."""

    account_id: str
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    user_name: str | None = None
    arn: str = ""

    def __post_init__(self):
        if not self.arn:
            object.__setattr__(self, "arn", f"arn:aws:iam::{self.account_id}:root")

    @property
    def credentials(self) -> dict:
        """Keyword arguments for boto3.client / boto3.Session."""
        return {"aws_access_key_id": self.access_key_id, "aws_secret_access_key": self.secret_access_key,
                "aws_session_token": self.session_token}


def _client_config():
    import botocore.config

    return botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=60)


@dataclass
class Organization:
    """An organization made through the Organizations API by its management account."""

    server: "Server"
    management: Account
    id: str
    arn: str
    root_id: str

    @property
    def client(self):
        return self.server.client(self.management, "organizations")

    def create_ou(self, name: str, parent_id: str | None = None) -> dict:
        """A new OU (its Id, Arn and Name) under `parent_id` (the root by default)."""
        return self.client.create_organizational_unit(ParentId=parent_id or self.root_id, Name=name)["OrganizationalUnit"]

    def add_account(self, account: Account | None = None, parent_id: str | None = None) -> Account:
        """Invite an account (a new one by default), accept the invitation as it, and move it
        under `parent_id` if given."""
        account = account or self.server.new_account()
        handshake = self.client.invite_account_to_organization(
            Target={"Id": account.account_id, "Type": "ACCOUNT"})["Handshake"]
        self.server.client(account, "organizations").accept_handshake(HandshakeId=handshake["Id"])
        if parent_id and parent_id != self.root_id:
            self.move(account, parent_id)
        return account

    def move(self, account: Account, parent_id: str) -> None:
        current = self.client.list_parents(ChildId=account.account_id)["Parents"][0]["Id"]
        self.client.move_account(AccountId=account.account_id, SourceParentId=current, DestinationParentId=parent_id)


@dataclass
class Server:
    """`python -m amishare serve` on `db_url`, listening on 127.0.0.1:`port`."""

    db_url: str
    port: int = 0
    env: dict | None = None
    log_path: Path | None = None
    state_delay: float = 0.0
    workers: int = 1
    args: tuple = ()  # further `amishare serve` arguments, e.g. ("--log-format", "json")
    region: str = DEFAULT_REGION
    process: subprocess.Popen | None = None
    _store: object = field(default=None, repr=False)

    def __post_init__(self):
        from amishare.domain.secretbox import key_file_for

        self.port = self.port or free_port()
        self.env = dict(os.environ if self.env is None else self.env)
        # The CLI and this process must open secrets with the key the server uses.
        self.env.setdefault("AMISHARE_MASTER_KEY_FILE", str(key_file_for(self.db_url)))
        if self.log_path is None:
            self.log_path = Path(tempfile.mkdtemp(prefix="amishare-log-")) / "server.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- the process

    def start(self, state_delay: float | None = None) -> "Server":
        if state_delay is not None:
            self.state_delay = state_delay
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "amishare", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--db", self.db_url, "--state-delay", str(self.state_delay), "--workers", str(self.workers),
                 *self.args],
                stdout=log, stderr=subprocess.STDOUT, env=self.env,
            )
        finally:
            log.close()
        return self._wait()

    def _wait(self, timeout: float = 60) -> "Server":
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"amishare server exited: {self.log()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/_amishare/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"amishare server did not start in {timeout} s: {self.log()[-2000:]}")

    def stop(self, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        if self._store is not None:
            self._store.dispose()
            self._store = None

    def log(self) -> str:
        """What the server wrote so far (its access log and errors)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> "Server":
        return self if self.process is not None else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def cli(self, *args: str) -> str:
        """Run `amishare ARGS...` with this server's environment; its standard output."""
        return subprocess.check_output([sys.executable, "-m", "amishare", *args], env=self.env, text=True)

    # --- accounts, organizations, users

    def _open_store(self):
        if self._store is None:
            from amishare.store.db import open_store

            self._store = open_store(self.db_url, run_migrations=False)
        return self._store

    def new_account(self, account_id: str | None = None, name: str | None = None) -> Account:
        """A new account and its root access key, written straight to the server's database
        (as `amishare accounts create` does)."""
        from amishare.domain import accounts
        from amishare.domain.secretbox import SecretBox

        box = SecretBox.from_file(Path(self.env["AMISHARE_MASTER_KEY_FILE"]))
        with self._open_store().transaction() as conn:
            creds = accounts.create_account(conn, box, account_id=account_id, name=name)
        return Account(creds.account_id, creds.access_key_id, creds.secret_access_key)

    create_account = new_account

    def account_credentials(self, account_id: str) -> Account:
        """The root access key of an existing account, e.g. one made by Organizations CreateAccount."""
        created = json.loads(self.cli("accounts", "credentials", "--db", self.db_url, "--id", account_id))
        return Account(created["AccountId"], created["AccessKeyId"], created["SecretAccessKey"])

    def create_organization(self, management: Account | None = None, feature_set: str = "ALL") -> Organization:
        """An organization (through the Organizations API) managed by `management` (a new account by default)."""
        management = management or self.new_account()
        orgs = self.client(management, "organizations")
        org = orgs.create_organization(FeatureSet=feature_set)["Organization"]
        root = orgs.list_roots()["Roots"][0]
        return Organization(self, management, org["Id"], org["Arn"], root["Id"])

    def create_user(self, account: Account | str, name: str, policy_arns=()) -> Account:
        """An IAM user of `account` with an access key and the managed policies `policy_arns`."""
        account_id = account if isinstance(account, str) else account.account_id
        args = ["users", "create", "--db", self.db_url, "--account", account_id, "--name", name]
        for arn in policy_arns:
            args += ["--policy-arn", arn]
        proc = subprocess.run([sys.executable, "-m", "amishare", *args], env=self.env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"amishare users create failed: {proc.stderr.strip()}")
        created = json.loads(proc.stdout)
        return Account(account_id, created["AccessKeyId"], created["SecretAccessKey"],
                       user_name=created.get("UserName", name), arn=created.get("Arn", ""))

    def new_user(self, account: Account, name: str, policy_arns=(), path: str = "/") -> Account:
        """An IAM user of `account` made through the IAM API (as the account's root user), with the
        managed policies `policy_arns` and an access key."""
        iam = self.client(account, "iam")
        user = iam.create_user(UserName=name, Path=path)["User"]
        for arn in policy_arns:
            iam.attach_user_policy(UserName=name, PolicyArn=arn)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return Account(account.account_id, key["AccessKeyId"], key["SecretAccessKey"], user_name=name, arn=user["Arn"])

    def assume(self, caller: Account, role_arn: str, session: str = "session", **params) -> Account:
        """Credentials of a new session of `role_arn`, assumed by `caller` through STS."""
        answer = self.client(caller, "sts").assume_role(RoleArn=role_arn, RoleSessionName=session, **params)
        creds = answer["Credentials"]
        return Account(role_arn.split(":")[4], creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"],
                       arn=answer["AssumedRoleUser"]["Arn"])

    # --- clients

    def session(self, account: Account, region: str | None = None):
        """A boto3 Session with the account's credentials; its clients still need `endpoint_url`
        (use `client`, or set AWS_ENDPOINT_URL)."""
        import boto3

        return boto3.Session(region_name=region or self.region, **account.credentials)

    def client(self, account: Account, service: str = "ec2", region: str | None = None):
        """A boto3 client of `service` for `account`, pointed at this server."""
        return self.session(account, region).client(service, endpoint_url=self.endpoint, config=_client_config())

    def aws_env(self, account: Account, region: str | None = None) -> dict:
        """The environment that points the aws CLI (or any SDK) at this server as `account`."""
        env = dict(self.env, AWS_ACCESS_KEY_ID=account.access_key_id, AWS_SECRET_ACCESS_KEY=account.secret_access_key,
                   AWS_DEFAULT_REGION=region or self.region, AWS_ENDPOINT_URL=self.endpoint, AWS_PAGER="",
                   AWS_RETRY_MODE="standard", AWS_MAX_ATTEMPTS="1")
        env.pop("AWS_SESSION_TOKEN", None)
        env.pop("AWS_PROFILE", None)
        if account.session_token:
            env["AWS_SESSION_TOKEN"] = account.session_token
        return env

    def aws(self, account: Account, *args: str, region: str | None = None, check: bool = True):
        """Run the real aws CLI; returns (exit code, parsed JSON or None, stderr)."""
        aws = shutil.which("aws", path=self.env.get("PATH")) or "aws"
        proc = subprocess.run([aws, *args, "--output", "json"], env=self.aws_env(account, region),
                              capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed: {proc.stderr}")
        data = json.loads(proc.stdout) if proc.stdout.strip() else None
        return proc.returncode, data, proc.stderr


@contextmanager
def server(db_url: str | None = None, *, state_delay: float = 0.0, workers: int = 1, args=(), env: dict | None = None,
           region: str = DEFAULT_REGION):
    """A running amishare server for code outside pytest; on a temporary SQLite database
    unless `db_url` is given, stopped (and the temporary files removed) on exit.

        with amishare.testing.server() as s:
            alice = s.new_account()
            s.client(alice, "ec2").describe_images(Owners=["amazon"])
    """
    tmp = Path(tempfile.mkdtemp(prefix="amishare-"))
    try:
        srv = Server(db_url or f"sqlite:///{tmp / 'amishare.db'}", env=env, log_path=tmp / "server.log",
                     state_delay=state_delay, workers=workers, args=tuple(args), region=region)
        with srv.start():
            yield srv
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
