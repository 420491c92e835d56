"""MWAA deployment files agree with the locked environments we test with."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for name, version in re.findall(r"^\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s\\]+)", text, re.M):
        pins[name.lower().replace("_", "-")] = version
    return pins


def test_requirements_use_the_public_constraints_url() -> None:
    text = (ROOT / "mwaa" / "requirements.txt").read_text()
    assert (
        '--constraint "https://raw.githubusercontent.com/apache/airflow/constraints-3.2.1/constraints-3.12.txt"' in text
    )


def test_worker_requirements_match_the_main_lock() -> None:
    locked = _pins((ROOT / "requirements" / "main.lock").read_text())
    wanted = _pins((ROOT / "mwaa" / "requirements.txt").read_text())
    assert wanted, "no pins found in mwaa/requirements.txt"
    for name, version in wanted.items():
        assert locked.get(name) == version, f"{name}: mwaa wants {version}, main.lock has {locked.get(name)}"


def test_startup_script_installs_the_locked_dbt() -> None:
    locked = _pins((ROOT / "requirements" / "dbt.lock").read_text())
    words = (ROOT / "mwaa" / "startup.sh").read_text().split()
    script = _pins("\n".join(words))
    assert script.get("dbt-core") == locked["dbt-core"]
    assert script.get("dbt-redshift") == locked["dbt-redshift"]
