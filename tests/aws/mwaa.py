"""The MWAA-like environment the aws tests run in (see test_mwaa_faithful.py for what it is)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from lakehouse.aws import bundle as bundles
from lakehouse.aws import deploy_config
from lakehouse_core.settings import REPO_ROOT

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


def build_mwaa_venv(glue_bundle: bundles.Bundle, scratch: Path) -> Path:
    """Python 3.12 + MWAA's image packages + the bundle's requirements.txt (cached by their hash)."""
    constraints = glue_bundle.dags / bundles.CONSTRAINTS_NAME
    home = install_home(glue_bundle, scratch / "airflow")
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
    # What MWAA does with requirements.txt: pip, offline, exactly as written (hashes enforced).
    done = mwaa_pip_install(venv, home)
    assert done.returncode == 0, f"requirements.txt failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    (venv / ".complete").write_text("ok\n")
    return venv


def mwaa_pip_install(venv: Path, home: Path) -> subprocess.CompletedProcess:
    """requirements.txt installed the way MWAA's image does it (aws/amazon-mwaa-docker-images,
    images/airflow/3.2.1: `mwaa/utils/user_requirements.py` runs `safe-pip-install -r
    requirements.txt`, adding `-c $AIRFLOW_CONSTRAINTS_FILE` only when the file names no
    constraints; `bin/airflow-user/safe-pip-install` is `pip3 install --constraint
    $MWAA_ESSENTIAL_CONSTRAINTS_FILE "$@"`).

    The essential constraints pin 24 of the image's packages at Airflow 3.2.1's versions; the
    bundled Airflow constraints (which pin those at the same versions) stand in for them. No
    index is reachable: PIP_NO_INDEX is set beside the file's own --no-index.
    """
    env = {**os.environ, "PIP_USER": "false", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1"}
    env.pop("PIP_FIND_LINKS", None)
    essential = home / "dags" / bundles.CONSTRAINTS_NAME
    command = [str(venv / "bin" / "python"), "-m", "pip", "install", "--constraint", str(essential)]
    return subprocess.run([*command, "-r", str(home / "requirements.txt")], env=env, capture_output=True, text=True)


def image_without(venv: Path, package: str, target: Path) -> Path:
    """A copy of the MWAA-like `venv` without `package`, as MWAA's image is before requirements.txt
    installs it. Hard links (same file system, instant): pip only unlinks and creates files, so
    the cached venv's files are never written. Always call its `python -m pip` (the copy's
    console scripts name the original venv's interpreter)."""
    if target.exists():
        shutil.rmtree(target)
    run(["cp", "-al", str(venv), str(target)])
    (target / ".complete").unlink(missing_ok=True)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    run([str(target / "bin" / "python"), "-m", "pip", "uninstall", "-y", "-q", package], env=env)
    return target


def installed(venv: Path, package: str) -> str | None:
    """The version of `package` installed in `venv`, or None."""
    code = "import importlib.metadata as m, sys\ntry: print(m.version(sys.argv[1]))\nexcept Exception: pass"
    return run([str(venv / "bin" / "python"), "-c", code, package]).stdout.strip() or None


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
