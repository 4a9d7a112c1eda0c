"""The AWS managed policies every account sees as arn:aws:iam::aws:policy/NAME.

Their documents follow the AWS managed policy reference (actions of services
amishare doesn't implement included, since that is what the policies say;
version ids and dates are indicative), except ReadOnlyAccess: AWS's lists
hundreds of services, this one only the read actions of the services amishare
speaks (EC2, IAM, STS, KMS, Organizations). No account can change them.
"""

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone


@dataclass(frozen=True)
class AwsPolicy:
    name: str
    description: str
    version_id: str
    created: str  # ISO 8601, UTC
    updated: str
    statements: tuple
    path: str = "/"

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::aws:policy{self.path}{self.name}"

    @property
    def policy_id(self) -> str:
        """A stable ANPA… id for the policy."""
        digest = base64.b32encode(hashlib.sha256(self.name.encode()).digest()).decode()
        return "ANPA" + digest[:17]

    @property
    def document(self) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": list(self.statements)}, indent=2)

    @property
    def created_at(self) -> float:
        return _epoch(self.created)

    @property
    def updated_at(self) -> float:
        return _epoch(self.updated)


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def _allow(actions, condition=None) -> dict:
    statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return statement


POLICIES = (
    AwsPolicy("AdministratorAccess", "Provides full access to AWS services and resources.", "v1",
              "2015-02-06T18:39:46", "2015-02-06T18:39:46", (_allow("*"),)),
    AwsPolicy("PowerUserAccess",
              "Provides full access to AWS services and resources, but does not allow management of Users and groups.",
              "v12", "2015-02-06T18:39:47", "2026-02-12T17:59:00", (
                  {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
                  _allow(["account:GetAccountInformation", "account:GetGovCloudAccountInformation",
                          "account:GetPrimaryEmail", "account:ListRegions", "iam:CreateServiceLinkedRole",
                          "iam:DeleteServiceLinkedRole", "iam:ListRoles", "organizations:DescribeEffectivePolicy",
                          "organizations:DescribeOrganization"]),
              )),
    AwsPolicy("IAMFullAccess", "Provides full access to IAM via the AWS Management Console.", "v2",
              "2015-02-06T18:40:38", "2019-06-21T19:40:00", (
                  _allow(["iam:*", "organizations:DescribeAccount", "organizations:DescribeOrganization",
                          "organizations:DescribeOrganizationalUnit", "organizations:DescribePolicy",
                          "organizations:ListChildren", "organizations:ListParents",
                          "organizations:ListPoliciesForTarget", "organizations:ListRoots",
                          "organizations:ListPolicies", "organizations:ListTargetsForPolicy"]),
              )),
    AwsPolicy("AmazonEC2FullAccess", "Provides full access to Amazon EC2 via the AWS Management Console.", "v5",
              "2015-02-06T18:40:15", "2018-11-27T02:16:56", (
                  _allow("ec2:*"),
                  _allow("elasticloadbalancing:*"),
                  _allow("cloudwatch:*"),
                  _allow("autoscaling:*"),
                  _allow("iam:CreateServiceLinkedRole", {"StringEquals": {"iam:AWSServiceName": [
                      "autoscaling.amazonaws.com", "ec2scheduled.amazonaws.com", "elasticloadbalancing.amazonaws.com",
                      "spot.amazonaws.com", "spotfleet.amazonaws.com", "transitgateway.amazonaws.com"]}}),
              )),
    AwsPolicy("AmazonEC2ReadOnlyAccess", "Provides read only access to Amazon EC2 via the AWS Management Console.",
              "v5", "2015-02-06T18:40:17", "2026-02-12T18:03:00", (
                  _allow(["ec2:Describe*", "ec2:GetSecurityGroupsForVpc"]),
                  _allow("elasticloadbalancing:Describe*"),
                  _allow(["cloudwatch:ListMetrics", "cloudwatch:GetMetricStatistics", "cloudwatch:Describe*"]),
                  _allow("autoscaling:Describe*"),
              )),
    AwsPolicy("ReadOnlyAccess", "Provides read-only access to AWS services and resources.", "v1",
              "2015-02-06T18:39:48", "2015-02-06T18:39:48", (
                  _allow(["ec2:Describe*", "ec2:Get*", "ec2:List*", "ec2:SearchTransitGatewayRoutes",
                          "iam:Generate*", "iam:Get*", "iam:List*", "iam:Simulate*",
                          "kms:Describe*", "kms:Get*", "kms:List*",
                          "organizations:Describe*", "organizations:List*",
                          "sts:GetCallerIdentity", "sts:GetSessionToken"]),
              )),
)

BY_ARN = {policy.arn: policy for policy in POLICIES}


def get(arn: str) -> AwsPolicy | None:
    return BY_ARN.get(arn)


def is_aws_arn(arn: str) -> bool:
    return arn.startswith("arn:aws:iam::aws:policy/")
