"""The checks a local run needs before it starts: Java, the Spark jars, dbt and its manifest.

`lakehouse doctor` prints them; `run-hour`, `backfill` and `demo` call `preflight` before starting
Airflow, so a missing part stops them in seconds with the how-to, instead of failing inside a
task (and, before, waiting out its retries). A module apart from the `doctor` command because
commands do not import commands (tests/unit/test_import_layers.py).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from lakehouse.runtime import jvm
from lakehouse_core.settings import Settings


@dataclass(frozen=True)
class Problem:
    what: str
    fix: str


def dbt_problem(settings: Settings) -> Problem | None:
    executable = Path(settings.dbt_executable)
    if executable.exists():
        return None
    return Problem(
        f"dbt executable {executable} not found",
        "`make setup` (it creates .venv-dbt), or set LAKEHOUSE_DBT_EXECUTABLE",
    )


def preflight(settings: Settings, make: bool = True) -> list[Problem]:
    """What stops a local DAG run from working, each with its fix; makes the dbt manifest when `make`."""
    problems: list[Problem] = []
    if settings.spark_backend == "local":
        found = jvm.discover(settings)
        problems += [Problem(f"{p.name}: {p.detail}", p.fix) for p in found.missing()]
    dbt = dbt_problem(settings)
    if dbt:
        problems.append(dbt)
    elif make:
        from lakehouse.runtime.dbt_runner import DbtRunnerError, ensure_manifest

        try:
            ensure_manifest(settings)
        except DbtRunnerError as exc:
            problems.append(Problem(str(exc), "fix the dbt project (`lakehouse dbt -- parse` shows the error)"))
    return problems


def explain(command: str, problems: list[Problem]) -> None:
    """Print why `command` cannot start, and how to fix it (stderr)."""
    print(f"lakehouse {command}: cannot start; nothing was run:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem.what}\n    how to fix: {problem.fix}", file=sys.stderr)
    print("  (`lakehouse doctor` checks again)", file=sys.stderr)
