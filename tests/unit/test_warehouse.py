"""The warehouse is chosen once from settings (`pipeline.warehouse.warehouse_for`), and answers what differs.

Each environment's default dbt target gets its warehouse with that warehouse's answers (copy of
silver, Cosmos mode, retries, parallel tasks, upkeep); a target settings do not know is refused
by settings, naming the variable. The DuckDB reads run on a real DuckDB file.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from lakehouse_core.settings import DBT_TARGETS, Settings, SettingsError, load_settings
from pipeline.warehouse import (
    MWAA_DBT_PARALLEL_TASKS,
    WAREHOUSES,
    DuckDBWarehouse,
    PostgresWarehouse,
    RedshiftWarehouse,
    WarehouseMissingError,
    warehouse_for,
)

pytestmark = pytest.mark.unit

AWS = {
    "LAKEHOUSE_ENV": "aws",
    "LAKEHOUSE_WAREHOUSE": "s3://lake/warehouse",
    "LAKEHOUSE_RAW_ROOT": "s3://raw/firehose",
    "LAKEHOUSE_REDSHIFT_WORKGROUP": "lakehouse-dev",
}


def settings_of(env: dict[str, str], home: Path) -> Settings:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "DBT_"))}
    return load_settings({**clean, "LAKEHOUSE_HOME": str(home), **env})


def test_every_target_settings_accept_has_a_warehouse() -> None:
    assert tuple(WAREHOUSES) == DBT_TARGETS
    assert all(kind.target == target for target, kind in WAREHOUSES.items())


def test_local_gets_the_duckdb_file_copied_into_built_by_one_dbt_process(tmp_path: Path) -> None:
    warehouse = warehouse_for(settings_of({"LAKEHOUSE_ENV": "local"}, tmp_path))
    assert type(warehouse) is DuckDBWarehouse
    assert warehouse.location == str(tmp_path / "warehouse.duckdb")
    assert warehouse.copies_silver and warehouse.dbt_watcher and warehouse.local_dashboard
    assert (warehouse.dbt_parallel_tasks, warehouse.dbt_retries) == (1, 0)  # one writer; a failure repeats
    assert warehouse.upkeep_task() is None


def test_compose_gets_postgres_copied_into_with_a_retry_and_no_password_in_its_location(tmp_path: Path) -> None:
    env = {"LAKEHOUSE_ENV": "compose", "DBT_ENV_SECRET_POSTGRES_PASSWORD": "s3cret"}
    warehouse = warehouse_for(settings_of(env, tmp_path))
    assert type(warehouse) is PostgresWarehouse
    assert warehouse.location == "postgres:5432/warehouse"
    assert warehouse.copies_silver and warehouse.dbt_watcher and warehouse.local_dashboard
    assert (warehouse.dbt_parallel_tasks, warehouse.dbt_retries) == (8, 1)
    assert warehouse.upkeep_task() is None


def test_aws_gets_redshift_read_in_place_one_build_per_model(tmp_path: Path) -> None:
    warehouse = warehouse_for(settings_of(AWS, tmp_path))
    assert type(warehouse) is RedshiftWarehouse
    assert warehouse.location == "workgroup lakehouse-dev, database dev"
    assert not (warehouse.copies_silver or warehouse.dbt_watcher or warehouse.local_dashboard)
    assert (warehouse.dbt_parallel_tasks, warehouse.dbt_retries) == (MWAA_DBT_PARALLEL_TASKS, 1)
    with pytest.raises(ValueError, match="reads silver in place"):
        warehouse.export_silver()


def test_a_target_settings_do_not_know_is_refused_by_settings(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"LAKEHOUSE_DBT_TARGET='snowflake'.*local, compose, redshift"):
        settings_of({"LAKEHOUSE_DBT_TARGET": "snowflake"}, tmp_path)


def test_duckdb_reads_say_what_to_run_until_the_marts_exist_then_share_one_connection(tmp_path: Path) -> None:
    warehouse = warehouse_for(settings_of({"LAKEHOUSE_ENV": "local"}, tmp_path))
    with pytest.raises(WarehouseMissingError, match=r"no warehouse at .*make demo"):
        warehouse.query("select 1")
    with duckdb.connect(warehouse.location) as con:
        con.execute("create schema silver")
    with pytest.raises(WarehouseMissingError, match=r"(?s)agg_daily_sales.*make demo"):
        warehouse.query("select * from marts.agg_daily_sales")
    with duckdb.connect(warehouse.location) as con:
        con.execute("create schema marts")
        con.execute("create table marts.agg_daily_sales as select 'GB' as country, 2.5 as net_revenue")
    headers, rows = warehouse.query("select country, net_revenue from marts.agg_daily_sales")
    assert (headers, rows) == (["country", "net_revenue"], [("GB", 2.5)])
    with warehouse.connect() as marts:
        first, second = marts.query("select 1 as n"), marts.query("select count(*) as n from marts.agg_daily_sales")
    assert (first.dicts(), second.dicts()) == ([{"n": 1}], [{"n": 1}])
