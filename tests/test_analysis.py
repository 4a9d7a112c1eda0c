"""Access analysis through a real server: explain, who can launch, what can launch, exposure
and what-if, with boto3 (our own `amishare` service model) and the `amishare` CLI."""

import json
import subprocess
import sys

from test_images import error_code, register
from test_kms import encrypted_image, policy_with


def _client(server, account):
    """A boto3 client of amishare's own `amishare` service for the account."""
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
    # An IAM user needs the amishare action, like any call, and asks about itself by default.
    developer = server.new_user(bob, "developer", ["arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"])
    assert error_code(lambda: _client(server, developer).explain_image_access(ImageId=image_id)) == "AccessDeniedException"
    server.client(bob, "iam").put_user_policy(UserName="developer", PolicyName="analysis", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "amishare:ExplainImageAccess",
                                                "Resource": "*"}]}))
    answer = _client(server, developer).explain_image_access(ImageId=image_id)
    assert answer["Principal"] == developer.arn
    assert decision(answer, "launch")["Allowed"] is False  # read-only: ec2:RunInstances is not allowed
    iam_step = steps(answer, "launch", "iam")[0]
    assert iam_step["Decision"] == "denied" and "ec2:RunInstances" in iam_step["Detail"]
    # A third account may not ask about bob for alice's image.
    assert error_code(lambda: _client(server, carol).explain_image_access(ImageId=image_id, Principal=bob.account_id)) \
        == "AccessDeniedException"


def _org_with_encrypted_share(server, amishare):
    """An organization (owner at the root, bob in OU Core, carol in OU Edge), an image encrypted
    with the owner's key and shared with the organization; the key policy lets only bob use it."""
    org = server.create_organization()
    owner = org.add_account()
    core, edge = org.create_ou("Core"), org.create_ou("Edge")
    bob = org.add_account(parent_id=core["Id"])
    carol = org.add_account(parent_id=edge["Id"])
    kms = server.client(owner, "kms")
    key = kms.create_key()["KeyMetadata"]
    allow_bob = {"Sid": "Bob", "Effect": "Allow", "Principal": {"AWS": bob.account_id},
                 "Action": ["kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"],
                 "Resource": "*"}
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy_with(owner.account_id, allow_bob))
    image_id = encrypted_image(server, owner, "org-share", key["Arn"])
    server.client(owner).modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"OrganizationArn": org.arn}]})
    return org, owner, bob, carol, core, edge, key, image_id


def test_who_can_launch_groups_and_pages(server, amishare):
    org, owner, bob, carol, core, edge, key, image_id = _org_with_encrypted_share(server, amishare)
    outsider = amishare.account()
    ec2 = server.client(owner)
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [
        {"UserId": outsider.account_id}, {"UserId": "999999999999"}, {"OrganizationalUnitArn": core["Arn"]}]})
    api = _client(server, owner)
    pages, token = [], None
    while True:
        page = api.list_image_launchers(ImageId=image_id, MaxResults=2, **({"NextToken": token} if token else {}))
        pages.append(page)
        assert sum(len(g["Accounts"]) for g in page["Groups"]) + len(page["GrantedButCannotLaunch"]) <= 2
        token = page.get("NextToken")
        if not token:
            break
    assert len(pages) >= 3
    can = {(g["Group"], a["AccountId"]) for p in pages for g in p["Groups"] for a in g["Accounts"]}
    cannot = {(a["Group"], a["AccountId"]): a for p in pages for a in p["GrantedButCannotLaunch"]}
    # bob can launch through the organization and through his OU, the owner its own image; the
    # others are granted but can't (the key policy names only bob).
    assert can == {(f"organization {org.id}", bob.account_id), (f"OU {core['Id']}", bob.account_id),
                   (f"organization {org.id}", owner.account_id)}
    assert (f"organization {org.id}", org.management.account_id) in cannot
    assert cannot[(f"organization {org.id}", carol.account_id)]["ErrorCode"] == "UnauthorizedOperation"
    assert "kms:DescribeKey" in cannot[(f"organization {org.id}", carol.account_id)]["Reason"]
    assert cannot[(f"account 999999999999", "999999999999")]["Reason"] == "account 999999999999 does not exist"
    assert (f"account {outsider.account_id}", outsider.account_id) in cannot
    # Only the owner may ask.
    assert error_code(lambda: _client(server, bob).list_image_launchers(ImageId=image_id)) == "AuthFailure"
    assert error_code(lambda: api.list_image_launchers(ImageId=image_id, NextToken="bogus")) == "ValidationException"


def test_what_can_launch_and_exposure(server, amishare):
    org, owner, bob, carol, core, edge, key, image_id = _org_with_encrypted_share(server, amishare)
    outsider = amishare.account()
    ec2 = server.client(owner)
    plain = register(ec2, "shared-outside")
    ec2.modify_image_attribute(ImageId=plain, LaunchPermission={"Add": [{"UserId": outsider.account_id},
                                                                         {"UserId": "999999999999"}]})
    snapshot_id = ec2.describe_images(ImageIds=[plain])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    ec2.modify_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission", OperationType="add",
                                  UserIds=[outsider.account_id])
    mine = {i["ImageId"]: i for i in _client(server, carol).list_launchable_images(Scope="shared")["Images"]}
    assert mine[image_id]["CanLaunch"] is False and mine[image_id]["Through"] == f"organization {org.arn}"
    mine = {i["ImageId"]: i for i in _client(server, bob).list_launchable_images()["Images"]}
    assert mine[image_id]["CanLaunch"] is True
    theirs = {i["ImageId"]: i for i in _client(server, outsider).list_launchable_images()["Images"]}
    assert theirs[plain]["CanLaunch"] is True and theirs[plain]["Through"] == f"account {outsider.account_id}"
    assert image_id not in theirs
    # Asking about another account's principal is refused.
    assert error_code(lambda: _client(server, bob).list_launchable_images(Principal=carol.account_id)) == \
        "AccessDeniedException"
    # The exposure report of the owner.
    open_key = server.client(owner, "kms").create_key(Policy=policy_with(owner.account_id, {
        "Sid": "Everyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}))
    findings = _client(server, owner).get_exposure_report()["Findings"]
    kinds = {(f["Kind"], f["ResourceId"], f["AccountId"]) for f in findings}
    assert ("shared-outside-organization", plain, outsider.account_id) in kinds
    assert ("shared-with-missing-account", plain, "999999999999") in kinds
    assert ("snapshot-shared-outside-organization", snapshot_id, outsider.account_id) in kinds
    assert ("key-open-outside-organization", open_key["KeyMetadata"]["Arn"], "") in kinds
    assert not any(k[1] == key["Arn"] for k in kinds)  # the shared key names only bob, a member


def test_what_if_changes_nothing(server, amishare):
    org, owner, bob, carol, core, edge, key, image_id = _org_with_encrypted_share(server, amishare)
    api = _client(server, owner)
    allow_org = {"Sid": "Organization", "Effect": "Allow", "Principal": {"AWS": "*"},
                 "Action": ["kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"],
                 "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": org.id}}}
    proposed = policy_with(owner.account_id, allow_org)
    answer = api.simulate_access_change(ImageId=image_id, Change={"Kind": "put-key-policy", "KeyId": key["KeyId"],
                                                                   "Policy": proposed})
    assert carol.account_id in {g["AccountId"] for g in answer["Gained"]} and answer["Lost"] == []
    # Nothing was written: carol still can't launch, the key policy is the old one.
    assert error_code(lambda: server.client(carol).run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                                                                 DryRun=True)) == "UnauthorizedOperation"
    current = server.client(owner, "kms").get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]
    assert "Organization" not in current
    answer = api.simulate_access_change(ImageId=image_id, Change={"Kind": "remove-launch-permission",
                                                                   "OrganizationArn": org.arn})
    assert bob.account_id in {g["AccountId"] for g in answer["Lost"]}
    assert server.client(owner).describe_image_attribute(ImageId=image_id, Attribute="launchPermission")[
        "LaunchPermissions"] == [{"OrganizationArn": org.arn}]
    # Only the management account may move accounts or attach SCPs: the change is refused as the
    # call itself would be.
    assert error_code(lambda: api.simulate_access_change(ImageId=image_id, Change={
        "Kind": "move-account", "AccountId": bob.account_id, "DestinationParentId": edge["Id"]})) == "AccessDeniedException"
    assert error_code(lambda: api.simulate_access_change(ImageId=image_id, Change={
        "Kind": "attach-scp", "PolicyId": "p-FullAWSAccess", "TargetId": core["Id"]})) == "AccessDeniedException"
    # The management account's own image, shared with OU Core: moving bob to Edge would cost him access.
    manager = org.management
    plain = register(server.client(manager), "managed-image")
    server.client(manager).modify_image_attribute(ImageId=plain, LaunchPermission={"Add": [
        {"OrganizationalUnitArn": core["Arn"]}]})
    answer = _client(server, manager).simulate_access_change(ImageId=plain, Change={
        "Kind": "move-account", "AccountId": bob.account_id, "DestinationParentId": edge["Id"]})
    assert [g["AccountId"] for g in answer["Lost"]] == [bob.account_id] and answer["Gained"] == []
    assert server.client(manager, "organizations").list_parents(ChildId=bob.account_id)["Parents"][0]["Id"] == core["Id"]


def amishare_cli(server, account, *args, check=True):
    """The `amishare` command, signed with the account's credentials from the environment."""
    env = server.aws_env(account)
    proc = subprocess.run([sys.executable, "-m", "amishare", *args], env=env, capture_output=True, text=True)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_cli_explain_who_can_launch_exposure_and_what_if(server, amishare):
    org, owner, bob, carol, core, edge, key, image_id = _org_with_encrypted_share(server, amishare)
    table = amishare_cli(server, owner, "explain", image_id, "--principal", carol.account_id).stdout
    assert "LAUNCH: DENIED" in table and "SEE: ALLOWED" in table
    assert f"launch permission for organization {org.arn}" in table
    assert "kms:DescribeKey" in table
    answer = json.loads(amishare_cli(server, bob, "explain", image_id, "--output", "json").stdout)
    launch = decision(answer, "launch")
    assert launch["Allowed"] is True
    assert any(st["Sid"] == "Bob" for s in launch["Steps"] for st in s.get("Statements") or [])
    who = json.loads(amishare_cli(server, owner, "who-can-launch", image_id, "--page-size", "1", "--output", "json").stdout)
    groups = {g["Group"]: g for g in who["Groups"]}
    assert {a["AccountId"] for a in groups[f"organization {org.id}"]["Accounts"]} == {owner.account_id, bob.account_id}
    assert {a["AccountId"] for a in who["GrantedButCannotLaunch"]} == {carol.account_id, org.management.account_id}
    table = amishare_cli(server, owner, "who-can-launch", image_id).stdout
    assert "Granted but can't launch" in table and carol.account_id in table
    table = amishare_cli(server, carol, "what-can-launch").stdout
    assert image_id in table and "NO:" in table
    exposure = json.loads(amishare_cli(server, owner, "exposure", "--output", "json").stdout)
    assert exposure["AccountId"] == owner.account_id and isinstance(exposure["Findings"], list)
    what_if = amishare_cli(server, owner, "what-if", image_id, "--change", "remove-launch-permission",
                           "--organization-arn", org.arn).stdout
    assert "Would lose launch" in what_if and bob.account_id in what_if
    # A refusal is the service's error, and a non-zero exit.
    refused = amishare_cli(server, carol, "who-can-launch", image_id, check=False)
    assert refused.returncode == 1 and "AuthFailure" in refused.stderr
