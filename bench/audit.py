#!/usr/bin/env python3
"""What recording the audit trail costs a call, measured in one process without HTTP.

    python bench/audit.py --db sqlite:///bench/results/audit-ab.db --calls 3000 --rounds 6

Runs account B's `DescribeImages(ImageIds=[a shared image])` (bench/ab.py's `by-id`, the hot
path) through `Application.invoke` on a database seeded by run.py/ab.py, with the audit trail
off (A) and on (B), alternating A B / B A ... so that background load falls on both alike.
The CPU time of the whole process (request thread and the trail's writer thread, which writes
every record before the round's clock stops) per call is the cost; B - A is what recording
adds to a call. With HTTP, SigV4 and XML on top (bench/ab.py), a request costs more, so the
share of recording in a served request is smaller than the share printed here.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402  (bench/run.py)

USER_AGENT = "Boto3/1.40.0 md/Botocore#1.40.0 ua/2.1 os/linux lang/python#3.11.7 cfg/retry-mode#standard"


def one_round(db_url: str, seeded: bench.Seeded, trail_on: bool, calls: int) -> dict:
    from amishare.application import Application, Call
    from amishare.config import Settings
    from amishare.domain.principal import Principal
    from amishare.domain.secretbox import SecretBox
    from amishare.store.db import open_store

    settings = Settings(audit_trail=trail_on, state_delay=0)
    app = Application(open_store(db_url, run_migrations=False), settings, SecretBox.for_database(db_url))
    principal = Principal.root(seeded.b.account_id, seeded.b.access_key_id)
    image_id = seeded.shared_sample_ids[0]
    try:
        for _ in range(50):  # warm caches (models, statements) outside the clock
            app.invoke(Call(principal, "us-east-1", "ec2", "DescribeImages", {"ImageIds": [image_id]}))
        if app.trail is not None:
            app.trail.flush(60)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(calls):
            outcome = app.invoke(Call(principal, "us-east-1", "ec2", "DescribeImages", {"ImageIds": [image_id]},
                                      source_ip="127.0.0.1", user_agent=USER_AGENT))
            assert outcome.succeeded and outcome.result["Images"][0]["ImageId"] == image_id
        if app.trail is not None:
            assert app.trail.flush(120), "the trail's writer did not catch up"
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        app.close()
        app.store.dispose()
    return {"trail": trail_on, "calls": calls, "cpu_s": cpu, "wall_s": wall,
            "cpu_us_per_call": cpu / calls * 1e6, "calls_per_cpu_s": calls / cpu}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="CPU per call with the audit trail off and on, in one process.")
    parser.add_argument("--db", required=True, help="a database seeded by bench/run.py or bench/ab.py")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=6, help="A/B pairs (default 6)")
    args = parser.parse_args(argv)
    seeded = bench.inspect_seed(args.db)
    report = {"meta": {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "db": args.db, "calls": args.calls,
                       "rounds": args.rounds, "cpus": os.cpu_count(), "loadavg_before": list(os.getloadavg()),
                       "source": bench.source_state()}, "runs": []}
    ratios = []
    for index in range(args.rounds):
        order = (False, True) if index % 2 == 0 else (True, False)
        pair = {on: one_round(args.db, seeded, on, args.calls) for on in order}
        report["runs"].extend(pair.values())
        ratios.append(pair[True]["cpu_us_per_call"] / pair[False]["cpu_us_per_call"])
        bench.log(f"round {index + 1}: off {pair[False]['cpu_us_per_call']:.0f} us/call, "
                  f"on {pair[True]['cpu_us_per_call']:.0f} us/call, on/off {ratios[-1]:.3f}")
    off = statistics.median(r["cpu_us_per_call"] for r in report["runs"] if not r["trail"])
    on = statistics.median(r["cpu_us_per_call"] for r in report["runs"] if r["trail"])
    report["summary"] = {"off_cpu_us_per_call": off, "on_cpu_us_per_call": on, "added_cpu_us_per_call": on - off,
                         "on_off_ratio_by_round": {"median": statistics.median(ratios), "min": min(ratios),
                                                   "max": max(ratios)},
                         "loadavg_after": list(os.getloadavg())}
    bench.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = bench.RESULTS_DIR / f"audit-{bench.timestamp()}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"DescribeImages by id through Application.invoke, {args.calls} calls x {args.rounds} rounds per setting")
    print(f"trail off: {off:.0f} us CPU/call; on: {on:.0f} us CPU/call; recording adds {on - off:.0f} us "
          f"({(on / off - 1) * 100:.1f}%); on/off by round median {statistics.median(ratios):.3f} "
          f"[{min(ratios):.3f}, {max(ratios):.3f}]")
    print(f"load average before {report['meta']['loadavg_before']}, after {report['summary']['loadavg_after']}")
    print(f"JSON: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
