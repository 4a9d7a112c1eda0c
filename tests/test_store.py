"""The store on SQLite and PostgreSQL: migrations, transactions, indexed queries."""

import time

import pytest
from sqlalchemy import inspect, text

from amishare.errors import AwsError
from amishare.store import images as image_store
from amishare.store import settings as settings_store
from amishare.store.db import DatabaseTooNew, migrate, open_store
from support import database_url


@pytest.fixture
def store(backend, tmp_path):
    url, cleanup = database_url(backend, tmp_path)
    s = open_store(url)
    yield s
    s.dispose()
    cleanup()


def _image(image_id, owner, region="us-east-1", public=False, name=None):
    return dict(
        image_id=image_id, region=region, owner_id=owner, name=name or image_id, description=None, state="available",
        next_state=None, next_state_at=None, architecture="x86_64", virtualization_type="hvm",
        root_device_name="/dev/xvda", root_device_type="ebs", boot_mode=None, image_type="machine", platform=None,
        platform_details="Linux/UNIX", usage_operation="RunInstances", kernel_id=None, ramdisk_id=None,
        ena_support=True, sriov_net_support="simple", imds_support=None, tpm_support=None, image_location=None,
        created_at=time.time(), deprecation_time=None, is_public=public, disabled=False,
        deregistration_protection=None, last_launched_at=None, source_image_id=None, source_image_region=None,
        source_instance_id=None,
    )


def test_migrations_create_indexed_schema(store):
    inspector = inspect(store.engine)
    assert {"images", "image_launch_permissions", "snapshots", "volumes", "instances", "tags", "accounts"} <= set(
        inspector.get_table_names())
    index_names = {i["name"] for i in inspector.get_indexes("images")}
    assert {"ix_images_owner", "ix_images_public"} <= index_names
    assert "ix_launch_permissions_grantee" in {i["name"] for i in inspector.get_indexes("image_launch_permissions")}
    migrate(store.engine)  # idempotent


def test_database_from_newer_version_is_refused(store):
    with store.transaction() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(DatabaseTooNew, match="newer amishare"):
        migrate(store.engine)


def test_failed_call_leaves_no_partial_write(store):
    with pytest.raises(AwsError):
        with store.transaction() as conn:
            image_store.insert_image(conn, _image("ami-00000000000000001", "111111111111"), [], [])
            raise AwsError("Boom", "failure after a write")
    with store.transaction(write=False) as conn:
        assert image_store.get(conn, "ami-00000000000000001") is None


def test_name_is_unique_per_owner_and_region(store):
    from sqlalchemy.exc import IntegrityError

    with store.transaction() as conn:
        image_store.insert_image(conn, _image("ami-00000000000000001", "111111111111", name="n"), [], [])
        image_store.insert_image(conn, _image("ami-00000000000000002", "222222222222", name="n"), [], [])
        image_store.insert_image(conn, _image("ami-00000000000000003", "111111111111", "eu-west-1", name="n"), [], [])
    with pytest.raises(IntegrityError):
        with store.transaction() as conn:
            image_store.insert_image(conn, _image("ami-00000000000000004", "111111111111", name="n"), [], [])


def test_branches_merge_in_id_order_and_respect_limit(store):
    owner, grantee = "111111111111", "222222222222"
    with store.transaction() as conn:
        for i in range(30):
            image_store.insert_image(conn, _image(f"ami-{i:017x}", owner, public=(i % 7 == 0)), [], [])
            if i % 3 == 0:
                image_store.add_launch_permissions(conn, f"ami-{i:017x}", "us-east-1", [("account", grantee)], time.time())
        image_store.insert_image(conn, _image("ami-" + "f" * 17, grantee), [], [])
    branches = [(("owner", grantee), []), (("public", None), []), (("grant", ("account", grantee)), [])]
    with store.transaction(write=False) as conn:
        rows = image_store.select_branches(conn, "us-east-1", branches, [], None, None)
        ids = [r["image_id"] for r in rows]
        expected = sorted({f"ami-{i:017x}" for i in range(30) if i % 7 == 0 or i % 3 == 0} | {"ami-" + "f" * 17})
        assert ids == expected
        page1 = image_store.select_branches(conn, "us-east-1", branches, [], None, 5)
        page2 = image_store.select_branches(conn, "us-east-1", branches, [], page1[-1]["image_id"], 5)
        assert [r["image_id"] for r in page1 + page2] == expected[:10]
        assert image_store.select_branches(conn, "eu-west-1", branches, [], None, None) == []


def test_counters(store):
    with store.transaction() as conn:
        settings_store.add_to_counter(conn, "111111111111", "us-east-1", "images", 1)
        settings_store.add_to_counter(conn, "111111111111", "us-east-1", "images", 1)
        settings_store.add_to_counter(conn, "111111111111", "us-west-2", "images", 1)
    with store.transaction(write=False) as conn:
        assert settings_store.counter(conn, "111111111111", "us-east-1", "images") == 2
        assert settings_store.counter(conn, "111111111111", "us-west-2", "images") == 1
        assert settings_store.counter(conn, "999999999999", "us-east-1", "images") == 0


def test_cli_refuses_a_newer_database_clearly(store, tmp_path):
    import subprocess
    import sys

    from support import server_env

    with store.transaction() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    for command in (["accounts", "list"], ["serve", "--port", "1"]):
        result = subprocess.run([sys.executable, "-m", "amishare", *command, "--db", store.url],
                                env=server_env(tmp_path), capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, result.stderr
        assert "newer amishare" in result.stderr and "Traceback" not in result.stderr
