#!/usr/bin/env python3
"""A/B server throughput: two configurations of the same code, same database, same run, interleaved.

    python bench/ab.py --a AMISHARE_REQUEST_THREADS=0 --b AMISHARE_REQUEST_THREADS=8 --workers 1 2

A configuration is a set of environment overrides for `amishare serve` (repeat --a/--b for several).
For every worker count one A server and one B server are started on the same seeded database (run.py's
seeding; --skip-seed reuses it) and stay up for the whole run; wrk then replays one SigV4-signed request
against them in rounds, A B / B A / A B ..., so that load from other work on the machine, which drifts
over time, falls on both alike. Each round gives one B/A ratio per worker count and request from two
adjacent wrk runs.

Requests (both as account B, both checked once for HTTP 200 and the right content before every wrk run):

  by-id       DescribeImages(ImageId.1=<an image of A's shared with B>)        the hot path
  executable  DescribeImages(ExecutableBy.1=self, MaxResults=100)              first page of 100

With --b-caller user, B's requests are signed by an IAM user of account B (the AWS managed
AmazonEC2ReadOnlyAccess policy and an inline policy) instead of B's root user; when A and B also have the same
environment they go to the very same servers, so the ratio is the cost of authorizing a user against root.

Prints per worker count and request the median req/s of A and of B, B/A of the medians, and the
per-round B/A ratios (median, min, max); writes everything, with the raw wrk output, the load average
and the server threads per process, to bench/results/ab-<timestamp>.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402  (bench/run.py)

REQUESTS = {
    "by-id": "B DescribeImages(ImageId.1=shared id)",
    "executable": "B DescribeImages(ExecutableBy.1=self, MaxResults=100)",
}


def parse_overrides(pairs: list[str] | None, flag: str) -> dict[str, str]:
    env = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"error: {flag} takes NAME=VALUE, got {pair!r}")
        env[name] = value
    return env


def describe(env: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in env.items()) or "(defaults)"


def request(seeded: bench.Seeded, name: str) -> tuple[dict[str, str], list[str]]:
    """The EC2 Query parameters of a measured request and what its answer must contain."""
    if name == "by-id":
        image_id = seeded.shared_sample_ids[0]
        return ({"Action": "DescribeImages", "Version": bench.EC2_VERSION, "ImageId.1": image_id},
                [f"<imageId>{image_id}</imageId>"])
    return ({"Action": "DescribeImages", "Version": bench.EC2_VERSION, "ExecutableBy.1": "self", "MaxResults": "100"},
            ["<imageId>", "<nextToken>" if seeded.shared_with_b > 100 else "<imagesSet>"])


# The IAM user --b-caller user signs B's requests as: a managed and an inline policy, both of which
# the evaluation reads (the inline one with a condition, so conditions are evaluated too).
USER_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"
USER_INLINE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "DescribeInThisRegion", "Effect": "Allow", "Action": ["ec2:DescribeImages", "ec2:DescribeImageAttribute"],
     "Resource": "*", "Condition": {"StringEquals": {"aws:RequestedRegion": bench.REGION}}},
    {"Sid": "NeverDeregister", "Effect": "Deny", "Action": "ec2:DeregisterImage", "Resource": "*"}]})


def iam_user(endpoint: str, root: bench.Creds, name: str) -> bench.Creds:
    """A new IAM user of root's account with USER_POLICY_ARN and USER_INLINE_POLICY, and its access key."""
    iam = bench.client(endpoint, root, "iam")
    iam.create_user(UserName=name)
    iam.attach_user_policy(UserName=name, PolicyArn=USER_POLICY_ARN)
    iam.put_user_policy(UserName=name, PolicyName="describe-here", PolicyDocument=USER_INLINE_POLICY)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return bench.Creds(root.account_id, key["AccessKeyId"], key["SecretAccessKey"])


def process_group(pgid: int) -> dict[int, tuple[float, int, float]]:
    """{pid: (CPU seconds used so far, OS threads, seconds its threads spent runnable but waiting for a CPU)}
    of the processes in a process group (the server's supervisor and workers), from /proc."""
    found = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()  # from field 3 (state): ppid pgrp ... utime stime ...
            if int(fields[2]) != pgid:
                continue
            waited = 0
            for task in os.listdir(f"/proc/{entry}/task"):  # schedstat: on-CPU ns, run-queue wait ns, slices
                waited += int(Path(f"/proc/{entry}/task/{task}/schedstat").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        found[int(entry)] = ((int(fields[11]) + int(fields[12])) / tick, int(fields[17]), waited / 1e9)
    return found


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _stats(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)} if values else {}


def summarize(runs: list[dict], workers: list[int], requests: list[str]) -> list[dict]:
    """Per worker count and request: each configuration's req/s and server CPU ms per request (median, min,
    max over the rounds), B/A of the medians, and the B/A ratios of the rounds (A and B runs seconds apart)."""
    rows = []
    for w in workers:
        for req in requests:
            by_round: dict[int, dict[str, dict]] = {}
            for run in runs:
                if run["workers"] == w and run["request"] == req and run.get("valid"):
                    by_round.setdefault(run["round"], {})[run["config"]] = run
            row: dict = {"workers": w, "request": req}
            for metric, key in (("rps", "requests_per_sec"), ("cpu_ms", "server_cpu_ms_per_request"),
                                ("cores", "server_cores")):
                for name in ("A", "B"):
                    row[f"{name.lower()}_{metric}"] = _stats([r[name][key] for r in by_round.values()
                                                              if name in r and r[name].get(key)])
                if row[f"a_{metric}"] and row[f"b_{metric}"]:
                    row[f"{metric}_ratio_of_medians"] = row[f"b_{metric}"]["median"] / row[f"a_{metric}"]["median"]
                paired = [r["B"][key] / r["A"][key] for r in by_round.values()
                          if "A" in r and "B" in r and r["A"].get(key) and r["B"].get(key)]
                row[f"{metric}_ratio_by_round"] = _stats(paired)
                row[f"{metric}_ratios"] = [round(x, 4) for x in paired]
            row["rounds"] = len(row["rps_ratios"])
            rows.append(row)
    return rows


def format_table(rows: list[dict]) -> str:
    def spread(stats: dict, fmt: str) -> str:
        return f"{stats['median']:{fmt}} ({stats['min']:{fmt}}-{stats['max']:{fmt}})" if stats else "-"

    def ratios(row: dict, metric: str) -> str:
        of_medians, by_round = row.get(f"{metric}_ratio_of_medians"), row[f"{metric}_ratio_by_round"]
        if of_medians is None:
            return "-"
        return f"{of_medians:.2f}" + (f"; by round {by_round['median']:.2f} [{by_round['min']:.2f}, "
                                       f"{by_round['max']:.2f}]" if by_round else "")

    def cores(row: dict) -> str:
        a, b = row["a_cores"], row["b_cores"]
        return f"{a['median']:.2f} / {b['median']:.2f}" if a and b else "-"

    lines = ["| workers | request | A req/s | B req/s | B/A req/s | A CPU ms/req | B CPU ms/req | B/A CPU/req "
             "| server cores A / B | rounds |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['workers']} | {row['request']} | {spread(row['a_rps'], ',.0f')} "
                     f"| {spread(row['b_rps'], ',.0f')} | {ratios(row, 'rps')} | {spread(row['a_cpu_ms'], '.2f')} "
                     f"| {spread(row['b_cpu_ms'], '.2f')} | {ratios(row, 'cpu_ms')} | {cores(row)} "
                     f"| {row['rounds']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Compare the throughput of two amishare server configurations, "
                                                 "interleaved in one run on one seeded database.")
    parser.add_argument("--a", action="append", metavar="NAME=VALUE",
                        help="environment override of configuration A (repeatable; none: the defaults)")
    parser.add_argument("--b", action="append", metavar="NAME=VALUE",
                        help="environment override of configuration B (repeatable; none: the defaults)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="server worker counts (default 1 2)")
    parser.add_argument("--requests", default=",".join(REQUESTS),
                        help=f"comma-separated, from {', '.join(REQUESTS)} (default both)")
    parser.add_argument("--rounds", type=int, default=4, help="A/B pairs per worker count and request (default 4)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    parser.add_argument("--warmup", type=int, default=2,
                        help="seconds of untimed wrk per server and request before the rounds (default 2; 0: none)")
    parser.add_argument("--images", type=int, default=100_000, help="images owned by A when seeding (default 100000)")
    parser.add_argument("--db", help="database URL (default: a fresh sqlite file under bench/results/)")
    parser.add_argument("--skip-seed", action="store_true", help="reuse the benchmark data already in --db")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--wrk-connections", type=int, default=32)
    parser.add_argument("--b-caller", choices=("root", "user"), default="root",
                        help="who signs B's requests: account B's root user (default), or an IAM user of B with a "
                             "managed and an inline policy (A's are always root's)")
    args = parser.parse_args(argv)

    if args.skip_seed and not args.db:
        parser.error("--skip-seed needs --db")
    requests = [r.strip() for r in args.requests.split(",") if r.strip()]
    if not requests or any(r not in REQUESTS for r in requests):
        parser.error(f"--requests takes names from {', '.join(REQUESTS)}")
    if shutil.which("wrk") is None:
        raise SystemExit("error: wrk is not installed (apt-get install -y wrk)")
    configs = {"A": parse_overrides(args.a, "--a"), "B": parse_overrides(args.b, "--b")}
    stamp = bench.timestamp()
    db_url = args.db or bench.fresh_sqlite_url(f"ab-{stamp}-{args.images}")
    bench.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    started = time.time()

    report: dict = {"meta": {
        "timestamp": stamp, "date": time.strftime("%Y-%m-%d %H:%M %Z"), "command": " ".join(sys.argv),
        "db": db_url, "workers": args.workers, "requests": {r: REQUESTS[r] for r in requests},
        "configs": {k: v for k, v in configs.items()}, "b_caller": args.b_caller, "rounds": args.rounds, "wrk_duration_s": args.duration,
        "warmup_s": args.warmup, "wrk_threads": args.wrk_threads, "wrk_connections": args.wrk_connections,
        "cpus": os.cpu_count(), "python": platform.python_version(), "loadavg_before": loadavg(),
        "source": bench.source_state(),
    }, "runs": [], "servers": {}}

    if args.skip_seed:
        seeded = bench.inspect_seed(db_url)
        bench.log(f"reusing {db_url}: A owns {seeded.a_images:,} images, {seeded.shared_with_b:,} shared with B")
    else:
        t0 = time.perf_counter()
        seeded = bench.seed(db_url, args.images)
        report["meta"]["seed_seconds"] = round(time.perf_counter() - t0, 1)
    report["meta"].update(images=seeded.a_images, shared_with_b=seeded.shared_with_b)
    params = {name: request(seeded, name) for name in requests}

    wrk_runs = args.rounds * len(args.workers) * len(requests) * 2
    bench.log(f"A: {describe(configs['A'])}   B: {describe(configs['B'])}   workers {args.workers}: "
              f"{wrk_runs} timed wrk runs of {args.duration}s, about "
              f"{(wrk_runs * (args.duration + 1) + len(args.workers) * 2 * len(requests) * args.warmup) / 60:.1f} min")

    servers: dict[tuple[int, str], bench.ServerProcess] = {}
    try:
        # Every server stays up for the whole run: an idle uvicorn worker costs nothing measurable, and the
        # A and B runs of a round are then seconds apart.
        # With the same environment and another caller, A and B share their servers: only the caller differs.
        shared = configs["A"] == configs["B"] and args.b_caller != "root"
        for w in args.workers:
            for name, env in configs.items():
                if shared and name == "B":
                    servers[(w, name)] = servers[(w, "A")]
                    continue
                server = bench.ServerProcess(db_url, bench.free_port(), w,
                                             bench.RESULTS_DIR / f"ab-server-{stamp}-w{w}-{name}.log", env=env)
                servers[(w, name)] = server
                server.start()
        callers = {"A": seeded.b, "B": seeded.b}
        if args.b_caller == "user":
            callers["B"] = iam_user(servers[(args.workers[0], "A")].endpoint, seeded.b, f"bench-user-{stamp}")
            report["meta"]["b_user"] = {"name": f"bench-user-{stamp}", "managed": USER_POLICY_ARN,
                                        "inline": json.loads(USER_INLINE_POLICY)}

        def measure(w: int, name: str, req: str, duration: int) -> dict:
            server = servers[(w, name)]
            query, must_contain = params[req]
            return bench.wrk_benchmark(server.endpoint, callers[name], query, must_contain,
                                       f"ab-{stamp}-w{w}-{name}-{req}.lua", duration, args.wrk_threads,
                                       args.wrk_connections)

        if args.warmup > 0:
            for (w, name) in servers:
                for req in requests:
                    bench.log(f"warm-up: workers {w} {name} {req}")
                    measure(w, name, req, args.warmup)
        for r in range(args.rounds):
            order = ("A", "B") if r % 2 == 0 else ("B", "A")  # A B B A A B ...: a linear drift cancels out
            for w in args.workers:
                for req in requests:
                    for name in order:
                        record = {"round": r, "workers": w, "request": req, "config": name,
                                  "loadavg_before": loadavg()}
                        pgid = servers[(w, name)].process.pid
                        try:
                            before = process_group(pgid)
                            result = measure(w, name, req, args.duration)
                            after = process_group(pgid)
                            record.update(result)
                            # The server's own CPU time per request (its processes only: not wrk, not a
                            # PostgreSQL server): the cost of a request, less sensitive than req/s to how
                            # much CPU the machine's other work left the server.
                            used = {pid: round(cpu - before.get(pid, (0.0, 0, 0.0))[0], 2)
                                    for pid, (cpu, _, _) in after.items()}
                            record["server_cpu_s"] = used
                            # Time the server's threads were ready to run but had no CPU: how much the
                            # machine's other load held this run back.
                            record["server_runqueue_wait_s"] = round(sum(
                                wait - before.get(pid, (0.0, 0, 0.0))[2] for pid, (_, _, wait) in after.items()), 2)
                            if result.get("requests"):
                                record["server_cpu_ms_per_request"] = sum(used.values()) * 1000 / result["requests"]
                            # How much CPU the server got: on a shared machine req/s follows this.
                            record["server_cores"] = round(sum(used.values()) / args.duration, 3)
                            record["valid"] = "requests_per_sec" in result and not result.get("non_2xx")
                        except Exception as exc:  # one failed run must not lose the others
                            record.update(error=f"{type(exc).__name__}: {exc}", valid=False)
                        record["loadavg_after"] = loadavg()
                        report["runs"].append(record)
                        rps = record.get("requests_per_sec")
                        cpu = record.get("server_cpu_ms_per_request")
                        bench.log(f"round {r + 1}/{args.rounds} workers {w} {req:<10} {name}: "
                                  + (f"{rps:,.0f} req/s" if rps else record.get("error", "no figure"))
                                  + (f", server CPU {cpu:.2f} ms/request, CPU s per process "
                                     f"{sorted(record['server_cpu_s'].values())}, run-queue wait "
                                     f"{record['server_runqueue_wait_s']:.1f} s" if cpu else "")
                                  + ("" if record["valid"] else "  INVALID " + record.get("warning", "")))
        for (w, name), server in servers.items():
            if shared and name == "B":
                continue
            report["servers"][f"w{w}-{name}"] = {
                "env": server.env, "port": server.port, "log": str(server.log_path),
                "threads_per_process": {pid: threads for pid, (_, threads, _) in
                                        process_group(server.process.pid).items()} if server.process else {}}
    finally:
        for server in set(servers.values()):
            server.stop()
        report["meta"]["loadavg_after"] = loadavg()
        report["meta"]["wall_seconds"] = round(time.time() - started, 1)
        report["summary"] = summarize(report["runs"], args.workers, requests)
        out = bench.RESULTS_DIR / f"ab-{stamp}.json"
        out.write_text(json.dumps(report, indent=2, default=str))

    meta = report["meta"]
    print()
    print(f"amishare A/B  {meta['date']}  N={meta['images']:,} images  db={db_url}")
    print(f"A: {describe(configs['A'])}")
    print(f"B: {describe(configs['B'])}" + ("  signed by an IAM user (managed + inline policy)"
                                            if args.b_caller == "user" else ""))
    print(f"wrk -t{args.wrk_threads} -c{args.wrk_connections} -d{args.duration}s, {args.rounds} rounds, "
          f"{meta['wall_seconds'] / 60:.1f} min")
    for line in bench.provenance_lines(meta):
        print(line)
    for key, info in report["servers"].items():
        print(f"server {key}: OS threads per process {sorted(info['threads_per_process'].values())}")
    print()
    for req in requests:
        print(f"{req}: {REQUESTS[req]}")
    print(format_table(report["summary"]))
    invalid = [r for r in report["runs"] if not r.get("valid")]
    if invalid:
        print(f"\n{len(invalid)} run(s) were invalid (errors or non-2xx answers) and are left out; see the JSON")
    print(f"\nJSON: {out}")
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main())
