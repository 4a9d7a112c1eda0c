#!/usr/bin/env python3
"""Does B's sharing workload cost the same whatever the size of A's catalog?

    python bench/scaling.py                      # N = 10,000 and 100,000

Seeds one fresh database per catalog size in which A shares the SAME number of
images with B (default 1,000, spread evenly over A's catalog) and makes the
same number public (default 100), so every answer B gets has the same size at
every N. Starts one server per database and measures, alternating between the
servers in blocks so background load on the machine hits every size alike:

  * B DescribeImages(ExecutableUsers=['self'], MaxResults=100), first page
  * B DescribeImages(ImageIds=[a shared image])
  * B RunInstances(a shared image, MinCount=MaxCount=1)

and reports each p50 per size and its change from the smallest to the largest
size. The requirement checked: the p50 rises by less than --threshold percent
(default 30) going from the smallest to the largest N.

For information (no verdict; skip with --no-extra) it also times a non-owner
listing A's images by owner id, B's and C's DescribeImages(Owners=[A],
MaxResults=100): their answers are the same size at every N too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402  (bench/run.py)

MEASUREMENTS = {
    "executable_page1": "B DescribeImages(ExecutableUsers=[self], MaxResults=100) page 1",
    "describe_shared_by_id": "B DescribeImages(ImageIds=[shared id])",
    "run_instances": "B RunInstances(shared image)",
}
# Informational, not part of the requirement: a non-owner listing A's images by owner id. The answer size is
# again the same at every N (B: shared + public images of A; C: public images of A only).
EXTRA = {
    "b_owners_a_page1": "B DescribeImages(Owners=[A], MaxResults=100) page 1",
    "c_owners_a_page1": "C DescribeImages(Owners=[A], MaxResults=100) page 1",
}


def _calls(endpoint: str, seeded: bench.Seeded) -> dict:
    b, c = bench.client(endpoint, seeded.b), bench.client(endpoint, seeded.c)
    shared_id, a_id = seeded.shared_sample_ids[0], seeded.a.account_id
    return {
        "executable_page1": lambda: b.describe_images(ExecutableUsers=["self"], MaxResults=100),
        "describe_shared_by_id": lambda: b.describe_images(ImageIds=[shared_id]),
        "run_instances": lambda: b.run_instances(ImageId=shared_id, MinCount=1, MaxCount=1),
        "b_owners_a_page1": lambda: b.describe_images(Owners=[a_id], MaxResults=100),
        "c_owners_a_page1": lambda: c.describe_images(Owners=[a_id], MaxResults=100),
    }


def _check_answers(endpoint: str, seeded: bench.Seeded, shared: int, extra: bool) -> dict:
    """The answers are what the workload says, and the same size at every N."""
    b = bench.client(endpoint, seeded.b)
    page = b.describe_images(ExecutableUsers=["self"], MaxResults=100)
    assert len(page["Images"]) == min(100, shared), f"first page holds {len(page['Images'])} images"
    total, pages = bench.count_all_pages(lambda **kw: b.describe_images(ExecutableUsers=["self"], **kw))
    assert total == shared, f"B's ExecutableUsers=[self] answer holds {total} images, expected {shared}"
    shared_id = seeded.shared_sample_ids[0]
    assert [i["ImageId"] for i in b.describe_images(ImageIds=[shared_id])["Images"]] == [shared_id]
    out = {"b_executable_total": total, "first_page": len(page["Images"])}
    if extra:
        c = bench.client(endpoint, seeded.c)
        b_owned = b.describe_images(Owners=[seeded.a.account_id], MaxResults=100)["Images"]
        c_owned = c.describe_images(Owners=[seeded.a.account_id], MaxResults=100)["Images"]
        assert len(b_owned) == 100, f"B's Owners=[A] page holds {len(b_owned)} images"
        assert len(c_owned) == min(100, seeded.public_of_a), f"C's Owners=[A] page holds {len(c_owned)} images"
        out.update(b_owners_a_page=len(b_owned), c_owners_a_page=len(c_owned))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="p50 of B's sharing workload at several catalog sizes.")
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated catalog sizes (default 10000,100000)")
    parser.add_argument("--shared", type=int, default=1000, help="images of A shared with B at every size")
    parser.add_argument("--public", type=int, default=100, help="public images of A at every size")
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument("--reps", type=int, default=200, help="timed calls per measurement and size")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls per measurement and size")
    parser.add_argument("--rounds", type=int, default=4, help="blocks the timed calls are split into, alternating sizes")
    parser.add_argument("--no-extra", action="store_true",
                        help="skip the informational Owners=[A] measurements by B and C")
    parser.add_argument("--threshold", type=float, default=30.0, help="allowed p50 rise in percent (default 30)")
    args = parser.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if len(sizes) < 2:
        parser.error("--sizes needs at least two sizes")
    stamp = bench.timestamp()
    report: dict = {"meta": {
        "timestamp": stamp, "sizes": sizes, "shared": args.shared, "public": args.public, "workers": args.workers,
        "reps": args.reps, "warmup": args.warmup, "rounds": args.rounds, "threshold_pct": args.threshold,
        "cpus": os.cpu_count(), "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        "source": bench.source_state(),
    }, "sizes": {}, "p50_change_pct": {}, "verdict": {}}

    seeded: dict[int, bench.Seeded] = {}
    for n in sizes:
        db_url = bench.fresh_sqlite_url(f"scaling-{stamp}-{n}")
        t0 = time.perf_counter()
        seeded[n] = bench.seed(db_url, n, shared_count=args.shared, public_count=args.public)
        report["sizes"][str(n)] = {"db": db_url, "seed_seconds": round(time.perf_counter() - t0, 1),
                                   "shared_with_b": seeded[n].shared_with_b, "public_of_a": seeded[n].public_of_a}

    measured = dict(MEASUREMENTS, **({} if args.no_extra else EXTRA))
    servers = {n: bench.ServerProcess(report["sizes"][str(n)]["db"], bench.free_port(), args.workers,
                                      bench.RESULTS_DIR / f"server-scaling-{stamp}-{n}.log") for n in sizes}
    try:
        for server in servers.values():
            server.start()
        for n in sizes:
            report["sizes"][str(n)]["answers"] = _check_answers(servers[n].endpoint, seeded[n], args.shared,
                                                                 not args.no_extra)
        calls = {n: _calls(servers[n].endpoint, seeded[n]) for n in sizes}
        for key, label in measured.items():
            bench.log(f"measuring {label} at N = {', '.join(f'{n:,}' for n in sizes)} (interleaved)")
            results = bench.measure_interleaved({n: calls[n][key] for n in sizes}, args.reps, args.warmup,
                                                args.rounds)
            for n, stats in results.items():
                report["sizes"][str(n)].setdefault("latency", {})[key] = stats
    finally:
        for server in servers.values():
            server.stop()
        report["meta"]["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]

    small, large = str(sizes[0]), str(sizes[-1])
    ok = True
    for key in measured:
        before = report["sizes"][small]["latency"][key]["p50"]
        after = report["sizes"][large]["latency"][key]["p50"]
        change = (after - before) / before * 100.0
        report["p50_change_pct"][key] = change
        if key in MEASUREMENTS:
            report["verdict"][key] = "PASS" if change < args.threshold else "FAIL"
            ok = ok and change < args.threshold
        else:
            report["verdict"][key] = "info" + (f" (over {args.threshold:g}%)" if change >= args.threshold else "")

    print()
    print(f"amishare scaling  {stamp}  B shares {args.shared:,} images of A and sees {args.public} public ones "
          f"at every N; workers={args.workers}")
    source = report["meta"]["source"]
    print(f"source: git {source['head']}" + (f", {len(source['uncommitted'])} uncommitted changes under amishare/"
                                             if source["uncommitted"] else ""))
    print(f"host: {os.cpu_count()} CPUs, load average before {report['meta']['loadavg_before']}, after "
          f"{report['meta']['loadavg_after']} (shared machine: figures are noisy)")
    print()
    header = f"{'measurement':<62}" + "".join(f"{'p50 @' + format(n, ','):>14}" for n in sizes)
    print(header + f"{'change':>10}  verdict (< {args.threshold:g}%)")
    print("-" * len(header) + "-" * 30)
    for key, label in measured.items():
        cells = "".join(f"{report['sizes'][str(n)]['latency'][key]['p50']:>11.2f} ms" for n in sizes)
        print(f"{label:<62}{cells}{report['p50_change_pct'][key]:>+9.1f}%  {report['verdict'][key]}")
    print()
    print(f"{'(p90 for reference)':<62}" + "".join(f"{'p90 @' + format(n, ','):>14}" for n in sizes))
    for key, label in measured.items():
        print(f"{label:<62}" + "".join(f"{report['sizes'][str(n)]['latency'][key]['p90']:>11.2f} ms" for n in sizes))
    out = bench.RESULTS_DIR / f"scaling-{stamp}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nJSON: {out}")
    print("overall (the three required measurements):", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
