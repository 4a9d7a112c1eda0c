"""EventBridge connections (how to authorize with an HTTP endpoint) and API destinations
(the endpoint, its method and invocation rate).

A connection's secrets (API key value, password, OAuth client secret, secret
parameters) are sealed with the SecretBox under the connection's ARN and never
returned: DescribeConnection shows only the names AWS shows.
"""

import base64
import json
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from amishare.domain import pagination
from amishare.errors import AwsError
from amishare.store import events as store

AUTH_TYPES = {"API_KEY": "ApiKeyAuthParameters", "BASIC": "BasicAuthParameters",
              "OAUTH_CLIENT_CREDENTIALS": "OAuthParameters"}
METHODS = ("POST", "GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE")
DEFAULT_RATE = 300


def _missing(kind: str, name: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Failed to describe the {kind}(s). {kind.capitalize()} '{name}' "
                                                 "does not exist.")


def _public_parameters(http: dict | None) -> dict | None:
    """Invocation or OAuth HTTP parameters without the values marked secret."""
    if not http:
        return http
    shown = {}
    for kind in ("HeaderParameters", "QueryStringParameters", "BodyParameters"):
        if kind in http:
            shown[kind] = [{k: v for k, v in p.items() if not (k == "Value" and p.get("IsValueSecret"))}
                           for p in http[kind]]
    return shown


def _public(auth: dict) -> dict:
    shown = {}
    if "ApiKeyAuthParameters" in auth:
        shown["ApiKeyAuthParameters"] = {"ApiKeyName": auth["ApiKeyAuthParameters"]["ApiKeyName"]}
    if "BasicAuthParameters" in auth:
        shown["BasicAuthParameters"] = {"Username": auth["BasicAuthParameters"]["Username"]}
    if "OAuthParameters" in auth:
        oauth = auth["OAuthParameters"]
        shown["OAuthParameters"] = {
            "ClientParameters": {"ClientID": oauth["ClientParameters"]["ClientID"]},
            "AuthorizationEndpoint": oauth["AuthorizationEndpoint"], "HttpMethod": oauth["HttpMethod"]}
        if oauth.get("OAuthHttpParameters"):
            shown["OAuthParameters"]["OAuthHttpParameters"] = _public_parameters(oauth["OAuthHttpParameters"])
    if auth.get("InvocationHttpParameters"):
        shown["InvocationHttpParameters"] = _public_parameters(auth["InvocationHttpParameters"])
    return shown


def _check_endpoint(url: str, what: str) -> None:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise AwsError("ValidationException", f"{what} must be an http or https URL.")


def create_connection(ctx, params) -> dict:
    name, kind = params["Name"], params["AuthorizationType"]
    auth = params["AuthParameters"]
    member = AUTH_TYPES.get(kind)
    if member is None:
        raise AwsError("ValidationException", f"AuthorizationType {kind} is not valid: use one of "
                                              f"{', '.join(AUTH_TYPES)}.")
    if member not in auth or any(other in auth for other in AUTH_TYPES.values() if other != member):
        raise AwsError("ValidationException", f"AuthParameters must give {member} (and only it) for {kind}.")
    if kind == "OAUTH_CLIENT_CREDENTIALS":
        oauth = auth["OAuthParameters"]
        _check_endpoint(oauth["AuthorizationEndpoint"], "AuthorizationEndpoint")
        if oauth["HttpMethod"] not in ("GET", "POST", "PUT"):
            raise AwsError("ValidationException", "OAuth HttpMethod must be GET, POST or PUT.")
    if store.connection(ctx.conn, ctx.account_id, ctx.region, name) is not None:
        raise AwsError("ResourceAlreadyExistsException", f"Connection {name} already exists.")
    arn = f"arn:aws:events:{ctx.region}:{ctx.account_id}:connection/{name}/{uuid.uuid4()}"
    store.insert_connection(ctx.conn, account_id=ctx.account_id, region=ctx.region, name=name, arn=arn,
                            description=params.get("Description"), authorization_type=kind,
                            auth_public=json.dumps(_public(auth)), auth_sealed=ctx.secrets.seal(json.dumps(auth), arn),
                            state="AUTHORIZED", created_at=ctx.now, modified_at=ctx.now)
    return {"ConnectionArn": arn, "ConnectionState": "AUTHORIZED", "CreationTime": ctx.now,
            "LastModifiedTime": ctx.now}


def _connection(ctx, name):
    row = store.connection(ctx.conn, ctx.account_id, ctx.region, name)
    if row is None:
        raise _missing("connection", name)
    return row


def _secret_arn(row) -> str:
    name, suffix = row["arn"].split(":connection/", 1)[1].split("/", 1)
    return f"arn:aws:secretsmanager:{row['region']}:{row['account_id']}:secret:events!connection/{name}/{suffix}"


def describe_connection(ctx, name) -> dict:
    row = _connection(ctx, name)
    out = {"ConnectionArn": row["arn"], "Name": row["name"], "ConnectionState": row["state"],
           "AuthorizationType": row["authorization_type"], "SecretArn": _secret_arn(row),
           "AuthParameters": json.loads(row["auth_public"]), "CreationTime": row["created_at"],
           "LastModifiedTime": row["modified_at"], "LastAuthorizedTime": row["modified_at"]}
    if row["description"] is not None:
        out["Description"] = row["description"]
    return out


def delete_connection(ctx, name) -> dict:
    row = _connection(ctx, name)
    store.delete_connection(ctx.conn, ctx.account_id, ctx.region, name)
    return {"ConnectionArn": row["arn"], "ConnectionState": "DELETING", "CreationTime": row["created_at"],
            "LastModifiedTime": ctx.now, "LastAuthorizedTime": row["modified_at"]}


def _connection_by_arn(conn, account_id, region, arn):
    prefix = f"arn:aws:events:{region}:{account_id}:connection/"
    if not isinstance(arn, str) or not arn.startswith(prefix):
        return None
    row = store.connection(conn, account_id, region, arn[len(prefix):].split("/", 1)[0])
    return row if row is not None and row["arn"] == arn else None


# --- API destinations


def create_api_destination(ctx, params) -> dict:
    name = params["Name"]
    if _connection_by_arn(ctx.conn, ctx.account_id, ctx.region, params["ConnectionArn"]) is None:
        raise AwsError("ResourceNotFoundException", f"Connection '{params['ConnectionArn']}' does not exist.")
    _check_endpoint(params["InvocationEndpoint"], "InvocationEndpoint")
    method = params["HttpMethod"]
    if method not in METHODS:
        raise AwsError("ValidationException", f"HttpMethod {method} is not valid: use one of {', '.join(METHODS)}.")
    rate = params.get("InvocationRateLimitPerSecond") or DEFAULT_RATE
    if not 1 <= rate <= DEFAULT_RATE:
        raise AwsError("ValidationException", f"InvocationRateLimitPerSecond must be between 1 and {DEFAULT_RATE}.")
    if store.api_destination(ctx.conn, ctx.account_id, ctx.region, name) is not None:
        raise AwsError("ResourceAlreadyExistsException", f"ApiDestination {name} already exists.")
    arn = f"arn:aws:events:{ctx.region}:{ctx.account_id}:api-destination/{name}/{uuid.uuid4()}"
    store.insert_api_destination(ctx.conn, account_id=ctx.account_id, region=ctx.region, name=name, arn=arn,
                                 description=params.get("Description"), connection_arn=params["ConnectionArn"],
                                 endpoint=params["InvocationEndpoint"], http_method=method, rate_limit=rate,
                                 state="ACTIVE", created_at=ctx.now, modified_at=ctx.now)
    return {"ApiDestinationArn": arn, "ApiDestinationState": "ACTIVE", "CreationTime": ctx.now,
            "LastModifiedTime": ctx.now}


def _describe_destination(row, full: bool = True) -> dict:
    out = {"ApiDestinationArn": row["arn"], "Name": row["name"], "ApiDestinationState": row["state"],
           "ConnectionArn": row["connection_arn"], "InvocationEndpoint": row["endpoint"],
           "HttpMethod": row["http_method"], "InvocationRateLimitPerSecond": row["rate_limit"],
           "CreationTime": row["created_at"], "LastModifiedTime": row["modified_at"]}
    if full and row["description"] is not None:
        out["Description"] = row["description"]
    return out


def describe_api_destination(ctx, name) -> dict:
    row = store.api_destination(ctx.conn, ctx.account_id, ctx.region, name)
    if row is None:
        raise _missing("api destination", name)
    return _describe_destination(row)


def delete_api_destination(ctx, name) -> None:
    if store.api_destination(ctx.conn, ctx.account_id, ctx.region, name) is None:
        raise _missing("api destination", name)
    store.delete_api_destination(ctx.conn, ctx.account_id, ctx.region, name)


def list_api_destinations(ctx, params):
    limit = params.get("Limit") or 100
    criteria = {"NamePrefix": params.get("NamePrefix"), "ConnectionArn": params.get("ConnectionArn")}
    fingerprint = pagination.fingerprint("ListApiDestinations", criteria)
    after = pagination.decode(params.get("NextToken"), fingerprint, code="ValidationException")
    rows = store.api_destinations_page(ctx.conn, ctx.account_id, ctx.region, criteria["NamePrefix"],
                                       criteria["ConnectionArn"], after, limit + 1)
    token = None
    if len(rows) > limit:
        rows = rows[:limit]
        token = pagination.encode(rows[-1]["name"], fingerprint)
    return [_describe_destination(r, full=False) for r in rows], token


# --- what a delivery needs


@dataclass
class Invocation:
    """How to call an API destination: where, how, how often, and with which credentials."""

    arn: str
    endpoint: str
    method: str
    rate_limit: int
    connection_arn: str
    headers: dict = field(default_factory=dict)
    query: list = field(default_factory=list)
    oauth: dict | None = None  # OAuthParameters with their secrets, to fetch a token with


def invocation(conn, box, account_id: str, region: str, arn: str) -> Invocation | None:
    """The API destination `arn` names, with its connection's credentials opened; None when
    either is gone."""
    prefix = f"arn:aws:events:{region}:{account_id}:api-destination/"
    if not arn.startswith(prefix):
        return None
    row = store.api_destination(conn, account_id, region, arn[len(prefix):].split("/", 1)[0])
    if row is None or row["arn"] != arn:
        return None
    connection = _connection_by_arn(conn, account_id, region, row["connection_arn"])
    if connection is None:
        return None
    auth = json.loads(box.open(connection["auth_sealed"], connection["arn"]))
    found = Invocation(arn, row["endpoint"], row["http_method"], row["rate_limit"], connection["arn"])
    if "ApiKeyAuthParameters" in auth:
        key = auth["ApiKeyAuthParameters"]
        found.headers[key["ApiKeyName"]] = key["ApiKeyValue"]
    if "BasicAuthParameters" in auth:
        basic = auth["BasicAuthParameters"]
        token = base64.b64encode(f"{basic['Username']}:{basic['Password']}".encode()).decode()
        found.headers["Authorization"] = f"Basic {token}"
    if "OAuthParameters" in auth:
        found.oauth = auth["OAuthParameters"]
    http = auth.get("InvocationHttpParameters") or {}
    for header in http.get("HeaderParameters") or []:
        found.headers[header["Key"]] = header["Value"]
    found.query = [(p["Key"], p["Value"]) for p in http.get("QueryStringParameters") or []]
    return found
