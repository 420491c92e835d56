"""`lakehouse deploy`: put a bundle into an AWS environment, changing only what changed.

Three owners, each once:
- S3 objects: every bundle file goes to the MWAA bucket (`mwaa/`) or the artifacts bucket
  (`artifacts/`, at its root: each environment has its own). An object whose stored sha256 (object metadata) equals the
  file's is not uploaded again; a DAG-folder or job-code object the bundle no longer has is
  deleted (the buckets are versioned, so a rollback can bring it back).
- Glue jobs (spark_backend=glue): one per Spark program, created or updated from the same
  argument builder the DAG uses (`lakehouse_core.spark_backends.GlueSpark.script_args`), plus the jobs'
  Python wheels. Terraform owns their IAM role, not the jobs.
- MWAA: `UpdateEnvironment` with the S3 *version ids* of requirements.txt, startup.sh and
  plugins.zip, only when they differ from what the environment runs. DAG files need no update:
  MWAA syncs the dags folder by itself.

A second deploy with nothing changed uploads nothing and updates nothing. `--dry-run` reads
(to know what would change) and writes nothing. A missing bucket, a bucket in another region,
unversioned buckets or a missing permission stop the deploy before any write, naming the fix.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakehouse.aws import bundle as bundles
from lakehouse.aws import deploy_config
from lakehouse.console import progress, table

SHA_KEY = "sha256"  # S3 user metadata: the content hash deploy compares
# Prefixes a deploy owns: objects under them that the bundle lacks are stale code and go.
MWAA_OWNED = ("dags/",)
ARTIFACTS_OWNED = ("spark_jobs/", "spark_jobs.zip", "expectations/", "python/", "emr/")
MWAA_VERSIONED = {
    "requirements.txt": ("RequirementsS3Path", "RequirementsS3ObjectVersion"),
    "startup.sh": ("StartupScriptS3Path", "StartupScriptS3ObjectVersion"),
    "plugins.zip": ("PluginsS3Path", "PluginsS3ObjectVersion"),
}
GLUE_MAX_CONCURRENT_RUNS = 4  # hourly runs are serial; backfills and the maintenance job overlap


class DeployError(RuntimeError):
    """The deploy cannot go on; the message names what to fix."""


@dataclass
class Action:
    kind: str  # upload, delete, create-job, update-job, update-environment
    target: str
    detail: str = ""
    run: Callable[[], Any] | None = field(default=None, repr=False)


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    unchanged: int = 0

    def add(self, kind: str, target: str, detail: str = "", run: Callable[[], Any] | None = None) -> None:
        self.actions.append(Action(kind, target, detail, run))

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for action in self.actions:
            out[action.kind] = out.get(action.kind, 0) + 1
        return out


@dataclass
class Clients:
    """boto3 clients; tests hand in clients for moto's server, or a Stubber's for MWAA."""

    s3: Any
    glue: Any
    mwaa: Any

    @classmethod
    def for_region(cls, region: str) -> Clients:
        import boto3

        session = boto3.session.Session(region_name=region)
        return cls(session.client("s3"), session.client("glue"), session.client("mwaa"))


# --- S3 ---------------------------------------------------------------------------------------


def check_bucket(s3: Any, bucket: str, region: str, purpose: str) -> None:
    """Exists, in the configured region, versioned (MWAA needs object versions; rollbacks too)."""
    from botocore.exceptions import ClientError

    try:
        head = s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("404", "NoSuchBucket", "NotFound"):
            raise DeployError(
                f"the {purpose} bucket {bucket!r} does not exist: create the stack first "
                "(`terraform apply` in infra/terraform/envs/<env>, docs/deploy-aws.md)"
            ) from None
        if code in ("403", "AccessDenied", "Forbidden"):
            raise DeployError(
                f"no permission to use the {purpose} bucket {bucket!r}: the deploying role needs "
                "s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject and s3:GetBucketVersioning on it"
            ) from None
        raise
    bucket_region = head.get("BucketRegion") or head.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get(
        "x-amz-bucket-region", region
    )
    if bucket_region and bucket_region != region:
        raise DeployError(
            f"the {purpose} bucket {bucket!r} is in {bucket_region}, but the deploy configuration says "
            f"aws_region: {region}; fix deploy/<env>.yaml or the Terraform outputs"
        )
    status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    if status != "Enabled":
        raise DeployError(
            f"the {purpose} bucket {bucket!r} is not versioned (MWAA needs object version ids, and "
            "rollbacks need old versions): enable versioning (Terraform does)"
        )


def remote_objects(s3: Any, bucket: str, prefix: str) -> dict[str, str]:
    """{key: stored sha256 or ""} of every current object under prefix."""
    keys: dict[str, str] = {}
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            keys[item["Key"]] = ""
    for key in keys:
        keys[key] = s3.head_object(Bucket=bucket, Key=key).get("Metadata", {}).get(SHA_KEY, "")
    return keys


def plan_uploads(
    plan: Plan, s3: Any, folder: Path, bucket: str, prefix: str, owned: tuple[str, ...], files: list[tuple[str, str]]
) -> None:
    """Uploads for changed files, deletes for stale owned objects. `files`: (relative path, sha256)."""
    remote = remote_objects(s3, bucket, prefix)
    wanted = {prefix + rel for rel, _ in files}
    for rel, digest in files:
        key = prefix + rel
        if remote.get(key) == digest:
            plan.unchanged += 1
            continue
        path = folder / rel
        detail = f"{path.stat().st_size:,} bytes" + ("" if key not in remote else " (changed)")
        plan.add("upload", f"s3://{bucket}/{key}", detail, _uploader(s3, path, bucket, key, digest))
    for key in sorted(remote):
        relative = key[len(prefix) :]
        if key not in wanted and relative.startswith(owned):
            plan.add("delete", f"s3://{bucket}/{key}", "no longer in the bundle", _deleter(s3, bucket, key))


def _uploader(s3: Any, path: Path, bucket: str, key: str, digest: str) -> Callable[[], Any]:
    def upload() -> Any:
        with path.open("rb") as body:
            return s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata={SHA_KEY: digest})

    return upload


def _deleter(s3: Any, bucket: str, key: str) -> Callable[[], Any]:
    return lambda: s3.delete_object(Bucket=bucket, Key=key)


# --- Glue -------------------------------------------------------------------------------------


def glue_job_definitions(config: deploy_config.DeployConfig) -> dict[str, dict[str, Any]]:
    """{job name: Glue job definition} for every Spark program, from the DAG's own builders."""
    from lakehouse_core.spark_backends import GlueSpark

    glue = GlueSpark(config.settings(config.runtime_env()))
    jobs = {}
    for script in bundles.ENTRY_SCRIPTS:
        defaults = glue.script_args({})
        defaults |= {
            "--enable-continuous-cloudwatch-log": "true",
            "--enable-metrics": "true",
            "--job-language": "python",
        }
        if bundles.GLUE_JOB_REQUIREMENTS[script]:
            # Glue pip-installs these at every run start: only this job's zip of wheels (what Glue
            # 5.1 lacks), never the others'; --no-index: private subnets have no PyPI.
            defaults["--additional-python-modules"] = f"{config.artifacts_uri}/{bundles.glue_wheels_key(script)}"
            defaults["--python-modules-installer-option"] = "--no-index"
        jobs[glue.job_name(script)] = {
            "Role": str(config.require_output("glue_job_role_arn")),
            "Command": {
                "Name": "glueetl",
                "ScriptLocation": glue.script_uri(script),
                "PythonVersion": "3",
            },
            "DefaultArguments": defaults,
            "GlueVersion": config.glue_version,  # checked against lakehouse.aws.spark_runtimes
            "WorkerType": str(config.get("glue.worker_type", "G.1X")),
            "NumberOfWorkers": int(config.get("glue.number_of_workers", 2)),
            "Timeout": int(config.get("glue.timeout_minutes", 60)),
            "ExecutionProperty": {"MaxConcurrentRuns": GLUE_MAX_CONCURRENT_RUNS},
            "Description": f"lakehouse {config.env_name}: spark_jobs/{script} (managed by lakehouse deploy)",
        }
        if config.output("glue_security_configuration"):  # encryption of logs, bookmarks, S3 writes
            jobs[glue.job_name(script)]["SecurityConfiguration"] = str(config.output("glue_security_configuration"))
    return jobs


def plan_glue_jobs(plan: Plan, glue: Any, jobs: dict[str, dict[str, Any]]) -> None:
    from botocore.exceptions import ClientError

    for name, definition in jobs.items():
        try:
            current = glue.get_job(JobName=name)["Job"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "EntityNotFoundException":
                raise
            plan.add("create-job", f"glue:{name}", definition["Command"]["ScriptLocation"],
                     lambda n=name, d=definition: glue.create_job(Name=n, **d))  # fmt: skip
            continue
        changed = sorted(k for k, v in definition.items() if _normalise(current.get(k)) != _normalise(v))
        if changed:
            plan.add("update-job", f"glue:{name}", "changed: " + ", ".join(changed),
                     lambda n=name, d=definition: glue.update_job(JobName=n, JobUpdate=d))  # fmt: skip
        else:
            plan.unchanged += 1


def _normalise(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str)) if value is not None else None


# --- MWAA -------------------------------------------------------------------------------------


def plan_mwaa(
    plan: Plan, s3: Any, mwaa: Any, bucket: str, environment: str, present: set[str], pending: set[str]
) -> None:
    """UpdateEnvironment when the environment does not run the newest object versions.

    `present`: the versioned files the bundle has (plugins.zip is optional); `pending`: keys about
    to be uploaded, whose new version ids exist only after the upload, so the update reads them
    when it runs.
    """
    versioned = {key: fields for key, fields in MWAA_VERSIONED.items() if key in present}
    from botocore.exceptions import ClientError

    try:
        current = mwaa.get_environment(Name=environment)["Environment"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise DeployError(
                f"MWAA environment {environment!r} does not exist: `terraform apply` creates it (docs/deploy-aws.md)"
            ) from None
        if code in ("AccessDeniedException", "AccessDenied"):
            raise DeployError(
                f"no permission for airflow:GetEnvironment / UpdateEnvironment on {environment!r}"
            ) from None
        raise
    stale = []
    for key, (path_field, version_field) in versioned.items():
        if key in pending:
            stale.append(key)
            continue
        latest = s3.head_object(Bucket=bucket, Key=key).get("VersionId")
        if current.get(path_field) != key or current.get(version_field) != latest:
            stale.append(key)
    if not stale:
        plan.unchanged += 1
        return

    def update() -> Any:
        wait_for_mwaa(mwaa, environment)
        request: dict[str, Any] = {"Name": environment}
        for key, (path_field, version_field) in versioned.items():
            request[path_field] = key
            request[version_field] = s3.head_object(Bucket=bucket, Key=key)["VersionId"]
        return mwaa.update_environment(**request)

    plan.add("update-environment", f"mwaa:{environment}", "new versions of " + ", ".join(stale), update)


# MWAA refuses UpdateEnvironment (ValidationException) while an update or creation is under way;
# an update takes 20-30 minutes. The deploy waits for it, polling, for at most MWAA_WAIT_POLLS.
MWAA_BUSY = ("CREATING", "UPDATING", "ROLLING_BACK", "CREATING_SNAPSHOT", "PENDING", "MAINTENANCE")
MWAA_POLL_SECONDS = 30
MWAA_WAIT_POLLS = 90  # 45 minutes
sleep = time.sleep  # the wait's clock (tests count the polls instead of waiting)


def wait_for_mwaa(mwaa: Any, environment: str) -> str:
    """Wait (bounded) until `environment` accepts an update; its status then. Fails on a status an
    update cannot follow (being deleted, failed to create) and when the wait runs out."""
    for poll in range(MWAA_WAIT_POLLS + 1):
        status = mwaa.get_environment(Name=environment)["Environment"].get("Status", "")
        if status not in MWAA_BUSY:
            break
        if poll == MWAA_WAIT_POLLS:
            minutes = MWAA_WAIT_POLLS * MWAA_POLL_SECONDS // 60
            raise DeployError(
                f"MWAA environment {environment!r} is still {status} after {minutes} minutes; nothing was "
                "changed in it: run `lakehouse deploy` again once it is AVAILABLE (uploads are already done)"
            )
        progress(f"deploy: MWAA environment {environment} is {status}; waiting {MWAA_POLL_SECONDS} s before updating")
        sleep(MWAA_POLL_SECONDS)
    if status in ("CREATE_FAILED", "DELETING", "DELETED"):
        raise DeployError(f"MWAA environment {environment!r} is {status}: it cannot be updated (docs/deploy-aws.md)")
    return status


# --- the deploy -------------------------------------------------------------------------------


def make_plan(config: deploy_config.DeployConfig, built: bundles.Bundle, clients: Clients) -> Plan:
    mwaa_bucket = str(config.require_output("mwaa_bucket"))
    artifacts_bucket = str(config.require_output("artifacts_bucket"))
    for bucket, purpose in ((mwaa_bucket, "MWAA"), (artifacts_bucket, "artifacts")):
        check_bucket(clients.s3, bucket, config.region, purpose)
    listing = json.loads((built.root / "BUNDLE.json").read_text())["files"]
    by_part: dict[str, list[tuple[str, str]]] = {"mwaa": [], "artifacts": []}
    for item in listing:
        part, rel = item["path"].split("/", 1)
        by_part[part].append((rel, item["sha256"]))
    plan = Plan()
    plan_uploads(plan, clients.s3, built.mwaa, mwaa_bucket, "", MWAA_OWNED, by_part["mwaa"])
    artifacts_prefix = ""  # the bucket's root: the Spark roles' grants are written for it
    plan_uploads(
        plan, clients.s3, built.artifacts, artifacts_bucket, artifacts_prefix, ARTIFACTS_OWNED, by_part["artifacts"]
    )
    if config.spark_backend == "glue":
        plan_glue_jobs(plan, clients.glue, glue_job_definitions(config))
    prefix = f"s3://{mwaa_bucket}/"
    pending = {a.target[len(prefix) :] for a in plan.actions if a.kind == "upload" and a.target.startswith(prefix)}
    present = {rel for rel, _ in by_part["mwaa"]}
    environment = str(config.require_output("mwaa_environment_name"))
    plan_mwaa(plan, clients.s3, clients.mwaa, mwaa_bucket, environment, present, pending)
    return plan


def apply(plan: Plan) -> None:
    from botocore.exceptions import ClientError

    # Order matters: objects before jobs and the environment that point at them.
    order = {"upload": 0, "delete": 1, "create-job": 2, "update-job": 2, "update-environment": 3}
    steps = sorted(plan.actions, key=lambda a: order[a.kind])
    for number, action in enumerate(steps, 1):
        progress(f"deploy: [{number}/{len(steps)}] {action.kind} {action.target}")
        try:
            assert action.run is not None
            action.run()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise DeployError(f"{action.kind} {action.target} failed: {code}: {exc}") from None


def deploy(
    env_name: str,
    built: bundles.Bundle,
    clients: Clients | None = None,
    dry_run: bool = False,
    deploy_dir: Path = deploy_config.DEPLOY_DIR,
    outputs: Path | None = None,
) -> Plan:
    config = deploy_config.load(env_name, deploy_dir, outputs)
    clients = clients or Clients.for_region(config.region)
    plan = make_plan(config, built, clients)
    if not dry_run:
        apply(plan)
    return plan


def render(plan: Plan, dry_run: bool) -> str:
    rows = [(a.kind, a.target, a.detail) for a in plan.actions]
    head = "plan (dry run: nothing was written)" if dry_run else "deployed"
    counts = ", ".join(f"{n} {k}" for k, n in sorted(plan.counts().items())) or "no changes"
    body = table(("action", "target", "detail"), rows) + "\n" if rows else ""
    return f"{body}{head}: {counts}; {plan.unchanged} unchanged"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "deploy",
        help="upload a bundle to the environment's buckets, create/update Glue jobs, update MWAA",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    deploy_config.add_arguments(parser, "MWAA's constraints file, when the bundle is built now")
    parser.add_argument("--bundle", type=Path, help="a built bundle (default: build it now into build/bundle/<env>)")
    parser.add_argument("--dry-run", action="store_true", help="print what would change; write nothing")
    parser.set_defaults(func=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    started = time.monotonic()
    try:
        if args.bundle:
            built = bundles.Bundle(args.bundle, args.env)
            if not (built.root / "BUNDLE.json").is_file():
                raise DeployError(f"{args.bundle} is not a bundle (no BUNDLE.json): run `lakehouse bundle`")
        else:
            built = bundles.build(args.env, constraints=args.constraints, outputs=args.outputs)
        plan = deploy(args.env, built, dry_run=args.dry_run, outputs=args.outputs)
    except (DeployError, bundles.BundleError, deploy_config.DeployConfigError) as exc:
        print(f"lakehouse deploy: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # botocore: no credentials, no endpoint, throttling
        if type(exc).__module__.startswith("botocore"):
            print(f"lakehouse deploy: AWS call failed: {exc}", file=sys.stderr)
            return 1
        raise
    print(render(plan, args.dry_run))
    print(f"({time.monotonic() - started:.1f} s)", file=sys.stderr)
    return 0
