"""Command line: `amishare serve` and `amishare accounts ...`."""

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile

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

    store, box = _open(args.db)
    try:
        with store.transaction() as conn:
            creds = accounts.create_account(conn, box, account_id=args.id, name=args.name)
    except AwsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
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


def _accounts_list(args) -> int:
    from amishare.domain import accounts

    store, _ = _open(args.db)
    try:
        with store.transaction(write=False) as conn:
            print(json.dumps({"Accounts": accounts.list_accounts(conn)}, indent=2))
    finally:
        store.dispose()
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
    create.add_argument("--format", choices=["json", "env"], default="json")
    create.add_argument("--endpoint", help="with --format env: also export AWS_ENDPOINT_URL")
    create.add_argument("--region", help="with --format env: also export AWS_DEFAULT_REGION")
    create.set_defaults(run=_accounts_create)
    credentials = account_commands.add_parser(
        "credentials", help="print the access key of an account, e.g. one made by Organizations CreateAccount")
    credentials.add_argument("--db", default=default_db_url())
    credentials.add_argument("--id", required=True)
    credentials.set_defaults(run=_accounts_credentials)
    listing = account_commands.add_parser("list", help="list accounts and their access key ids")
    listing.add_argument("--db", default=default_db_url())
    listing.set_defaults(run=_accounts_list)
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
