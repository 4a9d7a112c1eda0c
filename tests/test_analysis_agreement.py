"""The agreement property of access analysis: for many random grant sets (launch permissions
to accounts, the organization and OUs; key policy statements and grants; an SCP; an IAM user's
policy; a disabled image), for account root users, an IAM user and a role, "explain says allowed" holds exactly when the call succeeds, for
seeing (DescribeImages), launching (RunInstances) and copying (CopyImage), on both databases."""

import json
import random

from botocore.exceptions import ClientError

from test_analysis import _client as analysis_client
from test_analysis import decision
from test_images import register, snapshot_of_new_volume

TRIALS = 10
EBS_ACTIONS = ["kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"]


def succeeds(call) -> bool:
    try:
        call()
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code == "DryRunOperation":
            return True
        assert code in ("InvalidAMIID.NotFound", "UnauthorizedOperation", "InvalidAMIID.Unavailable",
                        "IncorrectState", "InvalidRequest", "OperationNotPermitted", "AuthFailure"), code
        return False
    return True


def actual(server, who, image_id, trial):
    ec2 = server.client(who)
    return {
        "see": succeeds(lambda: ec2.describe_images(ImageIds=[image_id])),
        "launch": succeeds(lambda: ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, DryRun=True)),
        "copy": succeeds(lambda: ec2.copy_image(SourceImageId=image_id, SourceRegion=server.region,
                                                Name=f"agreement-{trial}-{random.random()}", DryRun=True)),
    }


def key_policy(owner_id, rng, accounts, org_id):
    statements = [{"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{owner_id}:root"},
                   "Action": "kms:*", "Resource": "*"}]
    for index, account in enumerate(a for a in accounts if rng.random() < 0.4):
        statements.append({"Sid": f"Allow{index}", "Effect": "Allow", "Principal": {"AWS": account},
                           "Action": rng.choice([EBS_ACTIONS, ["kms:Decrypt"], "kms:*"]), "Resource": "*"})
    if rng.random() < 0.3:
        statements.append({"Sid": "WholeOrganization", "Effect": "Allow", "Principal": {"AWS": "*"},
                           "Action": EBS_ACTIONS, "Resource": "*",
                           "Condition": {"StringEquals": {"aws:PrincipalOrgID": org_id}}})
    if rng.random() < 0.25:
        statements.append({"Sid": "DenyOne", "Effect": "Deny", "Principal": {"AWS": rng.choice(accounts)},
                           "Action": "kms:Decrypt", "Resource": "*"})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def test_explain_agrees_with_the_calls(server, amishare):
    rng = random.Random(20261201)
    org = server.create_organization()
    owner = org.add_account()
    core = org.create_ou("Core")
    edge = org.create_ou("Edge")
    bob = org.add_account(parent_id=core["Id"])
    carol = org.add_account(parent_id=edge["Id"])
    dave = amishare.account()  # outside the organization
    orgs = org.client
    orgs.enable_policy_type(RootId=org.root_id, PolicyType="SERVICE_CONTROL_POLICY")
    scp = orgs.create_policy(Name="NoRunInstances", Type="SERVICE_CONTROL_POLICY", Description="",
                             Content=json.dumps({"Version": "2012-10-17", "Statement": [
                                 {"Effect": "Deny", "Action": "ec2:RunInstances", "Resource": "*"}]}))["Policy"]
    scp_id = scp["PolicySummary"]["Id"]
    developer = server.new_user(bob, "developer")
    bob_iam = server.client(bob, "iam")
    kms = server.client(owner, "kms")
    key = kms.create_key()["KeyMetadata"]
    ec2 = server.client(owner)
    plain = register(ec2, "agreement-plain")
    encrypted = register(ec2, "agreement-encrypted", snapshot_of_new_volume(ec2, Encrypted=True, KmsKeyId=key["Arn"]))
    accounts = [bob.account_id, carol.account_id, dave.account_id]
    grantees = [{"UserId": bob.account_id}, {"UserId": carol.account_id}, {"UserId": dave.account_id},
                {"OrganizationArn": org.arn}, {"OrganizationalUnitArn": core["Arn"]}, {"OrganizationalUnitArn": edge["Arn"]}]
    role = bob_iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{bob.account_id}:root"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]
    bob_iam.put_role_policy(RoleName="deployer", PolicyName="deploy", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ec2:*"], "Resource": "*"}]}))
    bob_iam.put_user_policy(UserName="developer", PolicyName="work", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role["Arn"]}]}))
    deployer = server.assume(developer, role["Arn"], "deploy")  # root users may not assume roles
    # (who explain is asked about, whose credentials make the calls)
    subjects = [(who.arn, who) for who in (bob, developer, carol, dave, org.management)] + [(role["Arn"], deployer)]
    explainer = analysis_client(server, owner)
    scp_attached = False
    agreed = {True: 0, False: 0}
    for trial in range(TRIALS):
        image_id = rng.choice([plain, encrypted])
        ec2.reset_image_attribute(ImageId=image_id, Attribute="launchPermission")
        chosen = [g for g in grantees if rng.random() < 0.35]
        if chosen:
            ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": chosen})
        kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=key_policy(owner.account_id, rng, accounts, org.id))
        for grant in kms.list_grants(KeyId=key["KeyId"])["Grants"]:
            kms.revoke_grant(KeyId=key["KeyId"], GrantId=grant["GrantId"])
        if rng.random() < 0.3:
            kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=f"arn:aws:iam::{rng.choice(accounts)}:root",
                             Operations=rng.choice([["Decrypt", "DescribeKey", "CreateGrant", "ReEncryptFrom",
                                                     "ReEncryptTo", "GenerateDataKeyWithoutPlaintext"], ["DescribeKey"]]))
        want_scp = rng.random() < 0.3
        if want_scp != scp_attached:
            (orgs.attach_policy if want_scp else orgs.detach_policy)(PolicyId=scp_id, TargetId=core["Id"])
            scp_attached = want_scp
        bob_iam.put_user_policy(UserName="developer", PolicyName="work", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": rng.choice([
                [{"Effect": "Allow", "Action": ["ec2:*", "kms:*"], "Resource": "*"}],
                [{"Effect": "Allow", "Action": "ec2:DescribeImages", "Resource": "*"}],
                [{"Effect": "Allow", "Action": "*", "Resource": "*"},
                 {"Sid": "NoLaunch", "Effect": "Deny", "Action": "ec2:RunInstances", "Resource": "*"}]])}))
        disabled = rng.random() < 0.15
        if disabled:
            ec2.disable_image(ImageId=image_id)
        for ref, who in subjects:
            answer = explainer.explain_image_access(ImageId=image_id, Principal=ref)
            said = {d["Action"]: d["Allowed"] for d in answer["Decisions"]}
            happened = actual(server, who, image_id, trial)
            assert said == happened, (trial, ref, said, happened, answer)
            for action in said:
                agreed[said[action]] += 1
                assert decision(answer, action)["Steps"]
        if disabled:
            ec2.enable_image(ImageId=image_id)
    # The random grant sets exercised both outcomes.
    assert agreed[True] > 10 and agreed[False] > 10, agreed
