"""`lakehouse doctor`: check the parts a local run needs and say how to get what is missing.

`lakehouse doctor --fix` (what `make setup` runs) also fetches the SQLite JDBC driver when it is
missing (`lakehouse.jars`). `preflight` is the same check for `run-hour`, `backfill` and `demo`:
they call it before starting Airflow, so a missing part stops them in seconds with the how-to,
instead of failing inside a task (and, before, waiting out its retries).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from pipeline import jvm
from pipeline.settings import Settings, load_settings


@dataclass(frozen=True)
class Problem:
    what: str
    fix: str


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "doctor",
        help="check Java 17, the Iceberg Spark runtime jar, the SQLite JDBC driver and dbt",
        description=(
            "Check the parts a local run needs. Exit 0 when all are present, 1 otherwise. With --fix, first "
            "fetch the SQLite JDBC driver if it is missing (Debian package as root, unpacked into the "
            "virtualenv otherwise, or from Maven Central)."
        ),
    )
    p.add_argument("--fix", action="store_true", help="fetch the SQLite JDBC driver when it is missing")
    p.add_argument(
        "--apt",
        choices=("auto", "install", "download", "no"),
        default="auto",
        help=(
            "with --fix, how to use apt-get: auto = install the package as root, else download and unpack it "
            "into the virtualenv; install; download (never touch the system); no (Maven repository only)"
        ),
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.fix:
        from lakehouse.jars import provide_sqlite_jdbc

        provide_sqlite_jdbc(settings, say=lambda m: print(m, file=sys.stderr, flush=True), apt=args.apt)
    found = jvm.discover(settings)
    print(f"environment: {settings.environment}   home: {settings.home}")
    for part in found.parts:
        mark = "ok     " if part.ok else "MISSING"
        print(f"  {mark} {part.name:16} {part.detail}")
        if not part.ok:
            print(f"          how to get it: {part.fix}")
    dbt = dbt_problem(settings)
    print(f"  {'MISSING' if dbt else 'ok     '} {'dbt':16} {dbt.what if dbt else settings.dbt_executable}")
    if dbt:
        print(f"          how to get it: {dbt.fix}")
    if found.ok and not dbt:
        print("all parts present")
        return 0
    missing = [p.name for p in found.missing()] + (["dbt"] if dbt else [])
    print(f"missing: {', '.join(missing)}")
    return 1


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
        from lakehouse.dbt_runner import DbtRunnerError, ensure_manifest

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
