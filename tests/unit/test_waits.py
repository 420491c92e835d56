"""The Firehose-hour wait and run naming: pure time arithmetic plus the sensor's defer decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from pipeline import waits

pytestmark = pytest.mark.unit

HOUR = datetime(2026, 1, 15, 10, tzinfo=UTC)


def test_landing_is_ready_after_interval_end_plus_buffer_plus_margin() -> None:
    end = HOUR + timedelta(hours=1)
    assert waits.landing_ready_at(end, 300, 120) == datetime(2026, 1, 15, 11, 7, tzinfo=UTC)
    assert waits.landing_ready_at(end, 0, 0) == end


def test_landing_ready_at_is_utc_whatever_zone_it_is_given() -> None:
    cet = timezone(timedelta(hours=1))
    ready = waits.landing_ready_at(datetime(2026, 1, 15, 12, tzinfo=cet), 60, 0)
    assert ready == datetime(2026, 1, 15, 11, 1, tzinfo=UTC)
    assert ready.utcoffset() == timedelta(0)


@pytest.mark.parametrize("bad", [datetime(2026, 1, 15, 11)])
def test_naive_datetimes_are_refused(bad: datetime) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        waits.landing_ready_at(bad, 0, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        waits.arrival_hour(bad)


def test_negative_waits_are_refused() -> None:
    with pytest.raises(ValueError):
        waits.landing_ready_at(HOUR, -1, 0)


def test_pendulum_datetimes_from_airflow_become_aware_utc() -> None:
    """Airflow's context holds pendulum datetimes; their astimezone(UTC) would come back naive."""
    from airflow.sdk import timezone as airflow_timezone

    end = airflow_timezone.parse("2026-01-15T12:00:00+01:00")
    ready = waits.landing_ready_at(end, 300, 0)
    assert ready == datetime(2026, 1, 15, 11, 5, tzinfo=UTC)
    assert ready.utcoffset() == timedelta(0) and type(ready) is datetime
    assert datetime.now(UTC) > ready  # comparable with an aware stdlib datetime
    assert waits.arrival_hour(airflow_timezone.parse("2026-01-15T10:30:00+00:00")) == HOUR


def test_arrival_hour_is_the_interval_start_truncated_in_utc() -> None:
    assert waits.arrival_hour(datetime(2026, 1, 15, 10, 59, 59, tzinfo=UTC)) == HOUR
    assert waits.arrival_hour(datetime(2026, 1, 15, 11, 30, tzinfo=timezone(timedelta(hours=1)))) == HOUR


def test_run_id_names_the_hour_and_is_stable_for_the_same_attempt() -> None:
    first = waits.ingest_run_id(HOUR, "scheduled__2026-01-15T10:00:00+00:00", 1)
    assert first.startswith("orders_2026011510_")
    assert len(first.rsplit("_", 1)[1]) == 8
    assert first == waits.ingest_run_id(HOUR, "scheduled__2026-01-15T10:00:00+00:00", 1)
    # another attempt or another Airflow run of the same hour: another id, so another branch
    assert first != waits.ingest_run_id(HOUR, "scheduled__2026-01-15T10:00:00+00:00", 2)
    assert first != waits.ingest_run_id(HOUR, "manual__2026-01-15T11:00:00+00:00", 1)
    assert waits.audit_branch(first) == f"audit_{first}"


def test_hour_plan_reads_the_run_context() -> None:
    context = {
        "data_interval_start": HOUR,
        "data_interval_end": HOUR + timedelta(hours=1),
        "run_id": "scheduled__2026-01-15T10:00:00+00:00",
        "ti": SimpleNamespace(try_number=1),
    }
    plan = waits.hour_plan(context)
    assert plan["arrival_hour"] == "2026-01-15T10:00:00+00:00"
    assert plan["run_id"] == waits.ingest_run_id(HOUR, context["run_id"], 1)
    assert plan["audit_branch"] == "audit_" + plan["run_id"]


def test_schedule_start_and_catchup_follow_the_configured_stream_start() -> None:
    from lakehouse_core.settings import load_settings

    unset = load_settings({})
    assert waits.schedule_start(unset) == waits.DEFAULT_SCHEDULE_START
    assert waits.catchup(unset) is False
    # naive means UTC; an offset is converted
    configured = load_settings({"LAKEHOUSE_SCHEDULE_START": "2025-06-01T02:00+02:00"})
    assert waits.schedule_start(configured) == datetime(2025, 6, 1, tzinfo=UTC)
    assert waits.catchup(configured) is True


def sensor() -> waits.FirehoseHourSensor:
    return waits.FirehoseHourSensor(task_id="wait_for_hour", buffer_seconds=300, margin_seconds=120)


def test_sensor_does_not_defer_for_a_past_hour() -> None:
    context = {"data_interval_end": datetime(2020, 1, 1, 1, tzinfo=UTC)}
    assert sensor().execute(context) is None


def test_sensor_defers_to_a_datetime_trigger_that_ends_the_task() -> None:
    from airflow.providers.standard.triggers.temporal import DateTimeTrigger
    from airflow.sdk.exceptions import TaskDeferred

    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    with pytest.raises(TaskDeferred) as deferred:
        sensor().execute({"data_interval_end": end})
    trigger = deferred.value.trigger
    assert isinstance(trigger, DateTimeTrigger)
    assert trigger.moment == end + timedelta(seconds=420)
    # the triggerer finishes the task itself: no worker slot is taken again to say "done"
    assert trigger.end_from_trigger is True
