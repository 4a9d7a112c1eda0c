"""Verification of AWS Signature Version 4, header and presigned-query forms.

The canonical request is rebuilt from what arrived on the wire; the expected
signature is derived from the account's secret and compared in constant time.
"""

import hashlib
import hmac
import posixpath
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_SECONDS = 15 * 60
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600


class AuthError(Exception):
    """kind: missing | malformed | unknown_key | signature | expired | region | service."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    date: str
    region: str
    service: str
    terminator: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{self.terminator}"


@dataclass
class SignedParts:
    credential: Credential
    signed_headers: list[str]
    signature: str
    amz_date: str
    presigned: bool
    expires: int | None = None


def parse_credential(text: str) -> Credential:
    parts = text.split("/")
    if len(parts) != 5 or not all(parts):
        raise AuthError("malformed", f"Credential should have exactly 5 slash-delimited elements, got '{text}'")
    return Credential(*parts)


def extract(headers: dict[str, str], url_query: dict[str, str]) -> SignedParts:
    """Find the signature in the Authorization header or in the presigned URL query.

    Presigned parameters are read from the URL only: a POST form is part of the signed
    payload, never a place a signature may come from."""
    header = headers.get("authorization")
    if header is not None:
        parts = _from_header(header, headers)
    elif "X-Amz-Signature" in url_query or "X-Amz-Credential" in url_query:
        parts = _from_query(url_query)
    else:
        raise AuthError("missing", "Request is missing Authentication Token")
    _check_signed_headers(parts, headers)
    return parts


# Headers that change what a request does or who makes it: when present, they must be signed.
_MUST_SIGN_WHEN_PRESENT = ("x-amz-target", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256")


def _check_signed_headers(parts: "SignedParts", headers: dict[str, str]) -> None:
    signed = set(parts.signed_headers)
    if "host" not in signed:
        raise AuthError("signature", "'Host' must be a 'SignedHeader' in the AWS Authorization.")
    for name in _MUST_SIGN_WHEN_PRESENT:
        if name in headers and name not in signed:
            raise AuthError("signature", f"'{name}' must be a 'SignedHeader' in the AWS Authorization.")


def _from_header(header: str, headers: dict[str, str]) -> SignedParts:
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise AuthError("malformed", f"Unsupported authorization type: {algorithm or header[:32]}")
    fields = {}
    for item in rest.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            fields[key] = value
    for needed in ("Credential", "SignedHeaders", "Signature"):
        if needed not in fields:
            raise AuthError("malformed", f"Authorization header requires '{needed}' parameter.")
    amz_date = headers.get("x-amz-date") or ""
    if not amz_date:
        raise AuthError("malformed", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    return SignedParts(
        credential=parse_credential(fields["Credential"]),
        signed_headers=fields["SignedHeaders"].split(";"),
        signature=fields["Signature"],
        amz_date=amz_date,
        presigned=False,
    )


def _from_query(query: dict[str, str]) -> SignedParts:
    for needed in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"):
        if needed not in query:
            raise AuthError("malformed", f"AWS query-string parameters must include '{needed}'.")
    if query["X-Amz-Algorithm"] != ALGORITHM:
        raise AuthError("malformed", "X-Amz-Algorithm only supports 'AWS4-HMAC-SHA256'")
    try:
        expires = int(query.get("X-Amz-Expires", "900"))
    except ValueError:
        raise AuthError("malformed", "X-Amz-Expires should be a number") from None
    if not 0 < expires <= MAX_PRESIGN_EXPIRES:
        raise AuthError("malformed", "X-Amz-Expires must be between 1 and 604800 seconds")
    return SignedParts(
        credential=parse_credential(query["X-Amz-Credential"]),
        signed_headers=query["X-Amz-SignedHeaders"].split(";"),
        signature=query["X-Amz-Signature"],
        amz_date=query["X-Amz-Date"],
        presigned=True,
        expires=expires,
    )


_BASIC_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")


def parse_amz_date(text: str) -> datetime:
    try:
        fields = _BASIC_DATE.fullmatch(text)
        if fields is not None:  # the form every SDK sends, without strptime's cost
            return datetime(*map(int, fields.groups()), tzinfo=timezone.utc)
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise AuthError("malformed", f"Invalid X-Amz-Date '{text[:32]}': expected ISO 8601 basic format") from None


def check_time(parts: SignedParts, now: datetime) -> None:
    signed_at = parse_amz_date(parts.amz_date)
    if parts.credential.date != parts.amz_date[:8]:
        raise AuthError(
            "signature",
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{parts.credential.date}' != '{parts.amz_date[:8]}', from '{parts.amz_date}'.",
        )
    skew = (now - signed_at).total_seconds()
    if parts.presigned:
        if skew > parts.expires or -skew > MAX_SKEW_SECONDS:
            raise AuthError("expired", "Request has expired.")
    elif abs(skew) > MAX_SKEW_SECONDS:
        raise AuthError(
            "expired",
            f"Signature expired: {parts.amz_date} is now earlier than "
            f"{datetime.fromtimestamp(now.timestamp() - MAX_SKEW_SECONDS, timezone.utc):%Y%m%dT%H%M%SZ} ({now:%Y%m%dT%H%M%SZ} - 15 min.)",
        )


def _uri_encode(raw: bytes) -> str:
    return quote(raw, safe="-_.~")


def canonical_query(pairs: list[tuple[bytes, bytes]], presigned: bool) -> str:
    """From the raw (percent-decoded) bytes, as AWS does: a parameter that isn't valid
    UTF-8 still signs, and is refused later by validation, not as a bad signature."""
    encoded = sorted(
        (_uri_encode(k), _uri_encode(v)) for k, v in pairs if not (presigned and k == b"X-Amz-Signature")
    )
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_uri(raw_path: str) -> str:
    path = raw_path or "/"
    normalized = posixpath.normpath(path)
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    return quote(normalized, safe="/~")


def canonical_headers(signed: list[str], headers: dict[str, str]) -> str:
    lines = []
    for name in signed:
        if name not in headers:
            raise AuthError("signature", f"The request signature we calculated does not match: signed header '{name}' is missing.")
        lines.append(f"{name}:{' '.join(headers[name].split())}\n")
    return "".join(lines)


_KEY_CACHE: dict[tuple, bytes] = {}


def signing_key(secret: str, cred: Credential) -> bytes:
    cache_key = (secret, cred.date, cred.region, cred.service)
    key = _KEY_CACHE.get(cache_key)
    if key is None:
        key = ("AWS4" + secret).encode()
        for part in (cred.date, cred.region, cred.service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        if len(_KEY_CACHE) > 4096:
            _KEY_CACHE.clear()
        _KEY_CACHE[cache_key] = key
    return key


def expected_signature(
    secret: str,
    parts: SignedParts,
    method: str,
    raw_path: str,
    query_pairs: list[tuple[bytes, bytes]],
    headers: dict[str, str],
    payload_hash: str,
) -> str:
    canonical = "\n".join(
        (
            method,
            canonical_uri(raw_path),
            canonical_query(query_pairs, parts.presigned),
            canonical_headers(parts.signed_headers, headers),
            ";".join(parts.signed_headers),
            payload_hash,
        )
    )
    string_to_sign = "\n".join(
        (ALGORITHM, parts.amz_date, parts.credential.scope, hashlib.sha256(canonical.encode()).hexdigest())
    )
    return hmac.new(signing_key(secret, parts.credential), string_to_sign.encode(), hashlib.sha256).hexdigest()


def verify(secret, parts, method, raw_path, query_pairs, headers, body: bytes) -> None:
    """The payload is always the body that arrived: a declared hash must be its hash
    (UNSIGNED-PAYLOAD is not accepted by these services), and the signature covers it."""
    payload_hash = hashlib.sha256(body).hexdigest()
    declared = headers.get("x-amz-content-sha256")
    if declared is not None and declared != payload_hash:
        raise AuthError("signature", "The provided 'x-amz-content-sha256' header does not match what was computed.")
    expected = expected_signature(secret, parts, method, raw_path, query_pairs, headers, payload_hash)
    if not hmac.compare_digest(expected, parts.signature):
        raise AuthError(
            "signature",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        )
