"""The local warehouse: silver (and the gold tables) copied into the database dbt's `local` / `compose` target reads.

DuckDB's Iceberg extension cannot be installed offline, so before dbt builds the marts locally
the silver Iceberg tables are copied into the DuckDB file (the DAG's `export_silver` task and
`lakehouse dbt`); in docker-compose the same copy goes to PostgreSQL (`lakehouse.runtime.warehouse_export`).
Which warehouse gets the copy, if any, is `pipeline.warehouse`'s to say (`Warehouse.export_silver`);
this module reads the tables and writes the DuckDB file. It lives here, in the DAGs' own package,
because the DAG's task imports it: on every deployment the DAGs import only what the dags folder holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lakehouse_core.settings import Settings

log = logging.getLogger(__name__)
SILVER_TABLES = ("silver.order_lines",)
# The recommendation job's gold tables, which the recommendations mart reads (created empty by
# the table init, so the export never waits for the first recommendation run).
GOLD_TABLES = ("gold.product_recommendations", "gold.similar_products")
WAREHOUSE_TABLES = SILVER_TABLES + GOLD_TABLES


class MissingTableError(RuntimeError):
    """A silver table to export does not exist yet; says what to run."""


def silver_tables(settings: Settings, tables: Sequence[str] = WAREHOUSE_TABLES) -> dict[str, Any]:
    """The pyiceberg tables to copy into the warehouse, by `namespace.table` (what `Warehouse.export_silver` copies)."""
    return {identifier: _silver_table(settings, identifier) for identifier in tables}


def export_to_duckdb(target: Path, tables: Mapping[str, Any]) -> int:
    """Replace each `namespace.table` in the DuckDB file `target` with the pyiceberg table's rows; rows copied.

    Each table is replaced inside a single transaction, so a reader (or a failed export) never
    sees half a table.
    """
    import duckdb

    target.parent.mkdir(parents=True, exist_ok=True)
    total = 0
    with duckdb.connect(str(target)) as con:
        for identifier, table in tables.items():
            namespace, name = identifier.split(".", 1)
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

    from lakehouse_core.catalog import load_table, open_catalog

    catalog = open_catalog(settings)
    try:
        return load_table(settings, identifier, catalog)
    except NoSuchTableError:
        if identifier in GOLD_TABLES:
            # A lake made before the recommendation tables existed: create them empty (what
            # `lakehouse init` would do), so the marts build before the first recommendation run.
            from lakehouse_core.catalog import init_catalog
            from lakehouse_core.tables import table

            init_catalog(settings, (table(identifier),))
            return load_table(settings, identifier, catalog)
        raise MissingTableError(
            f"Iceberg table {identifier} does not exist in catalog {settings.catalog_name!r}; "
            "run `lakehouse init` (and an ingest) first"
        ) from None
