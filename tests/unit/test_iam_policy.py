"""The IAM evaluator of the enforcing AWS lane (tests/aws/iam_policy.py) on AWS's documented
evaluation examples (IAM User Guide: "Policy evaluation logic", "IAM JSON policy elements:
NotAction / NotResource / Condition operators", "Policy variables")."""

from __future__ import annotations

import pytest

from tests.aws.iam_policy import Request, evaluate

pytestmark = pytest.mark.unit

ACCOUNT = "123456789012"
ROLE = f"arn:aws:sts::{ACCOUNT}:assumed-role/worker/session-1"


def req(action: str, resource: str = "*", **context) -> Request:
    return Request(ROLE, action, resource, context)


def allow(action, resource="*", **extra):
    return {"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource, **extra}]}


def test_implicit_deny_when_nothing_allows() -> None:
    decision = evaluate(req("s3:GetObject", "arn:aws:s3:::b/k"), {"p": allow("s3:ListBucket", "arn:aws:s3:::b")})
    assert not decision.allowed and decision.reason.startswith("implicitly denied")


def test_explicit_deny_overrides_any_allow() -> None:
    # "An explicit deny in any policy overrides any allows."
    policies = {
        "allow-all-s3": allow("s3:*"),
        "deny": {"Statement": [{"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]},
    }
    assert evaluate(req("s3:GetObject", "arn:aws:s3:::b/k"), policies).allowed
    decision = evaluate(req("s3:DeleteObject", "arn:aws:s3:::b/k"), policies)
    assert not decision.allowed and "NoDelete" in decision.reason


def test_not_action_allows_everything_but_the_named_service() -> None:
    # The NotAction example: "Allow access to all services except IAM".
    policy = {"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}
    assert evaluate(req("s3:ListAllMyBuckets"), {"p": policy}).allowed
    assert not evaluate(req("iam:CreateUser"), {"p": policy}).allowed


def test_deny_with_not_resource_denies_everything_else() -> None:
    # The NotResource example: deny s3 actions on every resource except the HRBucket/Payroll objects.
    policies = {
        "allow": allow("s3:*"),
        "deny": {
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "s3:*",
                    "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"],
                }
            ]
        },
    }
    assert evaluate(req("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/2026.csv"), policies).allowed
    assert not evaluate(req("s3:GetObject", "arn:aws:s3:::HRBucket/Other"), policies).allowed


def test_actions_match_case_insensitively_and_resources_with_wildcards() -> None:
    policy = allow("glue:get*", "arn:aws:glue:eu-west-1:123456789012:table/dev_?ronze/*")
    assert evaluate(
        req("glue:GetTable", "arn:aws:glue:eu-west-1:123456789012:table/dev_bronze/orders"), {"p": policy}
    ).allowed
    assert not evaluate(
        req("glue:GetTable", "arn:aws:glue:eu-west-1:123456789012:table/dev_silver/orders"), {"p": policy}
    ).allowed


def test_several_condition_keys_are_anded_and_values_ored() -> None:
    # "Creating a condition with multiple keys or values": keys AND, values of one key OR.
    policy = allow(
        "s3:PutObject",
        "*",
        Condition={
            "StringEquals": {"aws:PrincipalTag/team": ["data", "platform"], "s3:x-amz-acl": "bucket-owner-full-control"}
        },
    )
    ok = req(
        "s3:PutObject",
        "arn:aws:s3:::b/k",
        **{"aws:PrincipalTag/team": "platform", "s3:x-amz-acl": "bucket-owner-full-control"},
    )
    assert evaluate(ok, {"p": policy}).allowed
    wrong = req("s3:PutObject", "arn:aws:s3:::b/k", **{"aws:PrincipalTag/team": "platform", "s3:x-amz-acl": "private"})
    assert not evaluate(wrong, {"p": policy}).allowed


def test_a_missing_condition_key_fails_a_positive_operator_unless_if_exists() -> None:
    condition = {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}
    policy = allow("kms:Decrypt", "*", Condition=condition)
    assert not evaluate(req("kms:Decrypt"), {"p": policy}).allowed
    assert evaluate(req("kms:Decrypt", **{"kms:ViaService": "s3.eu-west-1.amazonaws.com"}), {"p": policy}).allowed
    lenient = allow("kms:Decrypt", "*", Condition={"StringEqualsIfExists": condition["StringEquals"]})
    assert evaluate(req("kms:Decrypt"), {"p": lenient}).allowed


def test_the_documented_tls_only_bucket_policy_denies_plain_http() -> None:
    # "aws:SecureTransport": the bucket policy that denies requests not sent over TLS.
    bucket = {
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    }
    identity = {"p": allow("s3:GetObject", "arn:aws:s3:::b/*")}
    assert evaluate(
        req("s3:GetObject", "arn:aws:s3:::b/k", **{"aws:SecureTransport": True}), identity, {"b": bucket}
    ).allowed
    plain = evaluate(req("s3:GetObject", "arn:aws:s3:::b/k", **{"aws:SecureTransport": False}), identity, {"b": bucket})
    assert not plain.allowed and "DenyInsecureTransport" in plain.reason


def test_same_account_resource_policy_naming_the_principal_allows_alone() -> None:
    # Within one account, an allow in either the identity or the resource policy suffices.
    bucket = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/worker"},
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::b/*",
            }
        ]
    }
    assert evaluate(req("s3:PutObject", "arn:aws:s3:::b/k"), {}, {"b": bucket}).allowed
    # The account root in a key policy delegates to IAM: it allows nothing by itself.
    key = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
    }
    assert not evaluate(req("kms:Decrypt", "arn:aws:kms:eu-west-1:123456789012:key/k"), {}, {"key": key}).allowed


def test_policy_variables_in_resources_and_conditions() -> None:
    # The ${aws:username} home-folder example, and a role's sessions matched by its unique id.
    policy = allow("s3:GetObject", "arn:aws:s3:::b/home/${aws:username}/*")
    assert evaluate(req("s3:GetObject", "arn:aws:s3:::b/home/ana/x", **{"aws:username": "ana"}), {"p": policy}).allowed
    assert not evaluate(
        req("s3:GetObject", "arn:aws:s3:::b/home/bo/x", **{"aws:username": "ana"}), {"p": policy}
    ).allowed
    owner = {"redshift-data:statement-owner-iam-userid": "AROAEXAMPLE:worker-session"}
    same_session = allow(
        "redshift-data:DescribeStatement",
        "*",
        Condition={"StringEquals": {"redshift-data:statement-owner-iam-userid": "${aws:userid}"}},
    )
    any_session = allow(
        "redshift-data:DescribeStatement",
        "*",
        Condition={"StringLike": {"redshift-data:statement-owner-iam-userid": "AROAEXAMPLE:*"}},
    )
    triggerer = req("redshift-data:DescribeStatement", **owner, **{"aws:userid": "AROAEXAMPLE:triggerer-session"})
    assert not evaluate(triggerer, {"p": same_session}).allowed  # the defect of issue 22
    assert evaluate(triggerer, {"p": any_session}).allowed


def test_negated_operators_hold_when_the_key_is_missing_and_null_checks_presence() -> None:
    policy = allow("sns:Publish", "*", Condition={"StringNotEquals": {"aws:PrincipalTag/blocked": "yes"}})
    assert evaluate(req("sns:Publish"), {"p": policy}).allowed
    assert not evaluate(req("sns:Publish", **{"aws:PrincipalTag/blocked": "yes"}), {"p": policy}).allowed
    null = allow("sns:Publish", "*", Condition={"Null": {"aws:TokenIssueTime": "false"}})
    assert not evaluate(req("sns:Publish"), {"p": null}).allowed
    assert evaluate(req("sns:Publish", **{"aws:TokenIssueTime": "2026-01-01T00:00:00Z"}), {"p": null}).allowed
