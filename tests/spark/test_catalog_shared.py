"""Spark (Java JdbcCatalog) and pyiceberg (SqlCatalog) see the same tables under one name."""

from __future__ import annotations

import pytest

from lakehouse_core.catalog import open_catalog

pytestmark = pytest.mark.spark


def test_spark_merge_is_visible_to_pyiceberg(spark, session_lake) -> None:
    cat = session_lake.catalog_name
    spark.sql(f"create namespace if not exists {cat}.scratch")
    spark.sql(f"drop table if exists {cat}.scratch.merge_probe")
    spark.sql(
        f"create table {cat}.scratch.merge_probe (id string, qty int, ts timestamp) "
        "using iceberg partitioned by (days(ts)) tblproperties ('format-version'='2')"
    )
    spark.sql(
        f"insert into {cat}.scratch.merge_probe values "
        "('a', 1, timestamp'2026-01-01 10:00:00'), ('b', 2, timestamp'2026-01-02 10:00:00')"
    )
    spark.sql(
        f"""merge into {cat}.scratch.merge_probe t
        using (select * from values ('a', 5, timestamp'2026-01-01 10:00:00'),
                                    ('c', 7, timestamp'2026-01-03 09:00:00') as s(id, qty, ts)) s
        on t.id = s.id
        when matched then update set *
        when not matched then insert *"""
    )
    table = open_catalog(session_lake).load_table("scratch.merge_probe")
    rows = {r["id"]: r["qty"] for r in table.scan().to_arrow().to_pylist()}
    assert rows == {"a": 5, "b": 2, "c": 7}
    # same snapshot id on both sides: one table, not two copies
    spark_snapshot = spark.sql(
        f"select snapshot_id from {cat}.scratch.merge_probe.snapshots order by committed_at desc limit 1"
    ).first()[0]
    assert table.current_snapshot().snapshot_id == spark_snapshot


def test_spark_writes_into_tables_created_by_init(spark, session_lake) -> None:
    """`lakehouse init` creates tables with pyiceberg; Spark must be able to write them."""
    cat = session_lake.catalog_name
    spark.sql(
        f"""insert into {cat}.audit.dq_results
            select 'probe', null, current_timestamp(), 'silver.order_lines', 's', 'e', null, true,
                   null, null, null, null, null"""
    )
    table = open_catalog(session_lake).load_table("audit.dq_results")
    runs = table.scan(row_filter="run_id == 'probe'").to_arrow()
    assert runs.num_rows == 1
    spark.sql(f"delete from {cat}.audit.dq_results where run_id = 'probe'")


def test_another_process_commits_while_a_spark_session_is_open(spark, session_lake, tmp_path) -> None:
    """A warm driver stays up between runs; an Airflow task's pyiceberg commit (the rate alarm's
    record, an init) must not fail with SQLite's "database is locked" meanwhile."""
    import json
    import os
    import subprocess
    import sys

    cat = session_lake.catalog_name
    spark.sql(f"create namespace if not exists {cat}.scratch")
    spark.sql(f"create table if not exists {cat}.scratch.other_writer (id string) using iceberg")
    spark.sql(f"select count(*) from {cat}.scratch.other_writer").collect()  # the catalog is open and used
    home = {"LAKEHOUSE_ENV": "local", "LAKEHOUSE_HOME": str(session_lake.home)}
    writer = f"""
import pyarrow as pa
from lakehouse_core.catalog import open_catalog
from lakehouse_core.settings import load_settings
table = open_catalog(load_settings({json.dumps(home)})).load_table("scratch.other_writer")
table.append(pa.table({{"id": pa.array(["from-pyiceberg"], pa.large_string())}}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
    done = subprocess.run([sys.executable, "-c", writer], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    spark.sql(f"refresh table {cat}.scratch.other_writer")
    assert [r.id for r in spark.sql(f"select id from {cat}.scratch.other_writer").collect()] == ["from-pyiceberg"]
