"""`lakehouse init`: create or evolve the Iceberg namespaces and tables defined in code."""

from __future__ import annotations

import argparse

from lakehouse.console import progress
from lakehouse_core.settings import load_settings


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "init",
        help="create or evolve the lakehouse tables (idempotent)",
        description=(
            "Create missing namespaces and tables; add new nullable columns and properties to existing "
            "tables (schema evolution, no rewrite). Running it twice changes nothing."
        ),
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lakehouse_core.catalog import init_catalog

    settings = load_settings()
    progress(f"init: catalog {settings.catalog_name!r} ({settings.environment})")
    report = init_catalog(settings)
    for ns in report.created_namespaces:
        print(f"created namespace {ns}")
    for t in report.created_tables:
        print(f"created table     {t}")
    for t, changes in report.evolved.items():
        print(f"evolved table     {t}: {', '.join(changes)}")
    if not report.changed:
        print(f"up to date: {len(report.unchanged)} tables, nothing to change")
    return 0
