#!/usr/bin/env python3
"""amishare organization benchmark: launch permissions granted to an organization and its OUs, against
the same number of images granted to an account directly.

    python bench/orgs.py                                        # 1,000 member accounts, 10,000 images
    python bench/orgs.py --accounts 60 --images 1000 --tree 3,2,2 --reps 40 --warmup 5   # a quick try

Seeds (in-process, with the project's store layer, like run.py) an organization whose management account
is M: a root, an OU tree three levels deep (default 10 x 5 x 4 = 260 OUs) and --accounts member accounts
spread over it. The image owner A (a member of the organization, directly in the root) owns --images
images; some are shared with member accounts, some with a random OU, some with the whole organization,
a few are public, and B, an account outside the organization, gets as many direct account grants as the
measured deep member can launch. Then a real `python -m amishare serve` is started and, after checking
every answer against what the seeded grants say, boto3 times for the deep member, a member in the root
and B:

  * DescribeImages(ExecutableUsers=['self'], MaxResults=100), first page
  * DescribeImages(ImageIds=[an image the caller may launch only through an OU grant (root member:
    only through the organization grant; B: only through its account grant)])
  * RunInstances of that image (MinCount=MaxCount=1)

See bench/README.md. Reuses bench/run.py's seeding, server and timing helpers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import string
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402  (bench/run.py)

ALNUM = string.ascii_lowercase + string.digits  # amishare.domain.organizations draws its ids from these
NAMES = {"m": "bench-org-M", "a": "bench-org-A", "b": "bench-org-B"}
MEMBER_NAME = "bench-org-member-{:05d}"
ACCOUNT, ORGANIZATION, OU = "account", "organization", "organizational-unit"
ROOT_SHARE, INNER_LEVEL_SHARE = 0.04, 0.08  # members directly in the root, at each non-leaf OU level; the rest in leaves
PRINCIPALS = ("deep", "root", "b")
CALLS = {
    "executable_page1": "DescribeImages(ExecutableUsers=[self], MaxResults=100) page 1",
    "describe_by_id": "DescribeImages(ImageIds=[id])",
    "run_instances": "RunInstances(that image, MinCount=MaxCount=1)",
}


class CheckFailed(Exception):
    pass


# --------------------------------------------------------------------------- the seeded organization


@dataclass
class Node:
    node_id: str
    parent_id: str | None
    depth: int  # 0 for the root
    name: str
    path: str  # "r-ab12/ou-ab12-11111111/": the ancestors and the node itself, as create_ou builds it


@dataclass
class Member:
    creds: bench.Creds
    parent_id: str


@dataclass
class OrgSeed:
    db_url: str
    m: bench.Creds
    a: bench.Creds
    b: bench.Creds
    org_id: str
    root_id: str
    nodes: dict[str, Node]
    members: dict[str, Member]  # the member accounts (M and A are members too, but not in here)
    grants: dict[int, list[tuple[str, str]]]  # image index -> launch permissions
    public: set[int]
    image_ids: list[str] = field(default_factory=list)
    by_grantee: dict[tuple[str, str], set[int]] = field(default_factory=dict)

    @property
    def org_arn(self) -> str:
        return f"arn:aws:organizations::{self.m.account_id}:organization/{self.org_id}"

    def ou_arn(self, ou_id: str) -> str:
        return f"arn:aws:organizations::{self.m.account_id}:ou/{self.org_id}/{ou_id}"

    def index_grants(self) -> None:
        self.by_grantee = {}
        for i, grants in self.grants.items():
            for grantee in grants:
                self.by_grantee.setdefault(grantee, set()).add(i)

    def grantees(self, account_id: str) -> list[tuple[str, str]]:
        """What amishare.domain.access.caller_grantees computes for the account from the seeded tree."""
        out = [(ACCOUNT, account_id)]
        member = self.members.get(account_id)
        if member is not None:
            out.append((ORGANIZATION, self.org_arn))
            path = self.nodes[member.parent_id].path
            out.extend((OU, self.ou_arn(part)) for part in path.split("/") if part.startswith("ou-"))
        return out

    def executable(self, account_id: str) -> set[int]:
        """Indices of the images in the account's ExecutableUsers=['self'] answer: every image one of its
        grantees holds a launch permission for (public images only through a grant)."""
        out: set[int] = set()
        for grantee in self.grantees(account_id):
            out |= self.by_grantee.get(grantee, set())
        return out

    def routes(self, account_id: str, i: int) -> list[tuple[str, str]]:
        """The caller's grantees through which image i reaches it."""
        return [g for g in self.grantees(account_id) if i in self.by_grantee.get(g, ())]

    def depth(self, account_id: str) -> int:
        return self.nodes[self.members[account_id].parent_id].depth


def _rand(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(ALNUM) for _ in range(n))


def _build_tree(rng: random.Random, fanouts: list[int]) -> tuple[str, str, dict[str, Node]]:
    org_id, root_id = "o-" + _rand(rng, 10), "r-" + _rand(rng, 4)
    nodes = {root_id: Node(root_id, None, 0, "Root", f"{root_id}/")}
    level = [nodes[root_id]]
    for depth, fanout in enumerate(fanouts, start=1):
        next_level = []
        for parent in level:
            for k in range(fanout):
                ou_id = f"ou-{root_id[2:]}-{_rand(rng, 8)}"
                while ou_id in nodes:
                    ou_id = f"ou-{root_id[2:]}-{_rand(rng, 8)}"
                suffix = parent.name.split(" ", 1)[1] + f"-{k + 1}" if depth > 1 else f"{k + 1}"
                node = Node(ou_id, parent.node_id, depth, f"L{depth} {suffix}", f"{parent.path}{ou_id}/")
                nodes[ou_id] = node
                next_level.append(node)
        level = next_level
    return org_id, root_id, nodes


def _place_members(n: int, nodes: dict[str, Node], levels: int) -> list[str]:
    """Parent node of each of n members: ROOT_SHARE of them in the root, INNER_LEVEL_SHARE at each OU level
    above the leaves, the rest in the leaves; round-robin over the nodes of a level."""
    by_depth = {d: [node.node_id for node in nodes.values() if node.depth == d] for d in range(levels + 1)}
    counts = {0: round(n * ROOT_SHARE)}
    counts.update({d: round(n * INNER_LEVEL_SHARE) for d in range(1, levels)})
    counts[levels] = n - sum(counts.values())
    parents = []
    for depth in range(levels + 1):
        parents += [by_depth[depth][k % len(by_depth[depth])] for k in range(counts[depth])]
    return parents


def _plan_grants(rng: random.Random, seed: OrgSeed, n_images: int, args) -> None:
    member_ids = list(seed.members)
    ou_ids = [node_id for node_id, node in seed.nodes.items() if node.depth > 0]
    for i in range(n_images):
        grants = []
        if args.account_every and i % args.account_every == 0:
            grants += [(ACCOUNT, x) for x in rng.sample(member_ids, min(args.accounts_per_grant, len(member_ids)))]
        if args.ou_every and i % args.ou_every == 0:
            grants.append((OU, seed.ou_arn(rng.choice(ou_ids))))
        if args.org_every and i % args.org_every == 0:
            grants.append((ORGANIZATION, seed.org_arn))
        if grants:
            seed.grants[i] = grants
    seed.public.update((x + 7) % n_images for x in bench.evenly(n_images, args.public))
    seed.index_grants()


def _only_through(seed: OrgSeed, account_id: str, grantee_type: str) -> list[int]:
    """Private images the account may launch through a grantee of this type and no other way."""
    return sorted(i for i in seed.executable(account_id)
                  if i not in seed.public and {t for t, _ in seed.routes(account_id, i)} == {grantee_type})


@dataclass
class Principal:
    key: str
    account_id: str
    creds: bench.Creds
    where: str  # node id, or "outside the organization"
    depth: int | None
    expected: set[int]
    sample: int  # index of the image timed by id / launched
    sample_route: str

    def summary(self, seed: OrgSeed) -> dict:
        routes: dict[str, int] = {}
        for i in self.expected:
            for t, _ in seed.routes(self.account_id, i):
                routes[t] = routes.get(t, 0) + 1
        return {"account_id": self.account_id, "parent": self.where, "depth": self.depth,
                "path": seed.nodes[self.where].path if self.where in seed.nodes else None,
                "grantees": len(seed.grantees(self.account_id)), "executable_answer": len(self.expected),
                "answer_by_route": routes, "sample_image": seed.image_ids[self.sample] if seed.image_ids else None,
                "sample_route": self.sample_route}


def _choose_principals(seed: OrgSeed, levels: int) -> dict[str, Principal]:
    """The deep member: the member in a leaf OU with the largest ExecutableUsers=['self'] answer that has an
    image it may launch only through an OU grant (preferring the grant highest up its path). The root member:
    likewise among the members directly in the root, with an image only the organization grant gives it."""

    def best(depth: int, route: str) -> tuple[str, list[int]]:
        candidates = []
        for account_id, member in seed.members.items():
            if seed.nodes[member.parent_id].depth == depth:
                only = _only_through(seed, account_id, route)
                if only:
                    candidates.append((len(seed.executable(account_id)), account_id, only))
        if not candidates:
            raise SystemExit(f"error: no member at depth {depth} may launch an image only through an {route} "
                             "grant; use more images, or denser --ou-every/--org-every")
        _, account_id, only = max(candidates)
        return account_id, only

    deep_id, deep_only = best(levels, OU)
    # The OU grant highest up the deep member's path: the permission is inherited the furthest.
    depth_of_grant = {i: min(seed.nodes[arn.rsplit("/", 1)[1]].depth for _, arn in seed.routes(deep_id, i))
                      for i in deep_only}
    highest = [i for i in deep_only if depth_of_grant[i] == min(depth_of_grant.values())]
    deep_sample = highest[len(highest) // 2]
    root_id, root_only = best(0, ORGANIZATION)
    root_sample = root_only[len(root_only) // 2]
    principals = {
        "deep": Principal("deep", deep_id, seed.members[deep_id].creds, seed.members[deep_id].parent_id, levels,
                          seed.executable(deep_id), deep_sample,
                          f"OU grant to a depth-{depth_of_grant[deep_sample]} ancestor OU"),
        "root": Principal("root", root_id, seed.members[root_id].creds, seed.root_id, 0, seed.executable(root_id),
                          root_sample, "organization grant"),
    }
    return principals


def _grant_b(seed: OrgSeed, n_images: int, count: int) -> list[int]:
    """`count` private images of A, spread evenly over the catalog, granted to B (an account grant each)."""
    candidates = [i for i in range(n_images) if i not in seed.public]
    count = min(count, len(candidates))
    picked = [candidates[j * len(candidates) // count] for j in range(count)]
    for i in picked:
        seed.grants.setdefault(i, []).append((ACCOUNT, seed.b.account_id))
    seed.index_grants()
    return picked


def seed_org(db_url: str, args) -> tuple[OrgSeed, dict[str, Principal]]:
    from sqlalchemy import func, insert, select

    from amishare.domain import accounts, catalog
    from amishare.domain import organizations as org_domain
    from amishare.domain.secretbox import SecretBox
    from amishare.domain.sharing import ORG_ARN_RE, OU_ARN_RE
    from amishare.store.db import open_store
    from amishare.store.schema import accounts as accounts_table
    from amishare.store.schema import org_accounts, org_units, organizations

    rng = random.Random(args.seed)
    fanouts = args.tree
    started = time.perf_counter()
    store = open_store(db_url)
    box = SecretBox.for_database(db_url)

    def creds(c) -> bench.Creds:
        return bench.Creds(c.account_id, c.access_key_id, c.secret_access_key)

    try:
        with store.transaction() as conn:
            catalog.ensure(conn)
            if conn.execute(select(func.count()).select_from(accounts_table)
                            .where(accounts_table.c.name.in_(list(NAMES.values())))).scalar_one():
                raise SystemExit(f"error: {db_url} already holds an organization benchmark; use a fresh --db")
            main = {key: creds(accounts.create_account(conn, box, name=name)) for key, name in NAMES.items()}
        bench.log(f"creating {args.accounts:,} member accounts (amishare.domain.accounts.create_account)")
        member_creds: list[bench.Creds] = []
        for start in range(0, args.accounts, 250):
            with store.transaction() as conn:
                for k in range(start, min(start + 250, args.accounts)):
                    name = MEMBER_NAME.format(k)
                    member_creds.append(creds(accounts.create_account(conn, box, name=name,
                                                                      email=f"{name}@example.com")))
        org_id, root_id, nodes = _build_tree(rng, fanouts)
        parents = _place_members(args.accounts, nodes, len(fanouts))
        members = {c.account_id: Member(c, parent) for c, parent in zip(member_creds, parents)}
        seed = OrgSeed(db_url, main["m"], main["a"], main["b"], org_id, root_id, nodes, members, {}, set())
        assert ORG_ARN_RE.match(seed.org_arn) and all(OU_ARN_RE.match(seed.ou_arn(n)) for n in nodes if n != root_id)

        now = time.time()
        bench.log(f"seeding organization {org_id}: root {root_id}, {len(nodes) - 1} OUs ({'x'.join(map(str, fanouts))}),"
                  f" {args.accounts:,} members + M and A")
        with store.transaction() as conn:
            # As CreateOrganization, CreateOrganizationalUnit, CreateAccount (+ MoveAccount) and, for A, an
            # accepted invitation write them (amishare.domain.organizations).
            conn.execute(insert(organizations).values(org_id=org_id, management_account_id=seed.m.account_id,
                                                      feature_set="ALL", root_id=root_id, created_at=now))
            conn.execute(insert(org_units), [
                dict(node_id=n.node_id, org_id=org_id, kind="root" if n.depth == 0 else "ou", parent_id=n.parent_id,
                     name=n.name, path=n.path, created_at=now) for n in nodes.values()])
            rows = [dict(account_id=acct.account_id, org_id=org_id, parent_id=root_id,
                         email=org_domain._email_of(conn, acct.account_id),
                         name=org_domain._name_of(conn, acct.account_id),
                         joined_method=method, joined_at=now)
                    for acct, method in ((seed.m, "CREATED"), (seed.a, "INVITED"))]
            for k, (account_id, member) in enumerate(members.items()):
                name = MEMBER_NAME.format(k)
                rows.append(dict(account_id=account_id, org_id=org_id, parent_id=member.parent_id,
                                 email=f"{name}@example.com", name=name, joined_method="CREATED", joined_at=now))
            for start in range(0, len(rows), bench.SEED_BATCH):
                conn.execute(insert(org_accounts), rows[start:start + bench.SEED_BATCH])

        _plan_grants(rng, seed, args.images, args)
        principals = _choose_principals(seed, len(fanouts))
        deep = principals["deep"]
        b_images = _grant_b(seed, args.images, len(deep.expected))
        b_sample = b_images[len(b_images) // 2]
        principals["b"] = Principal("b", seed.b.account_id, seed.b, "outside the organization", None,
                                    seed.executable(seed.b.account_id), b_sample, "account grant")
        rows = sum(len(g) for g in seed.grants.values())
        bench.log(f"seeding {args.images:,} images of A with {rows:,} launch permission rows, "
                  f"{len(seed.public)} public")
        seed.image_ids = bench._bulk_images(store, seed.a.account_id, args.images, "bench-org-a",
                                            lambda i: seed.grants.get(i, ()), seed.public)
    finally:
        store.dispose()
    bench.log(f"seeded in {time.perf_counter() - started:.1f}s")
    return seed, principals


# --------------------------------------------------------------------------- checks


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def _error_of(call) -> str | None:
    try:
        call()
    except Exception as exc:  # botocore ClientError
        return bench.error_code(exc) or f"{type(exc).__name__}: {exc}"
    return None


def check_answers(endpoint: str, seed: OrgSeed, principals: dict[str, Principal], sample_members: int,
                  rng: random.Random) -> list[str]:
    """Everything the timed calls return is what the seeded grants say; raises CheckFailed otherwise.
    Returns the checks passed, in words."""
    passed = []
    ids = seed.image_ids

    # The tree as the Organizations API reports it.
    orgs = bench.client(endpoint, seed.m, "organizations")
    org = orgs.describe_organization()["Organization"]
    _expect(org["Id"] == seed.org_id and org["Arn"] == seed.org_arn and org["MasterAccountId"] == seed.m.account_id,
            f"DescribeOrganization: {org}")
    deep = principals["deep"]
    ou = orgs.describe_organizational_unit(OrganizationalUnitId=deep.where)["OrganizationalUnit"]
    _expect(ou["Arn"] == seed.ou_arn(deep.where) and ou["Path"] == f"{seed.org_id}/{seed.nodes[deep.where].path}",
            f"DescribeOrganizationalUnit({deep.where}): {ou}")
    _expect(orgs.list_parents(ChildId=deep.account_id)["Parents"] == [{"Id": deep.where, "Type": "ORGANIZATIONAL_UNIT"}],
            "ListParents of the deep member")
    _expect(orgs.list_parents(ChildId=principals["root"].account_id)["Parents"] == [{"Id": seed.root_id, "Type": "ROOT"}],
            "ListParents of the root member")
    passed.append("Organizations API (as M): organization ARN, the deep member's OU ARN and path, both members' parents")

    # Full ExecutableUsers=['self'] answers: the measured principals and a sample of members at every depth.
    others = [a for a in seed.members if a not in {p.account_id for p in principals.values()}]
    checked = [(p.key, p.account_id, p.creds) for p in principals.values()]
    checked += [("member", a, seed.members[a].creds) for a in rng.sample(others, min(sample_members, len(others)))]
    for label, account_id, creds in checked:
        ec2 = bench.client(endpoint, creds)
        got = [i["ImageId"] for page in bench.all_pages(lambda **kw: ec2.describe_images(ExecutableUsers=["self"], **kw))
               for i in page["Images"]]
        want = {ids[i] for i in seed.executable(account_id)}
        _expect(len(got) == len(set(got)) and set(got) == want,
                f"{label} {account_id}: ExecutableUsers=[self] answer holds {len(got)} images, expected {len(want)} "
                f"({len(set(got) - want)} unexpected, {len(want - set(got))} missing)")
    depths = sorted({seed.depth(a) for _, a, _ in checked if a in seed.members})
    passed.append(f"full ExecutableUsers=[self] answers equal the seeded grants for the 3 measured principals and "
                  f"{len(checked) - 3} more members (depths {depths})")

    # The timed calls themselves, once each.
    for p in principals.values():
        ec2 = bench.client(endpoint, p.creds)
        page = ec2.describe_images(ExecutableUsers=["self"], MaxResults=100)
        want = sorted(ids[i] for i in p.expected)
        _expect([i["ImageId"] for i in page["Images"]] == want[:100] and bool(page.get("NextToken")) == (len(want) > 100),
                f"{p.key}: first page of ExecutableUsers=[self] is not the first 100 of the expected answer")
        sample = ids[p.sample]
        got = [i["ImageId"] for i in ec2.describe_images(ImageIds=[sample])["Images"]]
        _expect(got == [sample], f"{p.key}: DescribeImages(ImageIds=[{sample}]) gave {got}")
        instances = ec2.run_instances(ImageId=sample, MinCount=1, MaxCount=1)["Instances"]
        _expect(len(instances) == 1 and instances[0]["ImageId"] == sample, f"{p.key}: RunInstances gave {instances}")
    passed.append("each timed call, once per principal: the first page is the expected one (size and ids), "
                  "DescribeImages by id returns the image, RunInstances launches one instance of it")

    # The OU grant is what lets the deep member in: those outside that OU can't see or launch the image.
    sample = ids[deep.sample]
    granted_arn = seed.routes(deep.account_id, deep.sample)[0][1]
    outsider = next((a for a in seed.members if seed.depth(a) == deep.depth and deep.sample not in seed.executable(a)),
                    None)
    denied = [("root", principals["root"].creds), ("b", seed.b)]
    if outsider:
        denied.append((f"leaf member outside {granted_arn.rsplit('/', 1)[1]}", seed.members[outsider].creds))
    for label, creds in denied:
        ec2 = bench.client(endpoint, creds)
        code = _error_of(lambda: ec2.describe_images(ImageIds=[sample]))
        _expect(code == "InvalidAMIID.NotFound", f"{label} DescribeImages of the deep member's OU-granted image: {code}")
        code = _error_of(lambda: ec2.run_instances(ImageId=sample, MinCount=1, MaxCount=1))
        _expect(code == "InvalidAMIID.NotFound", f"{label} RunInstances of the deep member's OU-granted image: {code}")
    passed.append(f"the deep member's OU-granted image is InvalidAMIID.NotFound (DescribeImages and RunInstances) for "
                  f"{', '.join(label for label, _ in denied)}")
    return passed


def shape_check(endpoint: str, seed: OrgSeed) -> list[str]:
    """Rows written through the API (as M: CreateOrganizationalUnit under a seeded OU and CreateAccount; as A:
    ModifyImageAttribute adding that new, empty OU to a private, ungranted image) against seeded ones, column by
    column beyond ids, names and times. Runs after the timing; the new OU holds no account, so no measured
    answer changes. Returns the differences (none: seeded rows match)."""
    from sqlalchemy import select

    from amishare.store.db import open_store
    from amishare.store.schema import access_keys, accounts, image_launch_permissions as lp, org_accounts, org_units

    orgs = bench.client(endpoint, seed.m, "organizations")
    parent = next(n for n in seed.nodes.values() if n.depth == 1)
    sibling = next(n for n in seed.nodes.values() if n.parent_id == parent.node_id)
    new_ou = orgs.create_organizational_unit(ParentId=parent.node_id, Name="bench-shape-check")["OrganizationalUnit"]
    status = orgs.create_account(Email="bench-shape-check@example.com", AccountName="bench-shape-check")
    new_account = status["CreateAccountStatus"]["AccountId"]
    image_index = next(i for i in range(len(seed.image_ids)) if i not in seed.grants and i not in seed.public)
    image_id = seed.image_ids[image_index]
    bench.client(endpoint, seed.a).modify_image_attribute(
        ImageId=image_id, LaunchPermission={"Add": [{"OrganizationalUnitArn": new_ou["Arn"]}]})
    seeded_ou_grant = next(i for i, g in seed.grants.items() if any(t == OU for t, _ in g))
    seeded_member = next(a for a, m in seed.members.items() if m.parent_id == seed.root_id)

    diffs = []
    store = open_store(seed.db_url, run_migrations=False)
    try:
        with store.transaction(write=False) as conn:
            def row(table, *where):
                return dict(conn.execute(select(table).where(*where)).mappings().one())

            def compare(what, seeded, made, ignore):
                diffs.extend(f"{what}.{col}: seeded {seeded[col]!r} vs API {made[col]!r}"
                             for col in seeded if col not in ignore and seeded[col] != made[col])

            made = row(org_units, org_units.c.node_id == new_ou["Id"])
            compare("org_units", row(org_units, org_units.c.node_id == sibling.node_id), made,
                    {"node_id", "name", "path", "created_at"})
            if made["path"] != f"{parent.path}{new_ou['Id']}/" or sibling.path != f"{parent.path}{sibling.node_id}/":
                diffs.append(f"org_units.path: API {made['path']!r}, seeded sibling {sibling.path!r}")
            if new_ou["Id"].split("-")[1] != sibling.node_id.split("-")[1] or len(new_ou["Id"]) != len(sibling.node_id):
                diffs.append(f"OU id format: API {new_ou['Id']} vs seeded {sibling.node_id}")
            compare("org_accounts", row(org_accounts, org_accounts.c.account_id == seeded_member),
                    row(org_accounts, org_accounts.c.account_id == new_account),
                    {"account_id", "email", "name", "joined_at"})
            compare("accounts", row(accounts, accounts.c.account_id == seeded_member),
                    row(accounts, accounts.c.account_id == new_account), {"account_id", "email", "name", "created_at"})
            compare("access_keys", row(access_keys, access_keys.c.account_id == seeded_member),
                    row(access_keys, access_keys.c.account_id == new_account),
                    {"access_key_id", "account_id", "secret_ciphertext", "created_at"})
            seeded_grant = row(lp, lp.c.image_id == seed.image_ids[seeded_ou_grant], lp.c.grantee_type == OU)
            made_grant = row(lp, lp.c.image_id == image_id)
            compare("image_launch_permissions", seeded_grant, made_grant, {"image_id", "grantee", "created_at"})
            if made_grant["grantee"] != seed.ou_arn(new_ou["Id"]):
                diffs.append(f"OU grant: API stored {made_grant['grantee']!r}, seeding builds {seed.ou_arn(new_ou['Id'])!r}")
    finally:
        store.dispose()
    return diffs


# --------------------------------------------------------------------------- the run


def _fmt_ms(stats: dict) -> str:
    return f"{stats['p50']:>8.2f}{stats['p90']:>8.2f}" if "p50" in stats else f"{'-':>8}{'-':>8}"


def format_summary(report: dict) -> str:
    meta, facts = report["meta"], report.get("facts", {})
    lines = [f"amishare organization benchmark  {meta['timestamp']}  {meta['accounts']:,} member accounts, "
             f"{facts.get('ous', '?')} OUs ({meta['tree']}), N={meta['images']:,} images of A  "
             f"workers={meta['workers']}  db={meta['db']}"]
    lines.extend(bench.provenance_lines(meta))
    if "grant_rows" in facts:
        g = facts["grant_rows"]
        lines.append(f"grants: {g.get(ACCOUNT, 0):,} account rows ({facts['b_grants']:,} of them to B), "
                     f"{g.get(OU, 0):,} OU rows, {g.get(ORGANIZATION, 0):,} organization rows; "
                     f"{facts['public_images']} public images")
    lines.append("")
    for key, p in report.get("principals", {}).items():
        where = {"deep": f"member in leaf OU {p['parent']} (depth {p['depth']})",
                 "root": f"member directly in the root {p['parent']}", "b": "account outside the organization"}[key]
        routes = ", ".join(f"{n} via {t}" for t, n in sorted(p["answer_by_route"].items()))
        lines.append(f"{key:<5} {p['account_id']}  {where}; {p['grantees']} grantees; ExecutableUsers=[self] answer "
                     f"{p['executable_answer']} images ({routes}); timed image {p['sample_image']} ({p['sample_route']})")
    for check in report.get("checks", []):
        lines.append(f"  checked: {check}")
    if report.get("check_failed"):
        lines.append(f"  CHECK FAILED, nothing timed: {report['check_failed']}")
    lines.append("")
    heads = {"deep": "deep member (OU)", "root": "root member (org)", "b": "B (account)"}
    lines.append(f"{'measurement (ms)':<62}" + "".join(f"{heads[k]:>20}" for k in PRINCIPALS) + f"{'deep/B p50':>12}")
    lines.append(f"{'':<62}" + f"{'p50     p90':>20}" * len(PRINCIPALS))
    lines.append("-" * (62 + 20 * len(PRINCIPALS) + 12))
    for key, label in CALLS.items():
        row = report.get("latency", {}).get(key)
        if not row:
            continue
        cells = "".join(f"{'':>4}{_fmt_ms(row.get(k, {}))}" for k in PRINCIPALS)
        ratio = (f"{row['deep']['p50'] / row['b']['p50']:>11.2f}x"
                 if "p50" in row.get("deep", {}) and "p50" in row.get("b", {}) else "")
        lines.append(f"{label:<62}{cells}{ratio}")
    if "shape_diffs" in facts:
        diffs = facts["shape_diffs"]
        lines.append("")
        lines.append("seeded org_units/org_accounts/accounts/access_keys/launch-permission rows match API-written ones: "
                     + ("yes" if not diffs else "NO: " + "; ".join(diffs)))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Organization/OU launch permissions against account grants.")
    parser.add_argument("--accounts", type=int, default=1000, help="member accounts (default 1000)")
    parser.add_argument("--images", type=int, default=10_000, help="images owned by A (default 10000)")
    parser.add_argument("--tree", default="10,5,4", help="OU fan-out per level (default 10,5,4: 10+50+200 OUs)")
    parser.add_argument("--account-every", type=int, default=10, help="every k-th image is shared with member accounts")
    parser.add_argument("--accounts-per-grant", type=int, default=3, help="random member accounts per such image")
    parser.add_argument("--ou-every", type=int, default=25, help="every k-th image is shared with one random OU")
    parser.add_argument("--org-every", type=int, default=500, help="every k-th image is shared with the organization")
    parser.add_argument("--public", type=int, default=5, help="public images (default 5, the public-AMI quota)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the tree, placement and grants")
    parser.add_argument("--db", help="database URL (default: a fresh sqlite file under bench/results/); must be empty")
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument("--port", type=int, help="server port (default: a free one)")
    parser.add_argument("--reps", type=int, default=200, help="timed calls per measurement and principal")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls per measurement and principal")
    parser.add_argument("--rounds", type=int, default=4, help="blocks the timed calls are split into, alternating principals")
    parser.add_argument("--check-members", type=int, default=20,
                        help="further random members whose full answer is checked before timing (default 20)")
    args = parser.parse_args(argv)
    args.tree = [int(x) for x in args.tree.split(",") if x.strip()]
    if not args.tree or min(args.tree) < 1 or len(args.tree) > 5:
        parser.error("--tree needs 1 to 5 positive fan-outs (OUs nest at most 5 deep)")
    if args.accounts < max(3, args.accounts_per_grant):
        parser.error("--accounts is too small")

    stamp = bench.timestamp()
    db_url = args.db or bench.fresh_sqlite_url(f"orgs-{stamp}-{args.accounts}-{args.images}")
    port = args.port or bench.free_port()
    bench.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    report: dict = {"meta": {
        "timestamp": stamp, "accounts": args.accounts, "images": args.images, "tree": "x".join(map(str, args.tree)),
        "account_every": args.account_every, "accounts_per_grant": args.accounts_per_grant,
        "ou_every": args.ou_every, "org_every": args.org_every, "public": args.public, "seed": args.seed,
        "db": db_url, "workers": args.workers, "port": port, "reps": args.reps, "warmup": args.warmup,
        "rounds": args.rounds, "cpus": os.cpu_count(), "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        "source": bench.source_state(),
    }, "principals": {}, "checks": [], "latency": {}, "facts": {}}

    t0 = time.perf_counter()
    seed, principals = seed_org(db_url, args)
    report["meta"]["seed_seconds"] = round(time.perf_counter() - t0, 1)
    grant_rows: dict[str, int] = {}
    for grants in seed.grants.values():
        for t, _ in grants:
            grant_rows[t] = grant_rows.get(t, 0) + 1
    report["facts"].update(
        org_id=seed.org_id, org_arn=seed.org_arn, root_id=seed.root_id, management_account=seed.m.account_id,
        image_owner=seed.a.account_id, image_owner_in="the organization root",
        ous=len(seed.nodes) - 1, ous_by_depth={d: sum(1 for n in seed.nodes.values() if n.depth == d)
                                               for d in range(1, len(args.tree) + 1)},
        members_by_depth={d: sum(1 for a in seed.members if seed.depth(a) == d) for d in range(len(args.tree) + 1)},
        grant_rows=grant_rows, b_grants=len(seed.by_grantee.get((ACCOUNT, seed.b.account_id), ())),
        public_images=len(seed.public))
    report["principals"] = {k: p.summary(seed) for k, p in principals.items()}

    status = 0
    server = bench.ServerProcess(db_url, port, args.workers, bench.RESULTS_DIR / f"server-orgs-{stamp}.log")
    try:
        server.start()
        bench.log("checking the answers before timing")
        try:
            report["checks"] = check_answers(server.endpoint, seed, principals, args.check_members,
                                             random.Random(args.seed + 1))
        except Exception as exc:  # CheckFailed, or an API error
            report["check_failed"] = f"{type(exc).__name__}: {exc}"
            bench.log(f"CHECK FAILED: {report['check_failed']}")
            status = 1
        if not status:
            calls = {}
            for key, p in principals.items():
                ec2, image_id = bench.client(server.endpoint, p.creds), seed.image_ids[p.sample]
                calls[key] = {
                    "executable_page1": lambda ec2=ec2: ec2.describe_images(ExecutableUsers=["self"], MaxResults=100),
                    "describe_by_id": lambda ec2=ec2, i=image_id: ec2.describe_images(ImageIds=[i]),
                    "run_instances": lambda ec2=ec2, i=image_id: ec2.run_instances(ImageId=i, MinCount=1, MaxCount=1),
                }
            for call, label in CALLS.items():
                bench.log(f"measuring {label} for {', '.join(PRINCIPALS)} (interleaved)")
                report["latency"][call] = bench.measure_interleaved({k: calls[k][call] for k in PRINCIPALS},
                                                                    args.reps, args.warmup, args.rounds)
            bench.log("comparing seeded rows with rows written through the API")
            try:
                report["facts"]["shape_diffs"] = shape_check(server.endpoint, seed)
            except Exception as exc:
                report["facts"]["shape_diffs"] = [f"shape check failed: {type(exc).__name__}: {exc}"]
    finally:
        server.stop()
        report["meta"]["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        out = bench.RESULTS_DIR / f"orgs-{stamp}.json"
        out.write_text(json.dumps(report, indent=2, default=str))
        print()
        print(format_summary(report))
        print(f"\nJSON: {out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
