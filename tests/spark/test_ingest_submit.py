"""The ingest under the real `spark-submit` (what `lakehouse ingest` and the local DAG run),
and crash safety: a run SIGKILLed after its bronze commit, or during its silver MERGE, leaves
every table at its previous snapshot or its complete new one; `lakehouse ingest` then completes
the hour and prints its counts.

Commit order of a run (see spark_jobs.ingest.writes): quarantine, bronze, silver, run record.

These tests use their own lakehouse home (catalog file, warehouse, raw zone), written only by
spark-submit child processes and read back with pyiceberg, never by the test SparkSession.
Every spark-submit is a cold JVM (about half a minute of two cores), so the module runs three:
the two killed runs and the `lakehouse ingest` that completes the hour after them (the CLI's
own proof and the re-run's are the same run).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import pytest

from lakehouse.commands import ingest as ingest_cmd
from lakehouse.generate import GenerateConfig, generate
from lakehouse.runtime import local_spark
from lakehouse_core import landing
from lakehouse_core.catalog import init_catalog, open_catalog
from lakehouse_core.spark_args import ingest_args

pytestmark = pytest.mark.spark

HOUR = datetime(2026, 11, 1, 1, tzinfo=UTC)
TABLES = ("bronze.orders_quarantine", "bronze.orders_raw", "silver.order_lines", "audit.ingest_runs")
WAIT_SECONDS = 600  # a liveness bound for a cold spark-submit to reach a point, not a measurement


@pytest.fixture(scope="module")
def submit_home(tmp_path_factory, settings_for):
    """A lakehouse home of its own (never opened by the test SparkSession) with one generated hour,
    and that hour's ground truth. One hour is enough: what is proven is where a kill can leave the
    tables, and that the next run completes the hour, not volume."""
    settings = settings_for(tmp_path_factory.mktemp("submit") / "lake")
    init_catalog(settings)  # pyiceberg, before any JVM opens this catalog
    truth = generate(GenerateConfig(start=HOUR, hours=1, events_per_hour=200, faults="all"), settings.raw_root)
    return settings, truth


def _snapshots(settings) -> dict[str, int | None]:
    catalog = open_catalog(settings)
    out = {}
    for name in TABLES:
        snapshot = catalog.load_table(name).current_snapshot()
        out[name] = snapshot.snapshot_id if snapshot else None
    return out


def _rows(settings, name: str, row_filter: str = "True") -> list[dict]:
    return open_catalog(settings).load_table(name).scan(row_filter=row_filter).to_arrow().to_pylist()


def _hour_filter(hour: datetime) -> str:
    return f"arrival_hour == '{hour.strftime('%Y-%m-%dT%H:%M:%S+00:00')}'"


def _writing_data_files(settings, table: str) -> Callable[[], bool]:
    """True once a data file that was not there before appears under `table`'s data folder.

    Iceberg's Spark writers create their data files in place (no temporary folder) and commit the
    snapshot that names them after the last one is closed: a new file with no new snapshot means
    the write is in flight."""
    data = Path(urlparse(open_catalog(settings).load_table(table).location()).path) / "data"
    before = set(data.rglob("*.parquet"))
    return lambda: bool(set(data.rglob("*.parquet")) - before)


def _run_and_kill(settings, run_id: str, marker: str, ready: Callable[[], bool] = lambda: True) -> list[str]:
    """spark-submit the ingest; SIGKILL its process group once it printed `marker` and `ready()` holds."""
    manifest = landing.write_manifest(settings, landing.build_manifest(settings, HOUR))
    job_args = ingest_args(settings, arrival_hour=HOUR, manifest=manifest, run_id=run_id)
    process = local_spark.start(local_spark.build_command(settings, local_spark.INGEST_SCRIPT, job_args))
    seen, lines = threading.Event(), []

    def on_stdout(line: str) -> None:
        lines.append(line)
        if marker in line:
            seen.set()

    pump = threading.Thread(target=local_spark.wait, args=(process, on_stdout, lambda _: None), daemon=True)
    pump.start()
    try:
        assert seen.wait(timeout=WAIT_SECONDS), f"never saw {marker!r}; output: {lines[-20:]}"
        deadline = time.monotonic() + WAIT_SECONDS
        while not ready() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)  # polling interval
    finally:
        local_spark.kill(process)
        pump.join(timeout=60)
    assert process.returncode != 0, "the job finished before it could be killed"
    return lines


def test_killed_runs_leave_whole_snapshots_and_lakehouse_ingest_then_completes_the_hour(
    submit_home, monkeypatch, capsys
) -> None:
    settings, truth = submit_home
    expected = truth["hours"][0]
    before = _snapshots(settings)
    silver_before = len(_rows(settings, "silver.order_lines"))

    # 1. killed right after the bronze commit: quarantine + bronze new, silver and runs untouched
    _run_and_kill(settings, "submit-a", "committed lakehouse.bronze.orders_raw")
    after_bronze = _snapshots(settings)
    assert after_bronze["silver.order_lines"] == before["silver.order_lines"]
    assert after_bronze["audit.ingest_runs"] == before["audit.ingest_runs"]
    assert after_bronze["bronze.orders_raw"] != before["bronze.orders_raw"]
    assert len(_rows(settings, "bronze.orders_raw", _hour_filter(HOUR))) == expected["bronze_rows"]
    assert len(_rows(settings, "bronze.orders_quarantine", _hour_filter(HOUR))) == expected["quarantine_rows"]

    # 2. killed while the silver MERGE writes its data files: silver is the old snapshot or the
    # complete new one; the re-run replaced the hour in bronze (no second copy)
    writing = _writing_data_files(settings, "silver.order_lines")
    _run_and_kill(settings, "submit-b", "merging into lakehouse.silver.order_lines", ready=writing)
    after_merge = _snapshots(settings)
    silver_now = len(_rows(settings, "silver.order_lines"))
    merge_landed = after_merge["silver.order_lines"] != before["silver.order_lines"]
    if merge_landed:
        assert silver_now == silver_before + expected["new_unique_events"]
    else:
        assert silver_now == silver_before
    assert after_merge["audit.ingest_runs"] == before["audit.ingest_runs"]  # no run record from killed runs
    assert len(_rows(settings, "bronze.orders_raw", _hour_filter(HOUR))) == expected["bronze_rows"]

    # 3. `lakehouse ingest` runs spark-submit, completes the hour and prints its counts
    monkeypatch.setenv("LAKEHOUSE_ENV", "local")
    monkeypatch.setenv("LAKEHOUSE_HOME", str(settings.home))
    capsys.readouterr()
    assert ingest_cmd.run(argparse.Namespace(hour=HOUR, run_id="submit-c", branch="", manifest="")) == 0

    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1  # stdout is the JSON line only; progress went to stderr
    counts = json.loads(lines[0])
    assert counts["status"] == "succeeded" and counts["run_id"] == "submit-c"
    assert counts["records_read"] == expected["records_read"]
    assert counts["records_read"] == counts["records_parsed"] + counts["records_quarantined"]
    assert counts["quarantined_by_reason"] == expected["quarantine"]
    # step 2 saw whether the killed MERGE landed: then nothing is left to insert, else the hour's new events
    left_to_apply = 0 if merge_landed else expected["new_unique_events"]
    assert (counts["silver_inserted"], counts["silver_updated"]) == (left_to_apply, 0)
    assert Path(landing.manifest_uri(settings, HOUR, "submit-c")).exists()

    # the tables hold exactly the hour, once; the run record is the completed run's alone
    total = truth["expected"]
    silver = _rows(settings, "silver.order_lines")
    assert len(silver) == len({r["event_id"] for r in silver}) == total["silver_rows"]
    assert len(_rows(settings, "bronze.orders_raw")) == total["bronze_rows"]
    assert len(_rows(settings, "bronze.orders_quarantine")) == total["quarantine_rows"]
    (run,) = _rows(settings, "audit.ingest_runs")
    assert (run["run_id"], run["status"]) == ("submit-c", "succeeded")
    assert run["records_parsed"] == expected["bronze_rows"]
