"""The enforcing AWS lane's machinery: the Terraform stack applied to moto's server, moto's IAM
enforcement switched on, and credentials of every role Terraform made.

What moto enforces (moto 5.2, `moto/core/authorization.py`, `moto/iam/access_control.py`),
read from its source:

- once `/moto-api/reset-auth` sets INITIAL_NO_AUTH_ACTION_COUNT to 0, every request must be
  signed by a known access key (an IAM user's or an assumed role's session) and its action
  allowed by that principal's *identity* policies (inline and attached), with `*`/`?` wildcards;
  an explicit Deny wins;
- the resource is checked only where moto resolves one: S3 (bucket and object ARNs), STS
  (the role), IAM and SQS. Every other service asks for resource `*`, which no scoped statement
  matches, so moto would deny every scoped grant: the lane makes moto's `*` match any resource
  (`moto_checks_actions_where_it_has_no_resource`) and leaves the resource to the evaluator;
- conditions of identity policies are never evaluated (moto passes no request context), and
  resource policies (bucket policies, KMS key policies) play no part; KMS through S3 is not
  called at all.

Everything moto leaves out is checked by tests/aws/iam_policy.py on the calls
tests/aws/iam_calls.py records.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml

from tests.infra.conftest import Terraform, copy_stack, moto_fidelity_fixes, moto_override

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's account
NAME = "lakehouse-dev"
EMULATED = ("-var", "enable_mwaa=false", "-var", "enable_redshift=false")
# moto has no Redshift Serverless: a workgroup ARN of the shape AWS gives stands in for the one
# Terraform would pass the MWAA module, so the role's Redshift grants exist (an override file in
# the lane's copy of the stack; the committed root has no emulator knobs).
WORKGROUP = NAME
WORKGROUP_ARN = f"arn:aws:redshift-serverless:{REGION}:{ACCOUNT}:workgroup/3f1c2a4e-9d7b-4e55-8a1f-6b0c2d9e7a31"
STAND_IN_OVERRIDE = f"""module "mwaa" {{
  redshift_workgroup_arn = "{WORKGROUP_ARN}"
}}
"""
MOTO_S3_ACTIONS = {"s3:HeadBucket": "s3:ListBucket"}
MOTO_PREFIXES = {"monitoring": "cloudwatch"}  # moto prefixes the action with the signing name


def moto_action_as_iam(action: str) -> str:
    service, _, name = action.partition(":")
    return MOTO_S3_ACTIONS.get(action, f"{MOTO_PREFIXES.get(service, service)}:{name}")


QUICKSIGHT_SECRETS_ROLE = "aws-quicksight-secretsmanager-role-v0"
# Outputs of what moto cannot create, as Terraform names them on AWS (MWAA, Redshift Serverless).
STAND_IN_OUTPUTS = {
    "mwaa_environment_name": NAME,
    "redshift_workgroup": WORKGROUP,
    "redshift_namespace": NAME,
    "redshift_host": f"{WORKGROUP}.{ACCOUNT}.{REGION}.redshift-serverless.amazonaws.com",
    "redshift_database": "dev",
    "redshift_spectrum_role_arn": f"arn:aws:iam::{ACCOUNT}:role/{NAME}-redshift-spectrum",
    "quicksight_dashboard_id": f"{NAME}-orders",
}
OUTPUTS_SAVED = Path(__file__).resolve().parents[2] / "build" / "iam-lane" / "outputs.json"
DEPLOYER_ROLE = f"{NAME}-deployer"  # the principal the deploy policy is attached to (Terraform does not know it)


@dataclass
class Role:
    name: str
    arn: str
    credentials: dict[str, str]  # AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
    userid: str  # aws:userid of the session: <role unique id>:<session name>
    session_arn: str


@dataclass
class Stack:
    """The applied stack, its policies as Terraform wrote them, and sessions of its roles."""

    endpoint: str
    tf: Terraform
    outputs: dict[str, Any]
    state: dict[str, Any]
    identity_policies: dict[str, dict[str, Any]]  # role name -> {policy name: document}
    resource_policies: dict[str, dict[str, Any]]  # resource ARN -> document (buckets, the key)
    sessions: dict[str, Role] = field(default_factory=dict)  # "<role>" or "<role>#<session>"
    decisions: list[tuple[str, str, str, bool, str]] = field(
        default_factory=list
    )  # moto's: principal, action, resource, allowed, task
    signature_mismatches: list[tuple[str, str, str]] = field(default_factory=list)
    task: str = ""  # what is calling now (the lane runs one step at a time)

    def role(self, suffix: str, session: str = "task") -> Role:
        return self.sessions[f"{NAME}-{suffix}#{session}"]


def state_resources(state: dict[str, Any]) -> Iterator[dict[str, Any]]:
    def walk(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield from module.get("resources", [])
        for child in module.get("child_modules", []):
            yield from walk(child)

    yield from walk(state["values"]["root_module"])


def policies_from_state(
    state: dict[str, Any],
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], dict[str, str]]:
    """(role -> inline policies, resource ARN -> resource policy, managed policy ARN -> name)."""
    identity: dict[str, dict[str, Any]] = {}
    resource: dict[str, dict[str, Any]] = {}
    managed: dict[str, dict[str, Any]] = {}
    for rc in state_resources(state):
        values = rc["values"]
        if rc["type"] == "aws_iam_role":
            identity.setdefault(values["name"], {})
        elif rc["type"] == "aws_iam_role_policy":
            identity.setdefault(values["role"], {})[values["name"]] = json.loads(values["policy"])
        elif rc["type"] == "aws_iam_policy":
            managed[values["arn"]] = {"name": values["name"], "document": json.loads(values["policy"])}
        elif rc["type"] == "aws_s3_bucket_policy":
            resource[f"arn:aws:s3:::{values['bucket']}"] = json.loads(values["policy"])
        elif rc["type"] == "aws_kms_key":
            resource[values["arn"]] = json.loads(values["policy"])
    return identity, resource, managed


@contextmanager
def moto_checks_actions_where_it_has_no_resource(stack: Stack) -> Iterator[None]:
    """Three corrections, each undone afterwards, and a record of every decision moto takes
    (principal, action, resource, allowed):

    - moto asks for resource "*" on the services it resolves no resource for; "*" matches any
      statement's resource here (the action is still enforced; tests/aws/iam_policy.py checks
      the resource);
    - moto applies a bucket policy to object requests but evaluates only StringEquals
      conditions, taking every other condition as met: the TLS-only policy
      (Deny s3:* when aws:SecureTransport is false) would deny every object request, TLS or
      not. Bucket policies are left to the evaluator, which evaluates their conditions;
    - moto names a HEAD on a bucket `s3:HeadBucket`, which is no IAM action: AWS authorises it as
      `s3:ListBucket` (S3 API reference, HeadBucket: "you must have the s3:ListBucket permission");
      and it prefixes actions with the signing name (`monitoring:PutMetricData`), where IAM's
      prefix differs (`cloudwatch:PutMetricData`);
    - a signature moto computes differently is recorded, not refused (SigV4 is not what the
      lane tests; only EMR Serverless's differ, see the test)."""
    from moto.iam import access_control as ac

    statement_cls, request_cls = ac.IAMPolicyStatement, ac.IAMRequestBase
    original_match, original_check = statement_cls._check_element_matches, request_cls.check_action_permitted
    original_signature = request_cls.check_signature

    def check_signature(self: Any) -> None:
        try:
            original_signature(self)
        except Exception:
            stack.signature_mismatches.append((self._access_key.arn, self._action, stack.task))

    def check_element_matches(self: Any, element: str, value: str) -> bool:
        if element == "Resource" and value == "*":
            return True
        return original_match(self, element, value)

    def check_action_permitted(self: Any, resource: str) -> None:
        principal = self._access_key.arn
        self._action = moto_action_as_iam(self._action)
        try:
            original_check(self, resource)
        except Exception:
            stack.decisions.append((principal, self._action, resource, False, stack.task))
            raise
        stack.decisions.append((principal, self._action, resource, True, stack.task))

    from moto.s3.models import FakeBucket

    original_bucket_permission = FakeBucket.get_permission

    def bucket_permission(self: Any, action: str, resource: str) -> Any:
        return ac.PermissionResult.NEUTRAL

    statement_cls._check_element_matches = check_element_matches
    request_cls.check_action_permitted = check_action_permitted
    request_cls.check_signature = check_signature
    FakeBucket.get_permission = bucket_permission
    try:
        yield
    finally:
        FakeBucket.get_permission = original_bucket_permission
        statement_cls._check_element_matches = original_match
        request_cls.check_action_permitted = original_check
        request_cls.check_signature = original_signature


def set_auth(endpoint: str, count: str) -> None:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth", data=count.encode(), method="POST", headers={"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(request, timeout=10).read()


def admin(endpoint: str, service: str) -> Any:
    """A client with moto's default test keys: only while enforcement is off (set-up)."""
    return boto3.client(
        service, region_name=REGION, endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def assume(endpoint: str, role_arn: str, session: str) -> Role:
    answer = admin(endpoint, "sts").assume_role(RoleArn=role_arn, RoleSessionName=session)
    c = answer["Credentials"]
    return Role(
        name=role_arn.rsplit("/", 1)[-1],
        arn=role_arn,
        credentials={
            "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
            "AWS_SESSION_TOKEN": c["SessionToken"],
        },
        userid=answer["AssumedRoleUser"]["AssumedRoleId"],
        session_arn=answer["AssumedRoleUser"]["Arn"],
    )


@contextmanager
def applied_stack(binary: str, env: dict[str, str], workdir_root: Path) -> Iterator[Stack]:
    """moto's server with the dev stack applied (QuickSight's phase included in the configuration,
    so the MWAA role carries the SPICE refresh grant), sessions of every role, enforcement on."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with moto_fidelity_fixes():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        # moto keeps its state per process, shared by every server in it: the modules before this
        # one (deploy, the DAG on AWS APIs) made buckets of the same names; start from nothing
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30)
        try:
            workdir = copy_stack(workdir_root)
            config = workdir_root / "deploy" / "dev.yaml"
            values = yaml.safe_load(config.read_text())
            values["quicksight"]["enabled"] = True
            config.write_text(yaml.safe_dump(values, sort_keys=False))
            (workdir / "moto_override.tf").write_text(moto_override(endpoint))
            (workdir / "stand_in_override.tf").write_text(STAND_IN_OVERRIDE)
            tf = Terraform(binary, workdir, env)
            tf.run("init", "-input=false")
            tf.run("apply", "-auto-approve", "-input=false", *EMULATED)
            raw_outputs = tf.json("output", "-json")
            OUTPUTS_SAVED.parent.mkdir(parents=True, exist_ok=True)
            OUTPUTS_SAVED.write_text(json.dumps(raw_outputs, indent=2) + "\n")
            outputs = {k: v["value"] for k, v in raw_outputs.items()}
            # QuickSight's Secrets Manager role and the reader's secret: IAM and Secrets Manager,
            # which moto has, applied alone (the rest of the module needs Redshift and QuickSight).
            tf.run(
                "apply",
                "-auto-approve",
                "-input=false",
                "-var",
                "enable_mwaa=false",
                "-target=module.quicksight[0].aws_iam_role_policy.secrets",
                "-target=module.quicksight[0].aws_secretsmanager_secret_version.reader",
            )
            state = tf.json("show", "-json")
            identity, resource, managed = policies_from_state(state)
            stack = Stack(endpoint, tf, outputs, state, identity, resource)

            # The deployer: a role of this account with the deploy policy attached.
            iam = admin(endpoint, "iam")
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    }
                ],
            }
            iam.create_role(RoleName=DEPLOYER_ROLE, AssumeRolePolicyDocument=json.dumps(trust))
            iam.attach_role_policy(RoleName=DEPLOYER_ROLE, PolicyArn=outputs["deploy_policy_arn"])
            stack.identity_policies[DEPLOYER_ROLE] = {
                m["name"]: m["document"] for arn, m in managed.items() if arn == outputs["deploy_policy_arn"]
            }

            # Sessions, taken before enforcement: the roles trust AWS services (glue, airflow,
            # firehose, ...), which moto cannot be; the trust policies are AWS's to enforce.
            for role in iam.list_roles()["Roles"]:
                if role["RoleName"].startswith(f"{NAME}-") or role["RoleName"] == QUICKSIGHT_SECRETS_ROLE:
                    for session in ("task", "triggerer"):
                        stack.sessions[f"{role['RoleName']}#{session}"] = assume(endpoint, role["Arn"], session)
            with moto_checks_actions_where_it_has_no_resource(stack):
                set_auth(endpoint, "0")
                try:
                    yield stack
                finally:
                    set_auth(endpoint, "inf")
        finally:
            server.stop()


def example_outputs(raw: dict[str, Any]) -> dict[str, Any]:
    """deploy/dev.outputs.example.json: a real `terraform output -json` against moto, with the
    names Terraform gives what moto cannot create (STAND_IN_OUTPUTS)."""
    example = json.loads(json.dumps(raw))
    for name, value in STAND_IN_OUTPUTS.items():
        example[name]["value"] = value
    return example
