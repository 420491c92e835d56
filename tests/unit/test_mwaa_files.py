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


def test_requirements_source_is_pins_only() -> None:
    """mwaa/requirements.txt holds the pins; `lakehouse bundle` writes the install options
    (bundled constraints, --no-index from plugins.zip: tests/aws/test_bundle.py)."""
    lines = [line.split("#", 1)[0].strip() for line in (ROOT / "mwaa" / "requirements.txt").read_text().splitlines()]
    assert [line for line in lines if line and not line.startswith("--constraint")] == [
        line for line in lines if "==" in line
    ]


def test_worker_requirements_match_the_main_lock() -> None:
    locked = _pins((ROOT / "requirements" / "main.lock").read_text())
    wanted = _pins((ROOT / "mwaa" / "requirements.txt").read_text())
    assert wanted, "no pins found in mwaa/requirements.txt"
    for name, version in wanted.items():
        assert locked.get(name) == version, f"{name}: mwaa wants {version}, main.lock has {locked.get(name)}"


def test_startup_script_installs_the_locked_dbt() -> None:
    """startup.sh is generated (lakehouse.aws.bundle); the dbt it installs is pinned to the lock."""
    from lakehouse.aws.bundle import dbt_mwaa_pins

    locked = _pins((ROOT / "requirements" / "dbt.lock").read_text())
    shipped = _pins("\n".join(dbt_mwaa_pins(ROOT / "requirements" / "dbt.lock")))
    assert shipped == {"dbt-core": locked["dbt-core"], "dbt-redshift": locked["dbt-redshift"]}
