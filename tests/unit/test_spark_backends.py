"""Spark backends: each one's full arguments, rendered the way Airflow renders them for a run.

The job arguments in the DAG are Jinja templates over the plan task's XCom; here they are
rendered through the operators' own `render_template_fields`, so what is asserted is what
Glue's StartJobRun / EMR Serverless' StartJobRun / the local spark-submit would receive.
No AWS call is made: building and rendering an operator does not talk to AWS.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from lakehouse.runtime import local_spark
from lakehouse_core import spark_args, spark_backends
from lakehouse_core.settings import Settings, load_settings
from pipeline import spark_tasks
from spark_jobs.jobargs import to_argv
from spark_jobs.session import EMR_ICEBERG_JAR, ICEBERG_EXTENSIONS
from tests.helpers.settings import ARTIFACTS, WAREHOUSE, aws_settings

pytestmark = pytest.mark.unit

PLAN = {
    "run_id": "orders_2026011510_0123abcd",
    "arrival_hour": "2026-01-15T10:00:00+00:00",
    "audit_branch": "audit_orders_2026011510_0123abcd",
    "manifest": "s3://acme-artifacts/lakehouse/manifests/2026/01/15/10/orders_2026011510_0123abcd.json",
}
JOB_ARGS = {key: f"{{{{ ti.xcom_pull(task_ids='landing_manifest', key='{key}') }}}}" for key in PLAN}


class FakeTI:
    """Stands in for the task instance a template reads XCom from."""

    def xcom_pull(self, task_ids: str, key: str = "return_value", **_: Any) -> Any:
        assert task_ids == "landing_manifest"
        return PLAN[key]


def rendered(operator: Any) -> Any:
    from airflow.sdk import DAG

    with DAG(dag_id="render_test", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC)):
        pass
    operator.render_template_fields({"ti": FakeTI(), "ts_nodash": "20260115T100000"})
    return operator


def expected_cli(*catalog: str) -> list[str]:
    return [
        *catalog,
        "--run_id",
        PLAN["run_id"],
        "--arrival_hour",
        PLAN["arrival_hour"],
        "--audit_branch",
        PLAN["audit_branch"],
        "--manifest",
        PLAN["manifest"],
    ]


def test_glue_job_operator_renders_every_argument() -> None:
    from airflow.providers.amazon.aws.operators.glue import GlueJobOperator

    settings = aws_settings(LAKEHOUSE_SPARK_BACKEND="glue")
    op = rendered(spark_tasks.spark_task(settings, "ingest", "ingest_orders.py", JOB_ARGS))

    assert isinstance(op, GlueJobOperator)
    assert op.deferrable is True
    assert op.job_name == "lakehouse-ingest-orders"
    assert op.script_location == f"{ARTIFACTS}/spark_jobs/ingest_orders.py"
    assert op.region_name == "eu-west-1"
    conf = (
        f"spark.sql.extensions={ICEBERG_EXTENSIONS}"
        " --conf spark.sql.catalog.lakehouse=org.apache.iceberg.spark.SparkCatalog"
        f" --conf spark.sql.catalog.lakehouse.warehouse={WAREHOUSE}"
        " --conf spark.sql.session.timeZone=UTC"
        " --conf spark.sql.sources.partitionOverwriteMode=dynamic"
        " --conf spark.sql.catalog.lakehouse.type=glue"
        " --conf spark.sql.catalog.lakehouse.io-impl=org.apache.iceberg.aws.s3.S3FileIO"
    )
    assert op.script_args == {
        "--datalake-formats": "iceberg",
        "--extra-py-files": f"{ARTIFACTS}/spark_jobs.zip",
        "--conf": conf,
        "--environment": "glue",
        "--catalog_name": "lakehouse",
        "--warehouse": WAREHOUSE,
        "--run_id": PLAN["run_id"],
        "--arrival_hour": PLAN["arrival_hour"],
        "--audit_branch": PLAN["audit_branch"],
        "--manifest": PLAN["manifest"],
    }
    # Glue passes every value as a string; a non-string would be rejected by StartJobRun.
    assert all(isinstance(v, str) for v in op.script_args.values())


def test_glue_conf_string_chains_with_conf_inside_one_value() -> None:
    value = spark_backends.glue_conf_string({"a.b": "1", "c.d": "x=y"})
    assert value == "a.b=1 --conf c.d=x=y"
    # Glue turns `--conf <value>` into spark-submit arguments: split back, every pair survives.
    assert ("--conf " + value).split(" --conf ") == ["--conf a.b=1", "c.d=x=y"]


def test_emr_serverless_operator_renders_job_driver_and_submit_parameters() -> None:
    from airflow.providers.amazon.aws.operators.emr import EmrServerlessStartJobOperator

    settings = aws_settings(
        LAKEHOUSE_SPARK_BACKEND="emr-serverless",
        LAKEHOUSE_EMR_APPLICATION_ID="00abc123",
        LAKEHOUSE_EMR_EXECUTION_ROLE_ARN="arn:aws:iam::123456789012:role/lakehouse-emr",
    )
    op = rendered(spark_tasks.spark_task(settings, "quality_gate", "validate_orders.py", JOB_ARGS))

    assert isinstance(op, EmrServerlessStartJobOperator)
    assert op.deferrable is True
    assert op.application_id == "00abc123"
    assert op.execution_role_arn == "arn:aws:iam::123456789012:role/lakehouse-emr"
    assert op.name == "quality_gate-20260115T100000"
    params = (
        "--conf spark.emr-serverless.driverEnv.PYSPARK_PYTHON=/usr/bin/python3.11"
        " --conf spark.executorEnv.PYSPARK_PYTHON=/usr/bin/python3.11"
        f" --conf spark.jars={EMR_ICEBERG_JAR}"
        f" --conf spark.sql.extensions={ICEBERG_EXTENSIONS}"
        " --conf spark.sql.catalog.lakehouse=org.apache.iceberg.spark.SparkCatalog"
        f" --conf spark.sql.catalog.lakehouse.warehouse={WAREHOUSE}"
        " --conf spark.sql.session.timeZone=UTC"
        " --conf spark.sql.sources.partitionOverwriteMode=dynamic"
        " --conf spark.sql.catalog.lakehouse.type=glue"
        " --conf spark.sql.catalog.lakehouse.io-impl=org.apache.iceberg.aws.s3.S3FileIO"
        f" --py-files {ARTIFACTS}/spark_jobs.zip"
    )
    assert op.job_driver == {
        "sparkSubmit": {
            "entryPoint": f"{ARTIFACTS}/spark_jobs/validate_orders.py",
            "entryPointArguments": expected_cli(
                "--environment", "emr", "--catalog_name", "lakehouse", "--warehouse", WAREHOUSE
            ),
            "sparkSubmitParameters": params,
        }
    }
    assert op.configuration_overrides == {
        "monitoringConfiguration": {"s3MonitoringConfiguration": {"logUri": f"{ARTIFACTS}/logs/emr-serverless/"}}
    }


def test_local_backend_runs_spark_submit_with_the_rendered_arguments(tmp_path, monkeypatch) -> None:
    from airflow.providers.standard.operators.python import PythonOperator

    settings = load_settings({"LAKEHOUSE_HOME": str(tmp_path)})
    op = rendered(spark_tasks.spark_task(settings, "publish", "publish_orders.py", JOB_ARGS))
    assert isinstance(op, PythonOperator)
    # locally the launcher adds the catalog arguments when the task runs (lakehouse.runtime.local_spark)
    assert op.op_kwargs == {"script": "publish_orders.py", "job_args": PLAN, "verdict_exit_codes": []}

    calls: list[tuple[Settings, str, Any]] = []

    def fake_run_job(s: Settings, script: str, job_args: Any) -> int:
        calls.append((s, script, job_args))
        return 0

    monkeypatch.setattr(local_spark, "run_job", fake_run_job)
    op.python_callable(**op.op_kwargs)
    ((used, script, job_args),) = calls
    assert used is settings
    assert script.endswith("/spark_jobs/publish_orders.py")
    assert to_argv(job_args) == expected_cli()


@pytest.mark.parametrize(("code", "error"), [(1, "AirflowFailException"), (2, "RuntimeError"), (137, "RuntimeError")])
def test_local_backend_fails_fast_only_on_a_verdict(code: int, error: str, tmp_path, monkeypatch) -> None:
    """Exit codes named as verdicts fail the task without retries; any other failure is retried."""
    settings = load_settings({"LAKEHOUSE_HOME": str(tmp_path)})
    op = spark_tasks.spark_task(settings, "quality_gate", "validate_orders.py", {}, verdict_exit_codes=(1,))
    monkeypatch.setattr(local_spark, "run_job", lambda *_: code)
    with pytest.raises(Exception) as failure:
        op.python_callable(**op.op_kwargs)
    assert type(failure.value).__name__ == error
    assert f"exited with code {code}" in str(failure.value)


def test_outlets_and_retries_reach_the_operator() -> None:
    from airflow.sdk import Asset

    settings = aws_settings(LAKEHOUSE_SPARK_BACKEND="glue")
    asset = Asset(name="silver.order_lines", uri="x-iceberg://lakehouse/silver/order_lines")
    op = spark_tasks.spark_task(settings, "publish", "publish_orders.py", {}, outlets=[asset], retries=5)
    assert op.outlets == [asset]
    assert op.retries == 5


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LAKEHOUSE_SPARK_BACKEND": "glue", "LAKEHOUSE_GLUE_JOB_NAME": ""}, "LAKEHOUSE_GLUE_JOB_NAME"),
        ({"LAKEHOUSE_SPARK_BACKEND": "glue", "LAKEHOUSE_ARTIFACTS_URI": ""}, "LAKEHOUSE_ARTIFACTS_URI"),
    ],
)
def test_missing_aws_settings_fail_at_parse_with_the_variable_name(env: Mapping[str, str], message: str) -> None:
    settings = aws_settings(**env)
    with pytest.raises(ValueError, match=message):
        spark_tasks.spark_task(settings, "ingest", "ingest_orders.py", {})


def test_job_args_accept_names_with_or_without_dashes_and_drop_empty_values() -> None:
    assert to_argv({"run_id": "r", "--tables": "a,b", "n": 3, "unset": "", "none": None}) == [
        "--run_id",
        "r",
        "--tables",
        "a,b",
        "--n",
        "3",
    ]


@pytest.mark.parametrize(
    ("backend", "kind", "platform"),
    [
        ("glue", spark_backends.GlueSpark, "glue"),
        ("emr-serverless", spark_backends.EmrServerlessSpark, "emr"),
    ],
)
def test_the_backend_is_chosen_once_from_settings_and_says_where_things_are(backend, kind, platform) -> None:
    settings = aws_settings(
        LAKEHOUSE_SPARK_BACKEND=backend,
        LAKEHOUSE_EMR_APPLICATION_ID="00abc123",
        LAKEHOUSE_EMR_EXECUTION_ROLE_ARN="arn:aws:iam::123456789012:role/lakehouse-emr",
    )
    chosen = spark_backends.backend_for(settings)
    assert type(chosen) is kind
    assert chosen.catalog_args() == {"environment": platform, "catalog_name": "lakehouse", "warehouse": WAREHOUSE}
    # the gate reads the suites and writes Data Docs beside the artifacts; `lakehouse dq` looks there too
    gate = spark_args.gate_args(settings, run_id="r1")
    assert gate["expectations_dir"] == f"{ARTIFACTS}/expectations"
    assert gate["reports_uri"] == spark_backends.data_docs_uri(settings) == f"{ARTIFACTS}/reports/data_docs"


def test_the_local_backend_gives_jobs_the_jdbc_form_of_the_catalog(tmp_path) -> None:
    settings = load_settings({"LAKEHOUSE_HOME": str(tmp_path)})
    chosen = spark_backends.backend_for(settings)
    assert type(chosen) is spark_backends.LocalSpark
    assert chosen.catalog_args()["catalog_uri"] == f"jdbc:sqlite:{tmp_path.resolve()}/catalog.db"
    assert spark_backends.data_docs_uri(settings) == str(tmp_path.resolve() / "reports" / "data_docs")


def test_an_unknown_backend_is_refused_with_the_known_ones() -> None:
    settings = dataclasses.replace(aws_settings(LAKEHOUSE_SPARK_BACKEND="glue"), spark_backend="dataproc")
    with pytest.raises(ValueError, match="unknown spark_backend 'dataproc'; one of local, glue, emr-serverless"):
        spark_tasks.spark_task(settings, "ingest", "ingest_orders.py", {})
