"""A bulk backfill leaves every table as the hourly runs would: the same simulated range (every
fault, duplicates across hours, late and future events, updates, a straggler of the hour before
the range) ingested once hour by hour and once in one bulk job, compared row for row (only run
ids and ingestion times ignored). Real Spark, Iceberg and Great Expectations, on the session's
SparkSession: the bulk leg goes through its plan (`lakehouse_core.backfill.plan_range`: claims, hour
manifests, range manifest), the one ingest job, one gate run over the range and one publish.

Kept cheap: two arrival hours of 40 generated events plus hand-written versions (what decides
newest-wins across hours, and the per-hour event-time window), and an hour before the range
that ran with nothing in it, so its straggler needs no ingest of its own. Each leg has its own
lakehouse home (manifests, claims) over one shared raw zone: the hourly leg's tables live in a
namespace of the session's catalog, the bulk leg's in a catalog of its own with the standard
table names, which the gate and publish jobs read.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lakehouse.commands.reconcile import reconcile
from lakehouse.generate import GenerateConfig, generate
from lakehouse_core import backfill, hour_claims, landing
from lakehouse_core.catalog import init_catalog
from lakehouse_core.settings import load_settings
from spark_jobs import publish_orders, validate_orders
from spark_jobs.ingest.bulk import run_range_ingest
from spark_jobs.ingest.contract import IngestTables
from spark_jobs.ingest.job import IngestArgs, run_ingest
from spark_jobs.jobargs import jdbc_catalog_uri
from spark_jobs.session import catalog_conf
from tests.helpers.ingest_hours import event
from tests.helpers.ingest_tables import make_tables

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Python workers need this venv (pyarrow)
pytestmark = pytest.mark.spark

BEFORE = datetime(2026, 11, 7, 9, tzinfo=UTC)  # ran (empty) before the backfill; a straggler lands in it later
START = BEFORE + timedelta(hours=1)
HOURS = 2
END = START + timedelta(hours=HOURS)
CATALOG = "bulkfill"
IGNORED = {"run_id", "ingested_at"}  # what differs by run, not by data


def _log(message: str) -> None:
    """The jobs' progress lines: silent, unless BULK_TEST_LOG is set (to see where the time goes)."""
    if os.environ.get("BULK_TEST_LOG"):
        print(f"{datetime.now():%H:%M:%S} {message}", file=sys.stderr)


def _hour(n: int) -> datetime:
    return START + timedelta(hours=n)


def _ts(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}"


def _write(raw_root: str, hour: datetime, name: str, records: list[bytes]) -> str:
    folder = Path(raw_root, landing.hour_prefix(hour))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"orders-stream-1-{hour:%Y-%m-%d-%H}-59-{name}.gz"
    path.write_bytes(gzip.compress(b"\n".join(records) + b"\n"))
    return path.as_uri()


def _hand_written(raw_root: str) -> None:
    """Versions across the range's hours that only a range-wide newest-wins gets right, and events
    judged by their own hour's window (late or future for their hour, not for the range)."""
    first, second = _hour(0) + timedelta(minutes=30), _hour(1) + timedelta(minutes=30)
    _write(
        raw_root,
        _hour(0),
        "versions",
        [
            event("upd", emitted=_ts(first), quantity=1, ts=_ts(first)),
            event("resend", emitted=_ts(first), quantity=2, ts=_ts(first)),
            event("older", emitted=_ts(first), quantity=3, ts=_ts(first)),
            event("upd", emitted=_ts(first + timedelta(minutes=1)), quantity=5, ts=_ts(first)),  # newer, same hour
            # future for hour 0 (its end + 6 min), inside hour 1's window
            event("future0", emitted=_ts(first), ts=_ts(_hour(1) + timedelta(minutes=6))),
        ],
    )
    _write(
        raw_root,
        _hour(1),
        "versions",
        [
            event("older", emitted=_ts(first - timedelta(minutes=1)), quantity=30, ts=_ts(first)),  # never wins
            event("upd", emitted=_ts(second), quantity=100, ts=_ts(first)),  # newest: wins
            event("resend", emitted=_ts(first), quantity=20, ts=_ts(first)),  # same emitted_at, later arrival: wins
            # late for hour 1 (48.5 h before it), inside hour 0's window
            event("late1", emitted=_ts(second), ts=_ts(_hour(1) - timedelta(hours=48, minutes=30))),
        ],
    )


def _ingest_hour(spark, settings, tables: IngestTables, hour: datetime, run_id: str) -> dict:
    """What one hourly DAG run does: the plan task's manifest (with stragglers), then the ingest."""
    uri, manifest = landing.land_hour(settings, hour, run_id, owner=f"test/{run_id}")
    try:
        if not landing.objects_to_read(manifest):
            return {}
        args = IngestArgs(
            platform="local",
            catalog_name=settings.catalog_name,
            warehouse=settings.warehouse,
            manifest=uri,
            arrival_hour=hour,
            run_id=run_id,
        )
        return run_ingest(spark, args, tables, log=_log)
    finally:
        hour_claims.release_window(settings, hour, settings.straggler_hours, f"test/{run_id}")


def _rows(spark, table: str) -> tuple[Counter, list[str]]:
    """Every row of the table but its run id and ingestion time, as a multiset; and the columns."""
    df = spark.table(table)
    columns = sorted(c for c in df.columns if c not in IGNORED)
    plain = (tuple(bytes(v) if isinstance(v, bytearray) else v for v in r) for r in df.select(*columns).collect())
    return Counter(plain), columns


@pytest.fixture(scope="module")
def bulk_lake(spark, tmp_path_factory):
    """Settings of a catalog of its own (standard table names, what the gate reads), on the session."""
    home = tmp_path_factory.mktemp("bulk_home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
    env.update(LAKEHOUSE_ENV="local", LAKEHOUSE_HOME=str(home), LAKEHOUSE_CATALOG_NAME=CATALOG)
    settings = load_settings(env)
    init_catalog(settings)  # before Spark opens the catalog file (see make_tables)
    uri, user, password = jdbc_catalog_uri(settings.catalog_uri)
    for key, value in catalog_conf("local", CATALOG, settings.warehouse, uri, user, password).items():
        if key.startswith(f"spark.sql.catalog.{CATALOG}"):
            spark.conf.set(key, value)
    return settings


def test_a_bulk_backfill_equals_the_hourly_runs_row_for_row(spark, session_lake, bulk_lake, tmp_path) -> None:
    raw_root = str(tmp_path / "raw")
    config = GenerateConfig(start=START, hours=HOURS, events_per_hour=40, faults="all", seed=11)
    truth = generate(config, raw_root)
    assert truth["hours"][1]["duplicates"] > 0, "duplicates across the range's hours"
    _hand_written(raw_root)
    hourly = dataclasses.replace(session_lake, home=tmp_path / "hourly", raw_root=raw_root, straggler_hours=3)
    bulk = dataclasses.replace(bulk_lake, raw_root=raw_root, straggler_hours=3)
    tables = make_tables(spark, session_lake.catalog_name, "bulk_equal_hourly")

    # the hour before the range ran in both lakes (nothing there then); then a straggler lands in it
    for settings in (hourly, bulk):
        landing.land_hour(settings, BEFORE, "ran-before")
    straggler = _write(raw_root, BEFORE, "straggler", [event("strag", emitted=_ts(START), ts=_ts(BEFORE))])

    # hour by hour
    for n in range(HOURS):
        _ingest_hour(spark, hourly, tables, _hour(n), f"hourly-{n}")

    # in bulk: the plan, one ingest job on an audit branch, one gate, one publish
    run_id = backfill.range_run_id(START, END, "test")
    owner = f"test/{run_id}"
    uri, plan = backfill.plan_range(bulk, START, END, run_id, owner)
    assert [s["arrival_hour"] for s in plan["stragglers"]] == [landing.iso_hour(BEFORE)]
    branch = f"audit_{run_id}"
    args = IngestArgs(
        platform="local",
        catalog_name=CATALOG,
        warehouse=bulk.warehouse,
        manifest=uri,
        arrival_hour=START,
        to_hour=END,
        run_id=run_id,
        audit_branch=branch,
    )
    summary = run_range_ingest(spark, args, log=_log)
    assert summary["status"] == "succeeded"
    assert (summary["hours"], summary["hours_with_objects"], summary["straggler_objects"]) == (HOURS, HOURS, 1)
    gate = [
        "--catalog_name",
        CATALOG,
        "--run_id",
        run_id,
        "--arrival_hour",
        _ts(END - timedelta(hours=1)),
        "--audit_branch",
        branch,
        "--lateness_hours",
        str(backfill.gate_lateness_hours(bulk, plan)),
        "--reports_uri",
        str(tmp_path / "reports"),
        # the simulator's fixed dozen bad records per hour are a large share of a 40-event hour
        "--quarantine_max_share",
        "0.5",
    ]
    assert validate_orders.main(gate, spark=spark) == 0, "one gate run over the range passes"
    assert publish_orders.main(["--catalog_name", CATALOG, "--run_id", run_id, "--action", "publish"], spark=spark) == 0
    assert backfill.release_range(bulk, START, END, owner), "the plan claimed the range"

    # every table, row for row
    hourly_t = tables.qualified(session_lake.catalog_name)
    bulk_t = IngestTables().qualified(CATALOG)
    for role in ("bronze", "quarantine", "silver"):
        mine, columns = _rows(spark, getattr(bulk_t, role))
        theirs, their_columns = _rows(spark, getattr(hourly_t, role))
        assert columns == their_columns
        assert mine == theirs, f"{role}: only in bulk {mine - theirs}, only hourly {theirs - mine}"
    silver = {r["event_id"]: r["quantity"] for r in spark.table(bulk_t.silver).collect()}
    assert (silver["upd"], silver["resend"], silver["older"], silver["strag"]) == (100, 20, 3, 1)
    assert "late1" not in silver and "future0" not in silver, "judged against their own hour's window"

    # the run records: one per hour, the hourly runs' per-hour counts; silver changes add up
    per_hour = ("objects", "records_read", "records_parsed", "records_quarantined", "quarantined_by_reason")
    per_hour += ("bytes_read", "bytes_decoded", "bytes_parsed", "bytes_quarantined", "bytes_whitespace")
    per_hour += ("bytes_corrupt", "objects_corrupt", "straggler_objects", "straggler_records")

    def records(table: str, prefix: str) -> dict:
        rows = spark.table(table).where(f"run_id LIKE '{prefix}%' AND arrival_hour >= '{_ts(START)}'").collect()
        return {r["arrival_hour"]: r.asDict() for r in rows}

    mine, theirs = records(bulk_t.runs, "backfill_"), records(hourly_t.runs, "hourly-")
    assert sorted(mine) == sorted(theirs) and len(mine) == HOURS
    for hour, row in mine.items():
        assert {k: row[k] for k in per_hour} == {k: theirs[hour][k] for k in per_hour}, hour
        assert row["status"] == "succeeded" and row["audit_branch"] == branch
        assert row["records_parsed"] - row["duplicates_dropped"] == row["silver_inserted"] + row["silver_updated"]
    assert sum(r["silver_inserted"] for r in mine.values()) == summary["silver_inserted"]

    # reconcile sees every object of the range (and the straggler) as ingested
    report = reconcile(bulk, BEFORE, END)
    assert {r.hour: r.missing for r in report} == {h: [] for h in [BEFORE, *backfill.hours_in(START, END)]}
    assert straggler in next(r for r in report if r.hour == BEFORE).ingested
