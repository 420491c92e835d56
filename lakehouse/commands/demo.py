"""`lakehouse demo`: the whole pipeline on the embedded local lakehouse, through the real DAG.

1. `lakehouse init`: create or evolve the Iceberg tables (JDBC catalog on SQLite, local warehouse).
2. `lakehouse generate`: one simulated Firehose stream (a retail day's rhythm, a few hundred
   events an hour, every kind of fault in proportion to the volume: `--faults scaled`) over
   two weeks of history and the last few hours, one ground truth for all of it.
3. The history in one run of the `orders_backfill` DAG (`lakehouse backfill --bulk`): one Spark
   job for every arrival hour of the two weeks, one quality gate, one publish, the marts.
   Why: the dashboard, the RFM segments, the rate alarm's baseline and the recommendations need
   weeks of data, and 336 hourly runs would take hours.
4. The last hours through the `orders_lakehouse` DAG, hour by hour, as production runs them
   (`airflow dags test`): landing manifest, Spark ingest, the Great Expectations gate on the
   run's audit branch, publish, the dbt marts through Cosmos on DuckDB, the rate alarm. The
   last hour carries an injected spike (4x its orders), which the rate alarm reports.
5. A summary read back from the tables: what was bulk-loaded and what ran hourly, rows per
   layer against the simulator's ground truth, quarantine by reason, the gate's verdicts, the
   RFM segments, the rate alarms, the top rows of `marts.agg_daily_sales`.
6. The local dashboard (`lakehouse dashboard`): one offline HTML file, its path printed last.

Idempotent: the simulator rewrites byte-identical objects and every DAG run replaces its own
hour, so running it again ends with the same tables. The demo hours are fixed (not "now"), so
the numbers in the README match what you see.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta

from lakehouse.console import progress
from lakehouse.runtime.demo import (
    DEMO_EVENTS_PER_HOUR,
    DEMO_HISTORY_DAYS,
    DEMO_HOURS,
    DEMO_SEED,
    DEMO_START,
    demo_config,
    print_dashboard,
    print_summary,
)
from lakehouse_core.settings import Settings, load_settings


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
    p.add_argument("--start", default=DEMO_START.strftime("%Y-%m-%dT%H"), help="first arrival hour run hourly, UTC")
    p.add_argument("--hours", type=int, default=DEMO_HOURS, help=f"arrival hours to run hourly (default {DEMO_HOURS})")
    p.add_argument(
        "--history-days",
        type=int,
        default=DEMO_HISTORY_DAYS,
        help=f"days of history before --start, bulk-loaded in one run (default {DEMO_HISTORY_DAYS}; 0: none)",
    )
    p.add_argument(
        "--events-per-hour",
        type=int,
        default=DEMO_EVENTS_PER_HOUR,
        help=f"the stream's mean events per hour (default {DEMO_EVENTS_PER_HOUR})",
    )
    p.add_argument("--seed", type=int, default=DEMO_SEED, help=f"simulator seed (default {DEMO_SEED})")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lakehouse.console import parse_hour
    from lakehouse.runtime.local_airflow import interruptible, ready

    settings = load_settings()
    try:
        start = parse_hour(args.start)
        if args.hours < 1 or args.history_days < 0:
            raise ValueError("--hours must be >= 1 and --history-days >= 0")
        config = demo_config(start, args.hours, args.history_days, args.events_per_hour, args.seed, settings)
    except ValueError as exc:
        progress(f"demo: {exc}")
        return 2
    began = time.perf_counter()
    if not ready(settings, "demo"):  # the doctor's checks, and the dbt manifest: seconds, not a failed task
        return 2
    with interruptible():
        return _run(args, settings, start, config, began)


def _run(args: argparse.Namespace, settings: Settings, start: datetime, config, began: float) -> int:
    from lakehouse.generate import generate
    from lakehouse.runtime.local_airflow import bulk_backfill, hours_between, run_hour, warm_spark
    from lakehouse_core.catalog import init_catalog

    progress(f"demo [1/5] init: catalog {settings.catalog_name!r} under {settings.home}")
    report = init_catalog(settings)
    progress(f"demo [1/5] init: {len(report.created_tables)} tables created, {len(report.unchanged)} up to date")

    progress(
        f"demo [2/5] generate: {args.history_days} day(s) of history and {args.hours} hour(s) from "
        f"{config.start:%Y-%m-%d %H}:00, about {args.events_per_hour} events an hour"
    )
    truth = generate(config, settings.raw_root, progress=progress if config.hours <= 24 else None)
    end = start + timedelta(hours=args.hours)
    bulk = None
    results: list = []
    with warm_spark(settings) as env:  # one warm Spark driver for the bulk run and every hourly run
        if args.history_days:
            progress(f"demo [3/5] orders_backfill DAG: {args.history_days} days of history in one run")
            bulk = bulk_backfill(settings, config.start, start, env_overrides=env)
        if bulk is None or bulk.ok:
            progress(f"demo [4/5] orders_lakehouse DAG for {args.hours} hour(s): ingest, gate, publish, dbt")
            for hour in hours_between(start, end):
                results.append(run_hour(settings, hour, env_overrides=env))
                if not results[-1].ok:
                    break
    progress("demo [5/5] summary")

    print()
    print_summary(settings, truth, results, bulk=bulk, hourly_start=start)
    print_dashboard(settings)
    print(f"\ndemo finished in {time.perf_counter() - began:.0f} s; run `make demo` again: same tables.")
    ok = len(results) == args.hours and all(r.ok for r in results) and (bulk is None or bulk.ok)
    if not ok:
        print(
            "a DAG run failed: its failed task, error and last log lines are printed above "
            "(`make airflow` shows it in the UI)"
        )
    return 0 if ok else 1
