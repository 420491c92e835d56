"""Where the dbt project and its manifest are, and the task that stands in when the manifest is missing.

Shared by the Cosmos task group (`pipeline.dbt_cosmos`), the warehouse's upkeep (`pipeline.warehouse`:
Redshift's ANALYZE lists the marts from the manifest) and the CLI (`lakehouse dbt`), so none of
them imports another for a path.

Where the project lives: on MWAA the deploy step puts it in the dags folder (`dags/dbt/`);
in a clone it is the repository's `dbt/`. The first one that has a `dbt_project.yml` wins.
Standard library only at import time: the DAG files import this at parse time.
"""

from __future__ import annotations

from pathlib import Path

from lakehouse_core.settings import REPO_ROOT

PROJECT_NAME = "lakehouse"  # `name:` in dbt_project.yml, `profile:` too
DAGS_FOLDER = Path(__file__).resolve().parents[1]
MANIFEST_RELATIVE = Path("target") / "manifest.json"


def dbt_project_dir() -> Path:
    """`<dags>/dbt` when deployed there (MWAA), else the repository's `dbt/`."""
    deployed = DAGS_FOLDER / "dbt"
    if (deployed / "dbt_project.yml").is_file():
        return deployed
    return REPO_ROOT / "dbt"


def manifest_path(project_dir: Path | None = None) -> Path:
    return (project_dir or dbt_project_dir()) / MANIFEST_RELATIVE


def missing_manifest_task(task_id: str, manifest: Path, project_dir: Path):  # -> PythonOperator
    """A task that fails with the command that makes the manifest: the DAG still imports without it,
    instead of an import error that hides the whole DAG."""
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
