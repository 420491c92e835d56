"""Every AWS call a task makes, recorded with botocore's event hooks, and what IAM authorises it on.

`Recorder` registers a `before-parameter-build` handler on every botocore session made while it
is active (boto3, pyiceberg's Glue catalog and Airflow's AWS hooks all build theirs through
`botocore.session.get_session`), so it sees service, operation and parameters before the call
leaves, whether the call then goes to moto or to a Stubber (the APIs moto lacks).

`authorisations()` turns one call into the IAM requests AWS evaluates for it: the action (mostly
`<service>:<Operation>`, with S3's and a few others' documented differences), the resource ARNs
(Glue's catalog -> database -> table hierarchy: all must be allowed), the implicit ones (KMS
through S3 and SNS for SSE-KMS, iam:PassRole for a role handed to a service, Redshift
Serverless credentials for the Data API without a secret) and the condition keys AWS sets.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# IAM's service prefix where it differs from botocore's signing name.
IAM_PREFIX = {"monitoring": "cloudwatch"}
# S3 operations whose IAM action is not s3:<Operation> (S3 User Guide, "Actions, resources and
# condition keys"; a HEAD is authorised as the GET).
S3_ACTION = {
    "ListObjectsV2": "ListBucket",
    "ListObjects": "ListBucket",
    "HeadBucket": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "HeadObject": "GetObject",
    "DeleteObjects": "DeleteObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
}
S3_BUCKET_LEVEL = {"ListBucket", "ListBucketVersions", "GetBucketVersioning", "GetBucketLocation"}
# Calls that need no permission.
FREE = {("sts", "GetCallerIdentity")}


@dataclass(frozen=True)
class Call:
    principal: str  # the role (name) whose credentials made the call
    task: str  # what made it: "<dag>.<task>", "lakehouse deploy", "spark job <name>", ...
    service: str  # botocore signing name: s3, glue, emr-serverless, redshift-data, ...
    operation: str  # the API operation: ListObjectsV2, CreateTable, ...
    params: dict[str, Any] = field(hash=False, compare=False)
    context: tuple[tuple[str, str], ...] = ()  # condition keys AWS sets: aws:userid, statement owner, ...


@dataclass(frozen=True)
class Authorisation:
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


class Recorder:
    """Collects `Call`s while active; `as_role(role, task)` says whose calls follow."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.principal = ""
        self.task = ""
        self.context: dict[str, str] = {}

    @contextmanager
    def as_role(self, principal: str, task: str, **context: str) -> Iterator[None]:
        saved = self.principal, self.task, self.context
        self.principal, self.task, self.context = principal, task, context
        try:
            yield
        finally:
            self.principal, self.task, self.context = saved

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.signing_name or model.service_model.endpoint_prefix
        context = tuple(sorted(self.context.items()))
        self.calls.append(Call(self.principal, self.task, service, model.name, dict(params), context))

    def attach(self, session: Any) -> None:
        session.register("before-parameter-build", self._record, unique_id="iam-lane-recorder")

    @contextmanager
    def active(self) -> Iterator[Recorder]:
        import botocore.session

        original = botocore.session.get_session

        def get_session(env_vars: Any = None) -> Any:
            session = original(env_vars)
            self.attach(session)
            return session

        botocore.session.get_session = get_session
        try:
            yield self
        finally:
            botocore.session.get_session = original


@dataclass(frozen=True)
class Names:
    """What ARNs are built from: the account, the region and the stack's names."""

    account: str
    region: str
    kms_key_arn: str
    workgroup_arns: dict[str, str]  # workgroup name -> ARN
    emr_application_arn: str


def authorisations(call: Call, names: Names) -> list[Authorisation]:
    """The IAM requests AWS evaluates for one call (every one must be allowed)."""
    if (call.service, call.operation) in FREE:
        return []
    p, a, r = call.params, names.account, names.region
    glue = f"arn:aws:glue:{r}:{a}"
    prefix = IAM_PREFIX.get(call.service, call.service)
    action = f"{prefix}:{call.operation}"
    via = lambda service, **extra: (("kms:ViaService", f"{service}.{r}.amazonaws.com"), *extra.items())  # noqa: E731

    if call.service == "s3":
        name = S3_ACTION.get(call.operation, call.operation)
        bucket = f"arn:aws:s3:::{p['Bucket']}"
        if call.operation == "DeleteObjects":
            keys = [o["Key"] for o in p["Delete"]["Objects"]]
            return [Authorisation("s3:DeleteObject", f"{bucket}/{k}") for k in keys]
        if name in S3_BUCKET_LEVEL or "Key" not in p:
            return [Authorisation(f"s3:{name}", bucket)]
        found = [Authorisation(f"s3:{name}", f"{bucket}/{p['Key']}")]
        if name == "PutObject" and call.operation != "UploadPart":  # SSE-KMS: a data key per object
            found.append(
                Authorisation(
                    "kms:GenerateDataKey", names.kms_key_arn, via("s3", **{"kms:EncryptionContext:aws:s3:arn": bucket})
                )
            )
        if name == "GetObject" and call.operation == "GetObject":
            found.append(
                Authorisation(
                    "kms:Decrypt", names.kms_key_arn, via("s3", **{"kms:EncryptionContext:aws:s3:arn": bucket})
                )
            )
        return found

    if call.service == "glue":
        if "JobName" in p or call.operation in ("CreateJob",):
            job = p.get("JobName") or p.get("Name")
            found = [Authorisation(action, f"{glue}:job/{job}")]
            role = p.get("Role") or (p.get("JobUpdate") or {}).get("Role")
            if role:
                found.append(
                    Authorisation("iam:PassRole", _role_arn(role, a), (("iam:PassedToService", "glue.amazonaws.com"),))
                )
            return found
        if call.operation == "GetDatabases":
            return [Authorisation(action, f"{glue}:catalog")]
        if call.operation in ("CreateDatabase",):
            db = p["DatabaseInput"]["Name"]
            return [Authorisation(action, f"{glue}:catalog"), Authorisation(action, f"{glue}:database/{db}")]
        db = p.get("DatabaseName") or p.get("Name")
        resources = [f"{glue}:catalog", f"{glue}:database/{db}"]
        if call.operation == "GetTables":
            resources.append(f"{glue}:table/{db}/*")
        elif call.operation in ("GetTable", "DeleteTable"):
            resources.append(f"{glue}:table/{db}/{p['Name']}")
        elif call.operation in ("CreateTable", "UpdateTable"):
            resources.append(f"{glue}:table/{db}/{p['TableInput']['Name']}")
        return [Authorisation(action, res) for res in resources]

    if call.service == "emr-serverless":
        app = names.emr_application_arn
        if "jobRunId" in p:
            return [Authorisation(action, f"{app}/jobruns/{p['jobRunId']}")]
        found = [Authorisation(action, app)]
        if call.operation == "StartJobRun":
            found.append(
                Authorisation(
                    "iam:PassRole", p["executionRoleArn"], (("iam:PassedToService", "emr-serverless.amazonaws.com"),)
                )
            )
        return found

    if call.service == "redshift-data":
        if "WorkgroupName" in p:
            workgroup = names.workgroup_arns[p["WorkgroupName"]]
            found = [Authorisation(action, workgroup)]
            if not p.get("SecretArn"):  # IAM: the Data API gets credentials for the caller
                found.append(Authorisation("redshift-serverless:GetCredentials", workgroup))
            return found
        return [Authorisation(action, "*")]  # the statement owner is in the call's context

    if call.service == "redshift-serverless":
        return [Authorisation(action, names.workgroup_arns[p["workgroupName"]])]

    if call.service == "quicksight":
        dataset = f"arn:aws:quicksight:{r}:{p['AwsAccountId']}:dataset/{p['DataSetId']}"
        return [Authorisation(action, f"{dataset}/ingestion/{p['IngestionId']}")]

    if call.service == "sns":
        return [
            Authorisation(action, p["TopicArn"]),
            Authorisation("kms:GenerateDataKey", names.kms_key_arn, via("sns")),
            Authorisation("kms:Decrypt", names.kms_key_arn, via("sns")),
        ]

    if call.service == "logs":
        group = f"arn:aws:logs:{r}:{a}:log-group:{p['logGroupName']}"
        return [Authorisation(action, f"{group}:log-stream:{p['logStreamName']}" if "logStreamName" in p else group)]

    if call.service == "monitoring":
        return [Authorisation(action, "*", (("cloudwatch:namespace", p["Namespace"]),))]

    if call.service == "airflow":
        return [Authorisation(action, f"arn:aws:airflow:{r}:{a}:environment/{p['Name']}")]

    if call.service == "secretsmanager":
        return [
            Authorisation(action, p["SecretId"]),
            Authorisation("kms:Decrypt", names.kms_key_arn, via("secretsmanager")),
        ]

    raise NotImplementedError(f"no IAM mapping for {call.service}:{call.operation} (add it to tests/aws/iam_calls.py)")


def _role_arn(role: str, account: str) -> str:
    return role if role.startswith("arn:") else f"arn:aws:iam::{account}:role/{role}"
