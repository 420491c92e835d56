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

import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from lakehouse import bundle as bundles
from lakehouse import deploy_config
from pipeline.settings import REPO_ROOT

pytestmark = pytest.mark.integration
HERE = Path(__file__).resolve().parent
MWAA_IMAGE = ("apache-airflow==3.2.1", "apache-airflow-providers-amazon==9.25.0")


def python312() -> str:
    """A CPython 3.12 (MWAA's): LAKEHOUSE_PYTHON312, else on PATH, else pyenv's."""
    candidates = [os.environ.get("LAKEHOUSE_PYTHON312", "")]
    candidates += [shutil.which("python3.12") or ""]
    candidates += sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))
    candidates += ["/usr/bin/python3.12", "/usr/local/bin/python3.12"]
    for candidate in filter(None, candidates):
        done = subprocess.run([candidate, "-c", "import sys, venv; print(sys.version_info[:2])"], capture_output=True)
        if done.returncode == 0 and done.stdout.strip() == b"(3, 12)":
            return candidate
    pytest.fail("no CPython 3.12 found (MWAA runs 3.12): install one or set LAKEHOUSE_PYTHON312")


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{command[:4]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def install_home(built: bundles.Bundle, home: Path) -> Path:
    """$AIRFLOW_HOME as MWAA lays it out: dags/ from the bucket, plugins.zip unpacked."""
    if home.exists():
        shutil.rmtree(home)
    shutil.copytree(built.dags, home / "dags")
    with zipfile.ZipFile(built.mwaa / "plugins.zip") as zf:
        zf.extractall(home / "plugins")
    requirements = (built.mwaa / "requirements.txt").read_text()
    (home / "requirements.txt").write_text(requirements.replace(deploy_config.MWAA_AIRFLOW_HOME, str(home)))
    return home


@pytest.fixture(scope="session")
def mwaa_venv(glue_bundle: bundles.Bundle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Python 3.12 + MWAA's image packages + the bundle's requirements.txt (cached by their hash)."""
    constraints = glue_bundle.dags / bundles.CONSTRAINTS_NAME
    home = install_home(glue_bundle, tmp_path_factory.mktemp("mwaa-install") / "airflow")
    key = hashlib.sha256(
        "\n".join(
            [*MWAA_IMAGE, bundles.sha256(constraints), (glue_bundle.mwaa / "requirements.txt").read_text()]
        ).encode()
        + "".join(sorted(p.name for p in (home / "plugins" / "wheels").glob("*.whl"))).encode()
    ).hexdigest()[:16]
    venv = bundles.CACHE / f"mwaa-venv-{key}"
    if (venv / ".complete").is_file():
        return venv
    if venv.exists():
        shutil.rmtree(venv)
    run([python312(), "-m", "venv", str(venv)])
    uv = str(REPO_ROOT / ".venv" / "bin" / "uv")
    # The image: Airflow and the Amazon provider under the constraints (from PyPI or uv's cache).
    run([uv, "pip", "install", "--python", str(venv / "bin" / "python"), "-q", *MWAA_IMAGE, "-c", str(constraints)])
    # What MWAA does with requirements.txt: pip, offline, exactly as written.
    env = {**os.environ, "PIP_USER": "false", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PIP_FIND_LINKS", None)
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(home / "requirements.txt")], env=env)
    (venv / ".complete").write_text("ok\n")
    return venv


def source_startup(built: bundles.Bundle, home: Path, venv: Path, component: str = "worker") -> dict[str, str]:
    """Run startup.sh as MWAA does and return the environment it saved."""
    saved = home / "saved.env"
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "AIRFLOW_HOME": str(home),
        "MWAA_AIRFLOW_COMPONENT": component,
        "PIP_NO_INDEX": "1",  # nothing may come from PyPI at boot
    }
    done = subprocess.run(
        ["bash", str(HERE / "mwaa_startup.sh"), str(built.mwaa / "startup.sh"), str(saved)],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert saved.is_file(), f"startup.sh ended the shell: MWAA would not start\n{done.stdout}\n{done.stderr}"
    variables = dict(item.split("=", 1) for item in saved.read_text().split("\0") if "=" in item)
    variables |= {"_stdout": done.stdout, "_stderr": done.stderr}
    return variables


def parse_dags(venv: Path, home: Path, saved: dict[str, str], tmp: Path) -> dict:
    env = {k: v for k, v in saved.items() if not k.startswith("_")}
    env |= {
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp / 'airflow.db'}",
    }
    assert "PYTHONPATH" not in env
    done = run([str(venv / "bin" / "python"), str(HERE / "mwaa_parse.py")], env=env, cwd=tmp)
    return json.loads(done.stdout.strip().splitlines()[-1])


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
    assert set(result["dags"]) == {"orders_lakehouse", "lakehouse_maintenance"}
    operators = result["operators"]["orders_lakehouse"]
    expected = "GlueSparkJobOperator" if backend == "glue" else "EmrServerlessSparkJobOperator"
    assert {operators[t] for t in ("ingest", "quality_gate", "publish")} == {expected}
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
