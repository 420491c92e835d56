"""What the local dashboard shows, read from the local marts and the pipeline's audit tables.

The marts come from the dbt target's warehouse (the DuckDB file locally, PostgreSQL in
compose); the data-quality history from the Iceberg tables the pipeline writes
(`audit.dq_results`, `bronze.orders_quarantine`) through pyiceberg, as `lakehouse dq` reads
them. Every query is small and aggregated in the database; the SQL is plain enough to run on
both DuckDB and PostgreSQL. One function per visual of dashboard.json, returning plain
Python values (the page turns them into chart options).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from lakehouse_core.settings import Settings
from pipeline.warehouse import Marts, WarehouseMissingError, warehouse_for


@contextmanager
def open_marts(settings: Settings) -> Iterator[Marts]:
    """One connection to the marts for a build's dozen queries, held by the caller's `with` (no
    module state): the warehouse's own (`pipeline.warehouse`), DuckDB read-only or PostgreSQL.

    WarehouseMissingError when there are no marts yet, or when they are Redshift's (QuickSight's).
    """
    warehouse = warehouse_for(settings)
    if not warehouse.local_dashboard:
        raise WarehouseMissingError(
            f"the local dashboard reads the local or compose warehouse; dbt target {settings.dbt_target!r} "
            "is shown by QuickSight (infra/terraform/modules/quicksight)"
        )
    with warehouse.connect() as marts:
        yield marts


def iceberg_table(settings: Settings, identifier: str):  # -> pyiceberg.table.Table
    """One of the pipeline's Iceberg tables; missing: WarehouseMissingError saying what to run."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    from lakehouse_core.catalog import load_table

    try:
        return load_table(settings, identifier)
    except (NoSuchTableError, NoSuchNamespaceError):
        raise WarehouseMissingError(f"no Iceberg table {identifier}: run `make demo` first") from None


def _day(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def _num(value: Any) -> float:
    return round(float(value or 0), 4)


def revenue_by_country(marts: Marts, top: int = 8) -> dict[str, Any]:
    """Net revenue per day, one series per country (the `top` biggest; the rest summed as 'other')."""
    rows = marts.query(
        """
        select order_date, country, currency, sum(net_revenue) as net_revenue
        from marts.agg_daily_sales
        group by order_date, country, currency
        order by order_date, country, currency
        """,
    ).rows
    currencies = {r[2] for r in rows}
    label = (lambda country, cur: f"{country} ({cur})") if len(currencies) > 1 else (lambda country, _: country)
    totals: Counter = Counter()
    for _, country, cur, revenue in rows:
        totals[label(country, cur)] += float(revenue or 0)
    kept = [name for name, _ in totals.most_common(top)]
    days = sorted({_day(r[0]) for r in rows})
    series: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(days, 0.0))
    for day, country, cur, revenue in rows:
        name = label(country, cur)
        series[name if name in kept else "other"][_day(day)] += float(revenue or 0)
    order = kept + (["other"] if "other" in series else [])
    return {"x": days, "series": {name: [_num(series[name][d]) for d in days] for name in order}}


def top_products(marts: Marts, limit: int = 10) -> dict[str, Any]:
    """Products by net revenue over the whole range, named by dim_products' description."""
    rows = marts.query(
        f"""
        select coalesce(p.description, s.stock_code) as product, sum(s.net_revenue) as net_revenue
        from marts.agg_daily_sales as s
        left join marts.dim_products as p on p.stock_code = s.stock_code
        group by coalesce(p.description, s.stock_code)
        order by net_revenue desc, product
        limit {int(limit)}
        """,  # nosec B608  # limit is int()
    ).rows
    return {"x": [str(r[0]) for r in rows], "series": {"net revenue": [_num(r[1]) for r in rows]}}


def hourly_transactions(marts: Marts) -> dict[str, Any]:
    rows = marts.query(
        "select transaction_hour, order_count from marts.agg_hourly_transactions order by transaction_hour",
    ).rows
    return {
        "x": [r[0].strftime("%Y-%m-%d %H:00") if hasattr(r[0], "strftime") else str(r[0]) for r in rows],
        "series": {"orders": [int(r[1] or 0) for r in rows]},
    }


def order_rate_alarms(marts: Marts) -> dict[str, Any]:
    """Orders per arrival hour with the rate alarm's expected band, its forecast for pending hours,
    and the alarms as points (marts.agg_hourly_order_rate)."""
    rows = marts.query(
        """
        select arrival_hour, observed_order_count, lower_order_count, expected_order_count,
            upper_order_count, alarm_order_count, alarm_kind
        from marts.agg_hourly_order_rate
        order by arrival_hour
        """,
    ).rows

    def value(v: Any) -> float | None:
        return None if v is None else round(float(v), 2)

    names = ("orders", "lower", "expected", "upper", "alarms")
    return {
        "x": [r[0].strftime("%Y-%m-%d %H:00") if hasattr(r[0], "strftime") else str(r[0]) for r in rows],
        "series": {name: [value(r[i]) for r in rows] for i, name in enumerate(names, start=1)},
        "alarm_kinds": [r[6] for r in rows],
    }


def customer_segments(marts: Marts) -> dict[str, Any]:
    rows = marts.query(
        """
        select rfm_segment, count(*) as customers
        from marts.agg_customer_value
        group by rfm_segment
        order by customers desc, rfm_segment
        """,
    ).rows
    return {"x": [str(r[0]) for r in rows], "series": {"customers": [int(r[1]) for r in rows]}}


def product_affinity(marts: Marts, limit: int = 15) -> dict[str, Any]:
    """The strongest pairs by lift (ties: more shared invoices first)."""
    rows = marts.query(
        f"""
        select product_a, product_b, lift
        from marts.agg_product_affinity
        order by lift desc, co_invoice_count desc, product_a, product_b
        limit {int(limit)}
        """,  # nosec B608  # limit is int()
    ).rows
    return {"x": [f"{r[0]} → {r[1]}" for r in rows], "series": {"lift": [_num(r[2]) for r in rows]}}


def gate_pass_rate(settings: Settings) -> dict[str, Any]:
    """Share of gate validations that passed, per arrival day of the run validated.

    A validation fails on any failed critical expectation (`lakehouse dq`'s rule); a run's day is
    its arrival hour's (audit.ingest_runs), so the chart lines up with the quarantine chart. A
    bulk run (`orders_backfill`) records a row per arrival hour of its range, and its one
    validation gated every day of it: it counts on each of those days.
    """
    from lakehouse.dq_results import blocking, read_results

    runs = iceberg_table(settings, "audit.ingest_runs").scan(selected_fields=("run_id", "arrival_hour"))
    days_of: dict[str, set[str]] = defaultdict(set)
    for row in runs.to_arrow().to_pylist():
        days_of[row["run_id"]].add(_day(row["arrival_hour"]))
    validations: dict[tuple[str, Any], bool] = {}
    for row in read_results(settings):
        key = (row["run_id"], row["validated_at"])
        validations[key] = validations.get(key, True) and not blocking(row)
    per_day: dict[str, list[bool]] = defaultdict(list)
    for (run_id, validated_at), passed in validations.items():
        for day in days_of.get(run_id) or {_day(validated_at)}:
            per_day[day].append(passed)
    days = sorted(per_day)
    return {
        "x": days,
        "series": {"pass rate %": [round(100 * sum(per_day[d]) / len(per_day[d]), 1) for d in days]},
        "validations": len(validations),
        "failed": sum(1 for passed in validations.values() if not passed),
    }


def quarantine_reasons(settings: Settings) -> dict[str, Any]:
    """Quarantined records per arrival day, one series per reason code."""
    table = iceberg_table(settings, "bronze.orders_quarantine")
    arrow = table.scan(selected_fields=("arrival_hour", "reason_code")).to_arrow()
    counts: Counter = Counter(
        (_day(hour), reason)
        for hour, reason in zip(
            arrow.column("arrival_hour").to_pylist(), arrow.column("reason_code").to_pylist(), strict=True
        )
    )
    days = sorted({day for day, _ in counts})
    reasons = sorted({reason for _, reason in counts})
    return {"x": days, "series": {reason: [counts[(day, reason)] for day in days] for reason in reasons}}


def overview(marts: Marts) -> dict[str, Any]:
    """The run's date range and headline counts, shown above the charts."""
    first, last, revenue, products = marts.query(
        "select min(order_date), max(order_date), sum(net_revenue), count(distinct stock_code) "
        "from marts.agg_daily_sales",
    ).rows[0]
    orders, cancellations, first_hour, last_hour = marts.query(
        "select sum(order_count), sum(cancellation_count), min(transaction_hour), max(transaction_hour) "
        "from marts.agg_hourly_transactions",
    ).rows[0]
    customers = marts.query("select count(*) from marts.agg_customer_value").rows[0][0]
    pairs = marts.query("select count(*) from marts.agg_product_affinity").rows[0][0]
    return {
        "first_day": _day(first) if first else "",
        "last_day": _day(last) if last else "",
        "first_hour": str(first_hour or ""),
        "last_hour": str(last_hour or ""),
        "net_revenue": _num(revenue),
        "orders": int(orders or 0),
        "cancellations": int(cancellations or 0),
        "customers": int(customers or 0),
        "products": int(products or 0),
        "product_pairs": int(pairs or 0),
    }


# Each visual of dashboard.json by what it reads: the marts (an open connection) or the audit tables.
MART_READERS: dict[str, Callable[[Marts], dict[str, Any]]] = {
    "revenue_by_country": revenue_by_country,
    "top_products": top_products,
    "hourly_transactions": hourly_transactions,
    "order_rate_alarms": order_rate_alarms,
    "customer_segments": customer_segments,
    "product_affinity": product_affinity,
}
AUDIT_READERS: dict[str, Callable[[Settings], dict[str, Any]]] = {
    "gate_pass_rate": gate_pass_rate,
    "quarantine_reasons": quarantine_reasons,
}


def read_visual(visual_id: str, settings: Settings, marts: Marts) -> dict[str, Any]:
    """One visual's values, from the marts or the audit tables."""
    if visual_id in AUDIT_READERS:
        return AUDIT_READERS[visual_id](settings)
    return MART_READERS[visual_id](marts)
