"""`orders_lakehouse` with spark_backend=glue, in the MWAA-like virtualenv, against moto's server.

The landing manifest lists the hour's Firehose objects in S3 and writes the manifest there; the
ingest, the gate and publish start as runs of the Glue jobs `lakehouse deploy` created, with the
arguments the DAG rendered; the deferrable operators wait on them through the trigger. Nothing
runs Spark here: pyspark is not even installed in that virtualenv. dbt's Cosmos tasks (Redshift)
and ensure_tables (pyiceberg's Glue catalog writes metadata through pyarrow's own S3 client,
which does not read AWS_ENDPOINT_URL) are marked success instead of run.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from lakehouse.aws import deploy
from tests.aws.conftest import deploy_dir, outputs
from tests.aws.deploy_fakes import REGION, RecordingMwaa, make_buckets
from tests.aws.mwaa import HERE, install_home, run, source_startup

pytestmark = pytest.mark.aws
HOUR = datetime(2026, 11, 1, 8, tzinfo=UTC)
# The SPICE refresh's sensors too: moto has CreateIngestion but no DescribeIngestion (the sensor's
# calls are checked with botocore's Stubber in tests/integration/test_quicksight.py).
NOT_RUN = (
    r"ensure_tables|dbt\..*|marts_published|is_silver_maintenance_hour|maintain_silver"
    r"|quicksight_refresh\.wait_.*"
    # the rate check reads the marts through the Data API: no Redshift behind moto to answer it
    r"|rate_alarm"
)


def test_hourly_run_on_glue_against_moto(glue_bundle, mwaa_venv, aws_env, tmp_path) -> None:
    folder = deploy_dir(tmp_path)
    out = outputs(folder)
    s3, glue = boto3.client("s3", region_name=REGION), boto3.client("glue", region_name=REGION)
    make_buckets(s3, [out["mwaa_bucket"], out["artifacts_bucket"], out["raw_bucket"], out["lake_bucket"]])
    boto3.client("sns", region_name=REGION).create_topic(Name="lakehouse-dev-alerts")  # failure alerts go here
    mwaa = RecordingMwaa()
    mwaa.runs(out["mwaa_environment_name"], {})
    mwaa.expect_update(out["mwaa_environment_name"])
    with mwaa.stub:
        deploy.deploy("dev", glue_bundle, deploy.Clients(s3, glue, mwaa.client), deploy_dir=folder)

    # one Firehose hour in the raw bucket, written by the simulator through the same endpoint
    generate = [str(Path(sys.executable).parent / "lakehouse")]
    env = {**os.environ, "LAKEHOUSE_STREAM_NAME": "lakehouse-dev-orders"}
    run([*generate, "generate", "--start", "2026-11-01T08", "--hours", "1", "--events-per-hour", "200",
         "--out", f"s3://{out['raw_bucket']}"], env=env)  # fmt: skip
    objects = s3.list_objects_v2(Bucket=out["raw_bucket"], Prefix="orders/2026/11/01/08/")["KeyCount"]
    assert objects > 0

    home = install_home(glue_bundle, tmp_path / "airflow")
    saved = source_startup(glue_bundle, home, mwaa_venv)
    env = {k: v for k, v in saved.items() if not k.startswith("_")} | aws_env
    env |= {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'airflow.db'}",
        # on MWAA this is an Airflow configuration option (Terraform); tests never call out
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "LAKEHOUSE_CLOUD_POLL_SECONDS": "1",  # moto's job runs finish on the second look
    }
    run([str(mwaa_venv / "bin" / "airflow"), "db", "migrate"], env=env, cwd=tmp_path)
    logical = HOUR + timedelta(hours=1)
    done = run([str(mwaa_venv / "bin" / "python"), str(HERE / "mwaa_dag_run.py"), logical.isoformat(), NOT_RUN],
               env=env, cwd=tmp_path, timeout=900)  # fmt: skip
    (tmp_path / "dag_test.log").write_text(done.stdout + done.stderr)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    states = result["tasks"]
    for task in ("wait_for_hour", "landing_manifest", "has_objects", "ingest", "quality_gate", "publish"):
        assert states[task] == "success", (task, states, done.stdout[-6000:])
    assert result["local_spark_modules"] == []
    assert result["laptop_modules"] == []  # the laptop runtime is neither shipped nor reached

    # the manifest went to S3, listing the hour's objects
    manifests = [o["Key"] for o in s3.list_objects_v2(Bucket=out["raw_bucket"]).get("Contents", [])
                 if "manifest" in o["Key"]]  # fmt: skip
    assert manifests, "no landing manifest in the raw bucket"
    manifest = json.loads(s3.get_object(Bucket=out["raw_bucket"], Key=manifests[0])["Body"].read())
    assert manifest["object_count"] == objects

    # one Glue run per Spark step, with the DAG's rendered arguments
    runs = {job: glue.get_job_runs(JobName=f"lakehouse-dev-{job}")["JobRuns"]
            for job in ("ingest-orders", "validate-orders", "publish-orders")}  # fmt: skip
    assert {job: len(r) for job, r in runs.items()} == {"ingest-orders": 1, "validate-orders": 1, "publish-orders": 1}
    ingest_args = runs["ingest-orders"][0]["Arguments"]
    assert ingest_args["--manifest"] == f"s3://{out['raw_bucket']}/{manifests[0]}"
    assert ingest_args["--arrival_hour"].startswith("2026-11-01T08:00:00")
    assert ingest_args["--run_id"].startswith("orders_2026110108_")
    assert ingest_args["--environment"] == "glue"
    assert ingest_args["--namespace_prefix"] == "dev_"  # this environment's Glue databases
    assert ingest_args["--datalake-formats"] == "iceberg"
    gate_args = runs["validate-orders"][0]["Arguments"]
    assert gate_args["--run_id"] == ingest_args["--run_id"]
    assert gate_args["--expectations_dir"] == f"s3://{out['artifacts_bucket']}/expectations"
    assert runs["publish-orders"][0]["Arguments"]["--action"] == "publish"

    # after the marts, one SPICE ingestion per QuickSight dataset of Terraform's outputs, started on moto
    refreshes = {t: s for t, s in states.items() if t.startswith("quicksight_refresh.refresh_")}
    assert refreshes == {f"quicksight_refresh.refresh_{d}": "success" for d in out["quicksight_dataset_ids"]}, states
