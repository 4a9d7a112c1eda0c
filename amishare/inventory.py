"""`amishare import` and `amishare export`: a real account's inventory, in the JSON the
aws CLI prints, into and out of an amishare database.

Import reads each file's kind from its top-level key and runs the files in one
transaction, in the order the tree needs (OUs, accounts, snapshots, images, launch
permissions), through the domain's importer (amishare.domain.inventory). Export asks
the application for the account's images, snapshots or launch permissions, as any API
caller does, and writes each answer as the aws CLI would print it: the operation's
result is put on the wire and read back with botocore's own parser.
"""

import json
import time
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

from amishare.config import Settings
from amishare.domain.inventory import KINDS, Importer, InventoryError, detect
from amishare.domain.regions import check_region
from amishare.errors import AwsError

EXPORT_KINDS = ("images", "snapshots", "launch-permissions")


def _open(db_url: str):
    from amishare.domain import catalog
    from amishare.domain.secretbox import SecretBox
    from amishare.store.db import open_store

    store = open_store(db_url)
    with store.transaction() as conn:
        catalog.ensure(conn)
    return store, SecretBox.for_database(db_url)


def _check_target(account_id: str, region: str) -> None:
    from amishare.domain import ids

    if not ids.is_account_id(account_id):
        raise InventoryError(f"--account {account_id!r} must be a 12-digit account id")
    try:
        check_region(region)
    except AwsError as exc:
        raise InventoryError(f"--region: {exc.message}") from None


def read(path: Path) -> tuple[str, list]:
    try:
        document = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryError(f"{path}: can't be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InventoryError(f"{path}: not JSON: {exc}") from None
    try:
        return detect(document)
    except InventoryError as exc:
        raise InventoryError(f"{path}: {exc}") from None


def import_files(db_url: str, account_id: str, region: str, paths, parent_id: str | None = None,
                 progress: bool = True) -> dict:
    """Import the files into the account and Region, all or nothing; a summary of what was made and updated."""
    from amishare.domain.context import Ctx
    from amishare.domain.principal import Principal

    _check_target(account_id, region)
    documents = [(str(path), *read(path)) for path in paths]
    documents.sort(key=lambda d: KINDS.index(d[1]))
    store, box = _open(db_url)
    try:
        with store.transaction() as conn, _progress(progress) as bar:
            ctx = Ctx(conn, Principal.root(account_id), region, time.time(), Settings(), secrets=box)
            importer = Importer(ctx, parent_id)
            importer.ensure_account(account_id)
            for source, kind, records in documents:
                task = bar.add_task(f"{Path(source).name} ({kind})", total=len(records)) if bar else None
                importer.run(kind, records, source, (lambda n, t=task: bar.advance(t, n)) if bar else (lambda n: None))
        return importer.summary.as_dict()
    finally:
        store.dispose()


def _progress(enabled: bool):
    if not enabled:
        return nullcontext(None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True))


# --- export


class _Reader:
    """Runs operations as the account's root user and reads their answers as the aws CLI does."""

    def __init__(self, store, box, account_id: str, region: str):
        from amishare.application import Application
        from amishare.domain.principal import Principal

        self.app = Application(store, Settings(), box)
        self.principal = Principal.root(account_id)
        self.region = region

    def call(self, operation: str, params: dict) -> dict:
        from botocore.parsers import create_parser

        from amishare.application import Call
        from amishare.models import operation_model
        from amishare.protocol.wire import Wire

        outcome = self.app.invoke(Call(self.principal, self.region, "ec2", operation, params))
        if outcome.error is not None:
            raise InventoryError(f"{operation}: {outcome.error.code}: {outcome.error.message}")
        body = Wire("ec2").result(operation, outcome.result, "export")
        parsed = create_parser("ec2").parse({"body": body, "headers": {}, "status_code": 200},
                                            operation_model("ec2", operation).output_shape)
        parsed.pop("ResponseMetadata", None)
        return parsed

    def pages(self, operation: str, params: dict, key: str) -> list:
        out, token = [], None
        while True:
            page = self.call(operation, dict(params, **({"NextToken": token} if token else {})))
            out += page.get(key, [])
            token = page.get("NextToken")
            if not token:
                return out


def _cli_json(value) -> str:
    """As `aws ... --output json` prints: four-space indents, timestamps in ISO 8601."""
    return json.dumps(value, indent=4, ensure_ascii=False,
                      default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v)) + "\n"


def export(db_url: str, account_id: str, region: str, kind: str, out: Path) -> int:
    """Write the account's `kind` in the Region to `out`; how many records were written."""
    _check_target(account_id, region)
    if kind not in EXPORT_KINDS:
        raise InventoryError(f"--kind must be one of {', '.join(EXPORT_KINDS)}")
    store, box = _open(db_url)
    try:
        reader = _Reader(store, box, account_id, region)
        images = {"Owners": ["self"], "IncludeDeprecated": True, "IncludeDisabled": True, "MaxResults": 1000}
        if kind == "images":
            records = reader.pages("DescribeImages", images, "Images")
            document = {"Images": records}
        elif kind == "snapshots":
            records = reader.pages("DescribeSnapshots", {"OwnerIds": ["self"], "MaxResults": 1000}, "Snapshots")
            document = {"Snapshots": records}
        else:
            ids = [i["ImageId"] for i in reader.pages("DescribeImages", images, "Images")]
            document = records = [reader.call("DescribeImageAttribute", {"ImageId": i, "Attribute": "launchPermission"})
                                  for i in ids]
    finally:
        store.dispose()
    Path(out).write_text(_cli_json(document))
    return len(records)
