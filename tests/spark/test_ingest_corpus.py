"""The ingest job end to end (in-process, on the test SparkSession) against the simulator's
fault corpus and its ground truth: counts reconcile exactly, every fault is quarantined with
its reason, silver holds each event once in its event day, re-runs change nothing, both
framings give the same silver, and an audit branch leaves main where it was.

Each scenario writes its own tables (a namespace per scenario, created from the table
definitions), so scenarios and other test modules do not see each other's rows.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lakehouse.generate import GenerateConfig, generate
from lakehouse_core import landing
from spark_jobs.ingest.job import IngestArgs, run_ingest
from tests.helpers.ingest_tables import make_tables

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Python workers need this venv (pyarrow)
pytestmark = pytest.mark.spark

START = datetime(2026, 11, 1, 1, tzinfo=UTC)  # 01:00: late events (1-6 h) fall on the previous day
# Two hours hold every case a third would: the first hour (no updates), a later one (duplicates
# re-sent from the hour before: updates; the run's one corrupt object, at hours // 2), late events
# before midnight. Each ingest costs seconds of fixed Spark work whatever its size, so a third
# hour only repeated the second (two ingests per scenario less).
HOURS = 2
EVENTS_PER_HOUR = 200
LINEAGE = ("source_object", "run_id", "ingested_at")
POSITION = ("record_index",)  # where a record sits in its object: framings flush at other points


class Scenario:
    """A generated raw zone, its ground truth, and a set of tables to ingest it into."""

    def __init__(self, spark, session_lake, root: Path, namespace: str, framing: str) -> None:
        self.spark = spark
        self.settings = dataclasses.replace(session_lake, home=root / "home", raw_root=str(root / "raw"))
        config = GenerateConfig(
            start=START, hours=HOURS, events_per_hour=EVENTS_PER_HOUR, framing=framing, faults="all"
        )
        self.truth = generate(config, self.settings.raw_root)
        self.tables = make_tables(spark, session_lake.catalog_name, namespace)
        self.qualified = self.tables.qualified(session_lake.catalog_name)
        self.runs: list[dict] = []

    def ingest(self, hour_index: int, run_id: str, branch: str = "", retain_hours: int = 72) -> dict:
        hour = START + timedelta(hours=hour_index)
        manifest = landing.write_manifest(self.settings, landing.build_manifest(self.settings, hour))
        args = IngestArgs(
            platform="local",
            catalog_name=self.settings.catalog_name,
            warehouse=self.settings.warehouse,
            manifest=manifest,
            arrival_hour=hour,
            run_id=run_id,
            audit_branch=branch,
            audit_branch_retain_hours=retain_hours,
        )
        record = run_ingest(self.spark, args, self.tables, log=lambda _: None)
        self.runs.append(record)
        return record

    def table(self, role: str):
        return self.spark.table(getattr(self.qualified, role))

    def checksum(self, role: str, exclude: tuple[str, ...] = ("run_id", "ingested_at")) -> tuple[int, int]:
        """(rows, order-independent checksum of the rows without the run's own lineage)."""
        df = self.table(role)
        columns = [c for c in df.columns if c not in exclude]
        row = df.selectExpr("count(*)", f"coalesce(sum(xxhash64({', '.join(columns)})), 0)").first()
        return int(row[0]), int(row[1])


@pytest.fixture(scope="module")
def concatenated(spark, session_lake, tmp_path_factory) -> Scenario:
    scenario = Scenario(spark, session_lake, tmp_path_factory.mktemp("concat"), "ingest_concat", "concatenated")
    for h in range(HOURS):
        scenario.ingest(h, f"concat-{h}")
    return scenario


def test_counts_reconcile_with_the_ground_truth(concatenated: Scenario) -> None:
    for record, truth in zip(concatenated.runs[:HOURS], concatenated.truth["hours"], strict=True):
        assert record["status"] == "succeeded"
        assert record["objects"] == len(truth["objects"])
        assert record["objects_corrupt"] == sum(o["corrupt"] for o in truth["objects"])
        assert record["bytes_read"] == sum(o["bytes"] for o in truth["objects"])
        assert record["records_read"] == truth["records_read"]
        assert record["records_parsed"] == truth["bronze_rows"]
        assert record["quarantined_by_reason"] == truth["quarantine"]
        assert record["records_read"] == record["records_parsed"] + record["records_quarantined"]
        # a copy re-sent in a later hour is the newer version (same emitted_at, later arrival): an update
        assert record["silver_inserted"] == truth["new_unique_events"]
        assert record["silver_updated"] + record["duplicates_dropped"] == truth["duplicates"]
        assert (record["silver_updated"] > 0) == (
            record["arrival_hour"] != concatenated.truth["hours"][0]["arrival_hour"]
        )
        assert record["bytes_decoded"] == (
            record["bytes_parsed"] + record["bytes_quarantined"] + record["bytes_whitespace"]
        )
        assert record["bytes_decoded"] > record["bytes_read"] > 0  # decoded gzip is larger
    expected = concatenated.truth["expected"]
    assert concatenated.table("bronze").count() == expected["bronze_rows"]
    assert concatenated.table("quarantine").count() == expected["quarantine_rows"]
    stored = {r["run_id"]: r.asDict() for r in concatenated.table("runs").collect()}
    for record in concatenated.runs[:HOURS]:
        row = stored[record["run_id"]]
        assert row["records_read"] == record["records_read"]
        assert row["quarantined_by_reason"] == record["quarantined_by_reason"]
        assert row["silver_snapshot_id"] == record["silver_snapshot_id"]


def test_every_injected_fault_is_quarantined_with_its_reason(concatenated: Scenario) -> None:
    root = concatenated.truth["out"]
    expected = {
        (f"{Path(root, q['key']).as_uri()}", q["record_index"], q["reason"])
        for q in concatenated.truth["expected"]["injected"]["quarantined"]
    }
    got = {
        (r["source_object"], r["record_index"], r["reason_code"])
        for r in concatenated.table("quarantine").select("source_object", "record_index", "reason_code").collect()
    }
    assert got == expected
    corrupt = concatenated.table("quarantine").where("reason_code = 'corrupt_object'").collect()
    assert len(corrupt) == 1 and corrupt[0]["record_index"] is None and corrupt[0]["raw_size_bytes"] > 0


def test_silver_holds_each_event_once_in_its_event_day(concatenated: Scenario) -> None:
    expected = concatenated.truth["expected"]
    injected = expected["injected"]
    silver = concatenated.table("silver")
    assert silver.count() == expected["silver_rows"]
    assert silver.select("event_id").distinct().count() == expected["silver_rows"]
    days = silver.selectExpr("cast(to_date(event_ts) as string) day").groupBy("day").count().collect()
    by_day = {r["day"]: r["count"] for r in days}
    assert by_day == expected["silver_rows_by_event_day"]
    assert len(by_day) == 2  # late events from before midnight are in their own (previous) day

    ids = {r["event_id"]: r for r in silver.select("event_id", "event_ts", "arrival_hour").collect()}
    assert all(event_id in ids for event_id in injected["duplicates"])  # once (distinct count above)
    late = [ids[e] for e in injected["late_events"]]
    assert late and all(r["event_ts"] < r["arrival_hour"] - timedelta(minutes=59) for r in late)
    assert not set(injected["events_in_corrupt_objects"]) & set(ids)

    extras = concatenated.table("bronze").where("extra_fields is not null").select("event_id", "extra_fields")
    extra = {r["event_id"]: json.loads(r["extra_fields"]) for r in extras.collect()}
    assert set(extra) == set(injected["extra_field_records"])
    assert all(set(fields) <= {"promo_code", "gift_wrap", "loyalty_tier"} for fields in extra.values())


def test_running_an_hour_three_times_leaves_identical_tables(concatenated: Scenario) -> None:
    before = {role: concatenated.checksum(role) for role in ("bronze", "quarantine", "silver")}
    middle = concatenated.truth["hours"][1]  # the hour with the corrupt object (hours // 2)
    for attempt in (2, 3):
        record = concatenated.ingest(1, f"concat-1-again-{attempt}")
        assert (record["silver_inserted"], record["silver_updated"]) == (0, 0)
        assert record["records_parsed"] == middle["bronze_rows"] == record["duplicates_dropped"]
        assert record["records_quarantined"] == middle["quarantine_rows"]
        after = {role: concatenated.checksum(role) for role in ("bronze", "quarantine", "silver")}
        assert after == before


def test_both_framings_give_identical_silver(concatenated: Scenario, spark, session_lake, tmp_path_factory) -> None:
    newline = Scenario(spark, session_lake, tmp_path_factory.mktemp("newline"), "ingest_newline", "newline")
    for h in range(HOURS):
        record = newline.ingest(h, f"newline-{h}")
        assert record["records_read"] == newline.truth["hours"][h]["records_read"]
    # object names differ between framings (flush points move), the events do not
    assert newline.checksum("silver", (*LINEAGE, *POSITION)) == concatenated.checksum("silver", (*LINEAGE, *POSITION))
    assert newline.checksum("bronze", (*LINEAGE, "record_index")) == concatenated.checksum(
        "bronze", (*LINEAGE, "record_index")
    )


def test_audit_branch_takes_silver_changes_and_main_stays(spark, session_lake, tmp_path_factory) -> None:
    scenario = Scenario(spark, session_lake, tmp_path_factory.mktemp("wap"), "ingest_wap", "concatenated")
    silver = scenario.qualified.silver

    def refs() -> dict[str, int]:
        rows = spark.sql(f"SELECT name, snapshot_id FROM {silver}.refs").collect()
        return {r["name"]: r["snapshot_id"] for r in rows}

    def ref_age_hours(name: str) -> float | None:
        age = spark.sql(f"SELECT max_reference_age_in_ms FROM {silver}.refs WHERE name = '{name}'").first()[0]
        return None if age is None else age / 3_600_000

    # 1. a table without any snapshot: the branch is created by the write, main does not appear
    first = scenario.ingest(0, "wap-0-branch", branch="audit_wap_0")
    assert "main" not in refs() and refs()["audit_wap_0"] == first["silver_snapshot_id"]
    assert (
        spark.sql(f"SELECT count(*) FROM {silver} VERSION AS OF 'audit_wap_0'").first()[0] == first["silver_inserted"]
    )
    assert ref_age_hours("audit_wap_0") == 72, "a branch the write created gets its ref age afterwards"
    # bronze and quarantine always go to main
    assert scenario.table("bronze").count() == scenario.truth["hours"][0]["bronze_rows"]

    # 2. main gets hour 0; 3. hour 1 on a branch: main stays at hour 0's snapshot
    main_0 = scenario.ingest(0, "wap-0-main")["silver_snapshot_id"]
    second = scenario.ingest(1, "wap-1-branch", branch="audit_wap_1", retain_hours=5)
    assert refs()["main"] == main_0
    assert ref_age_hours("audit_wap_1") == 5 and ref_age_hours("main") is None, "cut with RETAIN 5 HOURS"
    assert second["silver_snapshot_id"] == refs()["audit_wap_1"] != main_0
    parent = spark.sql(
        f"SELECT parent_id FROM {silver}.snapshots WHERE snapshot_id = {second['silver_snapshot_id']}"
    ).first()[0]
    assert parent == main_0  # the branch started from main's current snapshot
    on_branch = spark.sql(f"SELECT count(*) FROM {silver} VERSION AS OF 'audit_wap_1'").first()[0]
    assert on_branch == sum(h["new_unique_events"] for h in scenario.truth["hours"][:2])
    assert scenario.table("silver").count() == scenario.truth["hours"][0]["new_unique_events"]


def _event(event_id: str, emitted: str, quantity: int) -> dict:
    return {
        "event_id": event_id,
        "invoice_no": "536365",
        "invoice_line": 1,
        "stock_code": "85123A",
        "description": "WHITE HANGING HEART T-LIGHT HOLDER",
        "quantity": quantity,
        "unit_price": 2.55,
        "currency": "GBP",
        "customer_id": None,
        "country": "United Kingdom",
        "event_ts": "2026-11-03T09:58:00Z",
        "emitted_at": emitted,
        "schema_version": 1,
    }


@pytest.mark.parametrize("max_ids", [10_000, 0], ids=["ids-in-merge-condition", "full-probe-of-the-days"])
def test_newer_versions_update_silver_and_older_ones_do_not(
    spark, session_lake, tmp_path, monkeypatch, max_ids: int
) -> None:
    import gzip

    from spark_jobs.ingest import transforms

    monkeypatch.setattr(transforms, "MAX_IDS_IN_CONDITION", max_ids)
    namespace = f"ingest_updates_{max_ids}"
    tables = make_tables(spark, session_lake.catalog_name, namespace)
    settings = dataclasses.replace(session_lake, home=tmp_path / "home", raw_root=str(tmp_path / "raw"))
    hours = {
        datetime(2026, 11, 3, 10, tzinfo=UTC): [
            _event("a", "2026-11-03T10:00:01Z", 1),
            _event("b", "2026-11-03T10:00:01Z", 1),
        ],
        datetime(2026, 11, 3, 11, tzinfo=UTC): [
            _event("a", "2026-11-03T10:20:00Z", 4),
            _event("a", "2026-11-03T10:30:00Z", 5),  # newest: wins in the batch and updates silver
            _event("b", "2026-11-03T09:59:00Z", 9),  # older than silver's: no change
            _event("c", "2026-11-03T10:30:00Z", 7),
        ],
    }
    records = []
    for hour, events in hours.items():
        folder = Path(settings.raw_root, landing.hour_prefix(hour))
        folder.mkdir(parents=True)
        body = "".join(json.dumps(e) for e in events).encode()
        (folder / f"orders-stream-1-{hour:%Y-%m-%d-%H}-05-00-x.gz").write_bytes(gzip.compress(body))
        args = IngestArgs(
            platform="local",
            catalog_name=settings.catalog_name,
            warehouse=settings.warehouse,
            manifest=landing.write_manifest(settings, landing.build_manifest(settings, hour)),
            arrival_hour=hour,
            run_id=f"{namespace}-{hour:%H}",
        )
        records.append(run_ingest(spark, args, tables, log=lambda _: None))

    second = records[1]
    assert (second["silver_inserted"], second["silver_updated"], second["duplicates_dropped"]) == (1, 1, 2)
    silver = spark.table(f"{session_lake.catalog_name}.{tables.silver}")
    got = {r["event_id"]: (r["quantity"], r["run_id"]) for r in silver.collect()}
    assert got == {
        "a": (5, f"{namespace}-11"),
        "b": (1, f"{namespace}-10"),
        "c": (7, f"{namespace}-11"),
    }


def test_an_empty_hour_succeeds_with_zero_counts(concatenated: Scenario) -> None:
    before = concatenated.checksum("silver")
    record = concatenated.ingest(-5, "concat-empty")  # an hour with no objects under its prefix
    assert record["status"] == "succeeded" and record["objects"] == 0
    assert record["records_read"] == record["silver_inserted"] == record["records_quarantined"] == 0
    assert concatenated.checksum("silver") == before
