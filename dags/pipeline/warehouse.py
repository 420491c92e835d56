"""Where dbt builds the marts, chosen once from settings: `warehouse_for(settings)`.

The dbt target (`settings.dbt_target`) names one of three warehouses, and this module is the one
place that tells them apart, as `lakehouse_core.spark_backends.backend_for` does for Spark:

- `DuckDBWarehouse` (`local`): the file `<home>/warehouse.duckdb`. Silver is copied in before dbt
  (DuckDB's Iceberg extension cannot be installed offline). One writer: Cosmos' watcher mode
  runs one `dbt build`, the DAG one task at a time, no retries (a failed model fails again).
- `PostgresWarehouse` (`compose`): docker-compose's PostgreSQL standing in for Redshift. Silver
  is copied in (`lakehouse.runtime.warehouse_export`); watcher mode too (26 dbt start-ups were most of
  compose's hour, issue 30); models in parallel; one retry (a dropped connection).
- `RedshiftWarehouse` (`redshift`): silver read in place through Spectrum, nothing copied; one
  `dbt build --select` per model, in parallel; one retry; queries and the daily `ANALYZE` of
  every mart through the Redshift Data API (the worker's role, deferrable).

Each answers what differs: where it is (`location`), whether silver is copied in
(`copies_silver`, `export_silver`), how to read it (`connect`, `query`: the one query path of
the dashboard, the rate alarm and `lakehouse dbt`'s preview), how dbt runs on it (Cosmos
execution mode, parallel tasks, retries) and its upkeep after builds (`upkeep_task`). A new
warehouse is one more class in `WAREHOUSES`, not one more `if` in every module.

This module ships to MWAA with the DAGs: duckdb, psycopg2, pyiceberg and the Amazon provider
are imported inside the implementations that need them, never at import time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, Protocol

from lakehouse_core.settings import Settings

DBT_RETRIES = 1
# How many dbt tasks of one hourly run may run at once on MWAA. An mw1.small worker runs 5 tasks in
# about 2 GB: each dbt task is an Airflow task process (~200 MB with the DAG and Cosmos loaded) plus
# its dbt subprocess (`dbt parse` of this project peaks at 134 MB RSS here; running a model with
# dbt-redshift adds the driver), about 350 MB together. Three leave the worker ~1 GB and two task
# slots for the other DAGs (maintenance, recommendations, the hourly run's own next steps).
MWAA_DBT_PARALLEL_TASKS = 3
DBT_PARALLEL_TASKS = 8  # compose: the worker container is not an mw1.small
BUILD_FIRST = "run `make demo` (or `lakehouse dbt`) first"


class WarehouseMissingError(RuntimeError):
    """The marts are not there yet (no build, or every run failed before dbt); says what to run."""


class Rows(NamedTuple):
    """One query's result: column names and rows (unpacks as `headers, rows = ...`)."""

    headers: list[str]
    rows: list[tuple]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.headers, row, strict=True)) for row in self.rows]


class Marts(Protocol):
    """An open connection to the warehouse: `Warehouse.connect()` gives one for a batch of queries."""

    def query(self, sql: str) -> Rows: ...


def duckdb_path(settings: Settings) -> Path:
    """The local target's DuckDB warehouse file (dbt's `local` profile reads it as LAKEHOUSE_DUCKDB_PATH)."""
    return settings.home / "warehouse.duckdb"


@dataclass(frozen=True)
class Warehouse:
    """The dbt target's warehouse, for one settings object. Subclasses say what differs."""

    settings: Settings
    target: ClassVar[str]  # the dbt target in dbt/profiles.yml (`settings.dbt_target`)
    engine: ClassVar[str]  # what it is, for people: DuckDB, PostgreSQL, Redshift
    # Silver is copied in before dbt (the DAG's export_silver task); else dbt reads it in place.
    copies_silver: ClassVar[bool] = False
    # Cosmos' watcher mode: one `dbt build` for the group, each model's task reporting from its
    # events; else one `dbt build --select <model>` per task.
    dbt_watcher: ClassVar[bool] = False
    dbt_retries: ClassVar[int] = DBT_RETRIES  # a dbt task's retries
    # `lakehouse dashboard` reads it; the Redshift marts are QuickSight's (infra/terraform/modules/quicksight).
    local_dashboard: ClassVar[bool] = True

    @property
    def location(self) -> str:
        """Where the marts are, for messages (never a password)."""
        raise NotImplementedError

    @property
    def dbt_parallel_tasks(self) -> int:
        """The hourly DAG's `max_active_tasks` (its other tasks run one after another):
        MWAA_DBT_PARALLEL_TASKS on AWS, else DBT_PARALLEL_TASKS."""
        return MWAA_DBT_PARALLEL_TASKS if self.settings.environment == "aws" else DBT_PARALLEL_TASKS

    def export_silver(self, tables: Sequence[str] | None = None) -> int:
        """Copy the silver (and gold) Iceberg tables in, each replaced in one transaction; rows copied."""
        raise ValueError(f"dbt target {self.target!r} reads silver in place; there is nothing to export")

    @contextmanager
    def connect(self) -> Iterator[Marts]:
        """One connection for a batch of queries (the dashboard's dozen); closed on leaving."""
        raise NotImplementedError
        yield  # pragma: no cover

    def query(self, sql: str) -> Rows:
        """One query on its own connection. WarehouseMissingError when the marts were never built here."""
        with self.connect() as marts:
            return marts.query(sql)

    def upkeep_task(self, task_id: str = "analyze_marts"):  # -> BaseOperator | None
        """The task that keeps the marts fast after the day's builds (the maintenance DAG's last), or None."""
        return None


class DuckDBWarehouse(Warehouse):
    target = "local"
    engine = "DuckDB"
    copies_silver = True
    dbt_watcher = True  # DuckDB is a single-writer file: nothing is lost by one dbt process
    dbt_retries = 0  # a local file: a failed model or test fails the same way again

    @property
    def path(self) -> Path:
        return duckdb_path(self.settings)

    @property
    def location(self) -> str:
        return str(self.path)

    @property
    def dbt_parallel_tasks(self) -> int:
        return 1  # a single writer

    def export_silver(self, tables: Sequence[str] | None = None) -> int:
        from lakehouse.runtime.local_warehouse import WAREHOUSE_TABLES, export_to_duckdb, silver_tables

        return export_to_duckdb(self.path, silver_tables(self.settings, tables or WAREHOUSE_TABLES))

    @contextmanager
    def connect(self) -> Iterator[Marts]:
        import duckdb

        if not self.path.exists():
            raise WarehouseMissingError(f"no warehouse at {self.path}: {BUILD_FIRST}")
        with duckdb.connect(str(self.path), read_only=True) as con:
            yield _DuckDBMarts(con)


@dataclass(frozen=True)
class _DuckDBMarts:
    con: Any  # duckdb.DuckDBPyConnection

    def query(self, sql: str) -> Rows:
        import duckdb

        try:
            cursor = self.con.execute(sql)
        except duckdb.CatalogException as exc:  # the marts were never built in this file
            raise WarehouseMissingError(f"{exc}; {BUILD_FIRST}") from None
        return Rows([d[0] for d in cursor.description], cursor.fetchall())


class PostgresWarehouse(Warehouse):
    target = "compose"
    engine = "PostgreSQL"
    copies_silver = True  # PostgreSQL cannot read Iceberg
    dbt_watcher = True  # one dbt start-up instead of one per model (issue 30)

    @property
    def location(self) -> str:
        return self.settings.warehouse_db_uri.split("@")[-1]

    def export_silver(self, tables: Sequence[str] | None = None) -> int:
        from lakehouse.runtime.local_warehouse import WAREHOUSE_TABLES, silver_tables
        from lakehouse.runtime.warehouse_export import export_to_postgres

        return export_to_postgres(self.settings, silver_tables(self.settings, tables or WAREHOUSE_TABLES))

    @contextmanager
    def connect(self) -> Iterator[Marts]:
        from lakehouse.runtime.warehouse_export import connect

        with connect(self.settings) as con:
            con.autocommit = True  # each query stands alone, as with a connection per query
            yield _PostgresMarts(con)


@dataclass(frozen=True)
class _PostgresMarts:
    con: Any  # psycopg2 connection

    def query(self, sql: str) -> Rows:
        with self.con.cursor() as cur:
            cur.execute(sql)
            return Rows([d[0] for d in cur.description], cur.fetchall())


@dataclass(frozen=True)
class RedshiftWarehouse(Warehouse):
    target = "redshift"
    engine = "Redshift"
    local_dashboard = False
    # A `RedshiftDataHook` to query through (tests pass one whose client is stubbed); None: the worker's role.
    hook: Any = field(default=None, compare=False)

    @property
    def location(self) -> str:
        where = self.data_api_target()
        kind, name = next(iter(where.items()))
        return f"{kind.split('_')[0]} {name}, database {self.settings.redshift_database}"

    def data_api_target(self) -> dict[str, str]:
        """The Data API's workgroup (Serverless) or cluster (provisioned): settings require one."""
        if self.settings.redshift_workgroup:
            return {"workgroup_name": self.settings.redshift_workgroup}
        return {"cluster_identifier": self.settings.redshift_cluster_id}

    @contextmanager
    def connect(self) -> Iterator[Marts]:
        hook = self.hook
        if hook is None:
            from airflow.providers.amazon.aws.hooks.redshift_data import RedshiftDataHook

            hook = RedshiftDataHook(aws_conn_id=None, region_name=self.settings.aws_region)
        yield _RedshiftMarts(hook, self.settings, self.data_api_target())

    def upkeep_task(self, task_id: str = "analyze_marts"):
        """`ANALYZE` every mart through the Redshift Data API (deferrable; Serverless or provisioned):
        the list comes from the dbt manifest, so new marts are covered without a code change."""
        from airflow.providers.amazon.aws.operators.redshift_data import RedshiftDataOperator

        from pipeline.dbt_project import dbt_project_dir, manifest_path, missing_manifest_task

        statements = analyze_statements(manifest_path())
        if not statements:
            return missing_manifest_task(task_id, manifest_path(), dbt_project_dir())
        return RedshiftDataOperator(
            task_id=task_id,
            sql=statements,
            database=self.settings.redshift_database,
            secret_arn=self.settings.redshift_secret_arn or None,
            region_name=self.settings.aws_region,
            aws_conn_id=None,
            deferrable=True,
            wait_for_completion=True,
            **self.data_api_target(),
        )


@dataclass(frozen=True)
class _RedshiftMarts:
    hook: Any  # RedshiftDataHook
    settings: Settings
    target: dict[str, str]

    def query(self, sql: str) -> Rows:
        """Through the Redshift Data API (the worker's role), as the daily ANALYZE."""
        output = self.hook.execute_query(
            sql=sql,
            database=self.settings.redshift_database,
            secret_arn=self.settings.redshift_secret_arn or None,
            wait_for_completion=True,
            poll_interval=2,
            **self.target,
        )
        result = self.hook.conn.get_statement_result(Id=output.statement_id)
        names = [column["name"] for column in result["ColumnMetadata"]]
        rows = [
            tuple(None if cell.get("isNull") else next(iter(cell.values())) for cell in record)
            for record in result["Records"]
        ]
        return Rows(names, rows)


def mart_relations(manifest: Path) -> list[str]:
    """`schema.table` of every materialised mart (table or incremental) in the dbt manifest."""
    from pipeline.assets import mart_nodes

    relations = {
        f"{node['schema']}.{node.get('alias') or node['name']}"
        for node in mart_nodes(manifest)
        if node.get("config", {}).get("materialized") in ("table", "incremental")
    }
    return sorted(relations)


def analyze_statements(manifest: Path) -> list[str]:
    return [f"ANALYZE {relation}" for relation in mart_relations(manifest)]


WAREHOUSES: dict[str, type[Warehouse]] = {
    "local": DuckDBWarehouse,
    "compose": PostgresWarehouse,
    "redshift": RedshiftWarehouse,
}


def warehouse_for(settings: Settings) -> Warehouse:
    """The warehouse `settings.dbt_target` names: the one place that reads it."""
    try:
        return WAREHOUSES[settings.dbt_target](settings)
    except KeyError:
        raise ValueError(f"unknown dbt_target {settings.dbt_target!r}; one of {', '.join(WAREHOUSES)}") from None
