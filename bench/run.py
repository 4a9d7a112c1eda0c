#!/usr/bin/env python3
"""amishare benchmark: seed a large AMI catalog, start the server, measure.

    python bench/run.py --images 100000

Seeding goes straight through the project's store layer (bulk SQLAlchemy Core
inserts), because registering 100,000 images over HTTP would take far longer
than the benchmark itself. Everything measured afterwards goes over HTTP to a
real `python -m amishare serve` subprocess: single-client latencies with boto3,
and throughput with wrk replaying one SigV4-signed request.

See bench/README.md for what each figure means. scaling.py and orgs.py import this module.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
# Seed and measure the amishare of this source tree, whatever copy is installed.
if str(BENCH_DIR.parent) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR.parent))
REGION = "us-east-1"
ZONE = REGION + "a"
HEALTH_PATH = "/_amishare/health"
EC2_VERSION = "2016-11-15"
ACCOUNT_NAMES = {"a": "bench-A", "b": "bench-B", "c": "bench-C"}
SEED_BATCH = 5000
ROOT_DEVICE = "/dev/xvda"


# --------------------------------------------------------------------------- small helpers


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timestamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_sqlite_url(tag: str) -> str:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{RESULTS_DIR / f'{tag}.db'}"


def new_image_id() -> str:
    return "ami-" + secrets.token_hex(9)[:17]


def evenly(n: int, k: int) -> set[int]:
    """k indices spread evenly over range(n) (every n/k-th one)."""
    k = max(0, min(k, n))
    return {i * n // k for i in range(k)} if k else set()


def percentiles(samples_ms: list[float]) -> dict:
    if not samples_ms:
        return {}
    if len(samples_ms) == 1:
        v = samples_ms[0]
        return {"p50": v, "p90": v, "p99": v, "mean": v, "min": v, "max": v, "n": 1}
    q = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return {
        "p50": q[49], "p90": q[89], "p99": q[98], "mean": statistics.fmean(samples_ms),
        "min": min(samples_ms), "max": max(samples_ms), "n": len(samples_ms),
    }


def source_state() -> dict:
    """The amishare source being measured: git HEAD and any uncommitted changes under amishare/."""
    root = BENCH_DIR.parent

    def git(*args):
        try:
            return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"head": git("rev-parse", "--short", "HEAD"),
            "uncommitted": git("status", "--porcelain", "--", "amishare").splitlines()}


# --------------------------------------------------------------------------- seeding


@dataclass
class Creds:
    account_id: str
    access_key_id: str
    secret_access_key: str


@dataclass
class Seeded:
    """What a benchmark needs to know about a seeded database (recovered from the database itself)."""

    a: Creds
    b: Creds
    c: Creds
    a_images: int
    b_images: int
    shared_with_b: int
    public_of_a: int
    a_sample_id: str  # an image of A that is neither shared nor public
    shared_sample_ids: list[str] = field(default_factory=list)  # shared with B, not public
    a_sample_description: str | None = None


def _image_row(image_id: str, owner_id: str, name: str, description: str | None, created_at: float,
               is_public: bool) -> dict:
    """One `images` row as RegisterImage (amishare.domain.images.register_image/_insert) writes it for an
    EBS-backed image registered with Name, Description, RootDeviceName and one snapshot mapping, once its
    state settled to 'available'. A public image also gets the deprecation time that making it public
    (amishare.domain.sharing.set_public) gives it: two years after its creation."""
    deprecation_time = None
    if is_public:
        from amishare.domain import guardrails

        deprecation_time = guardrails.public_deprecation({"created_at": created_at, "deprecation_time": None})
    return dict(
        image_id=image_id, region=REGION, owner_id=owner_id, name=name, description=description,
        state="available", next_state=None, next_state_at=None,
        architecture="x86_64", virtualization_type="hvm", root_device_name=ROOT_DEVICE, root_device_type="ebs",
        boot_mode=None, image_type="machine", platform=None, platform_details="Linux/UNIX",
        usage_operation="RunInstances", kernel_id=None, ramdisk_id=None, ena_support=True,
        sriov_net_support="simple", imds_support=None, tpm_support=None, image_location=None,
        created_at=created_at, deprecation_time=deprecation_time, is_public=is_public, disabled=False,
        deregistration_protection=None, last_launched_at=None, source_image_id=None, source_image_region=None,
        source_instance_id=None,
    )


def _device_row(image_id: str, snapshot_id: str, size: int) -> dict:
    """The image_block_devices row RegisterImage writes for {DeviceName, Ebs: {SnapshotId}}."""
    return dict(
        image_id=image_id, position=0, device_name=ROOT_DEVICE, virtual_name=None, no_device=False,
        snapshot_id=snapshot_id, volume_size=size, volume_type="gp2", iops=None, throughput=None,
        encrypted=False, kms_key_id=None, delete_on_termination=True,
    )


def _root_snapshot(conn, account_id: str) -> tuple[str, int]:
    """A volume and a completed snapshot of it, made with the domain layer as CreateVolume/CreateSnapshot do."""
    from amishare.config import Settings
    from amishare.domain import snapshots as snapshot_domain
    from amishare.domain import volumes as volume_domain
    from amishare.domain.context import Ctx
    from amishare.domain.principal import Principal

    ctx = Ctx(conn, Principal.root(account_id), REGION, time.time(), Settings(state_delay=0.0), "bench-seed")
    size = 8
    volume_id = volume_domain.insert_volume(ctx, zone=ZONE, size=size, volume_type="gp2")
    snapshot_id = snapshot_domain.new_snapshot(ctx, volume_id=volume_id, volume_size=size,
                                               description="bench root snapshot", encrypted=False, kms_key_id=None)
    return snapshot_id, size


def _bulk_images(store, owner_id: str, count: int, prefix: str,
                 grants: Callable[[int], Iterable[tuple[str, str]]] | None, public: set[int],
                 batch: int = SEED_BATCH) -> list[str]:
    """owner_id's `count` images (named prefix-0000000, ...), the i-th with the launch permissions grants(i)
    ((grantee_type, grantee) pairs, as add_launch_permissions stores them) and public when i is in `public`.
    Returns the image ids in that order."""
    from sqlalchemy import insert

    from amishare.domain.images import IMAGE_COUNT

    try:  # the public-images quota counter, where this version of amishare keeps one
        from amishare.domain.sharing import PUBLIC_COUNT
    except ImportError:
        PUBLIC_COUNT = None
    from amishare.store import settings as settings_store
    from amishare.store.schema import (
        image_block_devices,
        image_launch_permissions,
        images,
    )

    with store.transaction() as conn:
        snapshot_id, size = _root_snapshot(conn, owner_id)
    seen: set[str] = set()
    ordered: list[str] = []
    base = time.time() - count * 0.01  # distinct, increasing creation times ending about now
    started = time.perf_counter()
    for start in range(0, count, batch):
        image_rows, device_rows, grant_rows = [], [], []
        now = time.time()
        for i in range(start, min(start + batch, count)):
            image_id = new_image_id()
            while image_id in seen:
                image_id = new_image_id()
            seen.add(image_id)
            ordered.append(image_id)
            image_rows.append(_image_row(image_id, owner_id, f"{prefix}-{i:07d}", f"{prefix} image {i}",
                                         base + i * 0.01, i in public))
            device_rows.append(_device_row(image_id, snapshot_id, size))
            for grantee_type, grantee in dict.fromkeys(grants(i) if grants else ()):
                grant_rows.append(dict(image_id=image_id, grantee_type=grantee_type, grantee=grantee,
                                       region=REGION, created_at=now))
        with store.transaction() as conn:
            conn.execute(insert(images), image_rows)
            conn.execute(insert(image_block_devices), device_rows)
            if grant_rows:
                conn.execute(insert(image_launch_permissions), grant_rows)
            settings_store.add_to_counter(conn, owner_id, REGION, IMAGE_COUNT, len(image_rows))
            public_rows = sum(1 for row in image_rows if row["is_public"])
            if public_rows and PUBLIC_COUNT:
                settings_store.add_to_counter(conn, owner_id, REGION, PUBLIC_COUNT, public_rows)
        done = start + len(image_rows)
        if done == count or (done // batch) % 4 == 0:
            rate = done / max(time.perf_counter() - started, 1e-9)
            log(f"  {prefix}: {done}/{count} images ({rate:,.0f}/s)")
    return ordered


def seed(db_url: str, n_images: int, shared_count: int | None = None, public_count: int | None = None,
         b_owned: int = 50) -> Seeded:
    """A fresh benchmark database: A owns n_images in us-east-1, shared_count of them (spread evenly; default
    every 10th) granted to B and public_count (default every 100th) public; B owns b_owned; C owns none."""
    from amishare.domain import accounts, catalog
    from amishare.domain.secretbox import SecretBox
    from amishare.store.db import open_store

    shared_count = n_images // 10 if shared_count is None else shared_count
    public_count = n_images // 100 if public_count is None else public_count
    started = time.perf_counter()
    store = open_store(db_url)
    box = SecretBox.for_database(db_url)
    try:
        with store.transaction() as conn:
            catalog.ensure(conn)
            if _find_accounts(conn):
                raise SystemExit(f"error: {db_url} already holds benchmark accounts; use --skip-seed or a fresh --db")
            creds = {key: accounts.create_account(conn, box, name=name) for key, name in ACCOUNT_NAMES.items()}
        log(f"seeding {n_images:,} images of A ({shared_count:,} shared with B, {public_count:,} public) "
            f"and {b_owned} of B into {db_url}")
        shared, b_grant = evenly(n_images, shared_count), [("account", creds["b"].account_id)]
        _bulk_images(store, creds["a"].account_id, n_images, "bench-a", lambda i: b_grant if i in shared else (),
                     evenly(n_images, public_count))
        if b_owned:
            _bulk_images(store, creds["b"].account_id, b_owned, "bench-b", None, set())
    finally:
        store.dispose()
    log(f"seeded in {time.perf_counter() - started:.1f}s")
    return inspect_seed(db_url)


def _find_accounts(conn) -> dict:
    from sqlalchemy import select

    from amishare.store.schema import accounts as accounts_table

    rows = conn.execute(select(accounts_table.c.name, accounts_table.c.account_id)
                        .where(accounts_table.c.name.in_(list(ACCOUNT_NAMES.values())))).all()
    by_name = {name: account_id for name, account_id in rows}
    return {key: by_name[name] for key, name in ACCOUNT_NAMES.items() if name in by_name}


def inspect_seed(db_url: str) -> Seeded:
    """Recover the benchmark accounts (and their secrets), counts and sample ids from a seeded database."""
    from sqlalchemy import func, select

    from amishare.domain.secretbox import SecretBox
    from amishare.store import accounts as account_store
    from amishare.store.db import open_store
    from amishare.store.schema import image_launch_permissions as lp
    from amishare.store.schema import images

    store = open_store(db_url, run_migrations=False)
    box = SecretBox.for_database(db_url)
    try:
        with store.transaction(write=False) as conn:
            found = _find_accounts(conn)
            if set(found) != set(ACCOUNT_NAMES):
                raise SystemExit(f"error: {db_url} holds no seeded benchmark accounts (run without --skip-seed)")
            creds = {}
            for key, account_id in found.items():
                key_row = account_store.keys_of(conn, account_id)[0]
                secret = box.open(key_row["secret_ciphertext"], key_row["access_key_id"])
                creds[key] = Creds(account_id, key_row["access_key_id"], secret)
            a, b = found["a"], found["b"]

            def count(*where):
                return conn.execute(select(func.count()).select_from(images).where(*where)).scalar_one()

            a_images = count(images.c.owner_id == a, images.c.region == REGION)
            b_images = count(images.c.owner_id == b, images.c.region == REGION)
            public_of_a = count(images.c.owner_id == a, images.c.region == REGION, images.c.is_public.is_(True))
            shared = conn.execute(select(func.count()).select_from(lp).where(
                lp.c.grantee_type == "account", lp.c.grantee == b, lp.c.region == REGION)).scalar_one()
            # Samples from the middle of A's catalog by name (the seeding order), never the first rows.
            middle = f"bench-a-{a_images // 2:07d}"
            granted = select(lp.c.image_id).where(lp.c.grantee == b).scalar_subquery()
            a_sample, a_description = conn.execute(select(images.c.image_id, images.c.description).where(
                images.c.owner_id == a, images.c.region == REGION, images.c.name >= middle,
                images.c.is_public.is_(False), images.c.image_id.not_in(granted)).order_by(images.c.name).limit(1)
            ).one()
            shared_samples = list(conn.execute(
                select(images.c.image_id).join(lp, lp.c.image_id == images.c.image_id)
                .where(lp.c.grantee == b, images.c.is_public.is_(False), images.c.name >= middle)
                .order_by(images.c.name).limit(10)).scalars())
    finally:
        store.dispose()
    return Seeded(creds["a"], creds["b"], creds["c"], a_images, b_images, shared, public_of_a, a_sample,
                  shared_samples, a_description)


# --------------------------------------------------------------------------- server


class ServerProcess:
    """`python -m amishare serve` as a subprocess in its own process group."""

    def __init__(self, db_url: str, port: int, workers: int, log_path: Path, state_delay: float = 0.0,
                 env: dict[str, str] | None = None):
        self.db_url, self.port, self.workers, self.log_path = db_url, port, workers, log_path
        self.state_delay = state_delay
        self.env = dict(env or {})  # environment overrides for the server (e.g. AMISHARE_* settings)
        self.process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> "ServerProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log_path, "ab")
        command = [sys.executable, "-m", "amishare", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--db", self.db_url, "--workers", str(self.workers), "--state-delay", str(self.state_delay)]
        # The server runs the amishare of this source tree (the one source_state() describes), not whichever
        # copy happens to be installed.
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH_DIR.parent), env.get("PYTHONPATH")]))
        env.update(self.env)
        overrides = " ".join(f"{k}={v}" for k, v in self.env.items())
        log(f"starting server: {overrides + ' ' if overrides else ''}{' '.join(command)}")
        self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                        env=env)
        out.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; log {self.log_path}:\n"
                                   + self.log_path.read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(self.endpoint + HEALTH_PATH, timeout=2) as response:
                    if response.status == 200:
                        log(f"server up at {self.endpoint} (pid {self.process.pid})")
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not answer {HEALTH_PATH} within {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)  # uvicorn's supervisor stops its workers
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the group this script started for the server
            proc.wait(timeout=10)
        log(f"server {proc.pid} stopped")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --------------------------------------------------------------------------- clients and latency


def client(endpoint: str, creds: Creds, service: str = "ec2"):
    import boto3
    import botocore.config

    config = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                                    read_timeout=300, max_pool_connections=4)
    session = boto3.session.Session(aws_access_key_id=creds.access_key_id,
                                    aws_secret_access_key=creds.secret_access_key, region_name=REGION)
    return session.client(service, endpoint_url=endpoint, config=config)


def error_code(exc: Exception) -> str | None:
    response = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def measure(fn: Callable[[], object], reps: int = 200, warmup: int = 20) -> dict:
    """Time `fn` (one API call) `reps` times after `warmup` untimed calls; milliseconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000.0)
    return percentiles(samples)


def measure_interleaved(fns: dict[str, Callable[[], object]], reps: int = 200, warmup: int = 20,
                        rounds: int = 4) -> dict[str, dict]:
    """Like measure() for several targets, alternating blocks of reps/rounds calls between them so that
    background load drifting over time hits every target alike. Returns {name: percentiles}."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    block = max(1, reps // rounds)
    for r in range(rounds):
        order = list(fns.items()) if r % 2 == 0 else list(fns.items())[::-1]
        for name, fn in order:
            for _ in range(block if r < rounds - 1 else reps - block * (rounds - 1)):
                t0 = time.perf_counter()
                fn()
                samples[name].append((time.perf_counter() - t0) * 1000.0)
    return {name: percentiles(values) for name, values in samples.items()}


def all_pages(call: Callable[..., dict], page_size: int = 1000):
    """Every page of a paginated DescribeImages-like call, following NextToken to the end."""
    token = None
    while True:
        kwargs = {"MaxResults": page_size}
        if token:
            kwargs["NextToken"] = token
        response = call(**kwargs)
        yield response
        token = response.get("NextToken")
        if not token:
            return


def count_all_pages(call: Callable[..., dict], page_size: int = 1000) -> tuple[int, int]:
    """(images in the full answer, pages) following NextToken to the end."""
    total = pages = 0
    for response in all_pages(call, page_size):
        total += len(response["Images"])
        pages += 1
    return total, pages


def token_at(call: Callable[..., dict], skip: int, page_size: int = 1000) -> str | None:
    """A NextToken that resumes after about `skip` images, walking with `page_size` pages."""
    token, walked = None, 0
    while walked < skip:
        kwargs = {"MaxResults": min(page_size, max(5, skip - walked))}
        if token:
            kwargs["NextToken"] = token
        response = call(**kwargs)
        walked += len(response["Images"])
        token = response.get("NextToken")
        if not token:
            return None
    return token


# --------------------------------------------------------------------------- wrk


def signed_request(endpoint: str, creds: Creds, params: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """One SigV4-signed EC2 Query POST (body, headers) as botocore would send it."""
    from urllib.parse import urlencode, urlsplit

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = urlencode(params)
    request = AWSRequest(method="POST", url=endpoint + "/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(creds.access_key_id, creds.secret_access_key), "ec2", REGION).add_auth(request)
    headers = {"Host": urlsplit(endpoint).netloc}
    for name in ("Authorization", "X-Amz-Date", "Content-Type", "X-Amz-Content-SHA256", "X-Amz-Security-Token"):
        if name in request.headers:
            headers[name] = request.headers[name]
    return body.encode(), headers


def check_request(endpoint: str, body: bytes, headers: dict[str, str], must_contain: list[str]) -> bytes:
    """Send the exact request wrk will replay; insist on HTTP 200 and the expected content."""
    request = urllib.request.Request(endpoint + "/", data=body, method="POST",
                                     headers={k: v for k, v in headers.items() if k != "Host"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, exc.read()
    if status != 200:
        raise RuntimeError(f"the signed request got HTTP {status}, not 200: {payload[:500]!r}")
    for text in must_contain:
        if text.encode() not in payload:
            raise RuntimeError(f"the signed request's answer does not contain {text!r}: {payload[:500]!r}")
    return payload


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write_wrk_script(path: Path, body: bytes, headers: dict[str, str]) -> Path:
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(body.decode())}", "wrk.headers = {}"]
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _to_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(match.group(1)) * _UNITS_MS[match.group(2)] if match else float("nan")


def parse_wrk(output: str) -> dict:
    out: dict = {}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", output):
        out["requests_per_sec"] = float(m.group(1))
    if m := re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", output):
        out["latency_avg_ms"], out["latency_stdev_ms"], out["latency_max_ms"] = (_to_ms(m.group(i)) for i in (1, 2, 3))
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M):
        out[f"latency_p{pct}_ms"] = _to_ms(value)
    if m := re.search(r"(\d+) requests in ([\d.]+\w+)", output):
        out["requests"] = int(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        out["non_2xx"] = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        out["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups())))
    return out


def run_wrk(endpoint: str, script: Path, duration: int, threads: int = 2, connections: int = 32) -> dict:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency",
               "-s", str(script), endpoint + "/"]
    log(f"running: {' '.join(command)}")
    proc = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    result = parse_wrk(proc.stdout)
    result["command"] = " ".join(command)
    result["raw"] = proc.stdout
    return result


def wrk_benchmark(endpoint: str, creds: Creds, params: dict, must_contain: list[str], script_name: str,
                  duration: int, threads: int, connections: int) -> dict:
    body, headers = signed_request(endpoint, creds, params)
    check_request(endpoint, body, headers, must_contain)
    script = write_wrk_script(RESULTS_DIR / script_name, body, headers)
    result = run_wrk(endpoint, script, duration, threads, connections)
    result["script"] = str(script)
    if result.get("non_2xx"):
        result["warning"] = f"{result['non_2xx']} responses were not 2xx: the figure is not valid"
    return result


# --------------------------------------------------------------------------- the run


def _seeded_shape_check(db_url: str, seeded_id: str, registered_id: str) -> list[str]:
    """Columns where a seeded image differs from one registered through the API, beyond ids/names/times."""
    from sqlalchemy import select

    from amishare.store.db import open_store
    from amishare.store.schema import image_block_devices as bdm
    from amishare.store.schema import images

    ignore = {"image_id", "owner_id", "name", "description", "created_at", "snapshot_id", "last_launched_at"}
    store = open_store(db_url, run_migrations=False)
    try:
        with store.transaction(write=False) as conn:
            rows = {r["image_id"]: dict(r) for r in conn.execute(
                select(images).where(images.c.image_id.in_([seeded_id, registered_id]))).mappings()}
            devices = {r["image_id"]: dict(r) for r in conn.execute(
                select(bdm).where(bdm.c.image_id.in_([seeded_id, registered_id]))).mappings()}
    finally:
        store.dispose()
    diffs = []
    for table, pair in (("images", rows), ("image_block_devices", devices)):
        seeded, registered = pair.get(seeded_id), pair.get(registered_id)
        if seeded is None or registered is None:
            diffs.append(f"{table}: row missing")
            continue
        for column in seeded:
            if column not in ignore and seeded[column] != registered[column]:
                diffs.append(f"{table}.{column}: seeded {seeded[column]!r} vs registered {registered[column]!r}")
    return diffs


def register_throughput(endpoint: str, creds: Creds, count: int) -> tuple[dict, str | None]:
    """CreateVolume + CreateSnapshot once, then `count` sequential RegisterImage calls."""
    ec2 = client(endpoint, creds)
    volume = ec2.create_volume(AvailabilityZone=ZONE, Size=8)
    snapshot = ec2.create_snapshot(VolumeId=volume["VolumeId"])
    run_id = secrets.token_hex(3)
    samples, first_id = [], None
    started = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        response = ec2.register_image(
            Name=f"bench-reg-{run_id}-{i:05d}", Description=f"bench registered image {i}",
            RootDeviceName=ROOT_DEVICE, VirtualizationType="hvm", Architecture="x86_64",
            BlockDeviceMappings=[{"DeviceName": ROOT_DEVICE, "Ebs": {"SnapshotId": snapshot["SnapshotId"]}}],
        )
        samples.append((time.perf_counter() - t0) * 1000.0)
        first_id = first_id or response["ImageId"]
    elapsed = time.perf_counter() - started
    result = {"calls": count, "seconds": elapsed, "calls_per_sec": count / elapsed, **percentiles(samples)}
    return result, first_id


def run_latencies(endpoint: str, seeded: Seeded, reps: int, warmup: int) -> tuple[dict, dict]:
    """The single-client latency measurements a)-f). Each call's answer is checked once before it is timed:
    timing an error or a wrong answer would be worthless. Returns (latencies, extra facts)."""
    from botocore.exceptions import ClientError

    a, b = client(endpoint, seeded.a), client(endpoint, seeded.b)
    shared_id = seeded.shared_sample_ids[0]
    results: dict[str, dict] = {}
    facts: dict = {}

    def attempt(name: str, fn: Callable[[], dict], check: Callable[[dict], str | None] | None = None) -> None:
        log(f"measuring {name}")
        try:
            problem = check(fn()) if check else None
            results[name] = {"error": f"wrong answer: {problem}"} if problem else measure(fn, reps, warmup)
        except ClientError as exc:
            if error_code(exc) == "InvalidAction":
                results[name] = {"note": "not implemented (InvalidAction)"}
            else:
                results[name] = {"error": str(exc)}
        except Exception as exc:  # keep going: one broken call must not hide the other figures
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        if "error" in results[name]:
            log(f"  {name}: {results[name]['error']}")

    def ids_are(expected: list[str]):
        return lambda r: None if [i["ImageId"] for i in r["Images"]] == expected else \
            f"images {[i['ImageId'] for i in r['Images']]}, expected {expected}"

    def full_page(size: int, more: bool):
        def check(r):
            if len(r["Images"]) != size:
                return f"{len(r['Images'])} images, expected {size}"
            if bool(r.get("NextToken")) != more:
                return f"NextToken {'missing' if more else 'present'}"
            return None
        return check

    attempt("a_describe_by_id", lambda: a.describe_images(ImageIds=[seeded.a_sample_id]),
            ids_are([seeded.a_sample_id]))
    first = a.describe_images(Owners=["self"], MaxResults=100)
    owned_page = full_page(min(100, seeded.a_images), seeded.a_images > 100)
    attempt("a_owned_page1", lambda: a.describe_images(Owners=["self"], MaxResults=100), owned_page)
    page2 = first.get("NextToken")
    if page2:
        def after_page1(r):
            return owned_page(r) or (None if r["Images"][0]["ImageId"] > first["Images"][-1]["ImageId"]
                                     else "page 2 does not follow page 1")
        attempt("a_owned_page2", lambda: a.describe_images(Owners=["self"], MaxResults=100, NextToken=page2),
                after_page1)
    log("finding a NextToken in the middle of A's catalog")
    try:
        middle = token_at(lambda **kw: a.describe_images(Owners=["self"], **kw), seeded.a_images // 2)
    except ClientError as exc:
        middle, facts["middle_page_error"] = None, str(exc)
    if middle:
        attempt("a_owned_page_middle", lambda: a.describe_images(Owners=["self"], MaxResults=100, NextToken=middle),
                owned_page)
    attempt("a_describe_attribute",
            lambda: a.describe_image_attribute(ImageId=seeded.a_sample_id, Attribute="description"),
            lambda r: None if r.get("Description", {}).get("Value") == seeded.a_sample_description
            else f"Description {r.get('Description')!r}, expected {seeded.a_sample_description!r}")
    attempt("b_run_instances", lambda: b.run_instances(ImageId=shared_id, MinCount=1, MaxCount=1),
            lambda r: None if len(r["Instances"]) == 1 and r["Instances"][0]["ImageId"] == shared_id
            else f"instances {r['Instances']}")
    attempt("b_executable_page1", lambda: b.describe_images(ExecutableUsers=["self"], MaxResults=100),
            full_page(min(100, seeded.shared_with_b), seeded.shared_with_b > 100))
    attempt("b_describe_shared_by_id", lambda: b.describe_images(ImageIds=[shared_id]), ids_are([shared_id]))
    visible_of_a = seeded.shared_with_b + seeded.public_of_a  # an upper bound: public images may be shared too
    attempt("b_owners_a_page1", lambda: b.describe_images(Owners=[seeded.a.account_id], MaxResults=100),
            lambda r: None if len(r["Images"]) == min(100, visible_of_a) or len(r["Images"]) == 100
            else f"{len(r['Images'])} images")
    log("counting B's full ExecutableUsers=['self'] answer")
    total, pages = count_all_pages(lambda **kw: b.describe_images(ExecutableUsers=["self"], **kw))
    facts["b_executable_total"] = total
    facts["b_executable_pages_of_1000"] = pages
    facts["b_executable_expected"] = seeded.shared_with_b
    if total != seeded.shared_with_b:
        log(f"WARNING: B's ExecutableUsers=['self'] answer holds {total} images, expected {seeded.shared_with_b}")
    return results, facts


LABELS = {
    "a_describe_by_id": "a) A DescribeImages(ImageIds=[own id])",
    "a_owned_page1": "b) A DescribeImages(Owners=[self], Max=100) page 1",
    "a_owned_page2": "b) A ... page 2 (NextToken)",
    "a_owned_page_middle": "b) A ... page at N/2 (NextToken)",
    "a_describe_attribute": "c) A DescribeImageAttribute(description)",
    "b_run_instances": "d) B RunInstances(shared image)",
    "b_executable_page1": "e) B DescribeImages(ExecutableUsers=[self], Max=100) p1",
    "b_describe_shared_by_id": "f) B DescribeImages(ImageIds=[shared id])",
    "b_owners_a_page1": "h) B DescribeImages(Owners=[A], Max=100) page 1",
    "register_image": "g) C RegisterImage (sequential)",
}


def provenance_lines(meta: dict) -> list[str]:
    """Where the figures come from: the code measured and how busy the machine was."""
    lines = []
    source = meta.get("source") or {}
    if source:
        dirty = f", {len(source['uncommitted'])} uncommitted changes under amishare/" if source["uncommitted"] else ""
        lines.append(f"source: git {source['head']}{dirty}")
    lines.append(f"host: {meta['cpus']} CPUs, load average before {meta['loadavg_before']}, after "
                 f"{meta.get('loadavg_after')}  (shared machine: figures are noisy)")
    return lines


def format_summary(report: dict) -> str:
    lines = []
    meta = report["meta"]
    lines.append(f"amishare benchmark  {meta['timestamp']}  N={meta['images']:,} images  workers={meta['workers']}  "
                 f"db={meta['db']}")
    lines.extend(provenance_lines(meta))
    lines.append("")
    lines.append(f"{'measurement':<58}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'n':>6}  note")
    lines.append("-" * 100)
    for key, value in report["latency"].items():
        label = LABELS.get(key, key)
        if "p50" in value:
            lines.append(f"{label:<58}{value['p50']:>9.2f}{value['p90']:>9.2f}{value['p99']:>9.2f}{value['n']:>6}"
                         f"  {value.get('note', '')}")
        else:
            lines.append(f"{label:<58}{'-':>9}{'-':>9}{'-':>9}{'':>6}  {value.get('note') or value.get('error')}")
    reg = report.get("register_image")
    if reg and "calls_per_sec" in reg:
        lines.append(f"{LABELS['register_image']:<58}{reg['p50']:>9.2f}{reg['p90']:>9.2f}{reg['p99']:>9.2f}"
                     f"{reg['calls']:>6}  {reg['calls_per_sec']:.1f} calls/s")
    elif reg:
        lines.append(f"{LABELS['register_image']:<58}  error: {reg.get('error')}")
    facts = report.get("facts", {})
    if "b_executable_total" in facts:
        lines.append(f"   B's full ExecutableUsers=[self] answer: {facts['b_executable_total']:,} images "
                     f"(expected {facts['b_executable_expected']:,}) in {facts['b_executable_pages_of_1000']} "
                     f"pages of 1000")
    if facts.get("seed_shape_diffs") is not None:
        diffs = facts["seed_shape_diffs"]
        lines.append("   seeded rows match a RegisterImage row: " + ("yes" if not diffs else "NO: " + "; ".join(diffs)))
    lines.append("")
    lines.append(f"{'wrk throughput':<58}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}  note")
    lines.append("-" * 100)
    for key, value in report.get("wrk", {}).items():
        if "requests_per_sec" in value:
            lines.append(f"{key:<58}{value['requests_per_sec']:>9.1f}{value.get('latency_p50_ms', 0):>9.2f}"
                         f"{value.get('latency_p90_ms', 0):>9.2f}{value.get('latency_p99_ms', 0):>9.2f}"
                         f"  {value.get('warning', '')}{' socket errors ' + str(value['socket_errors']) if value.get('socket_errors') else ''}")
        else:
            lines.append(f"{key:<58}  {value.get('error') or value.get('note')}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Seed a large AMI catalog and benchmark an amishare server.")
    parser.add_argument("--images", type=int, default=100_000, help="images owned by account A (default 100000)")
    parser.add_argument("--db", help="database URL (default: a fresh sqlite file under bench/results/)")
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument("--port", type=int, help="server port (default: a free one)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--skip-seed", action="store_true", help="reuse the benchmark data already in --db")
    parser.add_argument("--reps", type=int, default=200, help="timed calls per latency measurement (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls before each measurement (default 20)")
    parser.add_argument("--register", type=int, default=500, help="RegisterImage calls (default 500)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--wrk-connections", type=int, default=32)
    args = parser.parse_args(argv)

    if args.skip_seed and not args.db:
        parser.error("--skip-seed needs --db")
    wrk_missing = shutil.which("wrk") is None
    if wrk_missing:
        log("wrk is not installed: the throughput runs are skipped. Install it with: apt-get install -y wrk")
    stamp = timestamp()
    db_url = args.db or fresh_sqlite_url(f"bench-{stamp}-{args.images}")
    port = args.port or free_port()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)

    report: dict = {"meta": {
        "timestamp": stamp, "images": args.images, "db": db_url, "workers": args.workers, "port": port,
        "wrk_duration_s": args.duration, "reps": args.reps, "warmup": args.warmup, "cpus": os.cpu_count(),
        "python": platform.python_version(), "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        "source": source_state(),
    }, "latency": {}, "wrk": {}, "facts": {}}

    if args.skip_seed:
        seeded = inspect_seed(db_url)
        report["meta"]["images"] = seeded.a_images
        log(f"reusing {db_url}: A owns {seeded.a_images:,} images, {seeded.shared_with_b:,} shared with B")
    else:
        t0 = time.perf_counter()
        seeded = seed(db_url, args.images)
        report["meta"]["seed_seconds"] = round(time.perf_counter() - t0, 1)
    report["facts"].update(a_images=seeded.a_images, b_images=seeded.b_images, shared_with_b=seeded.shared_with_b,
                           public_of_a=seeded.public_of_a)

    server = ServerProcess(db_url, port, args.workers, RESULTS_DIR / f"server-{stamp}.log")
    try:
        server.start()
        latency, facts = run_latencies(server.endpoint, seeded, args.reps, args.warmup)
        report["latency"].update(latency)
        report["facts"].update(facts)

        log(f"RegisterImage x{args.register} by C")
        try:
            register, registered_id = register_throughput(server.endpoint, seeded.c, args.register)
            report["register_image"] = register
            if registered_id:
                report["facts"]["seed_shape_diffs"] = _seeded_shape_check(db_url, seeded.a_sample_id, registered_id)
        except Exception as exc:
            report["register_image"] = {"error": f"{type(exc).__name__}: {exc}"}

        if not wrk_missing:
            runs = {
                "A DescribeImages(ImageId.1=id)": (
                    seeded.a, {"Action": "DescribeImages", "Version": EC2_VERSION, "ImageId.1": seeded.a_sample_id},
                    [f"<imageId>{seeded.a_sample_id}</imageId>"], f"wrk-describe-by-id-{stamp}.lua"),
                "B DescribeImages(ExecutableBy.1=self, MaxResults=100)": (
                    seeded.b, {"Action": "DescribeImages", "Version": EC2_VERSION, "ExecutableBy.1": "self",
                               "MaxResults": "100"},
                    ["<imageId>", "<nextToken>" if seeded.shared_with_b > 100 else "<imagesSet>"],
                    f"wrk-executable-page-{stamp}.lua"),
            }
            for name, (creds, params, must_contain, script_name) in runs.items():
                try:
                    report["wrk"][name] = wrk_benchmark(server.endpoint, creds, params, must_contain, script_name,
                                                        args.duration, args.wrk_threads, args.wrk_connections)
                except Exception as exc:
                    report["wrk"][name] = {"error": f"{type(exc).__name__}: {exc}"}
        else:
            report["wrk"]["skipped"] = {"note": "wrk not installed (apt-get install -y wrk)"}
    finally:
        server.stop()
        report["meta"]["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        out = RESULTS_DIR / f"{stamp}.json"
        out.write_text(json.dumps(report, indent=2, default=str))
        print()
        print(format_summary(report))
        print(f"\nJSON: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
