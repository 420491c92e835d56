"""`lakehouse doctor` is green on this machine: the real JDK answers, the jars and dbt are there.

In the integration lane because it starts a JVM (`java -version`); the unit lane checks
doctor's verdicts with a stand-in `java` (tests/unit/test_doctor.py).
"""

from __future__ import annotations

import pytest

from lakehouse.cli import main

pytestmark = pytest.mark.integration


def test_doctor_passes_on_this_machine(capsys) -> None:
    assert main(["doctor"]) == 0
    assert "all parts present" in capsys.readouterr().out
