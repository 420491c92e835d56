"""The data-quality gate on real Spark + Iceberg + Great Expectations: validate, publish, discard.

Each test plays an ingest run the way the ingest job leaves it (silver rows MERGEd on a fresh
`audit_<run id>` branch, one `audit.ingest_runs` row on main), then calls the gate's and the
publish job's `main()` in-process with the session's Spark, exactly as spark-submit would.

Isolation: the module registers its own Iceberg catalog (own SQLite file and warehouse) on the
shared session, so other tests writing the session's lake cannot change what main holds here.
Every test uses its own arrival day, so the "event days the run touched" never overlap, except
where a test wants them to (duplicates across runs).

One deliberate difference from production: `invoice_no` is made optional in this catalog. The
table declares key columns NOT NULL, so Spark refuses a null key on write; the gate must still
catch one (a table evolved outside tables.py, a Glue table made by another tool), and the only
way to show that is to let a null in.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from lakehouse.commands import dq as dq_cmd
from lakehouse_core.catalog import init_catalog
from lakehouse_core.settings import Settings, load_settings
from spark_jobs import maintain_tables, publish_orders, validate_orders
from spark_jobs.ingest import writes
from spark_jobs.ingest.contract import AUDIT_BRANCH_RETAIN_HOURS
from spark_jobs.jobargs import jdbc_catalog_uri
from spark_jobs.session import catalog_conf

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the ingest's Python workers need this venv (pyarrow)
pytestmark = pytest.mark.spark

CATALOG = "dqgate"
SILVER = f"{CATALOG}.silver.order_lines"


def line(event_id: str, ts: datetime, **overrides: Any) -> dict[str, Any]:
    """One valid order line (a sale), with any column overridden."""
    values: dict[str, Any] = {
        "event_id": event_id,
        "invoice_no": "536365",
        "invoice_line": 1,
        "stock_code": "85123A",
        "description": "WHITE HANGING HEART T-LIGHT HOLDER",
        "quantity": 6,
        "unit_price": Decimal("2.550"),
        "currency": "GBP",
        "customer_id": "17850",
        "country": "United Kingdom",
        "event_ts": ts,
        "emitted_at": ts + timedelta(seconds=5),
    }
    values.update(overrides)
    return values


def clean_lines(prefix: str, hour: datetime, n: int = 20) -> list[dict[str, Any]]:
    """`n` valid lines of one arrival hour: sales, one cancellation, a late event, a guest checkout."""
    lines = [
        line(
            f"{prefix}-{i:03d}",
            hour + timedelta(minutes=i % 60),
            invoice_no=f"{540000 + i // 4}",
            invoice_line=i % 4 + 1,
        )
        for i in range(n)
    ]
    lines[1].update(invoice_no="C540000", quantity=-6)  # a cancellation returns units
    lines[2].update(event_ts=hour - timedelta(hours=5))  # late, but within the 48 h window
    lines[3].update(customer_id=None, country="France")
    return lines


@dataclass
class Lake:
    """The module's catalog, with the few operations the tests need."""

    spark: Any
    settings: Settings
    reports: Path

    def main_snapshot(self) -> int:
        return self.refs()["main"]

    def refs(self) -> dict[str, int]:
        return {
            r["name"]: r["snapshot_id"]
            for r in self.spark.sql(f"SELECT name, snapshot_id FROM {SILVER}.refs").collect()
        }

    def main_content(self) -> list[tuple]:
        rows = self.spark.table(SILVER).select("event_id", "run_id", "quantity", "invoice_no", "event_ts").collect()
        return sorted(tuple(r) for r in rows)

    def ingest(
        self,
        run_id: str,
        hour: datetime,
        lines: list[dict[str, Any]],
        *,
        quarantined: int = 0,
        unaccounted: int = 0,
        unaccounted_bytes: int = 0,
        corrupt_bytes: int = 0,
        stray_copies: list[dict[str, Any]] = (),  # type: ignore[assignment]
    ) -> str:
        """What the ingest job leaves: lines MERGEd on a new audit branch, and an ingest_runs row.

        `stray_copies` are appended (not merged): a broken dedupe inserting a second row.
        `unaccounted` records were read but reached neither bronze nor quarantine;
        `unaccounted_bytes` decoded bytes are in no record, no quarantined span and no whitespace.
        `corrupt_bytes` of the 1,000 read are in an object not read whole (one quarantine row).
        """
        spark, branch = self.spark, f"audit_{run_id}"
        assert writes.prepare_branch(spark, SILVER, branch, AUDIT_BRANCH_RETAIN_HOURS), "cut as the ingest cuts it"
        target = f"{SILVER}.branch_{branch}"
        incoming = self.frame(run_id, hour, lines)
        ids = [x["event_id"] for x in lines]
        current = spark.table(target)
        updated = current.where(current.event_id.isin(ids)).count()
        incoming.createOrReplaceTempView("dq_incoming")
        if lines:  # like the ingest: nothing to apply, nothing committed
            spark.sql(
                f"MERGE INTO {target} t USING dq_incoming s ON t.event_id = s.event_id "
                "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
            )
        if stray_copies:
            self.frame(run_id, hour, list(stray_copies)).writeTo(target).append()
        head = self.refs()[branch]
        parsed = len(lines) + len(stray_copies)
        now = datetime.now(UTC)
        run = {
            "run_id": run_id,
            "arrival_hour": hour,
            "started_at": now - timedelta(seconds=30),
            "finished_at": now,
            "status": "succeeded",
            "audit_branch": branch,
            "objects": 1,
            "objects_corrupt": 0,
            "bytes_read": 1000,
            "records_read": parsed + quarantined + unaccounted,
            "records_parsed": parsed,
            "records_quarantined": quarantined,
            "quarantined_by_reason": {"malformed_json": quarantined} if quarantined else {},
            "duplicates_dropped": 0,
            "silver_inserted": parsed - updated,
            "silver_updated": updated,
            "silver_snapshot_id": head,
            # 100 bytes per record, 1 newline after each
            "bytes_decoded": 101 * (parsed + quarantined + unaccounted) + unaccounted_bytes,
            "bytes_parsed": 100 * parsed,
            "bytes_quarantined": 100 * quarantined,
            "bytes_whitespace": parsed + quarantined + unaccounted,
            "bytes_corrupt": corrupt_bytes,
            "straggler_objects": 0,
            "straggler_records": 0,
            "firehose_error_objects": 0,
        }
        table = f"{CATALOG}.audit.ingest_runs"
        schema = spark.table(table).schema
        spark.createDataFrame([tuple(run[f.name] for f in schema.fields)], schema).writeTo(table).append()
        return branch

    def frame(self, run_id: str, hour: datetime, lines: list[dict[str, Any]]):
        from pyspark.sql import types as T

        schema = self.spark.table(SILVER).schema
        lineage = {"source_object": "test", "arrival_hour": hour, "run_id": run_id, "ingested_at": datetime.now(UTC)}
        rows = []
        for index, x in enumerate(lines):
            cancellation = str(x["invoice_no"] or "").startswith("C")
            values = {**x, **lineage, "record_index": index, "is_cancellation": cancellation}
            rows.append(tuple(values[f.name] for f in schema.fields))
        nullable = T.StructType([T.StructField(f.name, f.dataType, True) for f in schema.fields])
        return self.spark.createDataFrame(rows, nullable)

    def validate(self, run_id: str, hour: datetime | None, *extra: str) -> int:
        """The gate job; without `hour` it finds the hour and the branch in audit.ingest_runs."""
        argv = ["--catalog_name", CATALOG, "--run_id", run_id, "--reports_uri", str(self.reports), *extra]
        if hour is not None:
            argv += ["--arrival_hour", hour.isoformat(), "--audit_branch", f"audit_{run_id}"]
        return validate_orders.main(argv, spark=self.spark)

    def publish(self, run_id: str, action: str = "publish", *extra: str) -> int:
        argv = ["--catalog_name", CATALOG, "--run_id", run_id, "--action", action, *extra]
        return publish_orders.main(argv, spark=self.spark)

    def results(self, run_id: str) -> list[dict[str, Any]]:
        from spark_jobs.quality.results import latest_attempt

        return latest_attempt(self.spark, f"{CATALOG}.audit.dq_results", run_id)


@pytest.fixture(scope="module")
def gate_home(spark, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """A lakehouse home whose catalog the test SparkSession opens: write audit branches, run the
    gate and publish in-process against it."""
    home = tmp_path_factory.mktemp("dq_lake")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
    env.update(LAKEHOUSE_ENV="local", LAKEHOUSE_HOME=str(home), LAKEHOUSE_CATALOG_NAME=CATALOG)
    settings = load_settings(env)
    init_catalog(settings)
    uri, user, password = jdbc_catalog_uri(settings.catalog_uri)
    for key, value in catalog_conf("local", CATALOG, settings.warehouse, uri, user, password).items():
        if key.startswith(f"spark.sql.catalog.{CATALOG}"):
            spark.conf.set(key, value)
    spark.sql(f"ALTER TABLE {SILVER} ALTER COLUMN invoice_no DROP NOT NULL")
    # main must have a snapshot before the first branch is cut (as after the first published hour)
    spark.createDataFrame([], spark.table(SILVER).schema).writeTo(SILVER).append()
    return Lake(spark, settings, settings.reports_dir / "gx")


def hour_of(day: int) -> datetime:
    return datetime(2031, 3, day, 10, tzinfo=UTC)


def test_clean_batch_publishes(gate_home: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    hour = hour_of(1)
    run = "orders_2031030110_clean"
    branch = gate_home.ingest(run, hour, clean_lines("clean", hour))
    head = gate_home.refs()[branch]

    # an ingest earlier in the same session may leave its WAP branch set: the gate must not care
    gate_home.spark.conf.set("spark.wap.branch", branch)
    try:
        assert gate_home.validate(run, None) == 0, "hour and branch found in audit.ingest_runs"
        assert gate_home.spark.conf.get("spark.wap.branch") == branch, "the session's setting is restored"
    finally:
        gate_home.spark.conf.unset("spark.wap.branch")
    assert "quality gate PASSED" in capsys.readouterr().out
    rows = gate_home.results(run)
    assert rows and all(r["success"] for r in rows)
    assert {r["suite_name"] for r in rows} == {"silver.order_lines", "audit.ingest_runs"}
    assert len(rows) == 18 + 8  # one row per expectation of the two suites
    # `lakehouse dq` reads the same rows through pyiceberg, no JVM involved
    report = dq_cmd.format_run(gate_home.settings, run, dq_cmd.read_results(gate_home.settings, run))
    assert "gate PASSED (26 of 26" in report and f"{run}/index.html" in report

    assert gate_home.publish(run) == 0
    refs = gate_home.refs()
    assert refs["main"] == head, "main fast-forwarded to the branch head"
    assert branch not in refs, "the branch is dropped after publish"
    assert {r[0] for r in gate_home.main_content()} >= {f"clean-{i:03d}" for i in range(20)}
    # publishing twice changes nothing and succeeds
    assert gate_home.publish(run) == 0
    assert gate_home.main_snapshot() == head


DEFECTS = {
    # defect: (how the run's lines or counts are broken, the expectation that must fail, its column)
    "null_keys": ("expect_column_values_to_not_be_null", "invoice_no"),
    "duplicate_event_ids": ("expect_column_values_to_be_unique", "event_id"),
    "duplicate_event_ids_within_run": ("expect_column_values_to_be_unique", "event_id"),
    "out_of_range_values": ("expect_column_values_to_be_between", "quantity"),
    "stale_event_times": ("expect_column_values_to_be_between", "event_ts"),
    "too_many_quarantined": ("expect_column_values_to_be_between", "quarantine_share"),
    "broken_reconciliation": ("expect_column_pair_values_to_be_equal", "records_read, records_accounted"),
    "bytes_not_reconciled": ("expect_column_pair_values_to_be_equal", "bytes_decoded, bytes_accounted"),
    "big_object_unread": ("expect_column_values_to_be_between", "corrupt_share"),
}


def broken_run(gate_home: Lake, defect: str, run: str, hour: datetime) -> str:
    lines = clean_lines(defect, hour)
    if defect == "null_keys":
        lines[5]["invoice_no"] = None
        return gate_home.ingest(run, hour, lines)
    if defect == "duplicate_event_ids":
        # a row main already has (from an earlier run of the same day) is inserted again
        earlier = clean_lines(f"{defect}-earlier", hour - timedelta(hours=1), 4)
        gate_home.frame(f"{run}_earlier", hour - timedelta(hours=1), earlier).writeTo(SILVER).append()
        copy = line(f"{defect}-earlier-002", hour - timedelta(minutes=50))
        return gate_home.ingest(run, hour, lines, stray_copies=[copy])
    if defect == "duplicate_event_ids_within_run":
        # both copies are the run's own rows: no other run's rows are read, the cache must catch it
        return gate_home.ingest(run, hour, lines, stray_copies=[dict(lines[3])])
    if defect == "out_of_range_values":
        lines[6]["quantity"] = 250_000
        return gate_home.ingest(run, hour, lines)
    if defect == "stale_event_times":
        lines[7]["event_ts"] = hour - timedelta(days=3)  # outside the 48 h lateness window
        return gate_home.ingest(run, hour, lines)
    if defect == "too_many_quarantined":
        return gate_home.ingest(run, hour, lines, quarantined=2)  # 2 of 22 read: 9% > 1%
    if defect == "broken_reconciliation":
        return gate_home.ingest(run, hour, lines, unaccounted=3)
    if defect == "bytes_not_reconciled":
        # the counts balance, but 57 decoded bytes are nowhere: a framing that dropped a span
        return gate_home.ingest(run, hour, lines, unaccounted_bytes=57)
    if defect == "big_object_unread":
        # every record count reconciles and passes; what fails is the weight of an object not read
        # whole (truncated, damaged, too large): 600 of the hour's 1,000 raw bytes
        return gate_home.ingest(run, hour, lines, corrupt_bytes=600)
    raise AssertionError(defect)


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_defect_blocks_publish(gate_home: Lake, defect: str, capsys: pytest.CaptureFixture[str]) -> None:
    expectation, column = DEFECTS[defect]
    hour = hour_of(2 + list(DEFECTS).index(defect))
    run = f"orders_{hour:%Y%m%d%H}_{defect}"
    branch = broken_run(gate_home, defect, run, hour)
    main_before, content_before = gate_home.main_snapshot(), gate_home.main_content()
    head = gate_home.refs()[branch]
    capsys.readouterr()

    assert gate_home.validate(run, hour) == 1
    out = capsys.readouterr().out
    assert "quality gate FAILED" in out
    assert f"{expectation}({column})" in out, out
    assert "sample:" in out, "the summary shows offending rows"
    assert f"until snapshot expiry drops it ({AUDIT_BRANCH_RETAIN_HOURS} h after its last commit)" in out

    failed = [r for r in gate_home.results(run) if not r["success"]]
    assert (expectation, column) in {(r["expectation"], r["column_name"]) for r in failed}
    row = next(r for r in failed if (r["expectation"], r["column_name"]) == (expectation, column))
    details = json.loads(row["details"])
    assert details["gate"] == "failed" and details["branch"] == branch and details["branch_snapshot_id"] == head
    assert row["observed_value"] is not None

    assert gate_home.publish(run) == 1, "publish refuses a run whose gate failed"
    assert gate_home.main_snapshot() == main_before, "main stays at its snapshot"
    assert gate_home.main_content() == content_before, "main's content is unchanged"
    assert gate_home.refs()[branch] == head, "the branch is kept for inspection"

    docs = Path(details["docs"])
    assert docs.is_file()
    pages = [p for p in docs.parent.rglob("*.html") if "validations" in p.parts]
    text = " ".join(re.sub(r"<[^>]+>", " ", p.read_text()) for p in pages)
    assert "Failed" in text and column.split(",")[0] in text


def test_rerun_after_fix_publishes_without_leftovers(gate_home: Lake) -> None:
    hour = hour_of(20)
    first = f"orders_{hour:%Y%m%d%H}_try1"
    bad = clean_lines("rerun", hour)
    bad[4]["event_ts"] = hour - timedelta(days=4)
    bad_branch = gate_home.ingest(first, hour, bad)
    assert gate_home.validate(first, hour) == 1
    main_before = gate_home.main_snapshot()

    # the hour is re-run with fixed input: a new run id and a fresh branch cut from main
    second = f"orders_{hour:%Y%m%d%H}_try2"
    branch = gate_home.ingest(second, hour, clean_lines("rerun", hour))
    assert gate_home.validate(second, hour) == 0
    head = gate_home.refs()[branch]
    assert gate_home.publish(second) == 0
    refs = gate_home.refs()
    assert refs["main"] == head != main_before, "main is the validated head of the re-run's branch"
    assert branch not in refs and bad_branch in refs, "the failed attempt's branch is only kept, never published"

    rows = gate_home.spark.table(SILVER).where("event_id LIKE 'rerun-%'")
    assert rows.count() == 20 and rows.select("event_id").distinct().count() == 20, "no duplicates"
    assert {r["run_id"] for r in rows.select("run_id").collect()} == {second}, "no rows of the failed attempt"
    assert rows.where(f"event_ts < timestamp'{(hour - timedelta(days=2)):%Y-%m-%d %H:%M:%S}'").count() == 0

    # the failed attempt's branch: discarded on request, and a second discard is a no-op
    assert gate_home.publish(first, "discard") == 0
    assert bad_branch not in gate_home.refs()
    assert gate_home.publish(first, "discard") == 0


def test_an_old_audit_branch_goes_with_snapshot_expiry_and_main_stays(gate_home: Lake) -> None:
    """No sweep of ours: the branch carries a ref age and the maintenance job's expire_snapshots drops it."""
    hour = hour_of(21)
    old = gate_home.ingest(f"orders_{hour:%Y%m%d%H}_old", hour, clean_lines("old", hour, 5))
    young = gate_home.ingest(f"orders_{hour:%Y%m%d%H}_young", hour, clean_lines("young", hour, 5))
    rows = gate_home.spark.sql(f"SELECT name, max_reference_age_in_ms AS age FROM {SILVER}.refs").collect()
    ages = {r["name"]: r["age"] for r in rows}
    retain_ms = AUDIT_BRANCH_RETAIN_HOURS * 3_600_000
    assert ages[old] == ages[young] == retain_ms, "cut with RETAIN n HOURS, kept through the branch's MERGE"
    assert ages["main"] is None
    main_before, content_before = gate_home.main_snapshot(), gate_home.main_content()

    # Age the old branch past its ref age: 1 ms through Iceberg's API (SQL's smallest unit is a minute).
    jvm = gate_home.spark.sparkContext._jvm
    table = jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(gate_home.spark._jsparkSession, SILVER)
    table.manageSnapshots().setMaxRefAgeMs(old, 1).commit()
    args = {"catalog_name": CATALOG, "tables": "silver.order_lines", "snapshot_retention_hours": "168",
            "retain_last": "10", "orphan_age_hours": "72", "dry_run": "false"}  # fmt: skip
    plan = maintain_tables.plan_from_args(args, datetime.now(UTC))
    gate_home.spark.sql(dict(maintain_tables.procedure_calls(plan, "silver.order_lines"))["expire_snapshots"])

    refs = gate_home.refs()
    assert old not in refs, "older than its ref age: removed by expire_snapshots"
    assert young in refs, "younger than its ref age: kept"
    assert refs["main"] == main_before and gate_home.main_content() == content_before, "main stays"


def test_publish_refuses_unvalidated_stale_and_modified_branches(
    gate_home: Lake, capsys: pytest.CaptureFixture[str]
) -> None:
    """Publish trusts audit.dq_results and the refs, not the caller: three ways it says no."""
    first, second = hour_of(22), hour_of(22) + timedelta(hours=1)
    run_a, run_b = f"orders_{first:%Y%m%d%H}_a", f"orders_{second:%Y%m%d%H}_b"
    branch_a = gate_home.ingest(run_a, first, clean_lines("stale-a", first, 5))
    gate_home.ingest(run_b, second, clean_lines("stale-b", second, 5))  # cut from the same main as a
    capsys.readouterr()

    assert gate_home.publish(run_a, "publish", "--audit_branch", branch_a) == 1
    assert "has no validation" in capsys.readouterr().out

    assert gate_home.validate(run_a, first) == 0
    assert gate_home.validate(run_b, second) == 0
    assert gate_home.publish(run_b) == 0
    main_b = gate_home.main_snapshot()
    capsys.readouterr()
    assert gate_home.publish(run_a) == 1, "main moved since branch a was cut: no fast-forward possible"
    assert "is not an ancestor" in capsys.readouterr().out
    assert gate_home.main_snapshot() == main_b

    # a write after the gate looked: the validated snapshot is no longer the head
    gate_home.spark.sql(f"UPDATE {SILVER}.branch_{branch_a} SET quantity = 7 WHERE event_id = 'stale-a-000'")
    assert gate_home.publish(run_a) == 1
    assert "moved after validation" in capsys.readouterr().out
    assert gate_home.main_snapshot() == main_b
    assert gate_home.publish(run_a, "discard") == 0 and branch_a not in gate_home.refs()


def test_run_without_silver_changes_passes_and_publishes_nothing(gate_home: Lake) -> None:
    """An hour of pure duplicates: the ingest cuts a branch and commits nothing to it."""
    hour = hour_of(23)
    run = f"orders_{hour:%Y%m%d%H}_empty"
    branch = gate_home.ingest(run, hour, [])
    main_before = gate_home.main_snapshot()
    assert gate_home.refs()[branch] == main_before
    assert gate_home.validate(run, hour) == 0
    assert gate_home.publish(run) == 0
    assert gate_home.main_snapshot() == main_before and branch not in gate_home.refs()


def test_an_hour_with_poison_records_publishes_its_valid_records_on_the_first_try(gate_home: Lake) -> None:
    """The real ingest job, then the gate and publish, on an hour holding what once failed it on
    every retry or held it back: a record nested 20,000 deep under an unknown key (RecursionError
    in the Python worker), a malformed record of 200,000 `{` (quadratic framing), bytes that are
    not UTF-8 (once silently replaced), an event two days in the future (once a gate failure)."""
    import gzip

    from lakehouse_core import landing
    from spark_jobs.ingest.job import IngestArgs, run_ingest

    hour = hour_of(24)
    run = f"orders_{hour:%Y%m%d%H}_poison"

    def order(i: int, **changes: Any) -> bytes:
        ts = hour + timedelta(seconds=7 * i)
        record = {**line(f"poison-{i:03d}", ts), "unit_price": 2.55, "schema_version": 1, **changes}
        record = {k: v.isoformat().replace("+00:00", "Z") if isinstance(v, datetime) else v for k, v in record.items()}
        return json.dumps(record, separators=(",", ":")).encode()

    valid = [order(i) for i in range(500)]
    deep = order(900)[:-1] + b',"gift_note":' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    not_utf8 = order(901).replace(b"WHITE", b"WH\xff\xfeITE")
    future = order(902, event_ts=hour + timedelta(days=2))
    body = b"\n".join([*valid[:200], deep, *valid[200:300], b"{" * 200_000, *valid[300:400], not_utf8, future])
    body += b"\n" + b"\n".join(valid[400:]) + b"\n"
    folder = Path(gate_home.settings.raw_root, landing.hour_prefix(hour))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"orders-stream-1-{hour:%Y-%m-%d-%H}-10-00-poison.gz").write_bytes(gzip.compress(body))
    manifest = landing.write_manifest(gate_home.settings, landing.build_manifest(gate_home.settings, hour))
    args = IngestArgs(
        platform="local",
        catalog_name=CATALOG,
        warehouse=gate_home.settings.warehouse,
        manifest=manifest,
        arrival_hour=hour,
        run_id=run,
        audit_branch=f"audit_{run}",
    )

    record = run_ingest(gate_home.spark, args, log=lambda _: None)  # the first try: no exception, no retry

    assert record["status"] == "succeeded" and record["records_parsed"] == 500
    reasons = {k: v for k, v in record["quarantined_by_reason"].items() if v}
    assert reasons == {"nesting_too_deep": 1, "malformed_json": 1, "invalid_utf8": 1, "future_event": 1}
    assert (
        record["bytes_decoded"]
        == len(body)
        == (record["bytes_parsed"] + record["bytes_quarantined"] + record["bytes_whitespace"])
    )
    quarantine = {
        r["reason_code"]: r
        for r in gate_home.spark.table(f"{CATALOG}.bronze.orders_quarantine").where(f"run_id = '{run}'").collect()
    }
    assert bytes(quarantine["invalid_utf8"]["raw_bytes"]) == not_utf8, "the exact bytes, not a repaired text"
    assert (
        quarantine["future_event"]["raw_record"].encode() == future and quarantine["future_event"]["raw_bytes"] is None
    )
    assert quarantine["nesting_too_deep"]["raw_record"].encode() == deep, "the full text, not 4,096 characters"
    assert quarantine["malformed_json"]["raw_size_bytes"] == 200_000

    assert gate_home.validate(run, None) == 0
    assert gate_home.publish(run) == 0
    published = {r[0] for r in gate_home.main_content() if r[1] == run}
    assert published == {f"poison-{i:03d}" for i in range(500)}
