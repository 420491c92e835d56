"""Environments sharing one Glue catalog get their own databases: `<prefix>bronze`, ...

The prefix is passed, never remembered: a job carries it from its `--namespace_prefix`
argument into the name of every table it touches (`spark_jobs.entry.CatalogArgs.tables`), and
Python code reads tables through `lakehouse_core.catalog.load_table(settings, name)`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from lakehouse_core.settings import load_settings
from spark_jobs import naming
from spark_jobs.entry import CatalogArgs
from spark_jobs.jobargs import CATALOG_ARGS, parse_job_args

pytestmark = pytest.mark.unit


def test_jobs_take_the_prefix_from_their_arguments() -> None:
    args = parse_job_args(CATALOG_ARGS, ["--namespace_prefix", "dev_"])
    assert CatalogArgs.from_args(args).tables.qualified("silver.order_lines") == "lakehouse.dev_silver.order_lines"
    assert CatalogArgs.from_args(parse_job_args(CATALOG_ARGS, [])).tables.physical("silver.order_lines") == (
        "silver.order_lines"
    )
    assert not hasattr(naming, "_prefix"), "no process-wide prefix: each run passes its own"
    with pytest.raises(ValueError, match="lowercase"):
        CatalogArgs.from_args(parse_job_args(CATALOG_ARGS, ["--namespace_prefix", "Dev-"]))
    with pytest.raises(ValueError, match="lowercase"):
        naming.physical("silver.order_lines", "Dev-")


def test_every_job_table_name_goes_through_the_prefix() -> None:
    from spark_jobs.ingest.contract import IngestTables
    from spark_jobs.ingest.job import JOB_ARGS, IngestArgs
    from spark_jobs.maintain_tables import plan_from_args, procedure_calls
    from spark_jobs.quality import batches
    from spark_jobs.validate_orders import SPECS, request_from_args

    argv = [
        "--namespace_prefix", "prod_", "--catalog_uri", "sqlite:////tmp/c.db", "--warehouse", "file:///w",
        "--manifest", "m.json", "--arrival_hour", "2026-11-01T08", "--run_id", "r",
    ]  # fmt: skip
    ingest = IngestArgs.from_mapping(parse_job_args(JOB_ARGS, argv))
    tables = IngestTables().qualified(ingest.catalog_name, ingest.namespace_prefix)
    assert (tables.bronze, tables.silver, tables.runs) == (
        "lakehouse.prod_bronze.orders_raw",
        "lakehouse.prod_silver.order_lines",
        "lakehouse.prod_audit.ingest_runs",
    )
    request = request_from_args(parse_job_args(SPECS, ["--run_id", "r", "--namespace_prefix", "prod_"]))
    assert request.tables.qualified(batches.DQ_RESULTS) == "lakehouse.prod_audit.dq_results"
    args = {
        "catalog_name": "lakehouse", "tables": "silver.order_lines", "snapshot_retention_hours": "168",
        "retain_last": "10", "orphan_age_hours": "72", "dry_run": "false", "namespace_prefix": "prod_",
    }  # fmt: skip
    calls = procedure_calls(plan_from_args(args, datetime(2026, 11, 1, tzinfo=UTC)), "silver.order_lines")
    assert all("table => 'prod_silver.order_lines'" in sql for _, sql in calls)


def test_the_dag_passes_the_prefix_to_every_cloud_job() -> None:
    from lakehouse_core.spark_backends import backend_for

    env = {
        "LAKEHOUSE_ENV": "aws", "LAKEHOUSE_WAREHOUSE": "s3://w", "LAKEHOUSE_RAW_ROOT": "s3://r",
        "LAKEHOUSE_REDSHIFT_WORKGROUP": "wg", "LAKEHOUSE_NAMESPACE_PREFIX": "dev_",
    }  # fmt: skip
    assert backend_for(load_settings(env)).catalog_args()["namespace_prefix"] == "dev_"
    assert "namespace_prefix" not in backend_for(load_settings({})).catalog_args()  # local: none


def test_tables_are_created_in_the_prefixed_namespaces(tmp_path) -> None:
    from lakehouse_core.catalog import init_catalog, open_catalog
    from lakehouse_core.tables import NAMESPACES, TABLES

    settings = load_settings({"LAKEHOUSE_HOME": str(tmp_path), "LAKEHOUSE_NAMESPACE_PREFIX": "dev_"})
    report = init_catalog(settings)
    assert report.created_namespaces == [f"dev_{n}" for n in NAMESPACES]
    assert report.created_tables == [f"dev_{t.identifier}" for t in TABLES]
    catalog = open_catalog(settings)
    assert {ns[0] for ns in catalog.list_namespaces()} == {f"dev_{n}" for n in NAMESPACES}
    assert not init_catalog(settings).changed  # idempotent


def test_python_readers_find_the_prefixed_tables(tmp_path) -> None:
    """`lakehouse dq`, the demo's summary, the dashboard and the DuckDB export read `dev_audit...`
    when LAKEHOUSE_NAMESPACE_PREFIX=dev_ (they read the unprefixed name before `load_table`)."""
    from lakehouse.commands.dq import read_results
    from lakehouse.dashboard.data import iceberg_table
    from lakehouse.runtime.demo import layer_counts, quarantine_reasons
    from lakehouse.runtime.local_warehouse import _silver_table
    from lakehouse_core.catalog import init_catalog, open_catalog

    settings = load_settings({"LAKEHOUSE_HOME": str(tmp_path), "LAKEHOUSE_NAMESPACE_PREFIX": "dev_"})
    init_catalog(settings)
    at = datetime(2026, 11, 1, 9, tzinfo=UTC)
    result = {
        "run_id": "orders_2026110108_ab", "validated_at": at, "table_name": "silver.order_lines",
        "suite_name": "silver.order_lines", "expectation": "expect_column_values_to_not_be_null", "success": True,
    }  # fmt: skip
    quarantined = {
        "reason_code": "malformed_json", "raw_record": "{", "raw_size_bytes": 1, "source_object": "o",
        "arrival_hour": at, "run_id": "r", "ingested_at": at,
    }  # fmt: skip
    catalog = open_catalog(settings)  # written under the physical names, as the jobs write them
    for identifier, row in (("dev_audit.dq_results", result), ("dev_bronze.orders_quarantine", quarantined)):
        table = catalog.load_table(identifier)
        table.append(pa.Table.from_pylist([row], schema=table.schema().as_arrow()))

    assert [r["run_id"] for r in read_results(settings, "orders_2026110108_ab")] == ["orders_2026110108_ab"]
    assert layer_counts(settings) == {"bronze.orders_raw": 0, "bronze.orders_quarantine": 1, "silver.order_lines": 0}
    assert quarantine_reasons(settings) == {"malformed_json": 1}
    assert iceberg_table(settings, "audit.dq_results").name() == ("dev_audit", "dq_results")
    assert _silver_table(settings, "silver.order_lines").name() == ("dev_silver", "order_lines")
