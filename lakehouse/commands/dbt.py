"""`lakehouse dbt`: build the warehouse from silver (`lakehouse.runtime.dbt_runner`), or run any dbt command.

lakehouse dbt                      # export silver, then `dbt build` on the settings' target
lakehouse dbt -- parse             # any dbt command line after `--` (writes dbt/target/manifest.json)
lakehouse dbt --no-export -- test --select marts
"""

from __future__ import annotations

import argparse

from lakehouse.console import progress
from lakehouse.runtime.dbt_runner import DEFAULT_DBT_ARGS, DbtRunnerError, build_warehouse
from lakehouse.runtime.local_warehouse import MissingTableError
from lakehouse_core.settings import load_settings


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "dbt",
        help="build the warehouse: export silver to DuckDB (local target), then run dbt",
        description=(
            "Run dbt on the project in dbt/ with its profiles (target from LAKEHOUSE_DBT_TARGET). On the local "
            "target the silver Iceberg tables are first copied into the DuckDB warehouse. Arguments after `--` "
            "go to dbt unchanged; without them it runs `dbt build`."
        ),
    )
    p.add_argument("--no-export", action="store_true", help="do not copy silver into DuckDB first")
    p.add_argument("dbt_args", nargs=argparse.REMAINDER, help="dbt command line (after `--`), default: build")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    dbt_args = list(args.dbt_args or [])
    if dbt_args[:1] == ["--"]:
        dbt_args = dbt_args[1:]
    try:
        return build_warehouse(settings, dbt_args or DEFAULT_DBT_ARGS, export=not args.no_export)
    except (DbtRunnerError, MissingTableError) as exc:
        progress(f"dbt: {exc}")
        return 1
