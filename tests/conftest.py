import os

import pytest

from support import Server, database_url, free_port, pg_available, server_env

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
    srv = Server(db_url=url, port=free_port(), env=env, log_path=tmp / "server.log").start()
    yield srv
    srv.stop()
    cleanup()


@pytest.fixture
def alice(server):
    return server.new_account()


@pytest.fixture
def bob(server):
    return server.new_account()


@pytest.fixture
def carol(server):
    return server.new_account()


@pytest.fixture
def ec2(server, alice):
    return server.client(alice)
