"""The amishare command line and the real aws CLI against a running server."""

import json
import os
import subprocess
import sys

from support import Account


def test_accounts_create_while_server_runs(server):
    out = server.cli("accounts", "create", "--db", server.db_url, "--id", "210987654321", "--name", "ops")
    created = json.loads(out)
    assert set(created) == {"AccountId", "AccessKeyId", "SecretAccessKey"}
    assert created["AccountId"] == "210987654321"
    assert created["AccessKeyId"].startswith("AKIA") and len(created["AccessKeyId"]) == 20
    assert len(created["SecretAccessKey"]) == 40
    account = Account(created["AccountId"], created["AccessKeyId"], created["SecretAccessKey"])
    assert server.client(account, "sts").get_caller_identity()["Account"] == "210987654321"
    listed = json.loads(server.cli("accounts", "list", "--db", server.db_url))["Accounts"]
    ops = [a for a in listed if a["AccountId"] == "210987654321"][0]
    assert ops["Name"] == "ops" and ops["AccessKeyIds"] == [created["AccessKeyId"]]
    assert all(a["AccountId"] not in ("137112412989", "679593333241") for a in listed)
    dup = subprocess.run([sys.executable, "-m", "amishare", "accounts", "create", "--db", server.db_url, "--id",
                          "210987654321"], env=server.env, capture_output=True, text=True)
    assert dup.returncode != 0 and "already exists" in dup.stderr
    bad = subprocess.run([sys.executable, "-m", "amishare", "accounts", "create", "--db", server.db_url, "--id", "12"],
                         env=server.env, capture_output=True, text=True)
    assert bad.returncode != 0 and "12 digits" in bad.stderr


def test_secrets_are_not_stored_in_plain_text(server):
    created = json.loads(server.cli("accounts", "create", "--db", server.db_url))
    if server.db_url.startswith("sqlite"):
        raw = open(server.db_url.split("///", 1)[1], "rb").read()
        wal = server.db_url.split("///", 1)[1] + "-wal"
        if os.path.exists(wal):
            raw += open(wal, "rb").read()
        assert created["AccessKeyId"].encode() in raw
        assert created["SecretAccessKey"].encode() not in raw
    else:
        import psycopg

        url = server.db_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as conn:
            rows = conn.execute("select secret_ciphertext from access_keys").fetchall()
        assert rows and all(created["SecretAccessKey"] not in r[0] for r in rows)


def test_env_format_can_be_evaluated(server):
    out = server.cli("accounts", "create", "--db", server.db_url, "--format", "env", "--endpoint", server.endpoint,
                     "--region", "us-east-1")
    script = out + "\naws sts get-caller-identity --output json\n"
    env = dict(server.env)
    env.pop("AWS_ACCESS_KEY_ID", None)
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Account"].isdigit()
    assert "export AWS_ENDPOINT_URL=" + server.endpoint in out


def test_seed_commands_through_aws_cli(server, alice):
    """The walk-through of the documents: create an AMI from an instance, describe it, run from it."""
    _, images, _ = server.aws(alice, "ec2", "describe-images", "--owners", "amazon")
    base = images["Images"][0]["ImageId"]
    _, run, _ = server.aws(alice, "ec2", "run-instances", "--image-id", base, "--instance-type", "t3.micro", "--count", "1")
    instance_id = run["Instances"][0]["InstanceId"]
    server.aws(alice, "ec2", "wait", "instance-running", "--instance-ids", instance_id)
    _, created, _ = server.aws(alice, "ec2", "create-image", "--instance-id", instance_id, "--name", "my-webserver-ami",
                               "--description", "web server")
    image_id = created["ImageId"]
    server.aws(alice, "ec2", "wait", "image-available", "--image-ids", image_id)
    _, described, _ = server.aws(alice, "ec2", "describe-images", "--image-ids", image_id)
    assert described["Images"][0]["Name"] == "my-webserver-ami"
    _, attr, _ = server.aws(alice, "ec2", "describe-images", "--owners", "self",
                            "--filters", "Name=name,Values=my-webserver-*", "--query", "Images[].ImageId")
    assert attr == [image_id]
    code, _, err = server.aws(alice, "ec2", "describe-images", "--image-ids", "ami-0abcdef1234567890", check=False)
    assert code != 0 and "InvalidAMIID.NotFound" in err
    code, _, err = server.aws(alice, "ec2", "deregister-image", "--image-id", image_id)
    assert code == 0
    _, snaps, _ = server.aws(alice, "ec2", "describe-snapshots", "--owner-ids", "self")
    assert any(image_id in s["Description"] for s in snaps["Snapshots"])


def test_console_script_is_installed(server):
    from pathlib import Path

    script = Path(sys.executable).parent / "amishare"
    assert script.exists(), "pip install -e . installs the amishare console script next to python"
    out = subprocess.check_output([str(script), "accounts", "create", "--db", server.db_url], env=server.env, text=True)
    assert json.loads(out)["AccessKeyId"].startswith("AKIA")


def test_users_create_while_server_runs(server, alice):
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    out = server.cli("users", "create", "--db", server.db_url, "--account", alice.account_id, "--name", "deployer",
                     "--policy-arn", admin, "--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
    created = json.loads(out)
    assert set(created) == {"AccountId", "UserName", "Arn", "AccessKeyId", "SecretAccessKey"}
    assert created["Arn"] == f"arn:aws:iam::{alice.account_id}:user/deployer"
    assert created["AccessKeyId"].startswith("AKIA") and len(created["SecretAccessKey"]) == 40
    user = Account(alice.account_id, created["AccessKeyId"], created["SecretAccessKey"])
    assert server.client(user, "sts").get_caller_identity()["Arn"] == created["Arn"]
    attached = server.client(alice, "iam").list_attached_user_policies(UserName="deployer")["AttachedPolicies"]
    assert {p["PolicyArn"] for p in attached} == {admin, "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"}
    # the account's own listing is unchanged: user keys are not the account's keys
    listed = json.loads(server.cli("accounts", "list", "--db", server.db_url))["Accounts"]
    assert [a["AccessKeyIds"] for a in listed if a["AccountId"] == alice.account_id] == [[alice.access_key_id]]

    def refused(*extra):
        proc = subprocess.run([sys.executable, "-m", "amishare", "users", "create", "--db", server.db_url, *extra],
                              env=server.env, capture_output=True, text=True)
        assert proc.returncode != 0 and proc.stdout == ""
        return proc.stderr

    assert "EntityAlreadyExists" in refused("--account", alice.account_id, "--name", "DEPLOYER")
    assert "NoSuchEntity" in refused("--account", alice.account_id, "--name", "half",
                                     "--policy-arn", "arn:aws:iam::aws:policy/NoSuchPolicy")
    assert "ValidationError" in refused("--account", alice.account_id, "--name", "bad name")
    assert "does not exist" in refused("--account", "999999999999", "--name", "x")
    names = [u["UserName"] for u in server.client(alice, "iam").list_users()["Users"]]
    assert names == ["deployer"]  # a refused command creates nothing
