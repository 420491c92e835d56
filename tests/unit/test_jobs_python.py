"""The Spark jobs run on Python 3.11 (Glue 5.x, our EMR Serverless image); on anything older they
say so and exit 2 instead of dying in a traceback.

EMR Serverless 7's own image runs Python 3.9: a job started there without our custom image (or
with a PYSPARK_PYTHON that points elsewhere) must tell the operator what to fix. The check lives
in `spark_jobs/__init__.py`, which every entry script imports before any 3.11-only code; this
test runs every entry script under a real Python 3.9 to prove the check is reached.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lakehouse_core.settings import REPO_ROOT

pytestmark = pytest.mark.unit
ENTRY_SCRIPTS = sorted(p.name for p in (REPO_ROOT / "spark_jobs").glob("*_*.py") if not p.name.startswith("_"))


def interpreter(version: str) -> str | None:
    """A CPython `version` on this machine: this one, one pyenv installed, or one on PATH that runs."""
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
        return sys.executable
    pyenv = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = sorted(glob.glob(f"{pyenv}/versions/{version}.*/bin/python"))
    if candidates:
        return candidates[-1]
    found = shutil.which(f"python{version}")  # may be a shim for a version not installed: try it
    if found and subprocess.run([found, "-c", "pass"], capture_output=True).returncode == 0:
        return found
    return None


def test_every_entry_script_is_listed_by_the_bundle() -> None:
    from lakehouse.aws.bundle import ENTRY_SCRIPTS as SHIPPED

    assert sorted(SHIPPED) == ENTRY_SCRIPTS


def test_the_package_and_entry_scripts_compile_under_python_3_11(tmp_path) -> None:
    python = interpreter("3.11")
    assert python, "no Python 3.11 here: the jobs' Python (Glue 5, the EMR image) must be testable"
    files = sorted(str(p) for p in (REPO_ROOT / "spark_jobs").rglob("*.py") if "__pycache__" not in p.parts)
    # compile into tmp_path: never leave bytecode in the tree
    code = (
        "import py_compile, sys, os\n"
        "for i, f in enumerate(sys.argv[2:]):\n"
        "    py_compile.compile(f, cfile=os.path.join(sys.argv[1], f'{i}.pyc'), doraise=True)\n"
        "print(sys.version_info[:2])"
    )
    done = subprocess.run([python, "-I", "-c", code, str(tmp_path), *files], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "(3, 11)"
    assert len(files) > 20  # the whole package, not a sample


@pytest.mark.parametrize("script", ENTRY_SCRIPTS)
def test_an_entry_script_on_python_3_9_says_which_python_it_needs(script: str, tmp_path) -> None:
    python = interpreter("3.9")
    if python is None:
        pytest.skip("no Python 3.9 on this machine (pyenv install 3.9 to run this check)")
    path = REPO_ROOT / "spark_jobs" / script
    # as on Glue/EMR: the package on sys.path (there from the zip), the entry script run as __main__
    code = (
        f"import sys, runpy; sys.path.insert(0, {str(REPO_ROOT)!r}); sys.argv = [{script!r}, '--help']; "
        f"runpy.run_path({str(path)!r}, run_name='__main__')"
    )
    done = subprocess.run([python, "-I", "-B", "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "needs Python 3.11 or newer, but runs on Python 3.9" in done.stderr
    assert "emr_serverless.image_uri" in done.stderr
