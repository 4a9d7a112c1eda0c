#!/usr/bin/env python3
"""What one request costs inside the server: microseconds of Python and SQL statements per call.

    python bench/inprocess.py                              # N = 2,000 images, a fresh SQLite database
    python bench/inprocess.py --db sqlite:///bench/results/inproc.db --skip-seed --reps 2000
    python bench/inprocess.py --compare /work/other-tree   # the same, A/B against another source tree

No HTTP server and no sockets: a signed request (botocore's SigV4, made before the clock
starts) goes straight into the front end the server runs (`HttpApi.handle` behind the
access log and metrics of `Telemetry`, log lines off), so the figure is the whole request
path of one worker thread: SigV4 check, the key's identity, parsing, `Application.invoke`,
serialization. What it leaves out is the ASGI server and the event loop.

Statements are counted by SQLite itself (the connection's trace callback), so every
statement the request runs is counted whichever layer issued it: BEGIN and COMMIT included.

With `--compare TREE` the same measurement runs in two child processes, this tree's amishare
and TREE's, on the same database, alternating A B B A ... over `--rounds` rounds so that
background load falls on both alike; it prints B/A of the medians and the per-round ratios.
On a shared machine read the ratios, not the absolute microseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))  # run.py, for seeding

CASES = ("by-id", "executable", "owners-self", "register", "modify")


def _tree_first(tree: str | None) -> None:
    """Import amishare from `tree` (default: the tree this script is in)."""
    root = str(Path(tree).resolve()) if tree else str(BENCH_DIR.parent)
    sys.path.append(str(BENCH_DIR.parent))  # so that run.py, imported next, doesn't put this tree first
    sys.path.insert(0, root)


def _signed(creds, params: dict[str, str]):
    from amishare.api.frontend import HttpRequest
    import run as bench

    body, headers = bench.signed_request("http://127.0.0.1:1", creds, params)
    headers = {name.lower(): value for name, value in headers.items()}
    return HttpRequest("POST", "/", b"", headers, body, "127.0.0.1", False)


def _counting(store):
    """A list whose length is the number of statements SQLite has run on the store's connections."""
    from sqlalchemy import event

    seen: list[str] = []
    if store.engine.dialect.name == "sqlite":
        @event.listens_for(store.engine, "connect")
        def _trace(dbapi_connection, _record):
            dbapi_connection.set_trace_callback(seen.append)
    else:
        @event.listens_for(store.engine, "before_cursor_execute")
        def _count(conn, cursor, statement, *args):
            seen.append(statement)
    store.dispose()  # connections made from now on are counted
    if hasattr(store, "_held"):  # this version keeps a connection per thread: let it make a new one
        store._held.conn = None
    return seen


def measure(db_url: str, reps: int, cases: list[str], show_statements: bool) -> dict:
    """In this process: the per-call cost of each case (median of per-block means, µs) and its statements."""
    import run as bench

    from amishare.api.asgi import build_application
    from amishare.api.frontend import HttpApi
    from amishare.api.telemetry import Telemetry
    from amishare.config import Settings

    seeded = bench.inspect_seed(db_url)
    application = build_application(db_url, Settings(state_delay=0.0, log_format="off"))
    api = HttpApi(application)
    telemetry = Telemetry(application, "off")
    statements = _counting(application.store)
    a, b, c = seeded.a, seeded.b, seeded.c
    version = {"Version": "2016-11-15"}

    def call(request):
        response = telemetry.handle(api.handle, request, time.perf_counter())
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {response.body[:400]!r}")
        return response

    fixed = {
        "by-id": _signed(b, {"Action": "DescribeImages", **version, "ImageId.1": seeded.shared_sample_ids[0]}),
        "executable": _signed(b, {"Action": "DescribeImages", **version, "ExecutableBy.1": "self",
                                  "MaxResults": "100"}),
        "owners-self": _signed(a, {"Action": "DescribeImages", **version, "Owner.1": "self", "MaxResults": "100"}),
    }
    # RegisterImage (as C, from a snapshot of its own) and ModifyImageAttribute (A adds C to an
    # image's launch permissions, then removes it) change the database; each request is signed ahead.
    snapshot_id = None
    if "register" in cases:
        volume = call(_signed(c, {"Action": "CreateVolume", **version, "AvailabilityZone": "us-east-1a",
                                  "Size": "8"})).body.decode()
        volume_id = volume.split("<volumeId>")[1].split("<")[0]
        snapshot = call(_signed(c, {"Action": "CreateSnapshot", **version, "VolumeId": volume_id})).body.decode()
        snapshot_id = snapshot.split("<snapshotId>")[1].split("<")[0]
    run_tag = f"{os.getpid()}-{time.time_ns()}"
    names = iter(range(10**9))

    def register_requests(count):
        return [_signed(c, {"Action": "RegisterImage", **version, "Name": f"inproc-{run_tag}-{next(names)}",
                            "RootDeviceName": "/dev/xvda", "BlockDeviceMapping.1.DeviceName": "/dev/xvda",
                            "BlockDeviceMapping.1.Ebs.SnapshotId": snapshot_id}) for i in range(count)]

    def modify_requests(count):
        return [_signed(a, {"Action": "ModifyImageAttribute", **version, "ImageId": seeded.a_sample_id,
                            f"LaunchPermission.{'Add' if i % 2 == 0 else 'Remove'}.1.UserId": c.account_id})
                for i in range(count)]

    expect = {"by-id": seeded.shared_sample_ids[0], "executable": "<nextToken>", "owners-self": "<nextToken>"}
    results = {}
    blocks = 5
    per_block = max(1, reps // blocks)
    samples: dict[str, list[float]] = {case: [] for case in cases}
    cpu: dict[str, list[float]] = {case: [] for case in cases}  # this thread's CPU time: less load-sensitive
    counts: dict[str, int] = {}
    writes = {"register": register_requests, "modify": modify_requests}
    for case in cases:  # warm-up, the answer checked once, and the statements of one call
        requests = writes[case](per_block) if case in writes else [fixed[case]] * per_block
        for request in requests[: max(1, per_block // 5)]:
            response = call(request)
        if case in expect and expect[case].encode() not in response.body:
            raise RuntimeError(f"{case}: unexpected answer {response.body[:400]!r}")
        del statements[:]
        call(writes[case](1)[0] if case in writes else fixed[case])
        counts[case] = len(statements)
        if show_statements:
            print(f"--- {case}: {len(statements)} statements", file=sys.stderr)
            for text in statements:
                print("   ", " ".join(text.split())[:300], file=sys.stderr)
    for _ in range(blocks):  # blocks alternate between the cases, so drifting load falls on all of them
        for case in cases:
            requests = writes[case](per_block) if case in writes else [fixed[case]] * per_block
            started, cpu_started = time.perf_counter(), time.thread_time()
            for request in requests:
                call(request)
            samples[case].append((time.perf_counter() - started) / len(requests) * 1e6)
            cpu[case].append((time.thread_time() - cpu_started) / len(requests) * 1e6)
    for case in cases:
        results[case] = {"us_per_call": statistics.median(samples[case]), "blocks_us": samples[case],
                         "cpu_us_per_call": statistics.median(cpu[case]), "statements": counts[case]}
    application.store.dispose()
    return results


def _child(tree: str, db_url: str, reps: int, cases: list[str]) -> dict:
    command = [sys.executable, __file__, "--db", db_url, "--skip-seed", "--reps", str(reps), "--json",
               "--tree", tree, "--cases", *cases]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{tree}: {out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(this_tree: str, other_tree: str, db_url: str, reps: int, rounds: int, cases: list[str]) -> None:
    """A = other_tree, B = this tree; rounds alternate A B, B A, ..."""
    runs = {"A": [], "B": []}
    for round_no in range(rounds):
        order = ("A", "B") if round_no % 2 == 0 else ("B", "A")
        for side in order:
            runs[side].append(_child(other_tree if side == "A" else this_tree, db_url, reps, cases))
    print(f"A = {other_tree}\nB = {this_tree}\nload average {os.getloadavg()}")
    print("| case | A µs/call | B µs/call | B/A | per-round B/A | A CPU µs | B CPU µs | B/A CPU | A stmts | B stmts |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for case in cases:
        row = [case]
        for metric in ("us_per_call", "cpu_us_per_call"):
            a_us = [r[case][metric] for r in runs["A"]]
            b_us = [r[case][metric] for r in runs["B"]]
            ratios = sorted(b / a for a, b in zip(a_us, b_us))
            row += [f"{statistics.median(a_us):,.0f}", f"{statistics.median(b_us):,.0f}",
                    f"{statistics.median(b_us) / statistics.median(a_us):.2f}"]
            if metric == "us_per_call":
                row.append(f"{statistics.median(ratios):.2f} [{ratios[0]:.2f}, {ratios[-1]:.2f}]")
        row += [str(runs["A"][0][case]["statements"]), str(runs["B"][0][case]["statements"])]
        print("| " + " | ".join(row) + " |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file in bench/results/)")
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--skip-seed", action="store_true")
    parser.add_argument("--reps", type=int, default=1000, help="timed calls per case")
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    parser.add_argument("--statements", action="store_true", help="print the statements of one call of each case")
    parser.add_argument("--profile", metavar="CASE", choices=CASES, help="cProfile CASE and print the top entries")
    parser.add_argument("--compare", metavar="TREE", help="A/B against the amishare of another source tree")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--tree", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    _tree_first(args.tree)
    import run as bench

    db_url = args.db or f"sqlite:///{bench.RESULTS_DIR}/inproc-{bench.timestamp()}-{args.images}.db"
    if not args.skip_seed:
        bench.seed(db_url, args.images)
    if args.compare:
        compare(str(BENCH_DIR.parent), args.compare, db_url, args.reps, args.rounds, args.cases)
        return 0
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        measure(db_url, args.reps, [args.profile], False)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return 0
    results = measure(db_url, args.reps, args.cases, args.statements)
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"{db_url}\nload average {os.getloadavg()}")
    print("| case | µs/call (median of 5 blocks) | blocks | CPU µs/call | statements/call |")
    print("|---|---|---|---|---|")
    for case, figures in results.items():
        blocks = ", ".join(f"{v:,.0f}" for v in figures["blocks_us"])
        print(f"| {case} | {figures['us_per_call']:,.0f} | {blocks} | {figures['cpu_us_per_call']:,.0f} | "
              f"{figures['statements']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
