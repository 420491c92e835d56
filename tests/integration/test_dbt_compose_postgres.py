"""The same dbt project on the `compose` target: a real PostgreSQL, started by the test.

PostgreSQL stands in for Redshift in docker-compose; it is also the closest engine to Redshift
that runs here, so building every model, data test and unit test on it (after DuckDB) shows the
models are portable without edits. The server is a throwaway `initdb` cluster on a free port.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lakehouse.runtime.dbt_runner import run_dbt
from lakehouse_core.settings import load_settings
from tests.helpers.postgres import postgres_sql

pytestmark = pytest.mark.integration

# The gold tables as the export creates them (lakehouse.runtime.warehouse_export); one recommendation list
# so the mart and its tests run on rows.
GOLD_DDL = """
create schema if not exists gold;
create table gold.product_recommendations (
    customer_id text, rank integer, stock_code text, score double precision, model_version text,
    trained_at timestamptz
);
create table gold.similar_products (
    stock_code text, rank integer, similar_stock_code text, score double precision, model_version text,
    trained_at timestamptz
);
insert into gold.product_recommendations values
    ('17850', 1, '85123A', 0.9, 'als-test', '2010-12-03 02:30+00'),
    ('17850', 2, '22423', 0.4, 'als-test', '2010-12-03 02:30+00');
"""
SILVER_DDL = """
create schema if not exists silver;
create table silver.order_lines (
    event_id varchar not null, invoice_no varchar not null, invoice_line integer not null,
    stock_code varchar not null, description varchar, quantity integer not null,
    unit_price decimal(12, 3) not null, currency varchar not null, customer_id varchar,
    country varchar not null, event_ts timestamptz not null, emitted_at timestamptz,
    is_cancellation boolean not null, source_object varchar not null, arrival_hour timestamptz not null,
    run_id varchar not null, ingested_at timestamptz not null
);
"""

# invoice, stock_code, quantity, unit_price, customer_id, country, event_ts
ROWS = [
    ("536365", "85123A", 6, "2.55", "17850", "United Kingdom", "2010-12-01 08:26+00"),
    ("536365", "71053", 6, "3.39", "17850", "United Kingdom", "2010-12-01 08:26+00"),
    ("536365", "POST", 1, "18.00", "17850", "United Kingdom", "2010-12-01 08:26+00"),
    ("536367", "85123A", 4, "2.55", None, "United Kingdom", "2010-12-01 09:01+00"),
    ("536367", "71053", 2, "3.39", None, "United Kingdom", "2010-12-01 09:01+00"),
    ("C536379", "85123A", -2, "2.55", "17850", "United Kingdom", "2010-12-01 11:41+00"),
    ("536380", "22139", -56, "0", None, "United Kingdom", "2010-12-01 11:52+00"),
    ("536400", "85123A", 6, "2.55", "13047", "France", "2010-12-02 09:00+00"),
    ("536400", "M", 1, "0.85", "13047", "France", "2010-12-02 09:00+00"),
]


@pytest.fixture(scope="module")
def warehouse(postgres: dict[str, str]) -> dict[str, str]:
    postgres_sql({**postgres, "dbname": "postgres"}, ("create database warehouse", []))
    params = {**postgres, "dbname": "warehouse"}
    inserts = [
        (
            """
            insert into silver.order_lines values (
                %s, %s, %s, %s, %s, %s, %s, 'GBP', %s, %s, %s, %s, %s, 'raw/o.gz',
                date_trunc('hour', %s::timestamptz), 'run-1', '2010-12-03 00:10+00'
            )
            """,
            [f"e{i}", invoice, i, code, code, quantity, price, customer, country, ts, ts, invoice[0] == "C", ts],
        )
        for i, (invoice, code, quantity, price, customer, country, ts) in enumerate(ROWS, start=1)
    ]
    postgres_sql(params, (SILVER_DDL, []), (GOLD_DDL, []), *inserts)
    return params


def test_build_on_postgres_passes_every_model_data_test_and_unit_test(
    warehouse: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBT_POSTGRES_HOST", warehouse["host"])
    monkeypatch.setenv("DBT_POSTGRES_PORT", warehouse["port"])
    monkeypatch.setenv("DBT_POSTGRES_USER", warehouse["user"])
    monkeypatch.setenv("DBT_POSTGRES_DATABASE", warehouse["dbname"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
    settings = load_settings({**env, "LAKEHOUSE_ENV": "local", "LAKEHOUSE_DBT_TARGET": "compose"})
    target = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]

    first = run_dbt(settings, ["build", *target])
    second = run_dbt(settings, ["build", *target])  # the incremental path: delete+insert of touched days

    assert (first, second) == (0, 0)
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    assert [r["unique_id"] for r in results if r["status"] not in ("success", "pass")] == []
    assert sum(r["unique_id"].startswith("unit_test.") for r in results) >= 6
    net = postgres_sql(
        warehouse,
        ("select net_revenue from marts.agg_daily_sales where order_date = '2010-12-01' and stock_code = '85123A'", []),
    )
    assert net == [["20.400"]]  # 15.30 + 10.20 - 5.10
    pairs = postgres_sql(
        warehouse,
        ("select product_a, product_b, co_invoice_count, lift from marts.agg_product_affinity order by 1", []),
    )
    assert pairs == [["71053", "85123A", 2, 1.0], ["85123A", "71053", 2, 1.0]]


def test_the_local_dashboard_reads_the_postgres_marts(warehouse: dict[str, str]) -> None:
    """compose's dashboard: every mart visual's SQL runs on PostgreSQL (after the build above)."""
    from lakehouse.dashboard import data

    uri = f"postgresql+psycopg2://{warehouse['user']}@{warehouse['host']}:{warehouse['port']}/{warehouse['dbname']}"
    settings = load_settings({"LAKEHOUSE_DBT_TARGET": "compose", "LAKEHOUSE_WAREHOUSE_DB_URI": uri})
    visuals = (
        "revenue_by_country",
        "top_products",
        "hourly_transactions",
        "order_rate_alarms",
        "customer_segments",
        "product_affinity",
    )
    with data.open_marts(settings) as marts:  # one connection for every query, as the build holds it
        for visual in visuals:
            values = data.MART_READERS[visual](marts)
            assert values["x"] and all(len(s) == len(values["x"]) for s in values["series"].values()), visual
        assert data.product_affinity(marts)["x"] == ["71053 → 85123A", "85123A → 71053"]
        overview = data.overview(marts)
    assert overview["first_day"] <= overview["last_day"] and overview["orders"] > 0
