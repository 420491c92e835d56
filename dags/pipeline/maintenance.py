"""Table maintenance: which tables, with which arguments, and where silver's runs.

Silver's compaction (`rewrite_data_files`, `rewrite_manifests`) commits to silver's `main`, and
an hourly publish fast-forwards `main` only if nothing moved it since the run's branch was cut.
Run both at once and the publish is refused ("main moved"). So silver is maintained inside the
hourly DAG, after publish, once a day (at `SILVER_MAINTENANCE_HOUR` UTC): the hourly DAG runs one
run at a time, so the two can never interleave. The daily maintenance DAG keeps the other tables,
which no publish reads. (An Airflow pool would need creating on every deployment before the
first run; this needs nothing.)

Standard library only: imported when the DAG files are parsed.
"""

from __future__ import annotations

SILVER = "silver.order_lines"
# Every Iceberg table of the lakehouse (as in lakehouse_core.tables, which DAG parsing must not import).
TABLES = (
    "bronze.orders_raw",
    "bronze.orders_quarantine",
    SILVER,
    "audit.ingest_runs",
    "audit.dq_results",
    "gold.product_recommendations",
    "gold.similar_products",
    "audit.recommendation_runs",
    "audit.rate_alarms",
)
SILVER_MAINTENANCE_HOUR = 3  # UTC: after the night's quiet hours, before Europe's business day


def maintenance_args(tables: tuple[str, ...]) -> dict[str, str]:
    """The `maintain_tables.py` arguments, the same for both DAGs."""
    return {
        "tables": ",".join(tables),
        "snapshot_retention_hours": "168",
        "retain_last": "10",
        "orphan_age_hours": "72",
    }


def daily_tables() -> tuple[str, ...]:
    """What the daily maintenance DAG maintains: everything but silver (see the module docstring)."""
    return tuple(t for t in TABLES if t != SILVER)
