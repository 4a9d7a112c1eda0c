"""URL query strings and form bodies, split into raw bytes first.

Signing works on the raw bytes (as AWS canonicalizes them); only a verified
request is decoded into text, where bytes that aren't UTF-8 are a client error.
"""

from urllib.parse import unquote_to_bytes

from amishare.errors import AwsError

MAX_PAIRS = 10_000


def split(data: bytes) -> list[tuple[bytes, bytes]]:
    pairs = []
    for field in data.split(b"&"):
        if not field:
            continue
        name, _, value = field.partition(b"=")
        pairs.append((unquote_to_bytes(name.replace(b"+", b" ")), unquote_to_bytes(value.replace(b"+", b" "))))
        if len(pairs) > MAX_PAIRS:
            raise AwsError("InvalidParameterValue", f"A request may carry at most {MAX_PAIRS} parameters.")
    return pairs


def decode(pairs: list[tuple[bytes, bytes]]) -> dict[str, str]:
    out = {}
    for name, value in pairs:
        try:
            out[name.decode()] = value.decode()
        except UnicodeDecodeError:
            shown = name.decode("utf-8", "replace").encode("ascii", "backslashreplace").decode()
            raise AwsError("InvalidParameterValue", f"Value of parameter {shown[:64]} is not valid UTF-8.") from None
    return out


def auth_fields(pairs: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The URL's X-Amz-* parameters as text, for finding a presigned signature."""
    return {k.decode("latin-1"): v.decode("utf-8", "replace") for k, v in pairs if k.startswith(b"X-Amz-")}
