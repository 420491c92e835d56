"""Where a compose hour's time goes (`lakehouse bench-compose`): phases from the task instances' times."""

from __future__ import annotations

from datetime import datetime

from lakehouse.benchmarks.compose import phases


def _ti(start: str | None, end: str | None) -> dict[str, str | None]:
    """One task instance as /api/v2/.../taskInstances gives it (ISO times with a Z)."""
    day = "2026-12-07T23:"
    return {"start_date": start and f"{day}{start}Z", "end_date": end and f"{day}{end}Z"}


def _at(clock: str) -> datetime:
    return datetime.fromisoformat(f"2026-12-07T23:{clock}+00:00")


def test_the_phases_of_a_watcher_run_add_up_to_the_run() -> None:
    tasks = {
        "wait_for_hour": _ti("30:01", "30:03"),
        "ingest": _ti("30:20", "30:50"),
        "quality_gate": _ti("30:51", "31:10"),
        "publish": _ti("31:11", "31:20"),
        "export_silver": _ti("31:21", "31:25"),
        "maintain_silver": _ti(None, None),  # skipped: never started
        "dbt.dbt_producer_watcher": _ti("31:26", "31:40"),
        "dbt.stg_order_lines.run": _ti("31:41", "31:42"),
        "dbt.agg_daily_sales.test": _ti("31:44", "31:46"),
        "marts_published": _ti("31:47", "31:48"),
        "rate_alarm": _ti("31:49", "31:50"),
    }
    rows = phases(tasks, _at("30:00"), _at("31:51"))
    assert [(r.what.strip(), r.seconds) for r in rows] == [
        ("start to the ingest (wait, claim, manifest, tables)", 20),
        ("ingest (Spark)", 31),
        ("quality_gate (Spark + GX)", 20),
        ("publish (Spark)", 9),
        ("publish to dbt (export_silver, gaps)", 6),
        ("dbt: the one `dbt build`", 14),
        ("dbt: the per-model tasks after the build", 6),
        ("dbt to the run's end (marts_published, rate_alarm)", 5),
    ]
    assert sum(r.seconds for r in rows) == (_at("31:51") - _at("30:00")).total_seconds()


def test_a_run_with_one_dbt_task_per_model_has_no_build_row() -> None:
    """Redshift's layout (and compose's before issue 30): `dbt build --select` per model."""
    tasks = {
        "ingest": _ti("30:20", "30:50"),
        "quality_gate": _ti("30:51", "31:10"),
        "publish": _ti("31:11", "31:20"),
        "dbt.stg_order_lines_model_build": _ti("31:25", "31:40"),
        "dbt.fct_order_lines_model_build": _ti("31:41", "32:10"),
    }
    rows = phases(tasks, _at("30:00"), _at("32:15"))
    assert [r.what.strip() for r in rows][-3:] == [
        "publish to dbt (export_silver, gaps)",
        "dbt: models and tests",
        "dbt to the run's end (marts_published, rate_alarm)",
    ]
    assert [r.seconds for r in rows][-2:] == [45, 5]
