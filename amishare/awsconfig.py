"""Profiles in the AWS shared config and credentials files, written so that
`aws --profile NAME ...` and boto3's `Session(profile_name=NAME)` reach amishare
with an account's keys, without exporting variables.

A profile's section is replaced in place (or added at the end); the rest of the
file, comments included, is left as it was.
"""

import os
import re
from pathlib import Path

PROFILE_NAME_RE = re.compile(r"[A-Za-z0-9_.+@-]{1,64}")
_HEADER_RE = re.compile(r"^\s*\[([^\]]+)\]\s*(?:[#;].*)?$")


def check_profile_name(name: str) -> str:
    if not isinstance(name, str) or not PROFILE_NAME_RE.fullmatch(name):
        raise ValueError(f"profile name {name!r} must be 1 to 64 letters, digits or . _ - + @")
    return name


def default_config_file() -> Path:
    return Path(os.environ.get("AWS_CONFIG_FILE") or Path.home() / ".aws" / "config").expanduser()


def config_header(profile: str) -> str:
    """The config file names profiles `[profile NAME]`, except `[default]`; the credentials file `[NAME]`."""
    return "default" if profile == "default" else f"profile {profile}"


def section(header: str, values: dict) -> str:
    lines = [f"[{header}]"] + [f"{key} = {value}" for key, value in values.items() if value is not None]
    return "\n".join(lines) + "\n"


def profile_values(access_key_id: str, secret_access_key: str, endpoint: str | None, region: str | None,
                   with_keys: bool = True) -> dict:
    values = {"region": region, "endpoint_url": endpoint}
    if with_keys:
        values.update(aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key)
    return values


def put_section(path: Path, header: str, text: str) -> None:
    """Replace the section named `header` in the file at `path` with `text` (or append it);
    the file is left readable by its owner only, as it holds a secret."""
    lines = path.read_text().splitlines(keepends=True) if path.exists() else []
    out, skipping, replaced = [], False, False
    for line in lines:
        match = _HEADER_RE.match(line)
        if match:
            ends_replaced = skipping
            skipping = match.group(1).strip() == header
            if ends_replaced and not skipping:
                out.append("\n")
            if skipping and not replaced:
                out.append(text)
                replaced = True
        if not skipping:
            out.append(line)
    if not replaced:
        if out and not out[-1].endswith("\n"):
            out.append("\n")
        if out and out[-1].strip():
            out.append("\n")
        out.append(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        os.fchmod(fd, os.fstat(fd).st_mode & 0o700)  # the file now holds a secret: its owner's alone
        f.write("".join(out))
