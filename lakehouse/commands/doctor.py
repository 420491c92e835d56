"""`lakehouse doctor`: check the parts a local run needs and say how to get what is missing.

`lakehouse doctor --fix` (what `make setup` runs) also fetches the SQLite JDBC driver when it is
missing (`lakehouse.runtime.jars`). The same checks run before `run-hour`, `backfill` and `demo` start
Airflow (`lakehouse.runtime.preflight`).
"""

from __future__ import annotations

import argparse
import sys

from lakehouse.runtime import jvm
from lakehouse.runtime.preflight import dbt_problem
from lakehouse_core.settings import load_settings


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
        from lakehouse.runtime.jars import provide_sqlite_jdbc

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
