#!/usr/bin/env python3
"""Access analysis benchmark: who can launch an image shared with an organization of 1,000+
accounts, against a real `python -m amishare serve` over HTTP (boto3, SigV4).

    python bench/analysis.py                       # 1,000 member accounts, SQLite
    python bench/analysis.py --accounts 3000 --db postgresql+psycopg://postgres@127.0.0.1:5432/bench

Seeds an organization (its management account M and two OUs made through the Organizations API,
then the member accounts imported with `amishare import` from `list-accounts` records, 60% in
OU Platform, 40% in OU Sales). M owns an image encrypted with a customer managed key whose policy
lets only accounts under Platform use it (aws:PrincipalOrgPaths), and shares the image with the whole
organization: every Sales account is "granted but can't launch". Then it times:

  * ListImageLaunchers, first page of 100 (each account on it evaluated by the launch code);
  * ListImageLaunchers, every page (the whole organization);
  * ExplainImageAccess for one member;
  * SimulateAccessChange (a key policy for the whole organization: Sales gains), every account.

The budget: a page of 100 launchers answers within PAGE_BUDGET seconds (p95), whatever the size of
the organization, since a page reads its accounts from the membership index and evaluates only
them; the whole listing and the what-if grow with the organization (about N/100 pages). The script
checks the answers (Platform can launch, Sales can't, Sales gains) and exits 1 over budget.
"""

import argparse
import os
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGE_BUDGET = 1.5  # seconds, p95, one page of 100 launchers
EXPLAIN_BUDGET = 0.25  # seconds, p95
EBS = ["kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"]


def key_policy(owner: str, org_id: str, path: str | None) -> str:
    condition = {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [path + "*"]}} if path else \
        {"StringEquals": {"aws:PrincipalOrgID": org_id}}
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{owner}:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Sid": "Members", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": EBS, "Resource": "*",
         "Condition": condition}]})


def seed_members(db_url, org, parent_id, first: int, count: int, region: str, tmp: Path) -> list[str]:
    from amishare.inventory import import_files

    ids = [f"{900000000000 + first + i:012d}" for i in range(count)]
    records = [{"Id": i, "Arn": f"arn:aws:organizations::{org.management.account_id}:account/{org.id}/{i}",
                "Name": f"member-{i}", "Email": f"{i}@example.com", "Status": "ACTIVE", "JoinedMethod": "CREATED"}
               for i in ids]
    path = tmp / f"accounts-{parent_id}.json"
    path.write_text(json.dumps({"Accounts": records}))
    import_files(db_url, org.management.account_id, region, [path], parent_id, progress=False)
    return ids


def timed(call, reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        started = time.perf_counter()
        call()
        out.append(time.perf_counter() - started)
    return out


def p95(samples) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file in bench/results/)")
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()

    from amishare.models import OWN_MODELS
    from amishare.testing import Server

    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="analysis-", dir=results))
    db_url = args.db or f"sqlite:///{tmp / 'analysis.db'}"
    server = Server(db_url=db_url, log_path=tmp / "server.log", env={**os.environ, "PYTHONPATH": str(ROOT),
                                                                          # the what-if over the whole organization
                                                                          "AMISHARE_REQUEST_TIMEOUT": "120"})
    server.start()
    try:
        org = server.create_organization()
        m = org.management
        platform, sales = org.create_ou("Platform"), org.create_ou("Sales")
        started = time.perf_counter()
        in_platform = seed_members(db_url, org, platform["Id"], 0, args.accounts * 6 // 10, server.region, tmp)
        in_sales = seed_members(db_url, org, sales["Id"], len(in_platform), args.accounts - len(in_platform),
                                server.region, tmp)
        print(f"seeded {args.accounts} member accounts in {time.perf_counter() - started:.1f} s")
        kms = server.client(m, "kms")
        platform_path = f"{org.id}/{org.root_id}/{platform['Id']}/"
        key = kms.create_key(Policy=key_policy(m.account_id, org.id, platform_path))["KeyMetadata"]
        ec2 = server.client(m)
        volume = ec2.create_volume(AvailabilityZone=server.region + "a", Size=8, Encrypted=True, KmsKeyId=key["Arn"])
        snapshot = ec2.create_snapshot(VolumeId=volume["VolumeId"])
        ec2.get_waiter("snapshot_completed").wait(SnapshotIds=[snapshot["SnapshotId"]], WaiterConfig={"Delay": 0.2})
        image_id = ec2.register_image(Name="org-image", RootDeviceName="/dev/xvda", VirtualizationType="hvm",
                                      BlockDeviceMappings=[{"DeviceName": "/dev/xvda",
                                                            "Ebs": {"SnapshotId": snapshot["SnapshotId"]}}])["ImageId"]
        ec2.get_waiter("image_available").wait(ImageIds=[image_id], WaiterConfig={"Delay": 0.2})
        ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"OrganizationArn": org.arn}]})

        session = server.session(m)
        session._session.get_component("data_loader").search_paths.insert(0, str(OWN_MODELS))
        api = session.client("amishare", endpoint_url=server.endpoint)

        page = api.list_image_launchers(ImageId=image_id, MaxResults=100)
        first_page = timed(lambda: api.list_image_launchers(ImageId=image_id, MaxResults=100), args.reps)

        started = time.perf_counter()
        can, cannot, token, pages = set(), set(), None, 0
        while True:
            page = api.list_image_launchers(ImageId=image_id, MaxResults=100, **({"NextToken": token} if token else {}))
            pages += 1
            can |= {a["AccountId"] for g in page["Groups"] for a in g["Accounts"]}
            cannot |= {a["AccountId"] for a in page["GrantedButCannotLaunch"]}
            token = page.get("NextToken")
            if not token:
                break
        everything = time.perf_counter() - started
        assert set(in_platform) <= can and set(in_sales) <= cannot, "the launchers don't match the key policy"

        print(f"first page p95 {p95(first_page):.3f} s; {pages} pages in {everything:.2f} s")
        explain = timed(lambda: api.explain_image_access(ImageId=image_id, Principal=in_sales[0]), args.reps)
        started = time.perf_counter()
        answer = api.simulate_access_change(ImageId=image_id, MaxAccounts=5000, Change={
            "Kind": "put-key-policy", "KeyId": key["KeyId"], "Policy": key_policy(m.account_id, org.id, None)})
        what_if = time.perf_counter() - started
        assert {g["AccountId"] for g in answer["Gained"]} >= set(in_sales), "what-if: Sales should gain"

        report = {
            "accounts": args.accounts, "database": db_url.split(":", 1)[0], "pages": pages,
            "first_page_100_median_s": round(statistics.median(first_page), 4),
            "first_page_100_p95_s": round(p95(first_page), 4),
            "all_pages_s": round(everything, 3),
            "explain_median_s": round(statistics.median(explain), 4), "explain_p95_s": round(p95(explain), 4),
            "what_if_all_accounts_s": round(what_if, 3),
            "budget": {"first_page_100_p95_s": PAGE_BUDGET, "explain_p95_s": EXPLAIN_BUDGET},
        }
        print(json.dumps(report, indent=2))
        (tmp / "report.json").write_text(json.dumps(report, indent=2))
        over = report["first_page_100_p95_s"] > PAGE_BUDGET or report["explain_p95_s"] > EXPLAIN_BUDGET
        if over:
            print("OVER BUDGET", file=sys.stderr)
        return 1 if over else 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
