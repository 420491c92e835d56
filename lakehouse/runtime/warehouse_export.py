"""Silver into the compose warehouse (PostgreSQL); `pipeline.warehouse.PostgresWarehouse` reads the marts back.

docker-compose's warehouse is PostgreSQL standing in for Redshift. Redshift reads silver in
place through Spectrum; PostgreSQL cannot read Iceberg, so before dbt builds the marts the
silver tables are copied in, as the local target copies them into DuckDB:

- the table is read through pyiceberg (the same catalog Spark writes) as Arrow batches;
- its PostgreSQL table is created from the Iceberg schema, missing columns are added (schema
  evolution), and its rows are replaced -- `truncate` then `COPY` in one transaction, so dbt's
  views over it never see half a table, and the views themselves survive (a `drop` would not);
- each batch goes through `COPY ... (format csv)`: Arrow writes the CSV with every valid value
  quoted, so an empty string stays an empty string and only a missing value becomes NULL.

psycopg2 comes from the main environment's `compose` extra (Airflow on PostgreSQL needs it too).
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from lakehouse_core.settings import Settings

log = logging.getLogger(__name__)


def postgres_type(arrow_type: Any) -> str:
    """The PostgreSQL column type for an Arrow type (the ones Iceberg tables produce)."""
    import pyarrow as pa

    t = arrow_type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_int32(t) or pa.types.is_int16(t) or pa.types.is_int8(t):
        return "integer"
    if pa.types.is_int64(t):
        return "bigint"
    if pa.types.is_float32(t):
        return "real"
    if pa.types.is_float64(t):
        return "double precision"
    if pa.types.is_decimal(t):
        return f"numeric({t.precision}, {t.scale})"
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "bytea"
    raise TypeError(f"no PostgreSQL column type for Arrow type {t}")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _dsn(settings: Settings) -> str:
    """libpq URI from the settings' SQLAlchemy URI (`postgresql+psycopg2://` -> `postgresql://`)."""
    if not settings.warehouse_db_uri:
        raise ValueError("no PostgreSQL warehouse in these settings (LAKEHOUSE_ENV=compose sets one)")
    scheme, rest = settings.warehouse_db_uri.split("://", 1)
    if scheme.split("+", 1)[0] not in ("postgresql", "postgres"):
        raise ValueError(f"warehouse_db_uri {settings.warehouse_db_uri.split('@')[-1]!r} is not PostgreSQL")
    return f"postgresql://{rest}"


@contextmanager
def connect(settings: Settings) -> Iterator[Any]:
    """A psycopg2 connection to the warehouse (the export's, and `PostgresWarehouse.connect`'s)."""
    import psycopg2

    con = psycopg2.connect(_dsn(settings), connect_timeout=30)
    try:
        yield con
    finally:
        con.close()


def export_to_postgres(settings: Settings, tables: Mapping[str, Any]) -> int:
    """Replace each `namespace.table` in the warehouse with the pyiceberg table's rows; rows copied."""
    import pyarrow.csv as pacsv

    total = 0
    with connect(settings) as con:
        for identifier, table in tables.items():
            started = time.perf_counter()
            namespace, name = (_quote(part) for part in identifier.split(".", 1))
            reader = table.scan().to_arrow_batch_reader()
            schema = reader.schema
            columns = ", ".join(_quote(f.name) for f in schema)
            with con, con.cursor() as cur:  # one transaction: commit on success, rollback on error
                cur.execute(f"create schema if not exists {namespace}")
                definitions = ", ".join(f"{_quote(f.name)} {postgres_type(f.type)}" for f in schema)
                cur.execute(f"create table if not exists {namespace}.{name} ({definitions})")
                for f in schema:
                    cur.execute(
                        f"alter table {namespace}.{name} add column if not exists {_quote(f.name)} "
                        f"{postgres_type(f.type)}"
                    )
                cur.execute(f"truncate {namespace}.{name}")
                options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
                for batch in reader:
                    if batch.num_rows == 0:
                        continue
                    buffer = io.BytesIO()
                    pacsv.write_csv(batch, buffer, write_options=options)
                    buffer.seek(0)
                    cur.copy_expert(f"copy {namespace}.{name} ({columns}) from stdin (format csv)", buffer)
                cur.execute(f"select count(*) from {namespace}.{name}")  # nosec B608  # identifiers from the table list in code
                rows = cur.fetchone()[0]
            total += rows
            where = settings.warehouse_db_uri.split("@")[-1]
            log.info(f"dbt: exported {identifier} ({rows} rows) to {where} in {time.perf_counter() - started:.1f}s")
    return total
