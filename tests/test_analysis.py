"""Access analysis through a real server: explain, who can launch, what can launch, exposure
and what-if, with boto3 (our own `amishare` service model) and the `amishare` CLI."""

import json
import subprocess
import sys

import pytest

from amishare.analysis_cli import client as analysis_client
from test_images import error_code, register, snapshot_of_new_volume
from test_kms import encrypted_image, policy_with


def analysis(server, account):
    return analysis_client(region=server.region, endpoint=server.endpoint) if account is None else _client(server, account)


def _client(server, account):
    import botocore.config

    from amishare.models import OWN_MODELS

    session = server.session(account)
    session._session.get_component("data_loader").search_paths.insert(0, str(OWN_MODELS))
    return session.client("amishare", endpoint_url=server.endpoint,
                          config=botocore.config.Config(retries={"max_attempts": 1}))


def decision(answer, action):
    return next(d for d in answer["Decisions"] if d["Action"] == action)


def steps(answer, action, name):
    return [s for s in decision(answer, action)["Steps"] if s["Step"] == name]


def test_explain_a_broken_encrypted_share_and_its_fix(server, alice, bob, carol):
    kms = server.client(alice, "kms")
    key = kms.create_key()["KeyMetadata"]
    image_id = encrypted_image(server, alice, "explain-encrypted", key["Arn"])
    server.client(alice).modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": bob.account_id}]})
    answer = _client(server, alice).explain_image_access(ImageId=image_id, Principal=bob.account_id)
    assert answer["Principal"] == f"arn:aws:iam::{bob.account_id}:root"
    assert decision(answer, "see")["Allowed"] is True
    assert decision(answer, "launch")["Allowed"] is False
    grant = steps(answer, "launch", "launch-permission")[0]
    assert grant["Decision"] == "allowed" and grant["Source"] == f"account {bob.account_id}"
    describe_key = [s for s in steps(answer, "launch", "kms-key") if s.get("Action") == "kms:DescribeKey"][0]
    assert describe_key["Decision"] == "denied"
    # Bob really can't launch.
    assert error_code(lambda: server.client(bob).run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                                                               DryRun=True)) == "UnauthorizedOperation"
    allow_bob = {"Sid": "AllowBobThroughEBS", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{bob.account_id}:root"},
                 "Action": ["kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"],
                 "Resource": "*"}
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy_with(alice.account_id, allow_bob))
    answer = _client(server, bob).explain_image_access(ImageId=image_id)
    assert decision(answer, "launch")["Allowed"] is True
    describe_key = [s for s in steps(answer, "launch", "kms-key") if s.get("Action") == "kms:DescribeKey"][0]
    assert {"PolicyType": "resource-based policy", "PolicyId": key["Arn"], "Sid": "AllowBobThroughEBS",
            "Effect": "Allow"} in describe_key["Statements"]
    assert error_code(lambda: server.client(bob).run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                                                               DryRun=True)) == "DryRunOperation"
    # A third account may not ask about bob for alice's image.
    assert error_code(lambda: _client(server, carol).explain_image_access(ImageId=image_id, Principal=bob.account_id)) \
        == "AccessDeniedException"
