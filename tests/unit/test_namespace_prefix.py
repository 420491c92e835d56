"""Environments sharing one Glue catalog get their own databases: `<prefix>bronze`, ..."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.settings import load_settings
from spark_jobs import naming
from spark_jobs.jobargs import CATALOG_ARGS, parse_job_args

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _reset_prefix():
    yield
    naming.set_namespace_prefix("")


def test_jobs_take_the_prefix_from_their_arguments() -> None:
    parse_job_args(CATALOG_ARGS, ["--namespace_prefix", "dev_"])
    assert naming.physical("silver.order_lines") == "dev_silver.order_lines"
    parse_job_args(CATALOG_ARGS, [])
    assert naming.physical("silver.order_lines") == "silver.order_lines"
    with pytest.raises(ValueError, match="lowercase"):
        naming.set_namespace_prefix("Dev-")


def test_every_job_table_name_goes_through_the_prefix() -> None:
    from spark_jobs.ingest.contract import IngestTables
    from spark_jobs.maintain_tables import plan_from_args, procedure_calls
    from spark_jobs.quality import batches

    naming.set_namespace_prefix("prod_")
    tables = IngestTables().qualified("lakehouse")
    assert (tables.bronze, tables.silver, tables.runs) == (
        "lakehouse.prod_bronze.orders_raw",
        "lakehouse.prod_silver.order_lines",
        "lakehouse.prod_audit.ingest_runs",
    )
    assert batches.qualified("lakehouse", batches.DQ_RESULTS) == "lakehouse.prod_audit.dq_results"
    args = {
        "catalog_name": "lakehouse", "tables": "silver.order_lines", "snapshot_retention_hours": "168",
        "retain_last": "10", "orphan_age_hours": "72", "dry_run": "false",
    }  # fmt: skip
    calls = procedure_calls(plan_from_args(args, datetime(2026, 11, 1, tzinfo=UTC)), "silver.order_lines")
    assert all("table => 'prod_silver.order_lines'" in sql for _, sql in calls)


def test_the_dag_passes_the_prefix_to_every_cloud_job() -> None:
    from pipeline.spark_backends import backend_for

    env = {
        "LAKEHOUSE_ENV": "aws", "LAKEHOUSE_WAREHOUSE": "s3://w", "LAKEHOUSE_RAW_ROOT": "s3://r",
        "LAKEHOUSE_REDSHIFT_WORKGROUP": "wg", "LAKEHOUSE_NAMESPACE_PREFIX": "dev_",
    }  # fmt: skip
    assert backend_for(load_settings(env)).catalog_args()["namespace_prefix"] == "dev_"
    assert "namespace_prefix" not in backend_for(load_settings({})).catalog_args()  # local: none


def test_tables_are_created_in_the_prefixed_namespaces(tmp_path) -> None:
    from pipeline.catalog import init_catalog, open_catalog
    from pipeline.tables import NAMESPACES, TABLES

    settings = load_settings({"LAKEHOUSE_HOME": str(tmp_path), "LAKEHOUSE_NAMESPACE_PREFIX": "dev_"})
    report = init_catalog(settings)
    assert report.created_namespaces == [f"dev_{n}" for n in NAMESPACES]
    assert report.created_tables == [f"dev_{t.identifier}" for t in TABLES]
    catalog = open_catalog(settings)
    assert {ns[0] for ns in catalog.list_namespaces()} == {f"dev_{n}" for n in NAMESPACES}
    assert not init_catalog(settings).changed  # idempotent
