"""QuickSight: the definitions against what the pipeline builds, and the refresh after the marts.

- dashboard.json (the one definition Terraform's quicksight module and the local dashboard
  read) names only columns the marts have, by dbt's manifest, and the audit tables have, by
  lakehouse_core/tables.py; renaming or dropping a mart column makes the check fail.
- The DAG on Redshift with dataset ids gets refresh >> wait per dataset after `marts_published`;
  local has no QuickSight task; settings refuse dataset ids on the local and compose targets.
- The refresh's API calls: `CreateIngestion` through the provider's operator against moto's
  server; `DescribeIngestion` (moto lacks it) through botocore's Stubber, which validates the
  parameters against the service model; a FAILED ingestion fails the task at once, naming the
  dataset, the ingestion and QuickSight's reason.
"""

from __future__ import annotations

import copy
import json
import os
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from lakehouse.dashboard import spec as dashboard_spec
from lakehouse_core.settings import REPO_ROOT, SettingsError, load_settings
from lakehouse_core.tables import TABLES

pytestmark = pytest.mark.integration

DATASETS = "lakehouse-dev-daily_sales,lakehouse-dev-gate_results"
AWS_ENV = {
    "LAKEHOUSE_ENV": "aws",
    "LAKEHOUSE_WAREHOUSE": "s3://acme-lake/warehouse",
    "LAKEHOUSE_RAW_ROOT": "s3://acme-raw/firehose",
    "LAKEHOUSE_ARTIFACTS_URI": "s3://acme-artifacts/lakehouse",
    "LAKEHOUSE_GLUE_JOB_NAME": "lakehouse",
    "LAKEHOUSE_REDSHIFT_WORKGROUP": "lakehouse-dev",
    "LAKEHOUSE_SPARK_BACKEND": "glue",
    "LAKEHOUSE_QUICKSIGHT_DATASET_IDS": DATASETS,
}


@pytest.fixture(scope="module")
def manifest() -> dict:
    """dbt's manifest (`make test` makes it first; `dbt parse` here when a fresh clone has none)."""
    from lakehouse.runtime.dbt_runner import run_dbt
    from pipeline.dbt_cosmos import manifest_path

    path = manifest_path()
    if not path.is_file():
        with tempfile.TemporaryDirectory() as home:
            assert run_dbt(load_settings({"LAKEHOUSE_HOME": home}), ["parse"]) == 0, "dbt parse failed"
    return json.loads(path.read_text())


def iceberg_columns() -> dict[str, list[str]]:
    return {t.identifier: [f.name for f in t.schema.fields] for t in TABLES}


def mart_node(manifest: dict, name: str) -> dict:
    (node,) = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] == name]
    return node


# --- definitions against the marts --------------------------------------------------------------


def test_every_dataset_and_visual_column_exists_in_the_marts_and_audit_tables(manifest: dict) -> None:
    spec = dashboard_spec.load_spec()
    assert dashboard_spec.check_columns(spec, manifest, iceberg_columns()) == []
    # what the issue asks for is there: six subjects, every dataset used, marts and audit both
    used = {v.dataset for v in dashboard_spec.visuals(spec)}
    assert used == set(spec["datasets"])
    marts = {d["mart"] for d in spec["datasets"].values() if "mart" in d}
    assert marts == {
        "agg_daily_sales",
        "agg_hourly_transactions",
        "agg_hourly_order_rate",
        "agg_customer_value",
        "agg_product_affinity",
    }
    assert {v.id for v in dashboard_spec.visuals(spec)} >= {
        "revenue_by_country",
        "top_products",
        "hourly_transactions",
        "order_rate_alarms",
        "customer_segments",
        "product_affinity",
        "gate_pass_rate",
        "quarantine_reasons",
    }


def test_a_band_column_the_mart_or_dataset_lacks_fails_the_check(manifest: dict) -> None:
    broken = copy.deepcopy(manifest)
    mart_node(broken, "agg_hourly_order_rate")["columns"].pop("upper_order_count")
    problems = dashboard_spec.check_columns(dashboard_spec.load_spec(), broken, iceberg_columns())
    assert problems == ["dataset hourly_order_rate: agg_hourly_order_rate has no column 'upper_order_count'"]
    spec = copy.deepcopy(dashboard_spec.load_spec())
    (visual,) = [v for v in spec["visuals"] if v["id"] == "order_rate_alarms"]
    visual["extra_y"] = [*visual["extra_y"], "forecast_order_count", "alarm_kind"]
    assert dashboard_spec.check_columns(spec, manifest, iceberg_columns()) == [
        "visual order_rate_alarms: dataset hourly_order_rate has no column 'forecast_order_count' (extra_y)",
        "visual order_rate_alarms: extra_y 'alarm_kind' is text; it must be a measure",
    ]


@pytest.mark.parametrize("change", ["rename", "drop"])
def test_a_renamed_or_dropped_mart_column_fails_the_check(manifest: dict, change: str) -> None:
    broken = copy.deepcopy(manifest)
    columns = mart_node(broken, "agg_daily_sales")["columns"]
    column = columns.pop("net_revenue")
    if change == "rename":
        columns["net_revenue_gbp"] = column
    problems = dashboard_spec.check_columns(dashboard_spec.load_spec(), broken, iceberg_columns())
    assert "dataset daily_sales: agg_daily_sales has no column 'net_revenue'" in problems


def test_a_renamed_dimension_or_audit_column_fails_the_check(manifest: dict) -> None:
    broken = copy.deepcopy(manifest)
    mart_node(broken, "dim_products")["columns"].pop("description")
    tables = iceberg_columns()
    tables["bronze.orders_quarantine"] = [c for c in tables["bronze.orders_quarantine"] if c != "reason_code"]
    problems = dashboard_spec.check_columns(dashboard_spec.load_spec(), broken, tables)
    assert "dataset daily_sales (join): dim_products has no column 'description'" in problems
    assert "dataset quarantine_reasons (sql): bronze.orders_quarantine has no column 'reason_code'" in problems


def test_a_visual_on_a_column_its_dataset_does_not_expose_fails_the_check(manifest: dict) -> None:
    spec = copy.deepcopy(dashboard_spec.load_spec())
    spec["visuals"][0]["y"] = "gross_revenue"  # in the mart, but not in the dataset
    problems = dashboard_spec.check_columns(spec, manifest, iceberg_columns())
    assert problems == ["visual revenue_by_country: dataset daily_sales has no column 'gross_revenue' (y)"]


def test_terraform_reads_the_same_definition() -> None:
    """The module decodes dashboard.json itself: no second copy of the column lists to drift."""
    module = REPO_ROOT / "infra" / "terraform" / "modules" / "quicksight"
    main = (module / "main.tf").read_text()
    assert 'jsondecode(file("${path.module}/dashboard.json"))' in main
    assert module / "dashboard.json" == dashboard_spec.SPEC_PATH
    for resource in ("aws_quicksight_vpc_connection", "aws_quicksight_data_source", "aws_quicksight_dashboard"):
        assert f'resource "{resource}"' in main
    # the read-only user's secret (reader.tf), never the Redshift admin's
    assert 'import_mode = "SPICE"' in main and "secret_arn = aws_secretsmanager_secret.reader.arn" in main


# --- settings and the DAG -----------------------------------------------------------------------


def test_dataset_ids_are_for_the_redshift_target_only() -> None:
    assert load_settings(AWS_ENV).quicksight_dataset_ids == ("lakehouse-dev-daily_sales", "lakehouse-dev-gate_results")
    assert load_settings({}).quicksight_dataset_ids == ()
    with pytest.raises(SettingsError, match="LAKEHOUSE_QUICKSIGHT_DATASET_IDS is set but LAKEHOUSE_DBT_TARGET=local"):
        load_settings({"LAKEHOUSE_QUICKSIGHT_DATASET_IDS": "x"})
    with pytest.raises(SettingsError, match="is not a dataset id"):
        load_settings({**AWS_ENV, "LAKEHOUSE_QUICKSIGHT_DATASET_IDS": "a b"})
    with pytest.raises(SettingsError, match="names a dataset twice"):
        load_settings({**AWS_ENV, "LAKEHOUSE_QUICKSIGHT_DATASET_IDS": "a,a"})


def _parse(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from airflow.dag_processing.dagbag import DagBag

    for name in [n for n in os.environ if n.startswith("LAKEHOUSE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "lake"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for module in [m for m in sys.modules if m == "pipeline" or m.startswith("pipeline.")]:
        monkeypatch.delitem(sys.modules, module)
    bag = DagBag(dag_folder=str(REPO_ROOT / "dags" / "orders_lakehouse.py"), include_examples=False, safe_mode=True)
    assert bag.import_errors == {}
    return bag.dags["orders_lakehouse"]


def test_on_redshift_each_dataset_is_refreshed_after_the_marts(manifest, monkeypatch, tmp_path) -> None:
    dag = _parse(AWS_ENV, monkeypatch, tmp_path)
    for dataset_id in DATASETS.split(","):
        start = dag.get_task(f"quicksight_refresh.refresh_{dataset_id}")
        wait = dag.get_task(f"quicksight_refresh.wait_{dataset_id}")
        assert start.upstream_task_ids == {"marts_published"}
        assert wait.upstream_task_ids == {start.task_id}
        assert type(start).__name__ == "QuickSightCreateIngestionOperator"
        assert (start.data_set_id, start.ingestion_type, start.wait_for_completion) == (
            dataset_id,
            "FULL_REFRESH",
            False,
        )
        assert wait.mode == "reschedule" and wait.retries == 0  # no slot held; a failed ingestion is final
        assert start.task_id in wait.ingestion_id  # the id the operator got back
    assert not [t for t in dag.task_ids if "quicksight" in t and not t.startswith("quicksight_refresh.")]


def test_local_has_no_quicksight_task(manifest, monkeypatch, tmp_path) -> None:
    dag = _parse({}, monkeypatch, tmp_path)
    assert [t for t in dag.task_ids if "quicksight" in t] == []


def test_the_ingestion_id_is_valid_and_new_on_each_try() -> None:
    import jinja2

    from pipeline.quicksight import INGESTION_ID

    template = jinja2.Environment().from_string(INGESTION_ID)
    ids = {
        template.render(dag_run=SimpleNamespace(run_id=run_id), ti=SimpleNamespace(try_number=attempt))
        for run_id in ("scheduled__2026-11-01T08:00:00+00:00", "manual__2026-11-01T08:13:02.123456+00:00")
        for attempt in (1, 2)
    }
    assert len(ids) == 4
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,128}", i) for i in ids), ids


# --- the API calls ------------------------------------------------------------------------------


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": moto_endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    return moto_endpoint


def test_the_operator_starts_an_ingestion_on_moto(aws: str) -> None:
    from airflow.providers.amazon.aws.operators.quicksight import QuickSightCreateIngestionOperator

    settings = load_settings(AWS_ENV)
    operator = QuickSightCreateIngestionOperator(
        task_id="refresh",
        data_set_id="lakehouse-dev-daily_sales",
        ingestion_id="scheduled__2026-11-01T0800000000-1",
        ingestion_type="FULL_REFRESH",
        wait_for_completion=False,
        region_name=settings.aws_region,
        aws_conn_id=None,
    )
    result = operator.execute({})
    assert result["IngestionId"] == "scheduled__2026-11-01T0800000000-1"
    assert result["Arn"].startswith("arn:aws:quicksight:eu-west-1:123456789012:")
    assert "lakehouse-dev-daily_sales" in result["Arn"]


ARN = "arn:aws:quicksight:eu-west-1:123456789012:dataset/lakehouse-dev-daily_sales/ingestion/run-1"
CREATED = datetime(2026, 11, 1, 9, 5, tzinfo=UTC)


def _sensor(states: list[dict]):
    from botocore.stub import Stubber

    from pipeline.quicksight import SpiceIngestionSensor

    sensor = SpiceIngestionSensor(
        task_id="wait",
        data_set_id="lakehouse-dev-daily_sales",
        ingestion_id="run-1",
        region_name="eu-west-1",
        aws_conn_id=None,
    )
    stubber = Stubber(sensor.hook.conn)
    expected = {"AwsAccountId": "123456789012", "DataSetId": "lakehouse-dev-daily_sales", "IngestionId": "run-1"}
    for ingestion in states:
        stubber.add_response("describe_ingestion", {"Ingestion": ingestion, "Status": 200}, expected)
    stubber.activate()
    return sensor, stubber


def test_the_sensor_waits_then_succeeds(aws: str) -> None:
    sensor, stubber = _sensor(
        [
            {"Arn": ARN, "CreatedTime": CREATED, "IngestionStatus": "RUNNING"},
            {"Arn": ARN, "CreatedTime": CREATED, "IngestionStatus": "COMPLETED"},
        ]
    )
    assert sensor.poke({}) is False
    assert sensor.poke({}) is True
    stubber.assert_no_pending_responses()


def test_a_failed_ingestion_fails_the_task_at_once_saying_why(aws: str) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    failed = {
        "Arn": ARN,
        "CreatedTime": CREATED,
        "IngestionStatus": "FAILED",
        "ErrorInfo": {"Type": "DATA_SOURCE_CONNECTION_FAILED", "Message": "Unable to connect to Redshift"},
    }
    sensor, stubber = _sensor([failed, failed])  # the state, then the error info
    with pytest.raises(AirflowFailException) as caught:
        sensor.poke({})
    message = str(caught.value)
    assert "ingestion run-1 of dataset lakehouse-dev-daily_sales ended FAILED" in message
    assert "DATA_SOURCE_CONNECTION_FAILED: Unable to connect to Redshift" in message
    stubber.assert_no_pending_responses()
