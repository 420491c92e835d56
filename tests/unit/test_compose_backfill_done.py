"""`lakehouse compose demo` returns only when every hour of its backfill has run (Airflow 3.2.1 can
mark a backfill complete while its run is still queued: apache/airflow#61375)."""

from __future__ import annotations

import pytest

from lakehouse.runtime.compose_stack import backfill_done

pytestmark = pytest.mark.unit

# Shaped as GET /api/v2/backfills/{id} and GET /api/v2/dags/{dag}/dagRuns return them.
CREATED = "2026-12-08T00:10:00.123456Z"
COMPLETED = {"id": 3, "created_at": CREATED, "completed_at": "2026-12-08T00:10:13.5Z"}


def _run(state: str, end: str | None) -> dict[str, str | None]:
    return {"dag_run_id": "backfill__2026-11-01T09:00:00+00:00", "state": state, "end_date": end}


def test_a_completed_backfill_whose_run_is_still_queued_is_not_done() -> None:
    """What the compose lane's re-run met: completed_at set 13 s in, the run reset to queued."""
    assert not backfill_done(COMPLETED, [_run("queued", None)], hours=1)


def test_a_run_that_ended_before_the_backfill_was_created_is_the_previous_run() -> None:
    assert not backfill_done(COMPLETED, [_run("success", "2026-12-08T00:05:00Z")], hours=1)


def test_every_hour_must_have_its_run() -> None:
    assert not backfill_done(COMPLETED, [_run("success", "2026-12-08T00:12:00Z")], hours=2)


def test_done_when_completed_and_every_run_finished_after_creation() -> None:
    runs = [_run("success", "2026-12-08T00:12:00Z"), _run("failed", "2026-12-08T00:14:00Z")]
    assert backfill_done(COMPLETED, runs, hours=2)
    assert not backfill_done({**COMPLETED, "completed_at": None}, runs, hours=2)
