"""`lakehouse demo`: the whole pipeline on the embedded local lakehouse, through the real DAG.

1. `lakehouse init`: create or evolve the Iceberg tables (JDBC catalog on SQLite, local warehouse).
2. `lakehouse generate`: a few arrival hours of Firehose objects with every injected fault.
3. The `orders_lakehouse` DAG for each hour (`airflow dags test`, the backfill of
   `lakehouse backfill`): landing manifest, Spark ingest, the Great Expectations gate on the
   run's audit branch, publish, and the dbt marts through Cosmos on DuckDB.
4. A summary read back from the tables: rows per layer against the simulator's ground truth,
   quarantine by reason, the gate's verdict per run, the top rows of `marts.agg_daily_sales`.
5. The local dashboard (`lakehouse dashboard`): one offline HTML file, its path printed last.

Idempotent: the simulator rewrites byte-identical objects and every DAG run replaces its own
hour, so running it again ends with the same tables. The demo hours are fixed (not "now"), so
the numbers in the README match what you see.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from lakehouse.console import progress, table
from pipeline.settings import Settings, load_settings

DEMO_START = datetime(2026, 11, 1, 8, tzinfo=UTC)
DEMO_HOURS = 3
DEMO_EVENTS_PER_HOUR = 5000
DEMO_SEED = 7
LAYERS = ("bronze.orders_raw", "bronze.orders_quarantine", "silver.order_lines")
WAREHOUSE_ENGINES = {"local": "DuckDB", "compose": "PostgreSQL", "redshift": "Redshift"}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo",
        help="generate Firehose data and run the real DAG over it, then print a summary",
        description=(
            "Init the tables, generate a few arrival hours of Firehose objects (with injected faults), run the "
            "orders_lakehouse DAG for each hour (ingest, quality gate, publish, dbt) and print what landed where. "
            "Safe to run again."
        ),
    )
    p.add_argument("--start", default=DEMO_START.strftime("%Y-%m-%dT%H"), help="first arrival hour, UTC")
    p.add_argument("--hours", type=int, default=DEMO_HOURS, help=f"arrival hours to run (default {DEMO_HOURS})")
    p.add_argument("--events-per-hour", type=int, default=DEMO_EVENTS_PER_HOUR, help=f"default {DEMO_EVENTS_PER_HOUR}")
    p.add_argument("--seed", type=int, default=DEMO_SEED, help=f"simulator seed (default {DEMO_SEED})")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lakehouse.airflow_cmd import interruptible, ready
    from lakehouse.console import parse_hour
    from lakehouse.generate import GenerateConfig

    settings = load_settings()
    try:
        start = parse_hour(args.start)
        config = GenerateConfig(
            start=start,
            hours=args.hours,
            events_per_hour=args.events_per_hour,
            faults="all",
            seed=args.seed,
            lateness_hours=settings.lateness_hours,  # the event made too late is late for this pipeline
        )
    except ValueError as exc:
        progress(f"demo: {exc}")
        return 2
    began = time.perf_counter()
    if not ready(settings, "demo"):  # the doctor's checks, and the dbt manifest: seconds, not a failed task
        return 2
    with interruptible():
        return _run(args, settings, start, config, began)


def _run(args: argparse.Namespace, settings: Settings, start: datetime, config, began: float) -> int:
    from lakehouse.airflow_cmd import backfill
    from lakehouse.generate import generate
    from pipeline.catalog import init_catalog

    progress(f"demo [1/4] init: catalog {settings.catalog_name!r} under {settings.home}")
    report = init_catalog(settings)
    progress(f"demo [1/4] init: {len(report.created_tables)} tables created, {len(report.unchanged)} up to date")

    progress(f"demo [2/4] generate: {args.hours} hour(s) x {args.events_per_hour} events from {start:%Y-%m-%d %H}:00")
    truth = generate(config, settings.raw_root, progress=progress)

    progress(f"demo [3/4] orders_lakehouse DAG for {args.hours} hour(s): ingest, gate, publish, dbt")
    results = backfill(settings, start, start + timedelta(hours=args.hours))
    progress("demo [4/4] summary")

    print()
    print_summary(settings, truth, results)
    print_dashboard(settings)
    print(f"\ndemo finished in {time.perf_counter() - began:.0f} s; run `make demo` again: same tables.")
    ok = len(results) == args.hours and all(r.ok for r in results)
    if not ok:
        print(
            "a DAG run failed: its failed task, error and last log lines are printed above "
            "(`make airflow` shows it in the UI)"
        )
    return 0 if ok else 1


def print_summary(settings: Settings, truth: dict[str, Any], results: list) -> None:
    from lakehouse.airflow_cmd import print_results
    from lakehouse.dbt_runner import daily_sales_preview
    from lakehouse.dq_cmd import format_runs, read_results

    totals = truth["totals"]
    print(
        f"Firehose simulator: {totals['objects']} objects, {totals['records']:,} records "
        f"({totals['duplicates']} duplicates, {totals['late_events']} late events, "
        f"{totals['extra_field_records']} with an unknown field, {totals['quarantine_rows']} bad records)"
    )
    print("\nDAG runs (orders_lakehouse, one per arrival hour):")
    print_results(results)

    from pipeline.catalog import open_catalog

    catalog = open_catalog(settings)
    counts = layer_counts(catalog)
    expected = truth["expected"]
    wanted = {
        "bronze.orders_raw": expected["bronze_rows"],
        "bronze.orders_quarantine": expected["quarantine_rows"],
        "silver.order_lines": expected["silver_rows"],
    }
    print("\nRecords per layer (Iceberg, main branch) against the simulator's ground truth:")
    print(
        table(
            ("table", "rows", "expected", "match"),
            [(name, counts[name], wanted[name], "yes" if counts[name] == wanted[name] else "NO") for name in LAYERS],
        )
    )

    late = late_objects(catalog)
    if any(late.values()):
        print(
            f"\nStragglers (objects that landed in an hour's prefix after it was read; added to their own hour "
            f"by a later run): {late['straggler_objects']} objects, {late['straggler_records']:,} records"
            + (f"; Firehose error objects: {late['firehose_error_objects']}" if late["firehose_error_objects"] else "")
        )

    reasons = quarantine_reasons(catalog)
    print("\nQuarantined, by reason:")
    print(table(("reason", "rows"), sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))))

    print("\nQuality gate (Great Expectations on each run's audit branch; `lakehouse dq --run-id ...`):")
    print(format_runs(read_results(settings), last=len(results) or 1))

    print_rate_alarms(
        settings, since=min((datetime.fromisoformat(h["arrival_hour"]) for h in truth["hours"]), default=None)
    )

    engine = WAREHOUSE_ENGINES.get(settings.dbt_target, settings.dbt_target)
    print(f"\nTop rows of marts.agg_daily_sales ({engine}, built by dbt through Cosmos):")
    try:
        headers, rows = daily_sales_preview(settings, limit=8)
        print(table(headers, rows))
    except Exception as exc:  # the warehouse is missing when every run failed before dbt
        print(f"(no marts yet: {exc})")


def print_rate_alarms(settings: Settings, since: datetime | None = None) -> None:
    """The transaction-rate alarms the runs raised (audit.rate_alarms), when any fired."""
    from pipeline.rate_alarm import raised_alarms

    alarms = raised_alarms(settings, since=since)
    if not alarms:
        return
    print("\nTransaction-rate alarms (audit.rate_alarms; sent to SNS on AWS, to the task log here):")
    rows = [
        (
            f"{a['arrival_hour']:%Y-%m-%d %H}:00",
            a["alarm_kind"],
            a["order_count"],
            "?" if a["expected_order_count"] is None else f"{a['expected_order_count']:.0f}",
            "?" if a["order_score"] is None else f"{a['order_score']:.1f}",
            a["notified"],
        )
        for a in alarms
    ]
    print(table(("arrival hour (UTC)", "kind", "orders", "expected", "score", "notified"), rows))


def print_dashboard(settings: Settings) -> None:
    """Write the local dashboard (lakehouse/dashboard) and say where it is; a failure is reported, not raised."""
    from lakehouse.dashboard import build

    try:
        built = build(settings)
    except Exception as exc:  # no marts when every run failed before dbt: the summary above says why
        print(f"\nDashboard: not written ({exc})")
        return
    print(f"\nDashboard (the QuickSight visuals, offline, one file): {built.path}")
    print("  open it in a browser, or `make dashboard` to rebuild it and serve it on 127.0.0.1")


def layer_counts(catalog) -> dict[str, int]:
    return {name: catalog.load_table(name).scan().count() for name in LAYERS}


def quarantine_reasons(catalog) -> Counter:
    rows = catalog.load_table("bronze.orders_quarantine").scan(selected_fields=("reason_code",))
    return Counter(rows.to_arrow().column("reason_code").to_pylist())


LATE_COUNTS = ("straggler_objects", "straggler_records", "firehose_error_objects")


def late_objects(catalog, identifier: str = "audit.ingest_runs") -> dict[str, int]:
    """Stragglers and Firehose error objects counted by the latest succeeded run of each arrival
    hour (a re-run of an hour takes its stragglers again: counting every run would count them twice)."""
    from pyiceberg.expressions import EqualTo

    table = catalog.load_table(identifier)
    present = [c for c in LATE_COUNTS if c in {f.name for f in table.schema().fields}]
    if not present:
        return dict.fromkeys(LATE_COUNTS, 0)
    fields = ("arrival_hour", "finished_at", *present)
    rows = table.scan(row_filter=EqualTo("status", "succeeded"), selected_fields=fields).to_arrow().to_pylist()
    latest: dict[Any, dict] = {}
    for row in rows:
        if row["arrival_hour"] not in latest or row["finished_at"] > latest[row["arrival_hour"]]["finished_at"]:
            latest[row["arrival_hour"]] = row
    return {c: sum(int(r.get(c) or 0) for r in latest.values()) for c in LATE_COUNTS}
