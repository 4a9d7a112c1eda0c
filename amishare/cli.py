"""Command line: `amishare serve`, `amishare accounts ...`, `amishare users ...`, import and
export, `amishare audit`, and the access analysis commands (`amishare explain ...`,
`analysis_cli.py`)."""

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time

from sqlalchemy.exc import IntegrityError

from amishare.config import default_db_url


def _serve(args) -> int:
    import uvicorn

    os.environ["AMISHARE_DB"] = args.db
    os.environ["AMISHARE_LOG_FORMAT"] = args.log_format
    if args.state_delay is not None:
        os.environ["AMISHARE_STATE_DELAY"] = str(args.state_delay)
    # Migrate and seed once, before workers start, so they never race on it.
    from amishare.api.asgi import build_application

    build_application(args.db).store.dispose()
    from amishare.api.connections import GuardedHttpProtocol
    from amishare.config import Settings

    settings = Settings()
    with _metrics_directory(args.workers) as metrics:
        shared = f", metrics in {metrics}" if metrics else ""
        print(f"amishare listening on http://{args.host}:{args.port} (database {args.db}{shared})", file=sys.stderr,
              flush=True)
        uvicorn.run(
            "amishare.api.asgi:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
            loop="uvloop", http=GuardedHttpProtocol, access_log=False, log_level=args.log_level, lifespan="on",
            limit_concurrency=settings.max_connections, timeout_keep_alive=5,
            # aws:SourceIp and aws:SecureTransport come from the connection itself: X-Forwarded-*
            # headers from a client must not change them.
            proxy_headers=False, server_header=False,
        )
    return 0


@contextlib.contextmanager
def _metrics_directory(workers: int):
    """Several workers share their metrics through files in a directory of their own
    (prometheus_client's multiprocess mode), removed when the server stops. One given in
    PROMETHEUS_MULTIPROC_DIR is used as it is and left in place."""
    if workers <= 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        return
    directory = tempfile.mkdtemp(prefix="amishare-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    try:
        yield directory
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        shutil.rmtree(directory, ignore_errors=True)


def _open(db_url: str):
    from amishare.domain import catalog
    from amishare.domain.secretbox import SecretBox
    from amishare.store.db import open_store

    store = open_store(db_url)
    with store.transaction() as conn:
        catalog.ensure(conn)
    return store, SecretBox.for_database(db_url)


def _accounts_create(args) -> int:
    from amishare.domain import accounts
    from amishare.errors import AwsError

    if args.format == "profile":
        if not args.profile:
            print("error: --format profile needs --profile NAME", file=sys.stderr)
            return 1
        from amishare.awsconfig import check_profile_name

        try:
            check_profile_name(args.profile)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    if (args.access_key_id is None) != (args.secret_access_key is None):
        print("error: --access-key-id and --secret-access-key are given together", file=sys.stderr)
        return 1
    store, box = _open(args.db)
    try:
        with store.transaction() as conn:
            creds = accounts.create_account(conn, box, account_id=args.id, name=args.name,
                                            access_key_id=args.access_key_id, secret_access_key=args.secret_access_key)
    except AwsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except IntegrityError:  # a concurrent creation won the same id or key
        print("error: the account id or access key id is already in use", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    if args.format == "profile":
        return _write_profile(args, creds)
    if args.format == "env":
        print(f"export AWS_ACCESS_KEY_ID={creds.access_key_id}")
        print(f"export AWS_SECRET_ACCESS_KEY={creds.secret_access_key}")
        print("unset AWS_SESSION_TOKEN")
        if args.endpoint:
            print(f"export AWS_ENDPOINT_URL={args.endpoint}")
        if args.region:
            print(f"export AWS_DEFAULT_REGION={args.region}")
        print(f"# account {creds.account_id}")
    else:
        print(json.dumps({
            "AccountId": creds.account_id,
            "AccessKeyId": creds.access_key_id,
            "SecretAccessKey": creds.secret_access_key,
        }))
    return 0


def _write_profile(args, creds) -> int:
    """The account as a named profile: keys, endpoint_url and region in the shared config file
    (the keys in the credentials file instead, with --credentials-file)."""
    from pathlib import Path

    from amishare import awsconfig

    split = args.credentials_file is not None
    config = awsconfig.section(awsconfig.config_header(args.profile), awsconfig.profile_values(
        creds.access_key_id, creds.secret_access_key, args.endpoint, args.region, with_keys=not split))
    keys = awsconfig.section(args.profile, {"aws_access_key_id": creds.access_key_id,
                                            "aws_secret_access_key": creds.secret_access_key})
    if args.print:
        print(f"# account {creds.account_id}")
        print(config, end="")
        if split:
            print(f"# credentials file\n{keys}", end="")
        return 0
    config_file = Path(args.config_file).expanduser() if args.config_file else awsconfig.default_config_file()
    try:
        awsconfig.put_section(config_file, awsconfig.config_header(args.profile), config)
        if split:
            awsconfig.put_section(Path(args.credentials_file).expanduser(), args.profile, keys)
    except OSError as exc:
        print(f"error: account {creds.account_id} was created, but its profile could not be written: {exc}",
              file=sys.stderr)
        return 1
    out = {"AccountId": creds.account_id, "AccessKeyId": creds.access_key_id, "Profile": args.profile,
           "ConfigFile": str(config_file)}
    if split:
        out["CredentialsFile"] = str(Path(args.credentials_file).expanduser())
    print(json.dumps(out))
    return 0


def _accounts_credentials(args) -> int:
    from amishare.domain import accounts

    store, box = _open(args.db)
    try:
        with store.transaction(write=False) as conn:
            creds = accounts.credentials_of(conn, box, args.id)
    finally:
        store.dispose()
    if creds is None:
        print(f"error: account {args.id} has no access key here", file=sys.stderr)
        return 1
    print(json.dumps({"AccountId": creds.account_id, "AccessKeyId": creds.access_key_id,
                      "SecretAccessKey": creds.secret_access_key}))
    return 0


def _users_create(args) -> int:
    """An IAM user with an access key (and managed policies), in one transaction."""
    import time

    from amishare.config import Settings
    from amishare.domain import accounts, iam_entities, iam_policies
    from amishare.domain.context import Ctx
    from amishare.domain.principal import Principal
    from amishare.errors import AwsError

    store, box = _open(args.db)
    try:
        with store.transaction() as conn:
            if not accounts.exists(conn, args.account):
                raise AwsError("NoSuchEntity", f"account {args.account} does not exist")
            ctx = Ctx(conn, Principal.root(args.account), "us-east-1", time.time(), Settings(), secrets=box)
            user = iam_entities.create_user(ctx, args.name, args.path)
            for arn in args.policy_arn or []:
                iam_policies.attach(ctx, "user", args.name, arn)
            key = iam_entities.create_access_key(ctx, args.name)
    except AwsError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    print(json.dumps({"AccountId": args.account, "UserName": user["UserName"], "Arn": user["Arn"],
                      "AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}))
    return 0


def _accounts_list(args) -> int:
    from amishare.domain import accounts

    store, _ = _open(args.db)
    try:
        with store.transaction(write=False) as conn:
            print(json.dumps({"Accounts": accounts.list_accounts(conn)}, indent=2))
    finally:
        store.dispose()
    return 0


def _import(args) -> int:
    from amishare.inventory import InventoryError, import_files

    started = time.perf_counter()
    try:
        summary = import_files(args.db, args.account, args.region, args.files, args.parent_id,
                               progress=not args.quiet)
    except InventoryError as exc:
        print(f"error: {exc}; nothing was imported", file=sys.stderr)
        return 1
    summary["seconds"] = round(time.perf_counter() - started, 3)
    print(json.dumps(summary))
    return 0


def _export(args) -> int:
    from amishare.inventory import InventoryError, export

    try:
        count = export(args.db, args.account, args.region, args.kind, args.out)
    except InventoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"kind": args.kind, "records": count, "out": str(args.out)}))
    return 0


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def since_time(text: str, now: float) -> float:
    """--since: a duration back from now (90s, 30m, 1h, 7d, 2w) or an ISO 8601 time."""
    import re

    from amishare.parsing import parse_timestamp

    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhdw])", text.strip())
    if match:
        return now - float(match.group(1)) * _UNITS[match.group(2)]
    moment = parse_timestamp(text.strip())
    if moment is None:
        raise ValueError(f"--since takes a duration such as 30m, 1h or 7d, or an ISO 8601 time, not {text!r}")
    return moment.timestamp()


def _audit(args) -> int:
    """The account's audit trail, newest first, from the store the server writes."""
    from amishare.domain import trail
    from amishare.domain.regions import is_region
    from amishare.models import commercial_regions
    from amishare.store.db import open_store

    if not (len(args.account) == 12 and args.account.isdigit()):
        print("error: --account takes a 12-digit account id", file=sys.stderr)
        return 1
    if args.region and not is_region(args.region):
        print(f"error: {args.region} is not a Region", file=sys.stderr)
        return 1
    if not 1 <= args.max_items <= 10_000:
        print("error: --max-items takes 1 to 10000", file=sys.stderr)
        return 1
    since = since_time(args.since, time.time())
    regions = [args.region] if args.region else sorted(commercial_regions())
    store = open_store(args.db)
    try:
        with store.transaction(write=False) as conn:
            records = trail.recent(conn, args.account, regions, since, args.event_name, args.max_items)
    finally:
        store.dispose()
    if args.format == "json":
        print(json.dumps({"Records": records}, indent=2))
    else:
        _audit_table(records)
    return 0


def _audit_table(records: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(records)} events, newest first")
    for column in ("Time (UTC)", "Region", "Event", "Source", "Identity", "Source IP", "Error", "Event ID"):
        table.add_column(column, overflow="fold")
    for record in records:
        identity = record.get("userIdentity", {})
        who = identity.get("arn") or f"{identity.get('type')} {identity.get('accountId')}"
        table.add_row(record["eventTime"], record["awsRegion"], record["eventName"],
                      record["eventSource"].removesuffix(".amazonaws.com"), who, record.get("sourceIPAddress", ""),
                      record.get("errorCode", ""), record["eventID"])
    Console(width=max(160, shutil.get_terminal_size().columns)).print(table)


def _dead_letters(args) -> int:
    from amishare.domain import event_delivery

    store, _ = _open(args.db)
    try:
        with store.transaction(write=False) as conn:
            letters = event_delivery.dead_letters(conn, args.account, args.region, args.after, args.limit)
    finally:
        store.dispose()
    print(json.dumps({"DeadLetters": letters}, indent=2))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="amishare", description="EC2 AMI sharing behind the real AWS wire protocols.")
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the endpoint")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=4599)
    serve.add_argument("--db", default=default_db_url(), help="sqlite:///path or postgresql+psycopg://...")
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--state-delay", type=float, default=None,
                       help="seconds a new resource stays pending (default 0.2; 0 makes it ready at once)")
    serve.add_argument("--log-level", default="warning")
    serve.add_argument("--log-format", choices=["text", "json", "off"], default="text",
                       help="the access log on standard error, one line per request (default text)")
    serve.set_defaults(run=_serve)

    accounts = commands.add_parser("accounts", help="manage accounts and their credentials")
    account_commands = accounts.add_subparsers(dest="accounts_command", required=True)
    create = account_commands.add_parser("create", help="create an account and print its credentials")
    create.add_argument("--db", default=default_db_url())
    create.add_argument("--id", help="12-digit account id (random when omitted)")
    create.add_argument("--name")
    create.add_argument("--format", choices=["json", "env", "profile"], default="json",
                        help="json: the keys; env: export lines for eval; profile: a named profile in the AWS "
                             "shared config file")
    create.add_argument("--endpoint", help="with --format env or profile: the endpoint URL (AWS_ENDPOINT_URL, endpoint_url)")
    create.add_argument("--region", help="with --format env or profile: the default Region")
    create.add_argument("--access-key-id", help="the account's access key id (AKIA and 16 characters A-Z, 2-7) "
                                                "instead of a new one; with --secret-access-key")
    create.add_argument("--secret-access-key", help="its 40-character secret access key")
    create.add_argument("--profile", help="with --format profile: the profile's name")
    create.add_argument("--config-file", help="with --format profile: the shared config file to write "
                                              "(default $AWS_CONFIG_FILE, else ~/.aws/config)")
    create.add_argument("--credentials-file", help="with --format profile: write the keys to this credentials "
                                                   "file rather than to the config file")
    create.add_argument("--print", action="store_true", help="with --format profile: print the profile, write nothing")
    create.set_defaults(run=_accounts_create)
    credentials = account_commands.add_parser(
        "credentials", help="print the access key of an account, e.g. one made by Organizations CreateAccount")
    credentials.add_argument("--db", default=default_db_url())
    credentials.add_argument("--id", required=True)
    credentials.set_defaults(run=_accounts_credentials)
    listing = account_commands.add_parser("list", help="list accounts and their access key ids")
    listing.add_argument("--db", default=default_db_url())
    listing.set_defaults(run=_accounts_list)

    users = commands.add_parser("users", help="manage the IAM users of an account")
    user_commands = users.add_subparsers(dest="users_command", required=True)
    user_create = user_commands.add_parser("create", help="create an IAM user with an access key and print its credentials")
    user_create.add_argument("--db", default=default_db_url())
    user_create.add_argument("--account", required=True, help="the 12-digit id of the account the user belongs to")
    user_create.add_argument("--name", required=True)
    user_create.add_argument("--path", default="/")
    user_create.add_argument("--policy-arn", action="append", metavar="ARN",
                             help="a managed policy to attach, e.g. arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess "
                                  "(repeatable)")
    user_create.set_defaults(run=_users_create)

    importing = commands.add_parser(
        "import", help="import images, snapshots, launch permissions, accounts and OUs from aws CLI output",
        description="Reads the JSON of `aws ec2 describe-images --owners self`, `aws ec2 describe-snapshots "
                    "--owner-ids self`, `aws ec2 describe-image-attribute --attribute launchPermission`, "
                    "`aws organizations list-accounts` and `list-organizational-units-for-parent`, keeping ids; "
                    "all files in one transaction; importing again updates.")
    importing.add_argument("--db", default=default_db_url())
    importing.add_argument("--account", required=True, help="the account that owns the images and snapshots")
    importing.add_argument("--region", required=True)
    importing.add_argument("--parent-id", help="the root or OU that imported accounts and OUs go under when their "
                                               "records carry no path (default: the root)")
    importing.add_argument("--quiet", action="store_true", help="no progress bar")
    importing.add_argument("files", nargs="+", metavar="FILE")
    importing.set_defaults(run=_import)

    exporting = commands.add_parser("export", help="write an account's images, snapshots or launch permissions "
                                                   "as the aws CLI prints them")
    exporting.add_argument("--db", default=default_db_url())
    exporting.add_argument("--account", required=True)
    exporting.add_argument("--region", required=True)
    exporting.add_argument("--kind", required=True, choices=["images", "snapshots", "launch-permissions"])
    exporting.add_argument("--out", required=True, help="the file to write")
    exporting.set_defaults(run=_export)

    audit = commands.add_parser("audit", help="an account's audit trail (CloudTrail management events), newest first")
    audit.add_argument("--db", default=default_db_url())
    audit.add_argument("--account", required=True, help="the 12-digit id of the account whose events to show")
    audit.add_argument("--region", help="one Region (default: every Region)")
    audit.add_argument("--since", default="1h", help="how far back: 30m, 1h, 7d, or an ISO 8601 time (default 1h)")
    audit.add_argument("--event-name", action="append", metavar="NAME",
                       help="only this event, e.g. ModifyImageAttribute (repeatable)")
    audit.add_argument("--max-items", type=int, default=100, help="at most this many events (default 100)")
    audit.add_argument("--format", choices=["table", "json"], default="table")
    audit.set_defaults(run=_audit)

    from amishare.analysis_cli import add_commands

    add_commands(commands)
    events = commands.add_parser("events", help="EventBridge deliveries")
    event_commands = events.add_subparsers(dest="events_command", required=True)
    dead = event_commands.add_parser(
        "dead-letters", help="list the deliveries given up on (retries or event age exhausted, or refused by the "
                             "endpoint), oldest first, with the DeadLetterConfig ARN their target named")
    dead.add_argument("--db", default=default_db_url())
    dead.add_argument("--account", required=True)
    dead.add_argument("--region", required=True)
    dead.add_argument("--after", type=int, help="list those after this DeadLetterId")
    dead.add_argument("--limit", type=int, default=100)
    dead.set_defaults(run=_dead_letters)
    return root


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a clear message, not a traceback, for operator errors
        from amishare.store.db import DatabaseTooNew

        if isinstance(exc, (DatabaseTooNew, ValueError)):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise
