"""AWS as AWS enforces it: every task runs as its own IAM role against emulation that says no.

The dev stack is applied to moto's server (tests/aws/iam_lane.py), moto's IAM enforcement is
switched on, and each piece of the pipeline makes the AWS calls it really makes with the
credentials of the role that runs it on AWS (an `sts:AssumeRole` session of the Terraform-made
role):

- Firehose's delivery role: the simulator (`lakehouse generate`) writes one arrival hour where
  Firehose would, and the delivery error log;
- the deployer (the deploy policy attached to a role): `lakehouse deploy` with a stale DAG file
  to delete;
- the MWAA execution role, per DAG task: landing_manifest (S3 listing, manifest), ensure_tables
  (pyiceberg's Glue catalog via lakehouse_core.catalog, both DAGs), the Glue and EMR Serverless job
  start and status calls of the operators the DAGs build, dbt's IAM login to Redshift
  Serverless, ANALYZE through the Redshift Data API (the status polled from a second session,
  the triggerer's), the SPICE refresh, the SNS failure alert;
- the Glue and EMR Serverless job roles: the Spark programs' own catalog and S3 calls at the
  pyiceberg/boto3 level (what Spark's Iceberg GlueCatalog and S3FileIO call; Spark itself does
  not run under IAM here), their logs and metrics.

Two judges: moto's enforcement (every call that reaches moto) and tests/aws/iam_policy.py on
every call botocore makes (recorded by tests/aws/iam_calls.py), which adds resources, conditions,
bucket and key policies, and the APIs moto lacks (answered by botocore's Stubber: MWAA, Redshift
Serverless, the Data API's batch calls, QuickSight's DescribeIngestion). A call either denies
fails the test naming role, action and resource. The calls become docs/deploy-aws.md's table of
roles -> tasks -> actions (tests/aws/iam_table.py), which must match.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.aws import iam_table
from tests.aws.iam_calls import Call, Names, Recorder, authorisations
from tests.aws.iam_lane import (
    ACCOUNT,
    DEPLOYER_ROLE,
    NAME,
    QUICKSIGHT_SECRETS_ROLE,
    REGION,
    STAND_IN_OUTPUTS,
    WORKGROUP,
    WORKGROUP_ARN,
    Stack,
    applied_stack,
    state_resources,
)
from tests.aws.iam_policy import Request, evaluate
from tests.infra.conftest import terraform_cli  # noqa: F401  (the fixture)

pytestmark = pytest.mark.aws
HOUR = datetime(2026, 11, 1, 8, tzinfo=UTC)
# the run the lane plays: its id names the manifest, its owner the hour's claim (lakehouse_core.hour_claims)
RUN_ID = "orders_2026110108_iamlane"
OWNER = f"orders_lakehouse/{RUN_ID}"


@pytest.fixture(scope="module")
def stack(terraform_cli, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:  # noqa: F811
    binary, env = terraform_cli
    with applied_stack(binary, env, tmp_path_factory.mktemp("iam-stack")) as applied:
        yield applied


class Lane:
    """Runs steps as roles: the role's credentials in the environment boto3, pyarrow and
    pyiceberg read, a fresh default session, and the recorder told who is calling."""

    def __init__(self, stack: Stack, recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
        self.stack, self.recorder, self.monkeypatch = stack, recorder, monkeypatch

    @contextmanager
    def as_role(self, role_suffix: str, task: str, session: str = "task", **context: str) -> Iterator[Any]:
        from spark_jobs import objectstore

        name = role_suffix if role_suffix == QUICKSIGHT_SECRETS_ROLE else f"{NAME}-{role_suffix}"
        role = self.stack.sessions[f"{name}#{session}"]
        env = role.credentials | {"AWS_ENDPOINT_URL": self.stack.endpoint, "AWS_DEFAULT_REGION": REGION}
        for key, value in env.items():
            self.monkeypatch.setenv(key, value)
        boto3.DEFAULT_SESSION = None
        objectstore._s3.cache_clear()  # pyarrow's S3 filesystem holds the credentials it was made with
        before, self.calls_before = len(self.stack.decisions), len(self.recorder.calls)
        self.stack.task = task
        with self.recorder.as_role(role.name, task, **{"aws:userid": role.userid} | context):
            try:
                yield role
            except Exception as exc:
                if self.denied(before):
                    pytest.fail(f"{task}: moto denied\n{self.denied(before)}\n({type(exc).__name__}: {exc})")
                seen = "\n".join(f"  {d}" for d in self.stack.decisions[before:][-10:])
                raise AssertionError(f"{task} failed; the last calls moto authorised:\n{seen}") from exc
        # a denial the code swallowed (the SNS alert logs and carries on) still fails the lane
        assert not self.denied(before), f"{task}: moto denied\n{self.denied(before)}"

    def denied(self, since: int) -> str:
        """moto's denials since a step began; where moto knew no resource ("*"), the resources the
        recorded call asked for (tests/aws/iam_calls.py)."""
        lines = []
        for principal, action, resource, allowed, _ in self.stack.decisions[since:]:
            if allowed:
                continue
            if resource == "*":
                asked = {
                    auth.resource
                    for call in self.recorder.calls[self.calls_before :]
                    for auth in authorisations(call, names_of(self.stack))
                    if auth.action == action
                }
                resource = ", ".join(sorted(asked)) or "*"
            lines.append(f"  role {principal.split('/')[-2]} may not {action} on {resource}")
        return "\n".join(dict.fromkeys(lines))


def runtime_settings(stack: Stack, deploy_folder: Path, backend: str = "glue") -> Any:
    """The settings the tasks see on MWAA: startup.sh's exports (lakehouse deploy's runtime_env)."""
    from lakehouse.aws import deploy_config
    from lakehouse_core.settings import load_settings

    config = deploy_config.load("dev", deploy_folder)
    env = config.runtime_env() | {"AWS_ENDPOINT_URL": stack.endpoint, "LAKEHOUSE_SPARK_BACKEND": backend}
    if backend == "emr-serverless":
        env |= {
            "LAKEHOUSE_EMR_APPLICATION_ID": stack.outputs["emr_application_id"],
            "LAKEHOUSE_EMR_EXECUTION_ROLE_ARN": stack.outputs["emr_execution_role_arn"],
        }
    return load_settings(env)


def deploy_folder(stack: Stack, tmp: Path) -> Path:
    """deploy/dev.yaml as applied, and Terraform's real outputs; for what moto cannot create
    (MWAA, Redshift Serverless) the names Terraform gives them (the outputs would carry them on AWS)."""
    import shutil

    folder = tmp / "deploy"
    folder.mkdir()
    shutil.copyfile(stack.tf.workdir.parents[3] / "deploy" / "dev.yaml", folder / "dev.yaml")
    outputs = {k: {"value": v} for k, v in stack.outputs.items()}
    outputs |= {k: {"value": v} for k, v in STAND_IN_OUTPUTS.items()}
    (folder / "dev.outputs.json").write_text(json.dumps(outputs))
    return folder


def stubbed(client: Any, responses: list[tuple[str, dict[str, Any]]]) -> Stubber:
    """botocore's Stubber for an API moto does not implement: validates the request, answers."""
    stub = Stubber(client)
    for operation, response in responses:
        stub.add_response(operation, response)
    stub.activate()
    return stub


# --- the steps, in the order an hour runs them --------------------------------------------------


def firehose_delivers_an_hour(lane: Lane, stack: Stack) -> None:
    with lane.as_role("orders-delivery", "firehose delivery (lakehouse generate stands in)"):
        env = {**os.environ, "LAKEHOUSE_STREAM_NAME": stack.outputs["firehose_stream_name"]}
        done = subprocess.run(
            [
                str(Path(sys.executable).parent / "lakehouse"),
                "generate",
                "--start",
                f"{HOUR:%Y-%m-%dT%H}",
                "--hours",
                "1",
                "--events-per-hour",
                "50",
                "--out",
                stack.outputs["raw_root"],
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        logs = boto3.client("logs", region_name=REGION)
        logs.put_log_events(
            logGroupName=f"/aws/kinesisfirehose/{stack.outputs['firehose_stream_name']}",
            logStreamName="DestinationDelivery",
            logEvents=[{"timestamp": 1, "message": "delivery error"}],
        )


def deployer_deploys(lane: Lane, stack: Stack, folder: Path, bundle: Any) -> None:
    from lakehouse.aws import deploy
    from tests.aws.deploy_fakes import RecordingMwaa

    with lane.as_role(DEPLOYER_ROLE.removeprefix(f"{NAME}-"), "lakehouse deploy"):
        s3, glue = boto3.client("s3", region_name=REGION), boto3.client("glue", region_name=REGION)
        # a DAG file an earlier deploy shipped and this bundle no longer has: deploy deletes it
        s3.put_object(Bucket=stack.outputs["mwaa_bucket"], Key="dags/retired_dag.py", Body=b"# retired\n")
        mwaa = RecordingMwaa()
        mwaa.runs(NAME, {})
        mwaa.expect_update(NAME)
        with mwaa.stub:
            plan = deploy.deploy("dev", bundle, deploy.Clients(s3, glue, mwaa.client), deploy_dir=folder)
        assert plan.counts()["delete"] == 1
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket=stack.outputs["mwaa_bucket"])["Contents"]}
        assert "dags/retired_dag.py" not in keys


def mwaa_tasks(lane: Lane, stack: Stack, folder: Path) -> None:
    from airflow.providers.amazon.aws.hooks.quicksight import QuickSightHook
    from airflow.providers.amazon.aws.hooks.redshift_data import RedshiftDataHook

    from lakehouse_core import hour_claims, landing
    from lakehouse_core.catalog import init_catalog
    from pipeline.callbacks import FailureNotifier
    from pipeline.spark_tasks import spark_task
    from pipeline.warehouse import warehouse_for

    settings = runtime_settings(stack, folder)
    with lane.as_role("mwaa-execution", "orders_lakehouse.claim_hour"):
        hour_claims.acquire(settings, HOUR, OWNER)
    with lane.as_role("mwaa-execution", "orders_lakehouse.landing_manifest"):
        _, manifest = landing.land_hour(settings, HOUR, RUN_ID, OWNER)  # the hour, stragglers, error output
        assert manifest["object_count"] > 0
    with lane.as_role("mwaa-execution", "orders_lakehouse.release_hour"):
        assert hour_claims.release_window(settings, HOUR, settings.straggler_hours, OWNER) == [HOUR]
    for dag in ("orders_lakehouse", "product_recommendations"):
        with lane.as_role("mwaa-execution", f"{dag}.ensure_tables"):
            init_catalog(settings)

    glue_jobs = {
        "orders_lakehouse.ingest": "ingest_orders.py",
        "orders_lakehouse.quality_gate": "validate_orders.py",
        "orders_lakehouse.publish": "publish_orders.py",
        "lakehouse_maintenance.maintain_silver": "maintain_tables.py",
        "product_recommendations.recommend": "recommend_products.py",
    }
    for task, script in glue_jobs.items():
        with lane.as_role("mwaa-execution", f"{task} (Glue)"):
            op = spark_task(settings, task.split(".")[1], script, {"run_id": "iam-lane"})
            run_id = op.hook.initialize_job(op.script_args, op.run_job_kwargs)["JobRunId"]
            # the trigger's poll; its last answer carries a failed run's error, where the operator
            # reads the verdict (pipeline.cloud_operators): no call of its own
            op.hook.get_job_state(op.job_name, run_id)

    emr = runtime_settings(stack, folder, backend="emr-serverless")
    with lane.as_role("mwaa-execution", "orders_lakehouse.ingest (EMR Serverless)"):
        op = spark_task(emr, "ingest", "ingest_orders.py", {"run_id": "iam-lane"})
        client = op.hook.conn
        client.get_application(applicationId=op.application_id)
        run = client.start_job_run(
            clientToken="iam-lane",
            applicationId=op.application_id,
            executionRoleArn=op.execution_role_arn,
            jobDriver=op.job_driver,
            configurationOverrides=op.configuration_overrides,
            name="ingest-iam-lane",
        )
        client.get_job_run(applicationId=op.application_id, jobRunId=run["jobRunId"])

    with lane.as_role("mwaa-execution", "orders_lakehouse.dbt (IAM login to Redshift Serverless)"):
        # dbt-redshift's IAM method: GetCredentials for the workgroup (redshift_connector, boto3)
        client = boto3.client("redshift-serverless", region_name=REGION)
        with stubbed(
            client,
            [
                ("get_credentials", {"dbUser": "IAMR:x", "dbPassword": "p"}),
                ("get_workgroup", {"workgroup": {"workgroupName": WORKGROUP}}),
            ],
        ):
            client.get_credentials(workgroupName=WORKGROUP, dbName="dev")
            client.get_workgroup(workgroupName=WORKGROUP)

    analyze = warehouse_for(settings).upkeep_task() if manifest_exists() else None
    statements = analyze.sql if analyze is not None and hasattr(analyze, "sql") else ["ANALYZE marts.fct_orders"]
    worker = stack.role("mwaa-execution")
    with lane.as_role("mwaa-execution", "lakehouse_maintenance.analyze_marts"):
        hook = RedshiftDataHook(aws_conn_id=None, region_name=REGION)
        with stubbed(hook.conn, [("batch_execute_statement", {"Id": "3c9d8f00-0000-4000-8000-000000000001"})]):
            statement_id = hook.execute_query(
                sql=statements,
                database=settings.redshift_database,
                workgroup_name=settings.redshift_workgroup,
                secret_arn=getattr(analyze, "secret_arn", None),
                wait_for_completion=False,
            ).statement_id
    owner = {"redshift-data:statement-owner-iam-userid": worker.userid}
    with lane.as_role(
        "mwaa-execution", "lakehouse_maintenance.analyze_marts (triggerer)", session="triggerer", **owner
    ):
        hook = RedshiftDataHook(aws_conn_id=None, region_name=REGION)
        with stubbed(hook.conn, [("describe_statement", {"Id": statement_id, "Status": "FINISHED"})]):
            assert hook.check_query_is_finished(statement_id)

    for dataset in stack.outputs["quicksight_dataset_ids"]:
        with lane.as_role("mwaa-execution", "orders_lakehouse.quicksight_refresh"):
            hook = QuickSightHook(aws_conn_id=None, region_name=REGION)
            hook.create_ingestion(
                data_set_id=dataset, ingestion_id="iam-lane-1", ingestion_type="FULL_REFRESH", wait_for_completion=False
            )
            arn = f"arn:aws:quicksight:{REGION}:{ACCOUNT}:dataset/{dataset}/ingestion/iam-lane-1"
            answer = {"Ingestion": {"Arn": arn, "IngestionStatus": "COMPLETED", "CreatedTime": HOUR}}
            with stubbed(hook.conn, [("describe_ingestion", answer)]):
                hook.get_status(None, dataset, "iam-lane-1")  # the sensor's poll

    with lane.as_role("mwaa-execution", "any task's failure alert (SNS)"):
        FailureNotifier(settings).publish("[lakehouse] iam lane", "a failure alert")


def quicksight_reads_its_secret(lane: Lane, stack: Stack) -> None:
    """The data source's login: QuickSight reads the reader's secret with its Secrets Manager role."""
    secret = next(
        rc["values"]["arn"]
        for rc in state_resources(stack.state)
        if rc["type"] == "aws_secretsmanager_secret" and rc["name"] == "reader"
    )
    with lane.as_role(QUICKSIGHT_SECRETS_ROLE, "QuickSight data source (Redshift login)"):
        value = json.loads(
            boto3.client("secretsmanager", region_name=REGION).get_secret_value(SecretId=secret)["SecretString"]
        )
        assert value["username"] == "quicksight_reader"


def manifest_exists() -> bool:
    from pipeline.dbt_cosmos import manifest_path

    return manifest_path().is_file()


def spark_jobs_as_their_roles(lane: Lane, stack: Stack, folder: Path) -> None:
    """What a Spark program calls (Iceberg's GlueCatalog and S3FileIO, the job's S3 reads and
    writes), at the pyiceberg/boto3 level, as the Glue job role and as the EMR job role."""
    from lakehouse_core import landing
    from lakehouse_core.catalog import open_catalog
    from spark_jobs import objectstore

    settings = runtime_settings(stack, folder)
    artifacts = stack.outputs["artifacts_bucket"]
    for suffix, platform, log_group in (
        ("glue-job", "Glue job", "/aws-glue/jobs/output"),
        ("emr-serverless-job", "EMR Serverless job", "/aws/emr-serverless/lakehouse"),
    ):
        with lane.as_role(suffix, f"{platform}: ingest/gate/publish/maintain/recommend"):
            manifest = landing.read_manifest(landing.manifest_uri(settings, HOUR, RUN_ID), settings.s3_endpoint)
            objectstore.read_bytes(manifest["objects"][0]["uri"], settings.s3_endpoint)  # a raw object
            objectstore.read_bytes(f"s3://{artifacts}/spark_jobs/ingest_orders.py", settings.s3_endpoint)
            catalog = open_catalog(settings)
            catalog.list_namespaces()
            for identifier in (
                f"{settings.namespace_prefix}bronze.orders_raw",
                f"{settings.namespace_prefix}silver.order_lines",
            ):
                table = catalog.load_table(identifier)
                with table.transaction() as tx:  # a commit: new metadata file, UpdateTable
                    tx.set_properties({"lakehouse.iam-lane": platform})
                data = f"{table.location()}/data/iam-lane-{suffix}.parquet"
                with table.io.new_output(data).create(overwrite=True) as out:
                    out.write(b"PAR1")
                table.io.delete(data)  # expire/orphan clean-up deletes files
            objectstore.write_bytes(
                f"s3://{artifacts}/reports/iam-lane-{suffix}.json", b"{}", "application/json", settings.s3_endpoint
            )
            logs = boto3.client("logs", region_name=REGION)
            logs.create_log_group(logGroupName=log_group)
            logs.create_log_stream(logGroupName=log_group, logStreamName=f"iam-lane-{suffix}")
            logs.put_log_events(
                logGroupName=log_group,
                logStreamName=f"iam-lane-{suffix}",
                logEvents=[{"timestamp": 1, "message": "driver log"}],
            )
            if platform == "Glue job":
                boto3.client("cloudwatch", region_name=REGION).put_metric_data(
                    Namespace="Glue", MetricData=[{"MetricName": "glue.driver.aggregate.numCompletedTasks", "Value": 1}]
                )
            else:
                s3 = boto3.client("s3", region_name=REGION)
                s3.put_object(Bucket=artifacts, Key="logs/emr-serverless/applications/x/jobs/y/stdout.gz", Body=b"")


# --- the judges -------------------------------------------------------------------------------


def moto_s3_calls(stack: Stack) -> list[Call]:
    """The S3 requests moto authorised, as calls: pyarrow's own S3 client (landing, the Iceberg
    files, the simulator) bypasses botocore, so only moto saw those; the evaluator adds their
    bucket policies and the KMS requests of SSE-KMS."""
    calls = []
    for principal, action, resource, allowed, task in stack.decisions:
        if allowed and action.startswith("s3:") and "assumed-role" in principal:
            role, session = principal.split("/")[-2:]
            bucket, _, key = resource.removeprefix("arn:aws:s3:::").partition("/")
            params = {"Bucket": bucket} | ({"Key": key} if key else {})
            userid = stack.sessions[f"{role}#{session}"].userid
            calls.append(Call(role, task, "s3", action.split(":")[1], params, (("aws:userid", userid),)))
    return calls


def evaluate_calls(stack: Stack, calls: list[Call]) -> tuple[list[str], int]:
    """(denials, number of distinct IAM requests checked) of the calls, by the evaluator."""
    names = names_of(stack)
    denials, checked = [], set()
    for call in calls:
        role = stack.sessions[f"{call.principal}#task"]
        for auth in authorisations(call, names):
            context = dict(call.context) | dict(auth.context)
            context |= {"aws:SecureTransport": True, "aws:PrincipalAccount": ACCOUNT}
            key = (call.principal, auth.action, auth.resource, tuple(sorted(map(str, context.items()))))
            if key in checked:
                continue
            checked.add(key)
            request = Request(role.session_arn, auth.action, auth.resource, context)
            resource_policies = {
                arn: doc
                for arn, doc in stack.resource_policies.items()
                if auth.resource == arn or auth.resource.startswith(arn + "/")
            }
            decision = evaluate(request, stack.identity_policies[call.principal], resource_policies)
            if not decision.allowed:
                denials.append(
                    f"{call.task}: role {call.principal} may not {auth.action} on {auth.resource} "
                    f"({call.service}:{call.operation}; {decision.reason})"
                )
    return denials, len(checked)


def names_of(stack: Stack) -> Names:
    return Names(
        ACCOUNT,
        REGION,
        stack.outputs["kms_key_arn"],
        {WORKGROUP: WORKGROUP_ARN},
        f"arn:aws:emr-serverless:{REGION}:{ACCOUNT}:/applications/{stack.outputs['emr_application_id']}",
    )


def triples_of(stack: Stack, calls: list[Call]) -> Iterator[tuple[str, str, str]]:
    """(role, task, IAM action) of every call: the recorded ones and the S3 ones only moto saw."""
    names = names_of(stack)
    for call in calls:
        for auth in authorisations(call, names):
            yield call.principal, call.task, auth.action


def test_every_task_runs_as_its_own_role(stack: Stack, glue_bundle, tmp_path, monkeypatch, capsys) -> None:
    recorder = Recorder()
    lane = Lane(stack, recorder, monkeypatch)
    folder = deploy_folder(stack, tmp_path)
    monkeypatch.setenv("LAKEHOUSE_STREAM_NAME", stack.outputs["firehose_stream_name"])
    with recorder.active():
        firehose_delivers_an_hour(lane, stack)
        deployer_deploys(lane, stack, folder, glue_bundle)
        mwaa_tasks(lane, stack, folder)
        spark_jobs_as_their_roles(lane, stack, folder)
        quicksight_reads_its_secret(lane, stack)

    calls = recorder.calls + moto_s3_calls(stack)
    denials, checked = evaluate_calls(stack, calls)
    moto_allowed = [d for d in stack.decisions if d[3]]
    triples = sorted({(role, task, action) for role, task, action in triples_of(stack, calls)})
    iam_table.ACTIONS.parent.mkdir(parents=True, exist_ok=True)
    iam_table.ACTIONS.write_text(json.dumps(triples, indent=1))
    with capsys.disabled():
        print(
            f"\niam lane: {len(moto_allowed)} calls proven by moto's enforcement (action; resource for S3); "
            f"{checked} distinct IAM requests proven by the evaluator, from {len(recorder.calls)} calls botocore "
            f"recorded and {len(calls) - len(recorder.calls)} S3 requests moto authorised (pyarrow's among them): "
            "resources, conditions, bucket and key policies, implicit KMS and PassRole, the APIs moto lacks"
        )
    assert not denials, "the evaluator denied:\n" + "\n".join(denials)
    # moto re-signs EMR Serverless requests with the application path decoded ("/applications/<id>"
    # vs botocore's encoding) and so disagrees on their signatures; no other service's differ
    assert {action.split(":")[0] for _, action, _ in stack.signature_mismatches} <= {"emr-serverless"}
    # every role Terraform made for a task was exercised
    used = {role for role, _, _ in triples}
    assert {
        f"{NAME}-mwaa-execution",
        f"{NAME}-glue-job",
        f"{NAME}-emr-serverless-job",
        f"{NAME}-orders-delivery",
        DEPLOYER_ROLE,
        QUICKSIGHT_SECRETS_ROLE,
    } <= used
    # the docs' table of roles -> tasks -> actions is the one these calls make
    table = iam_table.render(triples)
    assert iam_table.documented() == table, (
        "docs/deploy-aws.md's IAM table differs from the calls the lane recorded: run "
        "`.venv/bin/python -m tests.aws.iam_table` to write it, and review the diff"
    )


# --- the defects of issue 22, each on the policies Terraform applied --------------------------


def allowed(stack: Stack, role: str, action: str, resource: str, **context: Any) -> bool:
    session = stack.sessions[f"{role}#task"]
    ctx = {"aws:userid": session.userid, "aws:SecureTransport": True, "aws:PrincipalAccount": ACCOUNT} | context
    return evaluate(Request(session.session_arn, action, resource, ctx), stack.identity_policies[role]).allowed


def test_the_mwaa_role_reaches_the_catalog_and_the_warehouse_of_its_environment_only(stack: Stack) -> None:
    role, glue = f"{NAME}-mwaa-execution", f"arn:aws:glue:{REGION}:{ACCOUNT}"
    lake = f"arn:aws:s3:::{stack.outputs['lake_bucket']}"
    for action in ("glue:GetDatabases", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable"):
        for resource in (f"{glue}:catalog", f"{glue}:database/dev_silver", f"{glue}:table/dev_silver/orders"):
            assert allowed(stack, role, action, resource), (action, resource)
    assert allowed(stack, role, "s3:PutObject", f"{lake}/warehouse/dev_silver.db/orders/metadata/00001.json")
    # another environment's tables and the lake outside the warehouse stay out of reach
    assert not allowed(stack, role, "glue:CreateTable", f"{glue}:table/prod_silver/orders")
    assert not allowed(stack, role, "glue:DeleteTable", f"{glue}:table/dev_silver/orders")
    assert not allowed(stack, role, "s3:PutObject", f"{lake}/elsewhere/x")


def test_the_triggerer_may_poll_a_statement_the_worker_started(stack: Stack) -> None:
    """The Data API authorises DescribeStatement on the statement's owner: the worker's session
    started it, the triggerer (another session of the same role) polls it."""
    role = f"{NAME}-mwaa-execution"
    worker, triggerer = stack.sessions[f"{role}#task"], stack.sessions[f"{role}#triggerer"]
    request = Request(
        triggerer.session_arn,
        "redshift-data:DescribeStatement",
        "*",
        {"aws:userid": triggerer.userid, "redshift-data:statement-owner-iam-userid": worker.userid},
    )
    assert evaluate(request, stack.identity_policies[role]).allowed
    other_role = stack.sessions[f"{NAME}-glue-job#task"].userid
    stranger = Request(
        triggerer.session_arn,
        "redshift-data:DescribeStatement",
        "*",
        {"aws:userid": triggerer.userid, "redshift-data:statement-owner-iam-userid": other_role},
    )
    assert not evaluate(stranger, stack.identity_policies[role]).allowed


def test_the_spice_refresh_is_granted_on_the_environments_datasets(stack: Stack) -> None:
    role = f"{NAME}-mwaa-execution"
    for dataset in stack.outputs["quicksight_dataset_ids"]:
        arn = f"arn:aws:quicksight:{REGION}:{ACCOUNT}:dataset/{dataset}/ingestion/run-1"
        assert allowed(stack, role, "quicksight:CreateIngestion", arn)
        assert allowed(stack, role, "quicksight:DescribeIngestion", arn)
    assert not allowed(
        stack, role, "quicksight:CreateIngestion", f"arn:aws:quicksight:{REGION}:{ACCOUNT}:dataset/x/ingestion/1"
    )


def test_the_deployer_may_delete_the_stale_files_it_owns(stack: Stack) -> None:
    for bucket in (stack.outputs["mwaa_bucket"], stack.outputs["artifacts_bucket"]):
        assert allowed(stack, DEPLOYER_ROLE, "s3:DeleteObject", f"arn:aws:s3:::{bucket}/dags/retired.py")
    assert not allowed(stack, DEPLOYER_ROLE, "s3:DeleteObject", f"arn:aws:s3:::{stack.outputs['lake_bucket']}/x")


def test_only_terraform_reads_the_redshift_admin_secret_and_quicksight_its_own(stack: Stack) -> None:
    """No role of the stack may read Redshift's managed admin secret; QuickSight's role reads the
    reader's secret and decrypts it through Secrets Manager, nothing else."""
    admin = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:redshift!{NAME}-admin-AbC123"
    for role in stack.identity_policies:
        assert not allowed(stack, role, "secretsmanager:GetSecretValue", admin), role
    reader = next(
        rc["values"]["arn"]
        for rc in state_resources(stack.state)
        if rc["type"] == "aws_secretsmanager_secret" and rc["name"] == "reader"
    )
    key, via = stack.outputs["kms_key_arn"], {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}
    assert allowed(stack, QUICKSIGHT_SECRETS_ROLE, "secretsmanager:GetSecretValue", reader)
    assert allowed(stack, QUICKSIGHT_SECRETS_ROLE, "kms:Decrypt", key, **via)
    assert not allowed(stack, QUICKSIGHT_SECRETS_ROLE, "kms:Decrypt", key)  # not directly
    assert not allowed(stack, f"{NAME}-mwaa-execution", "secretsmanager:GetSecretValue", reader)


def test_analyze_logs_in_with_iam_not_the_admin_secret(stack: Stack, tmp_path: Path) -> None:
    """The maintenance DAG's ANALYZE gets no secret from the deploy (it logs in as the execution
    role, the marts' owner), even where Terraform outputs the admin secret."""
    folder = deploy_folder(stack, tmp_path)
    outputs = json.loads((folder / "dev.outputs.json").read_text())
    outputs["redshift_secret_arn"] = {"value": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:redshift!admin"}
    (folder / "dev.outputs.json").write_text(json.dumps(outputs))
    settings = runtime_settings(stack, folder)
    assert settings.redshift_secret_arn == ""


# moto's ids differ on every run; everything else of the example is what Terraform outputs
RANDOM_IDS = ("vpc_id", "private_subnet_ids", "security_group_ids", "emr_application_id", "kms_key_arn")


def test_the_example_outputs_are_terraforms(stack: Stack) -> None:
    """deploy/dev.outputs.example.json (what `make bundle` builds from before an account exists) is
    a real `terraform output -json` against moto: `python -m tests.aws.iam_table --outputs` writes it."""
    from tests.aws.iam_lane import OUTPUTS_SAVED, example_outputs

    regenerated = example_outputs(json.loads(OUTPUTS_SAVED.read_text()))
    committed = json.loads((Path(__file__).resolve().parents[2] / "deploy" / "dev.outputs.example.json").read_text())
    for outputs in (committed, regenerated):
        for name in RANDOM_IDS:
            outputs[name]["value"] = "<a new id on every apply>"
    assert committed == regenerated
