import os

import pytest

from support import Server, database_url, pg_available, server_env

# amishare's own pytest plugin (installed through its pytest11 entry point; named here so
# that the suite also runs from a checkout that is not installed).
pytest_plugins = ["amishare.testing.plugin"]

BACKENDS = ["sqlite", "postgresql"]


def _require_pg():
    if not pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL at 127.0.0.1:5432 is required in CI")
        pytest.skip("PostgreSQL is not reachable")


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request):
    if request.param == "postgresql":
        _require_pg()
    return request.param


@pytest.fixture(scope="session")
def server(backend, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"server-{backend}")
    env = server_env(tmp)
    url, cleanup = database_url(backend, tmp)
    srv = Server(db_url=url, env=env, log_path=tmp / "server.log").start()
    yield srv
    srv.stop()
    cleanup()


@pytest.fixture(scope="session")
def amishare_server(server):
    """The plugin's fixtures (`amishare`, `amishare_account`) use the suite's servers, on both backends."""
    return server


@pytest.fixture
def alice(amishare):
    return amishare.account()


@pytest.fixture
def bob(amishare):
    return amishare.account()


@pytest.fixture
def carol(amishare):
    return amishare.account()


@pytest.fixture
def ec2(server, alice):
    return server.client(alice)
