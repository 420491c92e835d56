"""Installs trust only what the locks hash: `make setup`'s own rule on a lock with a wrong hash fails.

The rule under test is the Makefile's dbt-environment rule (`$(DBT_STAMP)`), run by `make` with
its venv and lock pointed at a throwaway folder: the same bootstrap of uv (pip, hashed) and the
same `uv pip sync --require-hashes` that `make setup` runs for both environments. The lock is one
small package (six, from uv's cache or PyPI), so the test takes seconds.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lakehouse_core.settings import REPO_ROOT

pytestmark = pytest.mark.integration

SIX_WHEEL_SHA256 = "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"  # six-1.17.0-py2.py3-none-any.whl
LOCK_NAMES = ("main", "dbt", "tools", "bootstrap", "java")


def _make_env(venv: Path, lock: Path) -> subprocess.CompletedProcess[str]:
    stamp = venv / ".installed"
    command = ["make", "-C", str(REPO_ROOT), f"DBT_VENV={venv}", f"DBT_LOCK={lock}", str(stamp)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_setup_refuses_a_lock_whose_hash_does_not_match(tmp_path: Path) -> None:
    venv, lock = tmp_path / "venv", tmp_path / "six.lock"
    lock.write_text(f"six==1.17.0 \\\n    --hash=sha256:{'0' * 64}\n")
    refused = _make_env(venv, lock)
    assert refused.returncode != 0, refused.stdout + refused.stderr
    assert "hash" in refused.stderr.lower(), refused.stderr
    assert not (venv / ".installed").exists()
    assert not list(venv.glob("lib/python*/site-packages/six.py"))

    lock.write_text(f"six==1.17.0 \\\n    --hash=sha256:{SIX_WHEEL_SHA256}\n")
    accepted = _make_env(venv, lock)  # the control: the same rule with the right hash installs it
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert list(venv.glob("lib/python*/site-packages/six.py"))

    lock.write_text("six==1.17.0\n")  # no hash at all: refused too (--require-hashes)
    lock.touch()
    unhashed = _make_env(venv, lock)
    assert unhashed.returncode != 0
    assert "hash" in unhashed.stderr.lower(), unhashed.stderr


@pytest.mark.parametrize("name", LOCK_NAMES)
def test_every_locked_package_carries_a_hash(name: str) -> None:
    """Each `name==version` entry of each lock is followed by at least one sha256."""
    entries = (REPO_ROOT / "requirements" / f"{name}.lock").read_text().split("\n")
    pins = [i for i, line in enumerate(entries) if "==" in line and not line.lstrip().startswith(("#", "-"))]
    assert pins
    unhashed = [entries[i] for i in pins if "--hash=sha256:" not in entries[i + 1]]
    assert unhashed == []
