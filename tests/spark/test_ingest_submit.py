"""The ingest under the real `spark-submit` (what `lakehouse ingest` and the local DAG run),
and crash safety: a run SIGKILLed after its bronze commit, or during its silver MERGE, leaves
every table at its previous snapshot or its complete new one; a re-run then completes.

Commit order of a run (see spark_jobs.ingest.writes): quarantine, bronze, silver, run record.

These tests use their own lakehouse home (catalog file, warehouse, raw zone), written only by
spark-submit child processes and read back with pyiceberg, never by the test SparkSession.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lakehouse import ingest_cmd
from lakehouse.generate import GenerateConfig, generate
from pipeline import landing, local_spark
from pipeline.catalog import init_catalog, open_catalog
from pipeline.spark_args import ingest_args

pytestmark = pytest.mark.spark

START = datetime(2026, 11, 1, 1, tzinfo=UTC)
TABLES = ("bronze.orders_quarantine", "bronze.orders_raw", "silver.order_lines", "audit.ingest_runs")


@pytest.fixture(scope="module")
def lake(tmp_path_factory, settings_for):
    settings = settings_for(tmp_path_factory.mktemp("submit") / "lake")
    init_catalog(settings)  # pyiceberg, before any JVM opens this catalog
    truth = generate(GenerateConfig(start=START, hours=2, events_per_hour=200, faults="all"), settings.raw_root)
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


def test_lakehouse_ingest_runs_spark_submit_and_prints_the_counts(lake, monkeypatch, capsys) -> None:
    settings, truth = lake
    monkeypatch.setenv("LAKEHOUSE_ENV", "local")
    monkeypatch.setenv("LAKEHOUSE_HOME", str(settings.home))
    args = argparse.Namespace(hour=START, run_id="submit-0", branch="", manifest="")

    assert ingest_cmd.run(args) == 0

    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1  # stdout is the JSON line only; progress went to stderr
    counts = json.loads(lines[0])
    hour = truth["hours"][0]
    assert counts["status"] == "succeeded" and counts["run_id"] == "submit-0"
    assert counts["records_read"] == hour["records_read"] == counts["records_parsed"] + counts["records_quarantined"]
    assert counts["quarantined_by_reason"] == hour["quarantine"]
    assert counts["silver_inserted"] == hour["new_unique_events"]
    assert Path(landing.manifest_uri(settings, START, "submit-0")).exists()
    (run,) = _rows(settings, "audit.ingest_runs")
    assert run["run_id"] == "submit-0" and run["records_parsed"] == hour["bronze_rows"]


def _run_and_kill(settings, hour: datetime, run_id: str, marker: str, delay: float) -> list[str]:
    """spark-submit the ingest; SIGKILL its process group `delay` s after `marker` is printed."""
    manifest = landing.write_manifest(settings, landing.build_manifest(settings, hour))
    job_args = ingest_args(settings, arrival_hour=hour, manifest=manifest, run_id=run_id)
    process = local_spark.start(local_spark.build_command(settings, local_spark.INGEST_SCRIPT, job_args))
    seen, lines = threading.Event(), []

    def on_stdout(line: str) -> None:
        lines.append(line)
        if marker in line:
            seen.set()

    pump = threading.Thread(target=local_spark.wait, args=(process, on_stdout, lambda _: None), daemon=True)
    pump.start()
    try:
        assert seen.wait(timeout=600), f"never saw {marker!r}; output: {lines[-20:]}"
        time.sleep(delay)
    finally:
        local_spark.kill(process)
        pump.join(timeout=60)
    assert process.returncode != 0, "the job finished before it could be killed"
    return lines


def test_a_killed_run_leaves_whole_snapshots_and_a_rerun_completes(lake) -> None:
    settings, truth = lake
    hour = START + timedelta(hours=1)
    expected = truth["hours"][1]
    before = _snapshots(settings)
    silver_before = len(_rows(settings, "silver.order_lines"))

    # 1. killed right after the bronze commit: quarantine + bronze new, silver and runs untouched
    _run_and_kill(settings, hour, "submit-1-a", "committed lakehouse.bronze.orders_raw", delay=0)
    after_bronze = _snapshots(settings)
    assert after_bronze["silver.order_lines"] == before["silver.order_lines"]
    assert after_bronze["audit.ingest_runs"] == before["audit.ingest_runs"]
    assert after_bronze["bronze.orders_raw"] != before["bronze.orders_raw"]
    assert len(_rows(settings, "bronze.orders_raw", _hour_filter(hour))) == expected["bronze_rows"]
    assert len(_rows(settings, "bronze.orders_quarantine", _hour_filter(hour))) == expected["quarantine_rows"]

    # 2. killed while the silver MERGE runs: silver is the old snapshot or the complete new one
    _run_and_kill(settings, hour, "submit-1-b", "merging into lakehouse.silver.order_lines", delay=1.0)
    after_merge = _snapshots(settings)
    silver_now = len(_rows(settings, "silver.order_lines"))
    merge_landed = after_merge["silver.order_lines"] != before["silver.order_lines"]
    if merge_landed:
        assert silver_now == silver_before + expected["new_unique_events"]
    else:
        assert silver_now == silver_before
    assert after_merge["audit.ingest_runs"] == before["audit.ingest_runs"]  # no run record from killed runs
    assert len(_rows(settings, "bronze.orders_raw", _hour_filter(hour))) == expected["bronze_rows"]

    # 3. the re-run completes, and the tables hold exactly the two hours, once
    manifest = landing.write_manifest(settings, landing.build_manifest(settings, hour))
    job_args = ingest_args(settings, arrival_hour=hour, manifest=manifest, run_id="submit-1-c")
    out: list[str] = []
    assert local_spark.run_job(settings, local_spark.INGEST_SCRIPT, job_args, on_stdout=out.append) == 0
    counts = ingest_cmd.find_counts(out)
    assert counts is not None and counts["status"] == "succeeded"
    # step 2 saw whether the killed MERGE landed: then nothing is left to do; else the hour's new
    # events, and the one copy re-sent from hour 0 (newer by its later arrival), are applied
    left_to_apply = (0, 0) if merge_landed else (expected["new_unique_events"], 1)
    assert (counts["silver_inserted"], counts["silver_updated"]) == left_to_apply
    total = truth["expected"]
    silver = _rows(settings, "silver.order_lines")
    assert len(silver) == len({r["event_id"] for r in silver}) == total["silver_rows"]
    assert len(_rows(settings, "bronze.orders_raw")) == total["bronze_rows"]
    assert len(_rows(settings, "bronze.orders_quarantine")) == total["quarantine_rows"]
    runs = {r["run_id"]: r["status"] for r in _rows(settings, "audit.ingest_runs")}
    assert runs == {"submit-0": "succeeded", "submit-1-c": "succeeded"}
