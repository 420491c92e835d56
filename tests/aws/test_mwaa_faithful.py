"""The deploy bundle in an MWAA-like environment: only what MWAA would have.

- Python 3.12 with `apache-airflow==3.2.1` and the Amazon provider MWAA's image ships (installed
  under the bundled constraints: that is the image), then the bundle's `requirements.txt`
  installed exactly as written: `--no-index` from the wheels in its `plugins.zip`;
- the bundle's `dags/` folder as the DAGs folder, `plugins.zip` unpacked as the plugins folder;
  the project is NOT installed (no PYTHONPATH: MWAA's image refuses one);
- the environment exactly as the bundle's `startup.sh` leaves it, sourced and saved the way MWAA
  does (`mwaa_startup.sh`), including when its dbt install fails.

requirements.txt is installed as MWAA's image runs pip (`mwaa_pip_install`); it is in pip's
hash-checking mode, so every wheel pip takes from plugins.zip must have the sha256 on its line.

The one deviation from MWAA: `/usr/local/airflow` is a temporary folder (AIRFLOW_HOME), and the
two absolute paths requirements.txt names are rewritten to it.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from lakehouse.aws import bundle as bundles
from lakehouse.aws import deploy_config
from lakehouse_core.settings import REPO_ROOT
from tests.aws.mwaa import image_without, install_home, installed, mwaa_pip_install, parse_dags, run, source_startup

pytestmark = pytest.mark.aws


@pytest.fixture(scope="module")
def glue_started(glue_bundle, mwaa_venv, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The glue bundle's $AIRFLOW_HOME after startup.sh ran in a worker (dbt installed) and the
    variables it saved: one dbt install for the tests that only read them."""
    home = install_home(glue_bundle, tmp_path_factory.mktemp("glue-started") / "airflow")
    return home, source_startup(glue_bundle, home, mwaa_venv)


@pytest.mark.parametrize("backend", ["glue", "emr-serverless"])
def test_dags_import_in_an_mwaa_like_environment(backend, glue_started, emr_bundle, mwaa_venv, tmp_path) -> None:
    if backend == "glue":
        home, saved = glue_started
    else:
        home = install_home(emr_bundle, tmp_path / "airflow")
        saved = source_startup(emr_bundle, home, mwaa_venv)
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


def test_startup_installs_dbt_offline_and_cosmos_can_run_it(glue_started) -> None:
    home, saved = glue_started
    dbt = Path(saved["LAKEHOUSE_DBT_EXECUTABLE"])
    assert dbt == home / "dbt_venv" / "bin" / "dbt"
    version = run([str(dbt), "--version"], env={"PATH": "/usr/bin:/bin", "HOME": str(home)}).stdout
    locked = dict(p.split("==") for p in bundles.dbt_mwaa_pins(REPO_ROOT / "requirements" / "dbt.lock"))
    assert f"installed: {locked['dbt-core']}" in version
    assert f"redshift: {locked['dbt-redshift']}" in version


def tamper(wheel: Path) -> None:
    """A line added to one module: still a valid wheel that pip installs and Python imports,
    as a wheel changed after the build (in the bucket, in plugins.zip) would be."""
    with zipfile.ZipFile(wheel) as zf:
        entries = [(info, zf.read(info)) for info in zf.infolist()]
    target = next(i for i, (info, _) in enumerate(entries) if info.filename.endswith(".py"))
    info, data = entries[target]
    entries[target] = (info, data + b"\nTAMPERED = True\n")
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)


def test_requirements_refuse_a_wheel_whose_bytes_differ_from_its_hash(glue_bundle, mwaa_venv, tmp_path) -> None:
    """MWAA's pip refuses a plugins.zip wheel whose bytes are not the ones requirements.txt hashes.

    The image (the MWAA-like venv) without one package of plugins.zip, as MWAA's image is before
    requirements.txt runs, and that wheel changed after the build. Without the hashes pip installs
    it and the changed module runs; with them the install fails, naming the wheel, the sha256 of
    the shipped bytes as expected and that of the changed bytes as found.
    """
    home = install_home(glue_bundle, tmp_path / "airflow")
    assert "--require-hashes" in (home / "requirements.txt").read_text().splitlines()
    wheel = min((home / "plugins" / "wheels").glob("*.whl"), key=lambda w: (w.stat().st_size, w.name))
    name, version = bundles._wheel_key(wheel.name)
    image = image_without(mwaa_venv, name, tmp_path / "image")
    assert installed(image, name) is None and installed(mwaa_venv, name) == version
    shipped = bundles.sha256(wheel)

    tamper(wheel)
    refused = mwaa_pip_install(image, home)
    assert refused.returncode != 0, refused.stdout[-2000:]
    assert "DO NOT MATCH THE HASHES" in refused.stderr and wheel.name in refused.stderr, refused.stderr[-3000:]
    assert re.search(rf"Expected sha256 {shipped}\s+Got\s+{bundles.sha256(wheel)}", refused.stderr)
    assert installed(image, name) is None


def test_a_failed_dbt_install_still_saves_every_variable(glue_bundle, mwaa_venv, tmp_path) -> None:
    """A dbt wheel changed after the build: startup.sh's pip refuses it (dbt/requirements.txt
    hashes every wheel), the install fails, and every variable is still saved."""
    home = install_home(glue_bundle, tmp_path / "airflow")
    dbt_core = next((home / "plugins" / "dbt" / "wheels").glob("dbt_core-*.whl"))
    tamper(dbt_core)  # the pip step cannot succeed
    saved = source_startup(glue_bundle, home, mwaa_venv)
    assert "dbt install FAILED" in saved["_stderr"]
    assert "DO NOT MATCH THE HASHES" in saved["_stderr"] and dbt_core.name in saved["_stderr"]
    config = deploy_config.load("dev", glue_bundle.root.parent / "deploy")
    expected = config.runtime_env()
    for name, value in expected.items():
        if name != "LAKEHOUSE_DBT_EXECUTABLE":
            assert saved[name] == value, name
    result = parse_dags(mwaa_venv, home, saved, tmp_path)  # the DAGs still import
    assert result["import_errors"] == {}
