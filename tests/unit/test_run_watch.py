"""What a person sees around a local run: the progress line, the failure report, the quiet retry
wait, and the local UI's address."""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path

import pytest

from lakehouse.runtime.dags_test import _SayOnce
from lakehouse.runtime.local_airflow import standalone_command
from lakehouse.runtime.run_watch import ProgressLine, RunState, failure_report
from lakehouse_core.settings import load_settings

pytestmark = pytest.mark.unit

LOG = """\
2026-11-30T16:18:54.880717Z [info     ] [DAG TEST] starting task_id=wait_for_hour map_index=-1
2026-11-30T16:19:01.772612Z [info     ] [DAG TEST] end task task_id=wait_for_hour map_index=-1
2026-11-30T16:19:05.000000Z [info     ] [DAG TEST] starting task_id=ingest map_index=-1
[ingest 16:19:10] read 5,058 records: 5,050 valid, 8 quarantined (malformed_json 2)
[ingest 16:19:15] merging into lakehouse.silver.order_lines (branch audit_x): 5,000 new, 0 newer versions
2026-11-30T16:19:24.000000Z [info     ] [DAG TEST] end task task_id=ingest map_index=-1
2026-11-30T16:19:24.100000Z [info     ] [DAG TEST] starting task_id=quality_gate map_index=-1
quality gate FAILED: run orders_x
Traceback (most recent call last):
  File "x.py", line 1, in run
airflow.sdk.exceptions.AirflowFailException: validate_orders.py exited with code 1; a verdict, not retried
2026-11-30T16:19:30.000000Z [info     ] [DAG TEST] end task task_id=quality_gate map_index=-1
"""


def test_the_state_follows_steps_and_rows() -> None:
    state = RunState()
    for line in LOG.splitlines()[:5]:
        state.feed(line)
    assert state.step == "ingest" and state.done == 1
    assert state.describe() == ("step ingest | 1 tasks done | 5,058 records read, 8 quarantined, 5,000 new in silver")


def test_the_progress_line_prints_once_per_step_off_a_terminal(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text(LOG)
    out = io.StringIO()
    with ProgressLine(log, "orders 08:00", stream=out, interval=0.05):
        deadline = time.monotonic() + 60  # a liveness bound: the line's thread has read the whole log
        while "step quality_gate" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)  # polling interval
    printed = out.getvalue().splitlines()
    assert len(printed) == len(set(printed)) and 1 <= len(printed) <= 4, printed
    assert "step quality_gate" in printed[-1] and "failed gate" in printed[-1]


def test_the_failure_report_names_the_task_its_error_and_its_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text(LOG)
    report = failure_report(log, ["quality_gate"])
    assert report.splitlines()[0] == (
        "task quality_gate failed: AirflowFailException: validate_orders.py exited with code 1; a verdict, not retried"
    )
    assert "    quality gate FAILED: run orders_x" in report
    assert "starting task_id=ingest" not in report  # only the failed task's own lines


def test_the_retry_wait_line_is_said_once_until_it_changes() -> None:
    say_once = _SayOnce()
    logger = logging.getLogger("test.say_once")

    def record(message: str) -> logging.LogRecord:
        return logger.makeRecord("x", logging.WARNING, __file__, 1, message, (), None)

    waiting = "No tasks to run. unrunnable tasks: {<ti ingest up_for_retry>}"
    assert say_once.filter(record(waiting))
    assert not any(say_once.filter(record(waiting)) for _ in range(100))
    assert say_once.filter(record("No tasks to run. unrunnable tasks: {<ti publish up_for_retry>}"))
    assert say_once.filter(record("anything else"))


def test_the_local_ui_listens_on_loopback_unless_opened(tmp_path: Path) -> None:
    base = {"LAKEHOUSE_HOME": str(tmp_path)}
    _, env, _ = standalone_command(load_settings(base), 8099, base=base)
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    opened = {**base, "LAKEHOUSE_AIRFLOW_HOST": "0.0.0.0", "LAKEHOUSE_AIRFLOW_PASSWORD": "a-long-own-secret"}
    _, env, _ = standalone_command(load_settings(opened), 8099, base=opened)
    assert env["AIRFLOW__API__HOST"] == "0.0.0.0"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8099/execution/"
