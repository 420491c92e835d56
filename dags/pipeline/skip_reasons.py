"""Why a task of `orders_lakehouse` is skipped in a green run: one place for the DAG and the summaries.

Two short-circuits skip tasks by design, and a summary that says "skipped 1" should say which
and why (issue 30):

- `has_objects`: an arrival hour with no Firehose objects is a normal, green run; everything
  after it (tables, Spark, export, dbt, marts) is skipped. We recognise it by `ingest` being
  skipped: nothing else skips ingest.
- `is_silver_maintenance_hour`: `maintain_silver` runs only in the 03:00 UTC hour.

The DAG takes the short-circuits' docs from here (`GATE_DOCS`); the CLI summaries
(`lakehouse.runtime.local_airflow.print_results`) call `explain_skipped` on a run's task states.
Standard library only: imported when DAG files are parsed.
"""

from __future__ import annotations

from collections.abc import Mapping

from pipeline.maintenance import SILVER_MAINTENANCE_HOUR

EMPTY_HOUR_GATE = "has_objects"
MAINTENANCE_GATE = "is_silver_maintenance_hour"
EMPTY_HOUR = "the arrival hour has no objects (has_objects): nothing to ingest, the run is green"
MAINTENANCE_HOUR = (
    f"silver compaction and snapshot expiry run only in the {SILVER_MAINTENANCE_HOUR:02d}:00 UTC hour "
    f"({MAINTENANCE_GATE})"
)
# Tasks skipped by design in an hour with data, and why.
BY_DESIGN: dict[str, str] = {"maintain_silver": MAINTENANCE_HOUR}
# The docs of the short-circuit tasks that do the skipping (shown in the UI).
GATE_DOCS: dict[str, str] = {EMPTY_HOUR_GATE: EMPTY_HOUR, MAINTENANCE_GATE: MAINTENANCE_HOUR}
UNKNOWN = "skipped by an upstream short-circuit or trigger rule (see the run in the UI)"
# The one task an empty hour skips and nothing else does.
EMPTY_HOUR_MARK = "ingest"


def explain_skipped(states: Mapping[str, str]) -> dict[str, list[str]]:
    """The skipped tasks of one run, grouped by reason: `{reason: [task or "group.* (N)", ...]}`.

    A task group's skipped tasks (Cosmos' `dbt.*`) are named once, with their count, so an empty
    hour's summary names 14 things, not 40.
    """
    skipped = [task for task, state in states.items() if state == "skipped"]
    empty_hour = states.get(EMPTY_HOUR_MARK) == "skipped"
    grouped: dict[str, list[str]] = {}
    for task in skipped:
        reason = EMPTY_HOUR if empty_hour else BY_DESIGN.get(task, UNKNOWN)
        grouped.setdefault(reason, []).append(task)
    return {reason: _collapse_groups(tasks) for reason, tasks in grouped.items()}


def _collapse_groups(tasks: list[str]) -> list[str]:
    names: list[str] = []
    groups: dict[str, int] = {}
    for task in tasks:
        group, dot, _ = task.partition(".")
        if dot:
            groups[group] = groups.get(group, 0) + 1
        else:
            names.append(task)
    return names + [f"{group}.* ({count})" for group, count in groups.items()]
