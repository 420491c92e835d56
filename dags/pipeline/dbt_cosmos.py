"""dbt as Airflow tasks, through Cosmos, configured the way MWAA needs it.

- `LoadMode.DBT_MANIFEST`: the task graph comes from `dbt/target/manifest.json` (made by
  `dbt parse` at build/deploy time), so parsing the DAG never runs dbt.
- dbt runs from its own virtualenv (`settings.dbt_executable`, made by MWAA's startup.sh or
  `make setup` locally), as a subprocess: dbt-core 1.11 cannot live in Airflow's environment.
- `profiles.yml` is the project's own; the target is `settings.dbt_target`. Secrets come from
  the environment (see dbt/profiles.yml), never from here.
- One task per model (`TestBehavior.BUILD`: the model and its tests); a test across several
  models runs as its own task once they are all built.
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
    )
    # Cosmos wraps any manifest path in an ObjectStoragePath (for s3:// manifests); opening one
    # makes Airflow discover every provider's filesystem and lineage plugin (boto3, fastapi):
    # ~0.6 s of a ~0.8 s cold parse. Ours is always a local file, and Cosmos only calls
    # .open()/.exists() on it, which pathlib.Path has: give it the plain Path back.
    project_config.manifest_path = manifest
    return DbtTaskGroup(
        group_id=group_id,
        project_config=project_config,
        profile_config=ProfileConfig(
            profile_name=PROJECT_NAME,
            target_name=settings.dbt_target,
            profiles_yml_filepath=project_dir / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=settings.dbt_executable,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=settings.dbt_executable,
            # One `dbt build --select <model>` task per model (model + its tests), half the
            # tasks (and dbt start-ups) of run-then-test. A test that reads several models
            # (relationships, cross-model assertions) becomes its own task after all of them.
            test_behavior=TestBehavior.BUILD,
            should_detach_multiple_parents_tests=True,
            emit_datasets=False,
            enable_mock_profile=False,
        ),
        # dbt runs are idempotent; a failed data test fails the same way again, so retry once
        # (for a dropped warehouse connection), not the pipeline's three times.
        operator_args={"append_env": True, "retries": DBT_RETRIES},
        **task_group_kwargs,
    )


def _missing_manifest_task(task_id: str, manifest: Path, project_dir: Path):
    from airflow.providers.standard.operators.python import PythonOperator

    return PythonOperator(
        task_id=task_id,
        python_callable=_fail_missing_manifest,
        op_kwargs={"manifest": str(manifest), "project_dir": str(project_dir)},
        doc_md="Placeholder: the dbt manifest was missing when this DAG was parsed.",
    )


def _fail_missing_manifest(manifest: str, project_dir: str) -> None:
    raise FileNotFoundError(
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
