"""`lakehouse doctor`: check the parts local Spark needs and say how to get what is missing."""

from __future__ import annotations

import argparse

from pipeline import jvm
from pipeline.settings import load_settings


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "doctor",
        help="check Java 17, the Iceberg Spark runtime jar and the SQLite JDBC driver",
        description="Check the JVM parts local Spark needs. Exit 0 when all are present, 1 otherwise.",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    found = jvm.discover(settings)
    print(f"environment: {settings.environment}   home: {settings.home}")
    for part in found.parts:
        mark = "ok     " if part.ok else "MISSING"
        print(f"  {mark} {part.name:16} {part.detail}")
        if not part.ok:
            print(f"          how to get it: {part.fix}")
    if found.ok:
        print("all JVM parts present")
        return 0
    print(f"missing: {', '.join(p.name for p in found.missing())}")
    return 1
