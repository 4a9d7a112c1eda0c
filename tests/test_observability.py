"""The access log, the Prometheus metrics and the health check of a running server."""

import json
import os
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import IntegrityError

from support import PgDatabase, Server, pg_available, server_env, wait_until


@pytest.fixture(scope="module")
def observed(tmp_path_factory):
    """Two workers (metrics shared through files) writing a JSON access log."""
    tmp = tmp_path_factory.mktemp("observed")
    srv = Server(db_url=f"sqlite:///{tmp / 'amishare.db'}", env=server_env(tmp), log_path=tmp / "server.log",
                 state_delay=0.0, workers=2, args=("--log-format", "json")).start()
    yield srv
    srv.stop()


def scrape(server) -> dict:
    """{metric family name: [(labels, value), ...]} parsed with prometheus_client's own parser."""
    with urllib.request.urlopen(f"{server.endpoint}/metrics", timeout=10) as r:
        assert r.status == 200
        assert r.headers["content-type"].startswith("text/plain")
        text = r.read().decode()
    families = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = [(s.name, s.labels, s.value) for s in family.samples]
    return families


def value(families, family, sample=None, **labels) -> float:
    total = 0.0
    for name, sample_labels, v in families.get(family, []):
        if (sample is None or name == sample) and all(sample_labels.get(k) == str(x) for k, x in labels.items()):
            total += v
    return total


def log_lines(server) -> list[dict]:
    return [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]


def test_one_json_access_line_per_request_naming_the_principal(observed):
    alice = observed.new_account()
    ec2 = observed.client(alice)
    images = ec2.describe_images(Owners=["self"])
    with pytest.raises(ClientError) as refused:
        ec2.describe_images(ImageIds=["ami-0123456789abcdef0"])
    forged = observed.client(type(alice)(alice.account_id, alice.access_key_id, "x" * 40), "sts")
    with pytest.raises(ClientError):
        forged.get_caller_identity()
    ok_id = images["ResponseMetadata"]["RequestId"]
    failed_id = refused.value.response["ResponseMetadata"]["RequestId"]
    by_id = wait_until(lambda: (lambda lines: lines if ok_id in lines and failed_id in lines else None)(
        {line["request_id"]: line for line in log_lines(observed)}))
    ok = by_id[ok_id]
    assert ok["principal"] == f"arn:aws:iam::{alice.account_id}:root"
    assert ok["account"] == alice.account_id and ok["region"] == "us-east-1"
    assert (ok["service"], ok["operation"], ok["status"], ok["error_code"]) == ("ec2", "DescribeImages", 200, None)
    assert ok["latency_ms"] > 0 and ok["request_bytes"] > 0 and ok["response_bytes"] > 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ok["time"])
    failed = by_id[failed_id]
    assert (failed["status"], failed["error_code"], failed["principal"]) == (
        400, "InvalidAMIID.NotFound", ok["principal"])
    unsigned = [line for line in log_lines(observed) if line["error_code"] == "SignatureDoesNotMatch"]
    assert unsigned and unsigned[-1]["principal"] is None and unsigned[-1]["service"] == "sts"
    assert alice.secret_access_key not in observed.log()


def test_text_access_log_is_the_default(server, alice):
    response = server.client(alice, "sts").get_caller_identity()
    request_id = response["ResponseMetadata"]["RequestId"]
    line = wait_until(lambda: next((line for line in server.log().splitlines() if request_id in line), None))
    fields = dict(part.split("=", 1) for part in line.split(" "))
    assert fields["principal"] == f"arn:aws:iam::{alice.account_id}:root"
    assert (fields["service"], fields["operation"], fields["status"]) == ("sts", "GetCallerIdentity", "200")


def test_metrics_count_requests_errors_and_the_inventory(observed):
    before = scrape(observed)
    owner, partner = observed.new_account(), observed.new_account()
    ec2 = observed.client(owner)
    for _ in range(7):  # spread over both workers
        ec2.describe_images(Owners=["self"])
    for _ in range(3):
        with pytest.raises(ClientError):
            ec2.describe_images(ImageIds=["ami-0123456789abcdef0"])
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"]
    snapshot = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    image = ec2.register_image(Name="observed", RootDeviceName="/dev/xvda", BlockDeviceMappings=[
        {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snapshot}}])["ImageId"]
    ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"UserId": partner.account_id}]})

    after = wait_until(lambda: (lambda f: f if value(f, "amishare_launch_permissions", grantee_type="account")
                                >= 1 else None)(scrape(observed)), timeout=15, interval=0.5)
    requests = "amishare_requests"
    delta = lambda *a, **k: value(after, *a, **k) - value(before, *a, **k)  # noqa: E731
    assert delta(requests, f"{requests}_total", service="ec2", operation="DescribeImages", status=200) == 7
    assert delta(requests, f"{requests}_total", service="ec2", operation="DescribeImages", status=400) == 3
    assert delta("amishare_errors", "amishare_errors_total", code="InvalidAMIID.NotFound") == 3
    latency = "amishare_request_duration_seconds"
    assert delta(latency, f"{latency}_count", operation="DescribeImages", status=200) == 7
    assert delta(latency, f"{latency}_bucket", operation="DescribeImages", status=200, le="+Inf") == 7
    assert delta(requests, f"{requests}_total", operation="RegisterImage", status=200) == 1
    assert value(after, "amishare_request_bytes", service="ec2") > 0
    assert value(after, "amishare_accounts") >= 2
    assert value(after, "amishare_images") >= 1
    assert "amishare_db_pool_connections" in after
    assert value(after, "amishare_db_pool_connections", state="size") > 0


def test_transaction_retries_are_counted(tmp_path, monkeypatch):
    """A call that loses a race on a unique key runs again; the retry is counted."""
    from prometheus_client import REGISTRY

    from amishare.api.asgi import build_application
    from amishare.api.telemetry import Telemetry
    from amishare.application import Call
    from amishare.domain.principal import Principal

    monkeypatch.setenv("AMISHARE_MASTER_KEY_FILE", str(tmp_path / "master.key"))
    application = build_application(f"sqlite:///{tmp_path / 'amishare.db'}")
    Telemetry(application, "off")
    raced = []

    def lose_once(ctx, operation, params):
        if not raced:
            raced.append(1)
            raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))

    application.before.insert(0, lose_once)
    labels = {"service": "ec2", "operation": "DescribeRegions", "reason": "conflict"}
    counted = REGISTRY.get_sample_value("amishare_transaction_retries_total", labels) or 0
    outcome = application.invoke(Call(Principal.root("123456789012"), "us-east-1", "ec2", "DescribeRegions", {}))
    assert outcome.error is None and outcome.retries == ["conflict"]
    assert REGISTRY.get_sample_value("amishare_transaction_retries_total", labels) == counted + 1
    application.store.dispose()


def test_health_says_whether_the_database_answers(tmp_path):
    if not pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL at 127.0.0.1:5432 is required in CI")
        pytest.skip("PostgreSQL is not reachable")
    db = PgDatabase()
    srv = Server(db_url=db.url, env=server_env(tmp_path), log_path=tmp_path / "server.log").start()
    try:
        with urllib.request.urlopen(f"{srv.endpoint}/_amishare/health", timeout=10) as r:
            assert (r.status, json.loads(r.read())) == (200, {"database": "ok"})
        db.drop()
        with pytest.raises(urllib.error.HTTPError) as down:
            urllib.request.urlopen(f"{srv.endpoint}/_amishare/health", timeout=10)
        assert down.value.code == 503
        assert json.loads(down.value.read())["database"] == "unavailable"
    finally:
        srv.stop()
        db.drop()


def test_metrics_directory_of_several_workers_is_removed_on_stop(tmp_path):
    srv = Server(db_url=f"sqlite:///{tmp_path / 'amishare.db'}", env=server_env(tmp_path),
                 log_path=tmp_path / "server.log", workers=2).start()
    try:
        directory = Path(wait_until(lambda: re.search(r"metrics in (\S+)\)", srv.log()))[1])
        assert directory.is_dir()
    finally:
        srv.stop()
    wait_until(lambda: not directory.exists(), timeout=20)
