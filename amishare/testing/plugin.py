"""The amishare pytest plugin: one real server for the test session, fresh accounts for
every test, and boto3 clients for them.

Installed with amishare (the `pytest11` entry point), or named with
`pytest -p amishare.testing.plugin`. Fixtures:

- `amishare_server`: the session's Server (a temporary SQLite database, or
  `--amishare-db URL`);
- `amishare`: a Sandbox for one test: `account()`, `client(account, "ec2")`,
  `session(account)`, `organization()`, `user(account, name)`, `aws(account, ...)`;
- `amishare_account`: one fresh account.
"""

import pytest

from amishare.testing.server import Account, Organization, Server


def pytest_addoption(parser):
    group = parser.getgroup("amishare", "amishare server for tests")
    group.addoption("--amishare-db", default=None, metavar="URL",
                    help="database of the test server (default: a temporary SQLite file)")
    group.addoption("--amishare-state-delay", type=float, default=0.0, metavar="SECONDS",
                    help="how long new images, snapshots and instances stay pending (default 0)")
    group.addoption("--amishare-region", default="us-east-1", metavar="REGION",
                    help="the Region of clients made without one (default us-east-1)")


@pytest.fixture(scope="session")
def amishare_server(request, tmp_path_factory):
    """A running amishare server for the whole session."""
    config = request.config
    tmp = tmp_path_factory.mktemp("amishare")
    url = config.getoption("amishare_db") or f"sqlite:///{tmp / 'amishare.db'}"
    srv = Server(url, log_path=tmp / "server.log", state_delay=config.getoption("amishare_state_delay"),
                 region=config.getoption("amishare_region"))
    srv.start()
    yield srv
    srv.stop()


class Sandbox:
    """One test's view of the server: every account it makes is new, so what one test
    creates, shares or changes is invisible to the others (except public images, which
    every account sees)."""

    def __init__(self, server: Server):
        self.server = server
        self.accounts: list[Account] = []

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    @property
    def region(self) -> str:
        return self.server.region

    def account(self, name: str | None = None) -> Account:
        account = self.server.new_account(name=name)
        self.accounts.append(account)
        return account

    def client(self, account: Account, service: str = "ec2", region: str | None = None):
        return self.server.client(account, service, region)

    def session(self, account: Account, region: str | None = None):
        return self.server.session(account, region)

    def organization(self, management: Account | None = None, members: int = 0) -> Organization:
        """An organization of a new management account, with `members` new member accounts in its root."""
        org = self.server.create_organization(management or self.account())
        for _ in range(members):
            org.add_account(self.account())
        return org

    def user(self, account: Account, name: str, policy_arns=()) -> Account:
        """An IAM user of `account` with an access key and the managed policies `policy_arns`."""
        return self.server.create_user(account, name, policy_arns)

    def aws(self, account: Account, *args: str, region: str | None = None, check: bool = True):
        return self.server.aws(account, *args, region=region, check=check)


@pytest.fixture
def amishare(amishare_server) -> Sandbox:
    """Fresh accounts and clients on the session's server, for this test alone."""
    return Sandbox(amishare_server)


@pytest.fixture
def amishare_account(amishare) -> Account:
    """A new account of this test's own."""
    return amishare.account()
