"""Silver into the compose warehouse: a real Iceberg table (pyiceberg, SQL catalog) copied into a
real PostgreSQL (a throwaway `initdb` cluster), the way the DAG's `export_silver` does on compose.

What must hold: every value arrives with its type (decimals, timestamps with time zone,
booleans), an empty string stays an empty string and only a missing value becomes NULL, a
second export replaces the rows instead of adding to them, and the views dbt built over the
table survive it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from lakehouse.runtime.warehouse_export import connect
from lakehouse_core.catalog import init_catalog, open_catalog
from lakehouse_core.settings import Settings, load_settings
from pipeline.warehouse import warehouse_for
from tests.helpers.postgres import postgres_sql

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 1, 8, 26, tzinfo=UTC)


@pytest.fixture
def settings(postgres: dict[str, str], tmp_path: Path) -> Settings:
    name = f"export_{tmp_path.name[-12:].lower().replace('-', '_')}"
    postgres_sql({**postgres, "dbname": "postgres"}, (f"create database {name}", []))
    return load_settings(
        {
            "LAKEHOUSE_ENV": "local",
            "LAKEHOUSE_HOME": str(tmp_path / "lake"),
            "LAKEHOUSE_DBT_TARGET": "compose",
            "LAKEHOUSE_WAREHOUSE_DB_URI": f"postgresql+psycopg2://{postgres['user']}@127.0.0.1:{postgres['port']}/{name}",
        }
    )


def _line(event_id: str, description: str | None, customer: str | None, quantity: int) -> dict:
    return {
        "event_id": event_id,
        "invoice_no": "C536379" if quantity < 0 else "536365",
        "invoice_line": 1,
        "stock_code": "85123A",
        "description": description,
        "quantity": quantity,
        "unit_price": Decimal("2.550"),
        "currency": "GBP",
        "customer_id": customer,
        "country": "United Kingdom",
        "event_ts": T0,
        "emitted_at": None,
        "is_cancellation": quantity < 0,
        "source_object": "s3://lakehouse-raw/orders/2026/11/01/08/o.gz",
        "arrival_hour": T0.replace(minute=0),
        "run_id": "orders_2026110108_x",
        "ingested_at": T0,
    }


def _append(settings: Settings, rows: list[dict]) -> None:
    table = open_catalog(settings).load_table("silver.order_lines")
    table.append(pa.Table.from_pylist(rows, schema=table.schema().as_arrow()))


def _rows(settings: Settings, sql: str) -> list[tuple]:
    with connect(settings) as con, con.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_export_copies_values_exactly_and_replaces_the_table(settings: Settings) -> None:
    init_catalog(settings)
    _append(settings, [_line("e1", "WHITE HEART", "17850", 6), _line("e2", "", None, -2), _line("e3", None, "", 1)])

    assert warehouse_for(settings).export_silver() == 3
    rows = _rows(
        settings,
        "select event_id, description, customer_id, quantity, unit_price, event_ts, emitted_at, is_cancellation "
        "from silver.order_lines order by event_id",
    )
    assert rows == [
        ("e1", "WHITE HEART", "17850", 6, Decimal("2.550"), T0, None, False),
        ("e2", "", None, -2, Decimal("2.550"), T0, None, True),
        ("e3", None, "", 1, Decimal("2.550"), T0, None, False),
    ]
    types = dict(
        _rows(
            settings,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'silver' and table_name = 'order_lines'",
        )
    )
    assert types["unit_price"] == "numeric" and types["event_ts"] == "timestamp with time zone"
    assert types["quantity"] == "integer" and types["is_cancellation"] == "boolean"

    # a view over it (as dbt's staging views are), then more rows upstream and a second export
    with connect(settings) as con, con, con.cursor() as cur:
        cur.execute("create view silver.v_lines as select event_id from silver.order_lines")
    _append(settings, [_line("e4", "MUG", "13047", 4)])
    assert warehouse_for(settings).export_silver() == 4
    assert _rows(settings, "select count(*), count(distinct event_id) from silver.v_lines") == [(4, 4)]
