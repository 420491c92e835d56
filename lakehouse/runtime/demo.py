"""The demo's stream and its summary: the service behind `lakehouse demo` (`lakehouse/commands/demo.py`,
where the steps are) and `lakehouse compose demo`.

What it owns: the demo's fixed hours, volume, faults and seed (`DEMO_*`: the README's numbers),
the one simulated stream of history and hourly hours (`demo_config`, with an injected spike in
the last hour that the rate alarm reports), and the summary read back from the tables: what was
bulk-loaded and what ran hourly, rows per layer against the simulator's ground truth, quarantine
by reason, the gate's verdicts, the RFM segments, the rate alarms, the top rows of
`marts.agg_daily_sales`, and where the dashboard is.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from lakehouse.console import table
from lakehouse_core.settings import Settings

DEMO_START = datetime(2026, 11, 1, 8, tzinfo=UTC)  # the first hour run hourly; the history ends here
DEMO_HOURS = 3
DEMO_HISTORY_DAYS = 14
# The stream's mean (shape "retail": about a tenth of it at night, 1.5x at midday). Enough
# known customers come back within two weeks for every RFM segment, every hour of day has 14
# points for the rate alarm's baseline, and the bulk run stays a small part of the demo's time.
DEMO_EVENTS_PER_HOUR = 120
DEMO_SHAPE = "retail"
DEMO_FAULTS = "scaled"
# Firehose's longest buffer interval: a low-volume stream flushes on time, so this gives 4
# objects an hour instead of 12 (a third of the files for the bulk run to list and read).
DEMO_BUFFER_SECONDS = 900
DEMO_ANOMALY = "spike"  # injected in the last hourly hour: the rate alarm's panel has one alarm
DEMO_SEED = 7
# A demo of a few hours only (`make compose-demo`): every fault in every hour (`--faults all`,
# about 9 bad records an hour) needs a volume whose 1% the gate allows is above that.
HOURS_ONLY_EVENTS_PER_HOUR = 5000
LAYERS = ("bronze.orders_raw", "bronze.orders_quarantine", "silver.order_lines")


def demo_config(start: datetime, hours: int, history_days: int, events_per_hour: int, seed: int, settings: Settings):
    """One stream for the history and the hourly hours (one ground truth): the history's days
    before `start`, then `hours` hours, the last of them with an injected spike."""
    from lakehouse.generate import GenerateConfig
    from lakehouse.generate.volume import Anomaly

    return GenerateConfig(
        start=start - timedelta(days=history_days),
        hours=history_days * 24 + hours,
        events_per_hour=events_per_hour,
        faults=DEMO_FAULTS,
        shape=DEMO_SHAPE,
        buffer_seconds=DEMO_BUFFER_SECONDS,
        anomalies=(Anomaly(start + timedelta(hours=hours - 1), DEMO_ANOMALY),),
        seed=seed,
        lateness_hours=settings.lateness_hours,  # the event made too late is late for this pipeline
    )


def print_summary(
    settings: Settings,
    truth: dict[str, Any],
    results: list,
    bulk: Any = None,
    hourly_start: datetime | None = None,
) -> None:
    from lakehouse.dq_results import format_runs, read_results
    from lakehouse.runtime.dbt_runner import daily_sales_preview
    from lakehouse.runtime.local_airflow import print_results
    from pipeline.warehouse import warehouse_for

    totals = truth["totals"]
    print(
        f"Firehose simulator: {totals['objects']} objects, {totals['records']:,} records "
        f"({totals['duplicates']} duplicates, {totals['late_events']} late events, "
        f"{totals['extra_field_records']} with an unknown field, {totals['quarantine_rows']} bad records)"
    )
    if bulk is not None:
        print_bulk(truth, bulk, hourly_start)
    print("\nDAG runs (orders_lakehouse, one per arrival hour):")
    print_results(results)

    counts = layer_counts(settings)
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

    late = late_objects(settings)
    if any(late.values()):
        print(
            f"\nStragglers (objects that landed in an hour's prefix after it was read; added to their own hour "
            f"by a later run): {late['straggler_objects']} objects, {late['straggler_records']:,} records"
            + (f"; Firehose error objects: {late['firehose_error_objects']}" if late["firehose_error_objects"] else "")
        )

    reasons = quarantine_reasons(settings)
    print("\nQuarantined, by reason:")
    print(table(("reason", "rows"), sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))))

    print("\nQuality gate (Great Expectations on each run's audit branch; `lakehouse dq --run-id ...`):")
    print(format_runs(read_results(settings), last=(len(results) + (bulk is not None)) or 1))

    print_segments(settings)

    print_rate_alarms(
        settings, since=min((datetime.fromisoformat(h["arrival_hour"]) for h in truth["hours"]), default=None)
    )

    engine = warehouse_for(settings).engine
    print(f"\nTop rows of marts.agg_daily_sales ({engine}, built by dbt through Cosmos):")
    try:
        headers, rows = daily_sales_preview(settings, limit=8)
        print(table(headers, rows))
    except Exception as exc:  # the warehouse is missing when every run failed before dbt
        print(f"(no marts yet: {exc})")


def split_truth(truth: dict[str, Any], hourly_start: datetime | None) -> tuple[dict[str, int], dict[str, int]]:
    """(history, hourly) sums of the ground truth's hours: arrival hours before / from `hourly_start`."""
    keys = ("objects", "records", "quarantine_rows", "duplicates", "late_events")
    parts: tuple[dict[str, int], dict[str, int]] = (dict.fromkeys(keys, 0), dict.fromkeys(keys, 0))
    for hour in truth["hours"]:
        arrival = datetime.fromisoformat(hour["arrival_hour"].replace("Z", "+00:00"))
        part = parts[hourly_start is None or arrival >= hourly_start]
        for key in keys:
            part[key] += len(hour["objects"]) if key == "objects" else hour[key]
    return parts


def print_bulk(truth: dict[str, Any], bulk: Any, hourly_start: datetime | None) -> None:
    """What the bulk run loaded, next to what runs hourly: the two ways in, side by side."""
    history, hourly = split_truth(truth, hourly_start)
    first = datetime.fromisoformat(truth["hours"][0]["arrival_hour"].replace("Z", "+00:00"))
    days = (hourly_start - first).days if hourly_start else 0
    print("\nHow the data came in:")
    print(
        table(
            ("part", "arrival hours", "objects", "records", "bad records", "runs", "state", "time"),
            [
                (
                    f"history: {days} days, bulk (orders_backfill)",
                    f"{first:%Y-%m-%d %H}:00 .. {hourly_start - timedelta(hours=1):%Y-%m-%d %H}:00",
                    f"{history['objects']:,}",
                    f"{history['records']:,}",
                    history["quarantine_rows"],
                    "1 (one Spark job, one gate, one publish)",
                    bulk.state,
                    f"{bulk.seconds:.0f}s",
                ),
                (
                    "last hours, hourly (orders_lakehouse)",
                    f"{hourly_start:%Y-%m-%d %H}:00 ..",
                    f"{hourly['objects']:,}",
                    f"{hourly['records']:,}",
                    hourly["quarantine_rows"],
                    "one per hour (below)",
                    "",
                    "",
                ),
            ],
        )
    )


def print_segments(settings: Settings) -> None:
    """Customers per RFM segment (marts.agg_customer_value): what weeks of history make visible."""
    from pipeline.warehouse import warehouse_for

    sql = "select rfm_segment, count(*) from marts.agg_customer_value group by rfm_segment order by 2 desc, 1"
    try:
        rows = warehouse_for(settings).query(sql).rows
    except Exception:  # no marts when every run failed before dbt: the summary above says why
        return
    print("\nCustomers by RFM segment (marts.agg_customer_value):")
    print(" · ".join(f"{segment} {count:,}" for segment, count in rows))


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


def layer_counts(settings: Settings) -> dict[str, int]:
    from lakehouse_core.catalog import load_table, open_catalog

    catalog = open_catalog(settings)
    return {name: load_table(settings, name, catalog).scan().count() for name in LAYERS}


def quarantine_reasons(settings: Settings) -> Counter:
    from lakehouse_core.catalog import load_table

    rows = load_table(settings, "bronze.orders_quarantine").scan(selected_fields=("reason_code",))
    return Counter(rows.to_arrow().column("reason_code").to_pylist())


LATE_COUNTS = ("straggler_objects", "straggler_records", "firehose_error_objects")


def late_objects(settings: Settings, identifier: str = "audit.ingest_runs") -> dict[str, int]:
    """Stragglers and Firehose error objects counted by the latest succeeded run of each arrival
    hour (a re-run of an hour takes its stragglers again: counting every run would count them twice)."""
    from pyiceberg.expressions import EqualTo

    from lakehouse_core.catalog import load_table

    table = load_table(settings, identifier)
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
