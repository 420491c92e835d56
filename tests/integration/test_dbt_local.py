"""The dbt project on the embedded `local` target: real pyiceberg catalog, real DuckDB, real dbt.

A small silver data set (two days; multi-line invoices, cancellations, a stock write-off,
non-product codes, guests) is appended to `silver.order_lines` through pyiceberg in a throwaway
lakehouse home, exported to DuckDB by `Warehouse.export_silver` (pipeline.warehouse), and built with
`dbt build` (all data tests and unit tests). Then mart values are spot-checked, an incremental
rebuild after a late event is shown to replace only the touched day, and one day of generated
data (about 3,000 lines) builds (its timing is `make bench-dbt`, docs/benchmarks.md).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from lakehouse.benchmarks.dbt import dbt_build, make_lake, one_day_of_lines, silver_row
from lakehouse.runtime.dbt_runner import run_dbt
from lakehouse_core.settings import Settings
from pipeline.warehouse import duckdb_path, warehouse_for

pytestmark = pytest.mark.integration

# One line per order-line event; customer "-" = null (guest), "''" = empty string (also a guest).
LINES_TABLE = """
id  | invoice | stock_code   | description            | qty | price | cur | cust  | country        | event_ts
e01 | 536365  | 85123A       | HEART T-LIGHT HOLDER   |   6 |  2.55 | GBP | 17850 | United Kingdom | 2010-12-01 08:26
e02 | 536365  | 71053        | WHITE METAL LANTERN    |   6 |  3.39 | GBP | 17850 | United Kingdom | 2010-12-01 08:26
e03 | 536365  | 84406B       | CUPID HEARTS HANGER    |   8 |  2.75 | GBP | 17850 | United Kingdom | 2010-12-01 08:26
e04 | 536365  | POST         | POSTAGE                |   1 | 18.00 | GBP | 17850 | United Kingdom | 2010-12-01 08:26
e05 | 536366  | 22633        | HAND WARMER UNION JACK |   6 |  1.85 | GBP | 17850 | United Kingdom | 2010-12-01 08:28
e06 | 536366  | 22632        | HAND WARMER POLKA DOT  |   6 |  1.85 | GBP | 17850 | United Kingdom | 2010-12-01 08:28
e07 | 536367  | 85123A       | HEART T-LIGHT HOLDER   |   4 |  2.55 | GBP | -     | United Kingdom | 2010-12-01 09:01
e08 | 536367  | 71053        | WHITE METAL LANTERN    |   2 |  3.39 | GBP | -     | United Kingdom | 2010-12-01 09:01
e09 | 536368  | 22633        | HAND WARMER UNION JACK |  12 |  1.85 | EUR | 13047 | France         | 2010-12-01 10:15
e10 | 536368  | 22632        | HAND WARMER POLKA DOT  |  12 |  1.85 | EUR | 13047 | France         | 2010-12-01 10:15
e11 | 536368  | BANK CHARGES | Bank Charges           |   1 | 15.00 | EUR | 13047 | France         | 2010-12-01 10:15
e12 | C536379 | 85123A       | HEART T-LIGHT HOLDER   |  -2 |  2.55 | GBP | 17850 | United Kingdom | 2010-12-01 11:41
e13 | 536380  | 22139        | damaged                | -56 |     0 | GBP | -     | United Kingdom | 2010-12-01 11:52
e14 | 536400  | 22633        | HAND WARMER UNION JACK |   6 |  1.85 | EUR | 13047 | France         | 2010-12-02 09:00
e15 | 536400  | 85123A       | HEART T-LIGHT HOLDER   |   6 |  2.55 | EUR | 13047 | France         | 2010-12-02 09:00
e16 | 536400  | m            | Manual                 |   1 |  0.85 | EUR | 13047 | France         | 2010-12-02 09:00
e17 | 536401  | 85123A       | HEART T-LIGHT HOLDER   |   3 |  2.95 | EUR | 12583 | Germany        | 2010-12-02 13:30
e18 | C536402 | 85123A       | HEART T-LIGHT HOLDER   |  -1 |  2.95 | EUR | 12583 | Germany        | 2010-12-02 15:00
e19 | 536403  | GIFT_0001_20 | Gift Voucher 20.00     |   1 | 16.67 | GBP | ''    | United Kingdom | 2010-12-02 23:59
"""


def parse_lines(table: str) -> list[tuple]:
    """(event_id, invoice_no, stock_code, description, quantity, price, currency, customer_id, country, event_ts)"""
    rows = []
    for text in table.strip().splitlines()[1:]:
        event, invoice, code, description, qty, price, currency, customer, country, ts = (
            cell.strip() for cell in text.split("|")
        )
        customer = {"-": None, "''": ""}.get(customer, customer)
        rows.append((event, invoice, code, description, int(qty), price, currency, customer, country, ts))
    return rows


LINES = parse_lines(LINES_TABLE)


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def query(settings: Settings, sql: str, parameters: list | None = None) -> list[tuple]:
    with duckdb.connect(str(duckdb_path(settings)), read_only=True) as con:
        return con.execute(sql, parameters or []).fetchall()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("dbt-lake")
    settings = make_lake(home, LINES, ingested_at=_ts("2010-12-03 00:10"))
    exported = warehouse_for(settings).export_silver()
    code, results, elapsed = dbt_build(settings, home / "dbt")
    return {"settings": settings, "exported": exported, "code": code, "results": results, "seconds": elapsed}


UK_HEART_DAY_1 = """
    select {columns} from marts.agg_daily_sales
    where order_date = date '2010-12-01' and country = 'United Kingdom' and stock_code = '85123A'
"""


def test_export_copies_silver_from_iceberg_into_duckdb(built: dict) -> None:
    settings = built["settings"]
    assert built["exported"] == len(LINES)
    columns = dict(
        query(
            settings,
            """
            select column_name, data_type from information_schema.columns
            where table_schema = 'silver' and table_name = 'order_lines'
            """,
        )
    )
    assert columns["unit_price"] == "DECIMAL(12,3)"
    assert columns["event_ts"] == "TIMESTAMP WITH TIME ZONE"
    assert columns["customer_id"] == "VARCHAR"


def test_build_passes_every_model_data_test_and_unit_test(built: dict) -> None:
    assert built["code"] == 0, "dbt build failed; see the captured output"
    results = built["results"]["results"]
    failed = [r["unique_id"] for r in results if r["status"] not in ("success", "pass")]
    assert failed == []
    kinds: dict[str, int] = {}
    for r in results:
        kind = r["unique_id"].split(".", 1)[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds["model"] == 16
    assert kinds["unit_test"] >= 11
    assert kinds["test"] >= 80


def test_every_model_and_column_is_documented(built: dict) -> None:
    settings = built["settings"]
    manifest = json.loads((settings.home / "dbt" / "target" / "manifest.json").read_text())
    undocumented = []
    for node in manifest["nodes"].values():
        if node["resource_type"] not in ("model", "seed"):
            continue
        if not node["description"].strip():
            undocumented.append(node["name"])
        columns = query(
            settings,
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [node["schema"], node["name"]],
        )
        documented = {name for name, column in node["columns"].items() if column.get("description")}
        undocumented += [f"{node['name']}.{c}" for (c,) in columns if c not in documented]
    assert undocumented == []


def test_daily_sales_nets_cancellations_and_leaves_out_non_products(built: dict) -> None:
    settings = built["settings"]
    columns = (
        "sold_quantity, cancelled_quantity, net_quantity, gross_revenue, cancelled_revenue, net_revenue, "
        "order_count, customer_count, guest_line_count"
    )
    rows = query(settings, UK_HEART_DAY_1.format(columns=columns))
    # 6 + 4 sold (one guest line), 2 cancelled the same day
    assert rows == [(10, 2, 8, Decimal("25.500"), Decimal("5.100"), Decimal("20.400"), 2, 1, 1)]
    # a cancellation on a day without sales of the product in that country is booked on its own day
    germany = "select net_revenue from marts.agg_daily_sales where order_date = '2010-12-02' and country = 'Germany'"
    assert query(settings, germany) == [(Decimal("5.900"),)]
    codes = {r[0] for r in query(settings, "select distinct stock_code from marts.agg_daily_sales")}
    assert codes.isdisjoint({"POST", "BANK CHARGES", "M", "GIFT_0001_20", "22139"})
    totals = query(
        settings, "select currency, sum(net_revenue) from marts.agg_daily_sales group by currency order by currency"
    )
    assert totals == [("EUR", Decimal("76.700")), ("GBP", Decimal("91.720"))]


def test_order_line_fact_keeps_every_line_classified(built: dict) -> None:
    settings = built["settings"]
    by_type = dict(query(settings, "select line_type, count(*) from marts.fct_order_lines group by line_type"))
    assert by_type == {"sale": 16, "cancellation": 2, "stock_adjustment": 1}
    non_products = dict(
        query(settings, "select stock_code, non_product_category from marts.fct_order_lines where not is_product")
    )
    assert non_products == {"POST": "postage", "BANK CHARGES": "fee", "M": "manual", "GIFT_0001_20": "voucher"}
    # guests (null, and the empty string) stay in the fact but not in dim_customers
    assert query(settings, "select count(*) from marts.fct_order_lines where is_guest") == [(4,)]
    customers = {r[0] for r in query(settings, "select customer_id from marts.dim_customers")}
    assert customers == {"17850", "13047", "12583"}


def test_product_affinity_pairs(built: dict) -> None:
    rows = query(
        built["settings"],
        """
        select product_a, product_b, co_invoice_count, support, confidence, lift, recommendation_rank
        from marts.agg_product_affinity
        order by product_a, product_b
        """,
    )
    # 6 baskets (sale invoices with products): 85123A in 4, 71053 in 2, 22633 in 3, 22632 in 2;
    # 22633 + 85123A share only one invoice: under the threshold of 2
    third = pytest.approx(2 / 6)
    assert rows == [
        ("22632", "22633", 2, third, 1.0, pytest.approx(2.0), 1),
        ("22633", "22632", 2, third, pytest.approx(2 / 3), pytest.approx(2.0), 1),
        ("71053", "85123A", 2, third, 1.0, pytest.approx(1.5), 1),
        ("85123A", "71053", 2, third, 0.5, pytest.approx(1.5), 1),
    ]


def test_customer_value_and_hourly_rate(built: dict) -> None:
    settings = built["settings"]
    value = query(
        settings,
        "select customer_id, frequency, monetary, recency_days from marts.agg_customer_value order by customer_id",
    )
    # monetary: net product revenue (17850: 57.64 + 22.20 - 5.10; postage, bank charges, manual lines left out)
    assert value == [
        ("12583", 1, Decimal("5.900"), 1),
        ("13047", 2, Decimal("70.800"), 1),
        ("17850", 2, Decimal("74.740"), 2),
    ]
    hourly = query(
        settings,
        """
        select count(*), sum(order_count), sum(cancellation_count), min(transaction_hour), max(transaction_hour)
        from marts.agg_hourly_transactions
        """,
    )
    # every hour from 08:00 on day 1 to 23:00 on day 2; 7 orders (the write-off-only invoice 536380
    # is an adjustment, not an order), 2 cancellations
    assert hourly == [(40, 7, 2, datetime(2010, 12, 1, 8), datetime(2010, 12, 2, 23))]


def test_incremental_rebuild_replaces_only_the_days_with_new_lines(built: dict, tmp_path: Path) -> None:
    assert built["code"] == 0
    # a copy of the built warehouse, so the other tests keep theirs
    settings = replace(built["settings"], home=tmp_path)
    shutil.copy(duckdb_path(built["settings"]), duckdb_path(settings))
    late_line = ("late1", "536370", "85123A", "HEART T-LIGHT HOLDER      ", 10, "2.55", "GBP", "17850")
    new_line = ("new1", "536500", "71053", "WHITE METAL LANTERN", 1, "3.39", "GBP", None)
    late = silver_row((*late_line, "United Kingdom", "2010-12-01 20:00"), _ts("2010-12-03 02:00"), "run-2")
    new_day = silver_row((*new_line, "United Kingdom", "2010-12-03 08:00"), _ts("2010-12-03 09:00"), "run-2")
    with duckdb.connect(str(duckdb_path(settings))) as con:
        for row in (late, new_day):
            values = ", ".join(f"?::{_duck_type(column)} as {column}" for column in row)
            con.execute(f"insert into silver.order_lines by name select {values}", list(row.values()))
        # mark the fact rows of both old days: a rebuilt day loses the mark, an untouched one keeps it
        con.execute("update marts.fct_order_lines set description = 'MARK' where order_date <= date '2010-12-02'")

    code, results, _ = dbt_build(settings, tmp_path / "dbt")

    assert code == 0, [r["unique_id"] for r in results.get("results", []) if r["status"] not in ("success", "pass")]
    per_day = query(
        settings,
        """
        select order_date, count(*), count(*) filter (where description = 'MARK')
        from marts.fct_order_lines group by order_date order by order_date
        """,
    )
    assert per_day == [(date(2010, 12, 1), 14, 0), (date(2010, 12, 2), 6, 6), (date(2010, 12, 3), 1, 0)]
    assert query(settings, UK_HEART_DAY_1.format(columns="net_revenue")) == [(Decimal("45.900"),)]


def _duck_type(column: str) -> str:
    return {
        "invoice_line": "integer",
        "quantity": "integer",
        "unit_price": "decimal(12,3)",
        "is_cancellation": "boolean",
        "event_ts": "timestamptz",
        "emitted_at": "timestamptz",
        "arrival_hour": "timestamptz",
        "ingested_at": "timestamptz",
    }.get(column, "varchar")


def test_parse_writes_the_manifest_cosmos_loads(built: dict, tmp_path: Path) -> None:
    code = run_dbt(built["settings"], ["parse", "--target-path", str(tmp_path), "--log-path", str(tmp_path)])
    assert code == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert {"stg_order_lines", "fct_order_lines", "agg_daily_sales", "agg_product_affinity"} <= models
    assert len(manifest["unit_tests"]) >= 6


def test_one_day_of_generated_data_builds(tmp_path: Path) -> None:
    """How long it takes is `make bench-dbt`'s question (docs/benchmarks.md), not a test's."""
    lines = one_day_of_lines(datetime(2011, 3, 1, tzinfo=UTC))
    settings = make_lake(tmp_path, lines, ingested_at=datetime(2011, 3, 2, 1, tzinfo=UTC))
    rows = warehouse_for(settings).export_silver()
    code, results, _ = dbt_build(settings, tmp_path / "dbt")
    assert code == 0
    assert rows == len(lines) and 2000 <= rows <= 5000
    assert all(r["status"] in ("success", "pass") for r in results["results"])
