"""Console sign-in with temporary credentials (STS), and the password change a user must make
first when its login profile requires a reset (IAM ChangePassword, under the account's password
policy); the same IAM operations through boto3."""

import json

import pytest

from test_console import browser, pages, shot, sign_in  # noqa: F401  (fixtures)
from test_images import register

EC2_READ = "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"
# What AWS's IAMUserChangePassword grants, written for this user (no policy variables here).
def change_own_password(user_arn: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:ChangePassword", "Resource": user_arn},
        {"Effect": "Allow", "Action": "iam:GetAccountPasswordPolicy", "Resource": "*"}]})


def key_sign_in(page, endpoint, access_key_id, secret, token=None):
    page.goto(endpoint + "/console/signin")
    page.get_by_label("Access key ID").fill(access_key_id)
    page.get_by_label("Secret access key").fill(secret)
    if token is not None:
        page.get_by_label("Session token").fill(token)
    page.get_by_role("button", name="Sign in", exact=True).click()


def password_sign_in(page, endpoint, account_id, user, password):
    page.goto(endpoint + "/console/signin")
    page.get_by_label("Account ID").fill(account_id)
    page.get_by_label("IAM user name").fill(user)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in as IAM user").click()


def test_sign_in_with_temporary_credentials(server, pages, alice, bob):
    iam = server.client(alice, "iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{bob.account_id}:root"}, "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="console-auditor", AssumeRolePolicyDocument=trust)["Role"]
    iam.attach_role_policy(RoleName="console-auditor", PolicyArn=EC2_READ)
    image_id = register(server.client(alice), "console-sts-image")
    bobs_admin = server.new_user(bob, "console-admin", ["arn:aws:iam::aws:policy/AdministratorAccess"])
    creds = server.assume(bobs_admin, role["Arn"], "console-session")

    page = pages()
    # Without its session token, or with another one, a temporary key does not sign in.
    key_sign_in(page, server.endpoint, creds.access_key_id, creds.secret_access_key)
    assert page.get_by_role("alert").inner_text() == "The access key ID or secret access key is not valid."
    key_sign_in(page, server.endpoint, creds.access_key_id, creds.secret_access_key, creds.session_token[:-4] + "AAAA")
    assert "session token is not valid" in page.get_by_role("alert").inner_text()
    key_sign_in(page, server.endpoint, creds.access_key_id, creds.secret_access_key, creds.session_token)
    assert page.locator("#account-id").inner_text() == alice.account_id
    assert page.locator("#principal-arn").inner_text() == \
        f"arn:aws:sts::{alice.account_id}:assumed-role/console-auditor/console-session"
    # The role's policies apply: it reads alice's AMIs, and may not share them.
    page.goto(server.endpoint + "/console/ec2/amis?filter=owned")
    assert image_id in page.locator("#images").inner_text()
    page.goto(f"{server.endpoint}/console/ec2/amis/{image_id}/deregister")
    page.get_by_role("button", name="Deregister AMI").click()
    assert page.get_by_role("alert").locator(".code").inner_text() == "UnauthorizedOperation"
    assert server.client(alice).describe_images(ImageIds=[image_id])["Images"]
    # Deleting the role ends the session's credentials, and the console session with them.
    iam.detach_role_policy(RoleName="console-auditor", PolicyArn=EC2_READ)
    iam.delete_role(RoleName="console-auditor")
    page.goto(server.endpoint + "/console/ec2/amis")
    assert "/console/signin" in page.url


def test_password_reset_required_at_sign_in(server, pages, alice):
    iam = server.client(alice, "iam")
    user = server.new_user(alice, "console-newcomer", [EC2_READ])
    iam.put_user_policy(UserName="console-newcomer", PolicyName="own-password",
                        PolicyDocument=change_own_password(user.arn))
    iam.update_account_password_policy(MinimumPasswordLength=12, RequireNumbers=True, RequireSymbols=True)
    iam.create_login_profile(UserName="console-newcomer", Password="first-Password-1", PasswordResetRequired=True)
    image_id = register(server.client(alice), "console-reset-image")

    page = pages()
    password_sign_in(page, server.endpoint, alice.account_id, "console-newcomer", "first-Password-1")
    assert "/console/password" in page.url
    assert page.locator("#reset-required").is_visible()
    assert "Minimum password length: 12 characters" in page.locator("#password-policy").inner_text()
    # Nothing else before the new password, not even through a link.
    for path in ("/console/ec2/amis", f"/console/ec2/amis/{image_id}", "/console/ec2/home"):
        page.goto(server.endpoint + path)
        assert "/console/password" in page.url, path
    assert page.get_by_role("link", name="AMIs", exact=True).count() == 0

    def change(old, new, retype=None):
        page.get_by_label("Old password").fill(old)
        page.get_by_label("New password", exact=True).fill(new)
        page.get_by_label("Retype new password").fill(new if retype is None else retype)
        page.get_by_role("button", name="Confirm password change").click()

    change("first-Password-1", "second-Password-2", "something else")
    assert "don't match" in page.get_by_role("alert").inner_text()
    change("wrong-Password-0", "second-Password-2!")
    assert page.get_by_role("alert").locator(".code").inner_text() == "InvalidUserType"
    change("first-Password-1", "no-digits-here!")  # the account's policy asks for a number
    assert page.get_by_role("alert").locator(".code").inner_text() == "PasswordPolicyViolation"
    shot(page, "change-password")
    assert iam.get_login_profile(UserName="console-newcomer")["LoginProfile"]["PasswordResetRequired"] is True
    change("first-Password-1", "second-Password-2!")
    assert page.get_by_role("status").inner_text() == "Your password has been changed."
    assert "/console/ec2/" in page.url
    assert iam.get_login_profile(UserName="console-newcomer")["LoginProfile"]["PasswordResetRequired"] is False
    page.goto(server.endpoint + "/console/ec2/amis?filter=owned")
    assert image_id in page.locator("#images").inner_text()

    # The old password no longer signs in; the new one does, with no reset asked.
    other = pages()
    password_sign_in(other, server.endpoint, alice.account_id, "console-newcomer", "first-Password-1")
    assert "/console/signin" in other.url
    password_sign_in(other, server.endpoint, alice.account_id, "console-newcomer", "second-Password-2!")
    assert "/console/ec2/home" in other.url

    # An administrator requiring a reset again applies at once, to the open session too.
    iam.update_login_profile(UserName="console-newcomer", PasswordResetRequired=True)
    other.goto(server.endpoint + "/console/ec2/amis")
    assert "/console/password" in other.url


def test_a_reset_the_user_may_not_make_is_refused_by_iam(server, pages, alice):
    iam = server.client(alice, "iam")
    server.new_user(alice, "console-stuck", [EC2_READ])
    iam.create_login_profile(UserName="console-stuck", Password="stuck-Password-1", PasswordResetRequired=True)
    page = pages()
    password_sign_in(page, server.endpoint, alice.account_id, "console-stuck", "stuck-Password-1")
    assert page.locator("#password-policy").count() == 0  # no policy, and no right to read one
    page.get_by_label("Old password").fill("stuck-Password-1")
    page.get_by_label("New password", exact=True).fill("stuck-Password-2")
    page.get_by_label("Retype new password").fill("stuck-Password-2")
    page.get_by_role("button", name="Confirm password change").click()
    assert page.get_by_role("alert").locator(".code").inner_text() == "AccessDenied"
    assert iam.get_login_profile(UserName="console-stuck")["LoginProfile"]["PasswordResetRequired"] is True
    # Sign out works without the new password.
    page.get_by_role("button", name="Sign out").click()
    assert "/console/signin" in page.url


def test_change_password_and_password_policy_through_the_api(server, alice):
    iam = server.client(alice, "iam")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as missing:
        iam.get_account_password_policy()
    assert missing.value.response["Error"]["Message"] == \
        f"The Password Policy with domain name {alice.account_id} cannot be found."
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.delete_account_password_policy()
    iam.update_account_password_policy(MinimumPasswordLength=10, RequireUppercaseCharacters=True,
                                       AllowUsersToChangePassword=True, MaxPasswordAge=90)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 10 and policy["RequireUppercaseCharacters"] is True
    assert policy["RequireSymbols"] is False and policy["MaxPasswordAge"] == 90 and policy["ExpirePasswords"] is True
    # A policy is replaced whole: what is left out takes its default.
    iam.update_account_password_policy(RequireNumbers=True)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 6 and policy["RequireUppercaseCharacters"] is False
    assert policy["ExpirePasswords"] is False and "MaxPasswordAge" not in policy

    user = server.new_user(alice, "console-api-user")
    iam.put_user_policy(UserName="console-api-user", PolicyName="own-password", PolicyDocument=change_own_password(user.arn))
    with pytest.raises(iam.exceptions.PasswordPolicyViolationException):
        iam.create_login_profile(UserName="console-api-user", Password="no numbers")
    iam.create_login_profile(UserName="console-api-user", Password="number 1")
    as_user = server.client(user, "iam")
    with pytest.raises(as_user.exceptions.PasswordPolicyViolationException):
        as_user.change_password(OldPassword="number 1", NewPassword="still none")
    as_user.change_password(OldPassword="number 1", NewPassword="number 2")
    with pytest.raises(as_user.exceptions.InvalidUserTypeException):
        as_user.change_password(OldPassword="number 1", NewPassword="number 3")
    # Only an IAM user changes its own password.
    with pytest.raises(iam.exceptions.InvalidUserTypeException):
        iam.change_password(OldPassword="x", NewPassword="number 4")
    iam.delete_account_password_policy()
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_account_password_policy()
    # Another user without a password of its own: NoSuchEntity.
    other = server.new_user(alice, "console-api-other")
    iam.put_user_policy(UserName="console-api-other", PolicyName="own-password",
                        PolicyDocument=change_own_password(other.arn))
    others = server.client(other, "iam")
    with pytest.raises(others.exceptions.NoSuchEntityException):
        others.change_password(OldPassword="x", NewPassword="number 5")
