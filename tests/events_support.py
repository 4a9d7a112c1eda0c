"""Servers and set-ups shared by the EventBridge tests: a server whose deliveries retry
quickly, an API destination pointing at a Receiver, and a rule targeting it."""

import json
import uuid

from sqlalchemy import func, select

from support import Server, database_url, server_env

FAST_RETRIES = {"AMISHARE_EVENT_RETRY_BASE": "0.1", "AMISHARE_EVENT_RETRY_CAP": "0.5",
                "AMISHARE_EVENT_POLL_INTERVAL": "0.05", "AMISHARE_EVENT_LEASE_SECONDS": "3",
                "AMISHARE_EVENT_HTTP_TIMEOUT": "2"}


def events_server(backend: str, tmp, workers: int = 1, **env):
    url, cleanup = database_url(backend, tmp)
    srv = Server(db_url=url, env={**server_env(tmp), **FAST_RETRIES, **env}, log_path=tmp / "server.log",
                 workers=workers)
    return srv, cleanup


def destination(server, account, url: str, auth: str = "API_KEY", name: str | None = None) -> str:
    """An API destination (and its connection) calling `url`; its ARN."""
    events = server.client(account, "events")
    name = name or f"dest-{uuid.uuid4().hex[:8]}"
    params = {"API_KEY": {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "s3cret-key"}},
              "BASIC": {"BasicAuthParameters": {"Username": "robot", "Password": "hunter2"}}}[auth]
    connection = events.create_connection(Name=f"{name}-conn", AuthorizationType=auth, AuthParameters=params)
    return events.create_api_destination(Name=name, ConnectionArn=connection["ConnectionArn"],
                                         InvocationEndpoint=url, HttpMethod="POST")["ApiDestinationArn"]


def rule_to(server, account, name: str, pattern: dict, target_arn: str, **target) -> None:
    events = server.client(account, "events")
    events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    answer = events.put_targets(Rule=name, Targets=[{"Id": "t1", "Arn": target_arn, **target}])
    assert answer["FailedEntryCount"] == 0


def outbox_count(server, account_id: str, rule_name: str | None = None) -> int:
    """Deliveries of the account still waiting in the outbox (read from the server's database)."""
    from amishare.store.schema import event_outbox as t

    query = select(func.count()).select_from(t).where(t.c.account_id == account_id)
    if rule_name:
        query = query.where(t.c.rule_name == rule_name)
    with server._open_store().transaction(write=False) as conn:
        return conn.execute(query).scalar_one()


def ami_pattern(account_id: str, state: str = "available") -> dict:
    return {"source": ["aws.ec2"], "detail-type": ["EC2 AMI State Change"], "account": [account_id],
            "detail": {"State": [state]}}


def outbox_events(server, account_id: str) -> list[dict]:
    """The events waiting in the outbox for the account, in the order they were queued."""
    from amishare.store.schema import event_outbox as t

    query = select(t.c.body).where(t.c.account_id == account_id).order_by(t.c.delivery_id)
    with server._open_store().transaction(write=False) as conn:
        return [json.loads(body) for body in conn.execute(query).scalars()]
