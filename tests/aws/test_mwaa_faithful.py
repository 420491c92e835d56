"""The deploy bundle in an MWAA-like environment: only what MWAA would have.

- Python 3.12 with `apache-airflow==3.2.1` and the Amazon provider MWAA's image ships (installed
  under the bundled constraints: that is the image), then the bundle's `requirements.txt`
  installed exactly as written: `--no-index` from the wheels in its `plugins.zip`;
- the bundle's `dags/` folder as the DAGs folder, `plugins.zip` unpacked as the plugins folder;
  the project is NOT installed (no PYTHONPATH: MWAA's image refuses one);
- the environment exactly as the bundle's `startup.sh` leaves it, sourced and saved the way MWAA
  does (`mwaa_startup.sh`), including when its dbt install fails.

The one deviation from MWAA: `/usr/local/airflow` is a temporary folder (AIRFLOW_HOME), and the
two absolute paths requirements.txt names are rewritten to it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lakehouse import bundle as bundles
from lakehouse import deploy_config
from pipeline.settings import REPO_ROOT
from tests.aws.mwaa import install_home, parse_dags, run, source_startup

pytestmark = pytest.mark.aws


@pytest.mark.parametrize("backend", ["glue", "emr-serverless"])
def test_dags_import_in_an_mwaa_like_environment(backend, glue_bundle, emr_bundle, mwaa_venv, tmp_path) -> None:
    built = glue_bundle if backend == "glue" else emr_bundle
    home = install_home(built, tmp_path / "airflow")
    saved = source_startup(built, home, mwaa_venv)
    assert saved["LAKEHOUSE_SPARK_BACKEND"] == backend
    assert (
        "dbt ready" in saved["_stderr"] + saved.get("_stdout", "") or Path(saved["LAKEHOUSE_DBT_EXECUTABLE"]).exists()
    )
    result = parse_dags(mwaa_venv, home, saved, tmp_path)
    assert result["import_errors"] == {}
    dag_ids = {"orders_lakehouse", "orders_backfill", "lakehouse_maintenance", "product_recommendations"}
    assert set(result["dags"]) == dag_ids
    expected = "GlueSparkJobOperator" if backend == "glue" else "EmrServerlessSparkJobOperator"
    for dag_id in ("orders_lakehouse", "orders_backfill"):  # the hourly runs and the bulk backfill
        operators = result["operators"][dag_id]
        assert {operators[t] for t in ("ingest", "quality_gate", "publish")} == {expected}, dag_id
    assert result["operators"]["product_recommendations"]["recommend"] == expected
    # the dbt models render as Cosmos tasks from the bundled redshift manifest
    assert sum(t.startswith("dbt.") for t in result["dags"]["orders_lakehouse"]) > 10
    assert "analyze_marts" in result["dags"]["lakehouse_maintenance"]
    assert result["foreign_modules"] == []  # no CLI package, no Spark, no GX on MWAA workers


def test_startup_installs_dbt_offline_and_cosmos_can_run_it(glue_bundle, mwaa_venv, tmp_path) -> None:
    home = install_home(glue_bundle, tmp_path / "airflow")
    saved = source_startup(glue_bundle, home, mwaa_venv)
    dbt = Path(saved["LAKEHOUSE_DBT_EXECUTABLE"])
    assert dbt == home / "dbt_venv" / "bin" / "dbt"
    version = run([str(dbt), "--version"], env={"PATH": "/usr/bin:/bin", "HOME": str(home)}).stdout
    locked = dict(p.split("==") for p in bundles.dbt_mwaa_pins(REPO_ROOT / "requirements" / "dbt.lock"))
    assert f"installed: {locked['dbt-core']}" in version
    assert f"redshift: {locked['dbt-redshift']}" in version


def test_a_failed_dbt_install_still_saves_every_variable(glue_bundle, mwaa_venv, tmp_path) -> None:
    home = install_home(glue_bundle, tmp_path / "airflow")
    shutil.rmtree(home / "plugins" / "dbt" / "wheels")  # the pip step cannot succeed
    saved = source_startup(glue_bundle, home, mwaa_venv)
    assert "dbt install FAILED" in saved["_stderr"]
    config = deploy_config.load("dev", glue_bundle.root.parent / "deploy")
    expected = config.runtime_env()
    for name, value in expected.items():
        if name != "LAKEHOUSE_DBT_EXECUTABLE":
            assert saved[name] == value, name
    result = parse_dags(mwaa_venv, home, saved, tmp_path)  # the DAGs still import
    assert result["import_errors"] == {}
