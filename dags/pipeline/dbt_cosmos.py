"""dbt as Airflow tasks, through Cosmos, configured the way MWAA needs it.

- `LoadMode.DBT_MANIFEST`: the task graph comes from `dbt/target/manifest.json` (made by
  `dbt parse` at build/deploy time), so parsing the DAG never runs dbt.
- dbt runs from its own virtualenv (`settings.dbt_executable`, made by MWAA's startup.sh or
  `make setup` locally), as a subprocess: dbt-core 1.11 cannot live in Airflow's environment.
- `profiles.yml` is the project's own; the target is `settings.dbt_target`. Secrets come from
  the environment (see dbt/profiles.yml), never from here.
- Every model is its own task in the UI (`TestBehavior.BUILD`: the model and its tests); a test
  across several models is its own task once they are all built (in watcher mode it is part of
  each of its models' test tasks instead). How they run is the warehouse's to say
  (`pipeline.warehouse`: `dbt_watcher`, `dbt_retries`, `dbt_parallel_tasks`):
  - `local` (DuckDB) and `compose` (PostgreSQL): Cosmos' *watcher* mode. One task,
    `dbt_producer_watcher`, runs a single `dbt build` (one dbt start-up instead of ~26, about
    10 s instead of ~65-105 s per hourly run; the build runs the profile's 4 threads), and each
    model's task reports that model's outcome from the build's events. The producer is put
    upstream of the model tasks, so `airflow dags test` (which runs ready tasks in no fixed
    order) never starts a model's task before the build. DuckDB is a single-writer file, so
    nothing is lost by running the models in one process; on PostgreSQL 26 dbt start-ups were
    most of compose's hour (issue 30).
  - `redshift`: one `dbt build --select <model>` per task, models in parallel.
- Cosmos' own asset emission is off: the pipeline emits one asset per mart (`pipeline.assets`)
  after the whole group, when the marts are consistent with each other.

Where the project lives: `pipeline.dbt_project` (`dags/dbt/` on MWAA, else the repository's `dbt/`).

If the manifest is missing (a fresh clone before `dbt parse`), the DAG still imports: the dbt
step becomes one task that fails with the command that fixes it, instead of an import error
that hides the whole DAG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lakehouse_core.settings import Settings
from pipeline import rate_alarm
from pipeline.dbt_project import PROJECT_NAME, dbt_project_dir, manifest_path, missing_manifest_task
from pipeline.warehouse import duckdb_path, warehouse_for


def dbt_env(settings: Settings) -> dict[str, str]:
    """Variables dbt's profiles.yml reads that must not depend on the task's working directory.

    Cosmos runs dbt in a temporary copy of the project, so relative paths would point there.
    """
    return {
        "DBT_TARGET": settings.dbt_target,
        "LAKEHOUSE_HOME": str(settings.home),
        # Read by the `local` target only (the DuckDB file its export_silver fills).
        "LAKEHOUSE_DUCKDB_PATH": str(duckdb_path(settings)),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
    }


def dbt_task_group(settings: Settings, group_id: str = "dbt", manifest: Path | None = None, **task_group_kwargs: Any):
    """The Cosmos `DbtTaskGroup` (one run + test task per model) for the settings' warehouse.

    `manifest` overrides the project's `target/manifest.json` (tests render a manifest built elsewhere).
    """
    project_dir = dbt_project_dir()
    manifest = manifest or manifest_path(project_dir)
    if not manifest.is_file():
        return missing_manifest_task(group_id, manifest, project_dir)

    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    project_config = ProjectConfig(
        dbt_project_path=project_dir,
        manifest_path=manifest,
        project_name=PROJECT_NAME,
        # dbt deps would need the dbt Hub at run time; packages are vendored if ever used.
        install_dbt_deps=False,
        env_vars=dbt_env(settings),
        # the rate alarm's thresholds (LAKEHOUSE_RATE_ALARM_*), only those set away from the defaults
        dbt_vars=rate_alarm.dbt_vars(settings) or None,
    )
    # Cosmos wraps any manifest path in an ObjectStoragePath (for s3:// manifests); opening one
    # makes Airflow discover every provider's filesystem and lineage plugin (boto3, fastapi):
    # ~0.6 s of a ~0.8 s cold parse. Ours is always a local file, and Cosmos only calls
    # .open()/.exists() on it, which pathlib.Path has: give it the plain Path back.
    project_config.manifest_path = manifest
    warehouse = warehouse_for(settings)
    watcher = warehouse.dbt_watcher
    group = DbtTaskGroup(
        group_id=group_id,
        project_config=project_config,
        profile_config=ProfileConfig(
            profile_name=PROJECT_NAME,
            target_name=warehouse.target,
            profiles_yml_filepath=project_dir / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER if watcher else ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=settings.dbt_executable,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=settings.dbt_executable,
            # Per-model tasks: model + its tests in one `dbt build --select` (half the tasks of
            # run-then-test); in watcher mode (one build for all) a model task and a test task
            # per model, which only read the build's events. Per-model builds: a test that reads
            # several models (relationships, cross-model assertions) becomes its own task after
            # all of them. Watcher: it counts in each of its models' test task, which reads its
            # result; as a task of its own Cosmos has no result to read for it (it waits for
            # the producer to end through the triggerer, then says "no information").
            test_behavior=TestBehavior.AFTER_EACH if watcher else TestBehavior.BUILD,
            should_detach_multiple_parents_tests=not watcher,
            emit_datasets=False,
            enable_mock_profile=False,
        ),
        operator_args={"append_env": True, "retries": warehouse.dbt_retries},
        **task_group_kwargs,
    )
    if watcher:
        _producer_first(group)
    return group


def _producer_first(group) -> None:
    """Put the watcher's producer (the one `dbt build`) upstream of every model task of the group.

    Cosmos leaves the model tasks (sensors) parallel to the producer and relies on priority
    weights, which a scheduler honours but `airflow dags test` does not: there a sensor could
    run first and wait for a build that never starts. With the producer upstream, each model
    task runs after the build and reads its model's outcome at once. If the build fails, the
    model tasks are `upstream_failed` and the producer's log holds dbt's error.
    """
    from cosmos.constants import PRODUCER_WATCHER_DONE_TASK_ID, PRODUCER_WATCHER_TASK_ID

    prefix = f"{group.group_id}."
    producer = group.children.get(prefix + PRODUCER_WATCHER_TASK_ID)
    if producer is None:  # pragma: no cover - another Cosmos layout
        return
    skip = {producer.task_id, prefix + PRODUCER_WATCHER_DONE_TASK_ID}
    tasks = [t for t in _leaf_tasks(group) if t.task_id not in skip]
    in_group = {t.task_id for t in tasks}
    for task in tasks:
        if not (task.upstream_task_ids & in_group):
            producer >> task


def _leaf_tasks(group) -> list:
    """Every operator inside `group`, through nested groups (one per model in watcher mode)."""
    tasks = []
    for child in group.children.values():
        tasks.extend(_leaf_tasks(child) if hasattr(child, "children") else [child])
    return tasks


def build_marts(settings: Settings, after: Any) -> Any:
    """`after` -> export_silver (local, compose) -> the dbt task group -> marts_published.

    Inside a DAG's context; returns marts_published, the task whose success means every model
    and test passed. The hourly DAG and the bulk backfill build the marts the same way.
    """
    from airflow.sdk import task

    from pipeline import assets

    last = after
    if warehouse_for(settings).copies_silver:
        # DuckDB (local) and PostgreSQL (compose) read silver from a copy: neither reads Iceberg
        # offline. On Redshift the marts read silver through Spectrum: nothing to copy.
        @task(task_id="export_silver")
        def export_silver() -> int:
            """Copy silver (main) into the warehouse (DuckDB or PostgreSQL) before dbt reads it."""
            from lakehouse_core.settings import load_settings

            return warehouse_for(load_settings()).export_silver()

        last = last >> export_silver()

    dbt = dbt_task_group(settings, group_id="dbt")

    @task(task_id="marts_published", outlets=assets.mart_assets("lakehouse", manifest_path()))
    def marts_published() -> None:
        """Emits the mart assets once every model and test of the dbt group succeeded."""

    published = marts_published()
    last >> dbt >> published
    return published
