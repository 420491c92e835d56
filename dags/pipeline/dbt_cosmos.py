"""dbt as Airflow tasks, through Cosmos, configured the way MWAA needs it.

- `LoadMode.DBT_MANIFEST`: the task graph comes from `dbt/target/manifest.json` (made by
  `dbt parse` at build/deploy time), so parsing the DAG never runs dbt.
- dbt runs from its own virtualenv (`settings.dbt_executable`, made by MWAA's startup.sh or
  `make setup` locally), as a subprocess: dbt-core 1.11 cannot live in Airflow's environment.
- `profiles.yml` is the project's own; the target is `settings.dbt_target`. Secrets come from
  the environment (see dbt/profiles.yml), never from here.
- Every model is its own task in the UI (`TestBehavior.BUILD`: the model and its tests); a test
  across several models is its own task once they are all built (in watcher mode it is part of
  each of its models' test tasks instead). How they run depends on the target:
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

Where the project lives: on MWAA the deploy step puts it in the dags folder (`dags/dbt/`);
in a clone it is the repository's `dbt/`. The first one that has a `dbt_project.yml` wins.

If the manifest is missing (a fresh clone before `dbt parse`), the DAG still imports: the dbt
step becomes one task that fails with the command that fixes it, instead of an import error
that hides the whole DAG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline import rate_alarm
from pipeline.settings import REPO_ROOT, Settings

PROJECT_NAME = "lakehouse"  # `name:` in dbt_project.yml, `profile:` too
DAGS_FOLDER = Path(__file__).resolve().parents[1]
MANIFEST_RELATIVE = Path("target") / "manifest.json"
DBT_RETRIES = 1


def dbt_project_dir() -> Path:
    """`<dags>/dbt` when deployed there (MWAA), else the repository's `dbt/`."""
    deployed = DAGS_FOLDER / "dbt"
    if (deployed / "dbt_project.yml").is_file():
        return deployed
    return REPO_ROOT / "dbt"


def manifest_path(project_dir: Path | None = None) -> Path:
    return (project_dir or dbt_project_dir()) / MANIFEST_RELATIVE


def dbt_env(settings: Settings) -> dict[str, str]:
    """Variables dbt's profiles.yml reads that must not depend on the task's working directory.

    Cosmos runs dbt in a temporary copy of the project, so relative paths would point there.
    """
    return {
        "DBT_TARGET": settings.dbt_target,
        "LAKEHOUSE_HOME": str(settings.home),
        # Read by the `local` target only (the file pipeline.local_warehouse.export_silver fills).
        "LAKEHOUSE_DUCKDB_PATH": str(duckdb_path(settings)),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
    }


def duckdb_path(settings: Settings) -> Path:
    """The local target's DuckDB warehouse file."""
    return settings.home / "warehouse.duckdb"


def dbt_task_group(settings: Settings, group_id: str = "dbt", manifest: Path | None = None, **task_group_kwargs: Any):
    """The Cosmos `DbtTaskGroup` (one run + test task per model) for `settings.dbt_target`.

    `manifest` overrides the project's `target/manifest.json` (tests render a manifest built elsewhere).
    """
    project_dir = dbt_project_dir()
    manifest = manifest or manifest_path(project_dir)
    if not manifest.is_file():
        return _missing_manifest_task(group_id, manifest, project_dir)

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
    watcher = settings.dbt_target in ("local", "compose")
    group = DbtTaskGroup(
        group_id=group_id,
        project_config=project_config,
        profile_config=ProfileConfig(
            profile_name=PROJECT_NAME,
            target_name=settings.dbt_target,
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
        operator_args={"append_env": True, "retries": dbt_retries(settings)},
        **task_group_kwargs,
    )
    if watcher:
        _producer_first(group)
    return group


# How many dbt tasks of one hourly run may run at once on MWAA. An mw1.small worker runs 5 tasks in
# about 2 GB: each dbt task is an Airflow task process (~200 MB with the DAG and Cosmos loaded) plus
# its dbt subprocess (`dbt parse` of this project peaks at 134 MB RSS here; running a model with
# dbt-redshift adds the driver), about 350 MB together. Three leave the worker ~1 GB and two task
# slots for the other DAGs (maintenance, recommendations, the hourly run's own next steps).
MWAA_DBT_PARALLEL_TASKS = 3
DBT_PARALLEL_TASKS = 8  # compose: the worker container is not an mw1.small


def dbt_parallel_tasks(settings: Settings) -> int:
    """The hourly DAG's `max_active_tasks` (its other tasks run one after another): one on the
    local DuckDB file (a single writer), MWAA_DBT_PARALLEL_TASKS on AWS, else DBT_PARALLEL_TASKS."""
    if settings.dbt_target == "local":
        return 1
    return MWAA_DBT_PARALLEL_TASKS if settings.environment == "aws" else DBT_PARALLEL_TASKS


def dbt_retries(settings: Settings) -> int:
    """Retries of a dbt task: once on a warehouse reached over the network (a dropped
    connection), never on the local DuckDB file, where a failed model or test fails the same
    way again (and `airflow dags test` would sit out the retry delay for nothing)."""
    return 0 if settings.dbt_target == "local" else DBT_RETRIES


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


def _missing_manifest_task(task_id: str, manifest: Path, project_dir: Path):
    from airflow.providers.standard.operators.python import PythonOperator

    return PythonOperator(
        task_id=task_id,
        python_callable=_fail_missing_manifest,
        op_kwargs={"manifest": str(manifest), "project_dir": str(project_dir)},
        doc_md="Placeholder: the dbt manifest was missing when this DAG was parsed.",
        retries=0,
    )


def _fail_missing_manifest(manifest: str, project_dir: str) -> None:
    """An environment error: retrying cannot make the manifest appear, so fail at once."""
    from airflow.sdk.exceptions import AirflowFailException

    raise AirflowFailException(
        f"dbt manifest {manifest} was missing when the DAG was parsed, so the dbt models could not "
        f"be rendered as tasks. Run `dbt parse --project-dir {project_dir} --profiles-dir {project_dir}` "
        f"with the dbt virtualenv (or the project's make target), then let Airflow re-parse the DAG."
    )


# --- Redshift upkeep -------------------------------------------------------------------------


def mart_relations(manifest: Path) -> list[str]:
    """`schema.table` of every materialised mart (table or incremental) in the dbt manifest."""
    from pipeline.assets import mart_nodes

    relations = {
        f"{node['schema']}.{node.get('alias') or node['name']}"
        for node in mart_nodes(manifest)
        if node.get("config", {}).get("materialized") in ("table", "incremental")
    }
    return sorted(relations)


def analyze_statements(manifest: Path) -> list[str]:
    return [f"ANALYZE {relation}" for relation in mart_relations(manifest)]


def redshift_analyze_task(settings: Settings, task_id: str = "analyze_marts"):
    """`ANALYZE` every mart through the Redshift Data API (deferrable; Serverless or provisioned)."""
    from airflow.providers.amazon.aws.operators.redshift_data import RedshiftDataOperator

    statements = analyze_statements(manifest_path())
    if not statements:
        return _missing_manifest_task(task_id, manifest_path(), dbt_project_dir())
    target = (
        {"workgroup_name": settings.redshift_workgroup}
        if settings.redshift_workgroup
        else {"cluster_identifier": settings.redshift_cluster_id or None}
    )
    return RedshiftDataOperator(
        task_id=task_id,
        sql=statements,
        database=settings.redshift_database,
        secret_arn=settings.redshift_secret_arn or None,
        region_name=settings.aws_region,
        aws_conn_id=None,
        deferrable=True,
        wait_for_completion=True,
        **target,
    )


def build_marts(settings: Settings, after: Any) -> Any:
    """`after` -> export_silver (local, compose) -> the dbt task group -> marts_published.

    Inside a DAG's context; returns marts_published, the task whose success means every model
    and test passed. The hourly DAG and the bulk backfill build the marts the same way.
    """
    from airflow.sdk import task

    from pipeline import assets

    last = after
    if settings.dbt_target in ("local", "compose"):
        # DuckDB (local) and PostgreSQL (compose) read silver from a copy: neither reads Iceberg
        # offline. On Redshift the marts read silver through Spectrum: nothing to copy.
        @task(task_id="export_silver")
        def export_silver() -> int:
            """Copy silver (main) into the warehouse (DuckDB or PostgreSQL) before dbt reads it."""
            from pipeline.local_warehouse import export_silver as export
            from pipeline.settings import load_settings

            return export(load_settings())

        last = last >> export_silver()

    dbt = dbt_task_group(settings, group_id="dbt")

    @task(task_id="marts_published", outlets=assets.mart_assets("lakehouse", manifest_path()))
    def marts_published() -> None:
        """Emits the mart assets once every model and test of the dbt group succeeded."""

    published = marts_published()
    last >> dbt >> published
    return published
