"""The local warehouse: silver (and the gold tables) copied into the database dbt's `local` / `compose` target reads.

DuckDB's Iceberg extension cannot be installed offline, so before dbt builds the marts locally
the silver Iceberg tables are copied into the DuckDB file (the DAG's `export_silver` task and
`lakehouse dbt`); in docker-compose the same copy goes to PostgreSQL (`pipeline.warehouse_export`).
It lives here, in the DAGs' own package, because the DAG's task imports it: on every deployment
the DAGs import only what the dags folder holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from pipeline.dbt_cosmos import duckdb_path
from pipeline.settings import Settings

log = logging.getLogger(__name__)
SILVER_TABLES = ("silver.order_lines",)
# The recommendation job's gold tables, which the recommendations mart reads (created empty by
# the table init, so the export never waits for the first recommendation run).
GOLD_TABLES = ("gold.product_recommendations", "gold.similar_products")
WAREHOUSE_TABLES = SILVER_TABLES + GOLD_TABLES
# Targets whose warehouse reads a copy of silver (DuckDB, compose's PostgreSQL); Redshift reads it in place.
COPYING_TARGETS = ("local", "compose")


class MissingTableError(RuntimeError):
    """A silver table to export does not exist yet; says what to run."""


def export_silver(settings: Settings, tables: Sequence[str] = WAREHOUSE_TABLES) -> int:
    """Copy the silver (and gold) Iceberg tables into the warehouse of the dbt target; returns the rows copied.

    `local`: the DuckDB file; `compose`: PostgreSQL (`pipeline.warehouse_export`). Each table
    is replaced inside a single transaction, so a reader (or a failed export) never sees half a
    table. Redshift reads silver in place through Spectrum: nothing to copy.
    """
    if settings.dbt_target == "compose":
        from pipeline.warehouse_export import export_to_postgres

        return export_to_postgres(settings, {t: _silver_table(settings, t) for t in tables})
    if settings.dbt_target not in COPYING_TARGETS:
        raise ValueError(f"dbt target {settings.dbt_target!r} reads silver in place; there is nothing to export")
    import duckdb

    target = duckdb_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    total = 0
    with duckdb.connect(str(target)) as con:
        for identifier in tables:
            namespace, name = identifier.split(".", 1)
            table = _silver_table(settings, identifier)
            started = time.perf_counter()
            reader = table.scan().to_arrow_batch_reader()
            con.execute("begin transaction")
            try:
                con.execute(f'create schema if not exists "{namespace}"')
                con.register("silver_export", reader)
                con.execute(f'create or replace table "{namespace}"."{name}" as select * from silver_export')  # nosec B608  # identifiers from the table list in code, quoted
                con.unregister("silver_export")
                con.execute("commit")
            except Exception:
                con.execute("rollback")
                raise
            rows = con.execute(f'select count(*) from "{namespace}"."{name}"').fetchone()[0]  # nosec B608  # identifiers from the table list in code, quoted
            total += rows
            log.info(f"exported {identifier} ({rows} rows) to {target} in {time.perf_counter() - started:.1f}s")
    return total


def _silver_table(settings: Settings, identifier: str):  # -> pyiceberg.table.Table
    from pyiceberg.exceptions import NoSuchTableError

    from pipeline.catalog import load_table, open_catalog

    catalog = open_catalog(settings)
    try:
        return load_table(settings, identifier, catalog)
    except NoSuchTableError:
        if identifier in GOLD_TABLES:
            # A lake made before the recommendation tables existed: create them empty (what
            # `lakehouse init` would do), so the marts build before the first recommendation run.
            from pipeline.catalog import init_catalog
            from pipeline.tables import table

            init_catalog(settings, (table(identifier),))
            return load_table(settings, identifier, catalog)
        raise MissingTableError(
            f"Iceberg table {identifier} does not exist in catalog {settings.catalog_name!r}; "
            "run `lakehouse init` (and an ingest) first"
        ) from None
