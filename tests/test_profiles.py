"""Accounts with credentials fixed in advance, and named profiles for the aws CLI and boto3."""

import json
import subprocess
import sys

import boto3
import pytest

from support import Account

KEY_ID = "AKIA" + "Q" * 12 + "2345"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def run(server, *args):
    return subprocess.run([sys.executable, "-m", "amishare", *args], env=server.env, capture_output=True, text=True)


def unique_key(seed: str) -> str:
    """An access key id of AWS's format, different for each backend's server."""
    letters = "".join("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[ord(c) % 32] for c in seed)
    return ("AKIA" + letters + "A" * 16)[:20]


def test_fixed_credentials_work_and_are_checked(server):
    key_id = unique_key(server.db_url[-16:])
    created = run(server, "accounts", "create", "--db", server.db_url, "--access-key-id", key_id,
                  "--secret-access-key", SECRET)
    assert created.returncode == 0, created.stderr
    account = json.loads(created.stdout)
    assert set(account) == {"AccountId", "AccessKeyId", "SecretAccessKey"}
    assert (account["AccessKeyId"], account["SecretAccessKey"]) == (key_id, SECRET)
    sts = server.client(Account(account["AccountId"], key_id, SECRET), "sts")
    assert sts.get_caller_identity()["Account"] == account["AccountId"]

    taken = run(server, "accounts", "create", "--db", server.db_url, "--access-key-id", key_id,
                "--secret-access-key", SECRET)
    assert taken.returncode == 1 and f"Access key {key_id} is already in use" in taken.stderr
    for bad_id, bad_secret, message in [
        ("AKIAqqqqqqqqqqqq2345", SECRET, "must be AKIA followed by 16"),
        ("ASIA" + "Q" * 16, SECRET, "must be AKIA followed by 16"),
        ("AKIA" + "Q" * 15, SECRET, "must be AKIA followed by 16"),
        ("AKIA" + "Q" * 15 + "1", SECRET, "must be AKIA followed by 16"),
        (unique_key("other" + server.db_url[-8:]), SECRET[:39], "must be 40 characters"),
        (unique_key("other" + server.db_url[-8:]), SECRET[:39] + "!", "must be 40 characters"),
    ]:
        refused = run(server, "accounts", "create", "--db", server.db_url, "--access-key-id", bad_id,
                      "--secret-access-key", bad_secret)
        assert refused.returncode == 1 and message in refused.stderr, (bad_id, refused.stderr)
    alone = run(server, "accounts", "create", "--db", server.db_url, "--access-key-id", KEY_ID)
    assert alone.returncode == 1 and "given together" in alone.stderr
    listed = json.loads(server.cli("accounts", "list", "--db", server.db_url))["Accounts"]
    assert [a["AccessKeyIds"] for a in listed if a["AccountId"] == account["AccountId"]] == [[key_id]]


def _no_ambient_aws(env: dict) -> dict:
    return {k: v for k, v in env.items() if not k.startswith("AWS_")}


def test_profile_for_the_aws_cli_and_boto3(server, tmp_path, monkeypatch):
    config = tmp_path / "aws" / "config"
    config.parent.mkdir()
    config.write_text("# my settings\n[default]\nregion = ap-south-1\n\n[profile other]\noutput = text\n")
    created = run(server, "accounts", "create", "--db", server.db_url, "--format", "profile", "--profile", "sandbox",
                  "--endpoint", server.endpoint, "--region", "eu-west-1", "--config-file", str(config))
    assert created.returncode == 0, created.stderr
    written = json.loads(created.stdout)
    assert written["Profile"] == "sandbox" and "SecretAccessKey" not in written
    text = config.read_text()
    assert text.startswith("# my settings\n[default]\nregion = ap-south-1\n") and "[profile other]\noutput = text" in text
    assert f"[profile sandbox]\nregion = eu-west-1\nendpoint_url = {server.endpoint}\n" in text
    assert config.stat().st_mode & 0o077 == 0

    env = dict(_no_ambient_aws(server.env), AWS_CONFIG_FILE=str(config), AWS_PAGER="")
    cli = subprocess.run(["aws", "--profile", "sandbox", "sts", "get-caller-identity", "--output", "json"], env=env,
                         capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["Account"] == written["AccountId"]
    zones = subprocess.run(["aws", "--profile", "sandbox", "ec2", "describe-availability-zones", "--output", "json"],
                           env=env, capture_output=True, text=True)
    assert {z["RegionName"] for z in json.loads(zones.stdout)["AvailabilityZones"]} == {"eu-west-1"}

    for name in [k for k in list(__import__("os").environ) if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    session = boto3.Session(profile_name="sandbox")
    assert session.region_name == "eu-west-1"
    assert session.client("sts").get_caller_identity()["Account"] == written["AccountId"]
    assert session.client("ec2").describe_images(Owners=["self"])["Images"] == []

    # Writing the profile again replaces it and keeps the rest of the file.
    again = run(server, "accounts", "create", "--db", server.db_url, "--format", "profile", "--profile", "sandbox",
                "--endpoint", server.endpoint, "--region", "eu-west-1", "--config-file", str(config))
    account = json.loads(again.stdout)["AccountId"]
    assert config.read_text().count("[profile sandbox]") == 1 and "# my settings" in config.read_text()
    assert boto3.Session(profile_name="sandbox").client("sts").get_caller_identity()["Account"] == account


def test_profile_keys_in_a_credentials_file_and_printed_profiles(server, tmp_path):
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    env = dict(_no_ambient_aws(server.env), AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(credentials),
               AWS_PAGER="")
    created = subprocess.run(
        [sys.executable, "-m", "amishare", "accounts", "create", "--db", server.db_url, "--format", "profile",
         "--profile", "split", "--endpoint", server.endpoint, "--region", "us-west-2",
         "--credentials-file", str(credentials)], env=env, capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    assert "aws_secret_access_key" not in config.read_text() and "[split]\naws_access_key_id" in credentials.read_text()
    cli = subprocess.run(["aws", "--profile", "split", "sts", "get-caller-identity", "--output", "json"], env=env,
                         capture_output=True, text=True)
    assert json.loads(cli.stdout)["Account"] == json.loads(created.stdout)["AccountId"]

    printed = run(server, "accounts", "create", "--db", server.db_url, "--format", "profile", "--profile", "ci",
                  "--endpoint", server.endpoint, "--region", "us-east-1", "--print",
                  "--access-key-id", unique_key("print" + server.db_url[-11:]), "--secret-access-key", SECRET)
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert lines[1:] == ["[profile ci]", "region = us-east-1", f"endpoint_url = {server.endpoint}",
                         f"aws_access_key_id = {unique_key('print' + server.db_url[-11:])}",
                         f"aws_secret_access_key = {SECRET}"]
    missing = run(server, "accounts", "create", "--db", server.db_url, "--format", "profile")
    assert missing.returncode == 1 and "--profile NAME" in missing.stderr


@pytest.mark.parametrize("name", ["a b", "x]", ""])
def test_bad_profile_names_are_refused_before_anything_is_created(server, name):
    before = len(json.loads(server.cli("accounts", "list", "--db", server.db_url))["Accounts"])
    refused = run(server, "accounts", "create", "--db", server.db_url, "--format", "profile", "--profile", name,
                  "--print")
    assert refused.returncode == 1
    assert len(json.loads(server.cli("accounts", "list", "--db", server.db_url))["Accounts"]) == before
