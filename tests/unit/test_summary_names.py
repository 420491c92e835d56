"""What the run summaries and progress lines call things (issue 30): the arrival hour with the
Airflow run name beside it, every skipped task by name with its reason, and `compose clean`'s
commands scoped to this stack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from lakehouse import cli
from lakehouse.runtime.compose_stack import COMPOSE_FILE, ENV_EXAMPLE, PROJECT, Stack, backfill_run_name
from lakehouse.runtime.local_airflow import HourResult, airflow_run_name, hour_and_run, print_results
from pipeline.skip_reasons import EMPTY_HOUR, MAINTENANCE_HOUR, UNKNOWN, explain_skipped

pytestmark = pytest.mark.unit

HOUR = datetime(2026, 11, 1, 8, tzinfo=UTC)
# The task states of a green hour with data, as `lakehouse.runtime.dags_test` writes them (compose target:
# the dbt group is one task per model, here a few of them).
GREEN = {
    "wait_for_hour": "success",
    "landing_manifest": "success",
    "has_objects": "success",
    "ensure_tables": "success",
    "ingest": "success",
    "quality_gate": "success",
    "publish": "success",
    "is_silver_maintenance_hour": "success",
    "maintain_silver": "skipped",
    "export_silver": "success",
    "dbt.stg_orders_run": "success",
    "dbt.fct_order_lines_run": "success",
    "marts_published": "success",
}
# An hour without objects: has_objects short-circuits everything after it.
EMPTY = {
    **{task: "skipped" for task in GREEN},
    "wait_for_hour": "success",
    "landing_manifest": "success",
    "has_objects": "success",
}


def airflow_backfill_run_id(hour: datetime) -> str:
    """The run id Airflow gives the backfill run of arrival hour `hour`, made the way
    `airflow.models.backfill` makes it: the timetable's run info for the hour, then its run id."""
    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.interval import CronDataIntervalTimetable
    from airflow.utils.types import DagRunType

    timetable = CronDataIntervalTimetable("0 * * * *", timezone="UTC")  # the DAG's schedule
    from airflow.sdk import timezone

    moment = timezone.coerce_datetime(hour)  # pendulum, as the scheduler hands it
    restriction = TimeRestriction(earliest=moment, latest=moment, catchup=True)
    info = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert info.data_interval.start == hour  # the run owns arrival hour `hour`
    return timetable.generate_run_id(
        run_type=DagRunType.BACKFILL_JOB, run_after=info.run_after, data_interval=info.data_interval
    )


def test_a_backfill_run_is_named_by_its_interval_end_and_the_summary_says_both() -> None:
    run_id = airflow_backfill_run_id(HOUR)
    assert run_id == backfill_run_name(HOUR) == "backfill__2026-11-01T09:00:00+00:00"
    assert airflow_run_name(HOUR, run_id) == run_id
    assert hour_and_run(HOUR, run_id) == "2026-11-01 08:00 (Airflow run backfill__2026-11-01T09:00:00+00:00)"
    # a name that already says the arrival hour is not repeated
    assert hour_and_run(HOUR, f"manual__{HOUR.isoformat()}") == "2026-11-01 08:00"


def test_the_summary_table_names_the_run_and_each_skipped_task_with_its_reason(capsys) -> None:
    results = [
        HourResult(
            HOUR + timedelta(hours=i), "success", airflow_backfill_run_id(HOUR + timedelta(hours=i)), 40.0, GREEN
        )
        for i in range(3)
    ]
    print_results(results)
    out = capsys.readouterr().out
    header, _, *rows = out.splitlines()[:5]
    assert "Airflow run" in header
    assert rows[0].startswith("2026-11-01 08:00  backfill__2026-11-01T09:00:00+00:00  success")
    assert all(row.rstrip().endswith("maintain_silver") for row in rows)
    hours = "2026-11-01 08:00, 2026-11-01 09:00, 2026-11-01 10:00"
    assert f"skipped maintain_silver ({hours}): {MAINTENANCE_HOUR}" in out
    assert "03:00 UTC" in MAINTENANCE_HOUR


def test_an_empty_hour_names_what_it_skipped_and_says_why(capsys) -> None:
    assert explain_skipped(EMPTY) == {
        EMPTY_HOUR: [
            "ensure_tables",
            "ingest",
            "quality_gate",
            "publish",
            "is_silver_maintenance_hour",
            "maintain_silver",
            "export_silver",
            "marts_published",
            "dbt.* (2)",
        ]
    }
    print_results([HourResult(HOUR, "success", "manual__2026-12-07T21:03:12.123456+00:00", 9.0, EMPTY)])
    out = capsys.readouterr().out
    assert "9 (below)" in out and "manual__2026-12-07T21:03:12.123456+00:00" in out
    assert f"export_silver, marts_published, dbt.* (2) (2026-11-01 08:00): {EMPTY_HOUR}" in out
    # a day's backfill: counted, not listed (the 03:00 UTC hour runs maintain_silver)
    day = [datetime(2026, 11, 2, h, tzinfo=UTC) for h in range(24)]
    maintained = {**GREEN, "maintain_silver": "success"}
    print_results([HourResult(h, "success", "", 30.0, maintained if h.hour == 3 else GREEN) for h in day])
    assert f"skipped maintain_silver (23 of 24 runs): {MAINTENANCE_HOUR}" in capsys.readouterr().out


def test_a_skip_nobody_planned_is_named_and_not_explained_away() -> None:
    states = {**GREEN, "export_silver": "skipped"}
    assert explain_skipped(states) == {MAINTENANCE_HOUR: ["maintain_silver"], UNKNOWN: ["export_silver"]}
    assert explain_skipped({t: "success" for t in GREEN}) == {}


def test_compose_clean_removes_only_this_project(capsys) -> None:
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    assert compose["name"] == PROJECT  # the project name the commands scope to is the file's
    down, prune = Stack().clean_commands()
    assert down[down.index("--project-name") + 1] == PROJECT
    assert down[down.index("--file") + 1] == str(COMPOSE_FILE)
    assert down[down.index("down") :] == ["down", "--volumes", "--remove-orphans", "--rmi", "all"]
    # the cache no image uses, never everything: no `--all`, no `system prune`, no volume prune
    assert prune == ["docker", "builder", "prune", "--force"]
    # without docker/.env (a clean clone) compose still reads the file: the example's placeholders
    missing = Stack(env_file=COMPOSE_FILE.parent / "no-such.env")
    assert missing.clean_commands()[0][missing.clean_commands()[0].index("--env-file") + 1] == str(ENV_EXAMPLE)

    assert cli.main(["compose", "--env-file", str(missing.env_file), "clean", "--dry-run"]) == 0
    err = capsys.readouterr().err
    assert f"--project-name {PROJECT}" in err and "down --volumes --remove-orphans --rmi all" in err
    assert "docker builder prune --force" in err and "system" not in err
