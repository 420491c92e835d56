"""Failing fast, and stopping on request: what a person sees when the environment is not ready.

1. The CLI's preflight: `lakehouse run-hour` with the SQLite JDBC jar missing stops before
   Airflow starts, exits 2 and says what is missing and how to get it.
2. The same missing jar inside a DAG run (the preflight bypassed, as when the scheduler runs the
   DAG): the ingest task fails on its first try (no retry: an environment error), and the
   command's output holds the task, the error and its last log lines. The log does not repeat a
   line once a second.
3. SIGTERM to a running `lakehouse run-hour` (while its Spark job runs) ends the command and
   every process it started, and leaves the tables readable with `main` where it was.

Real Airflow (`airflow dags test`), real spark-submit; nothing mocked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from lakehouse.generate import GenerateConfig, generate
from lakehouse.runtime.local_airflow import airflow_home, run_hour
from lakehouse_core.settings import REPO_ROOT, Settings, load_settings

pytestmark = [pytest.mark.e2e, pytest.mark.runtime, pytest.mark.timeout(900)]

HOUR = datetime(2026, 11, 1, 8, tzinfo=UTC)
HOUR_ARG = "2026-11-01T08"
STOP_WAIT_SECONDS = 60  # a liveness bound for the SIGTERM test, not a benchmark


def lake_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
    env.update(
        {
            "LAKEHOUSE_HOME": str(home),
            "LAKEHOUSE_FIREHOSE_BUFFER_SECONDS": "0",
            "LAKEHOUSE_LANDING_MARGIN_SECONDS": "0",
            **extra,
        }
    )
    return env


@pytest.fixture
def one_hour_home(tmp_path: Path) -> Iterator[Settings]:
    """A fresh home with one small generated hour; the process environment points at it."""
    saved = dict(os.environ)
    env = lake_env(tmp_path / "lake")
    os.environ.clear()
    os.environ.update(env)
    try:
        settings = load_settings()
        generate(GenerateConfig(start=HOUR, hours=1, events_per_hour=300, faults="all", seed=3), settings.raw_root)
        yield settings
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_run_hour_stops_before_airflow_when_the_jar_is_missing(tmp_path: Path) -> None:
    env = lake_env(tmp_path / "lake", LAKEHOUSE_SQLITE_JDBC_JAR=str(tmp_path / "missing-sqlite-jdbc.jar"))
    done = subprocess.run(
        [sys.executable, "-m", "lakehouse.cli", "run-hour", HOUR_ARG],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "cannot start; nothing was run" in done.stderr
    assert "missing-sqlite-jdbc.jar does not exist" in done.stderr
    assert "libxerial-sqlite-jdbc-java" in done.stderr  # how to get it
    assert not (tmp_path / "lake" / "airflow" / "airflow.db").exists()  # Airflow never started


def test_a_missing_jar_fails_the_dag_run_on_the_first_try_with_the_error_shown(
    one_hour_home: Settings, monkeypatch, capfd
):
    monkeypatch.setenv("LAKEHOUSE_SQLITE_JDBC_JAR", str(one_hour_home.home / "missing-sqlite-jdbc.jar"))
    settings = load_settings()

    result = run_hour(settings, HOUR)  # the DAG run itself: no preflight in front of it

    assert result.state == "failed", result
    assert result.tasks["ingest"] == "failed"  # not up_for_retry
    assert result.tasks["quality_gate"] == "upstream_failed"
    assert result.tries["ingest"] == 1
    err = capfd.readouterr().err
    assert "task ingest failed: AirflowFailException: local Spark is missing: sqlite jdbc" in err, err[-3000:]
    assert "not retried" in err
    assert "last lines of its log" in err
    log_lines = Path(result.log_file).read_text().splitlines()
    repeated = [line for line, n in Counter(line.split(" ", 1)[-1] for line in log_lines).items() if n > 5]
    assert not [line for line in repeated if "No tasks to run" in line], repeated


def test_sigterm_stops_a_running_run_hour_and_everything_it_started(one_hour_home: Settings) -> None:
    from lakehouse_core.catalog import init_catalog, open_catalog

    init_catalog(one_hour_home)
    silver_before = open_catalog(one_hour_home).load_table("silver.order_lines").current_snapshot()
    log_dir = airflow_home(one_hour_home) / "logs" / "dags-test"
    log_file = log_dir / f"orders_lakehouse-{HOUR:%Y%m%dT%H}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "lakehouse.cli", "run-hour", HOUR_ARG],
        env=dict(os.environ),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # Wait until the ingest's Spark job runs (its first progress line, "[ingest HH:MM:SS] ...",
        # is in the run's log), then ask the command to stop.
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and process.poll() is None:
            if log_file.exists() and "\n[ingest " in log_file.read_text(errors="replace"):
                break
            time.sleep(0.5)  # polling interval
        assert process.poll() is None, process.communicate()[0]
        started = psutil.Process(process.pid).children(recursive=True)
        assert started, "run-hour started no processes"

        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=STOP_WAIT_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, output
    assert "interrupted" in output
    _, alive = psutil.wait_procs(started, timeout=5)
    alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, [p.cmdline()[:3] for p in alive]
    # Tables consistent: every table loads and scans, and the unpublished run never moved main.
    catalog = open_catalog(one_hour_home)
    for name in ("bronze.orders_raw", "bronze.orders_quarantine", "silver.order_lines"):
        catalog.load_table(name).scan().to_arrow()
    assert catalog.load_table("silver.order_lines").current_snapshot() == silver_before
