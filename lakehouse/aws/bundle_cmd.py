"""`lakehouse bundle`: build what goes to AWS (`lakehouse.aws.bundle`, whose docstring is this command's help)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from lakehouse.aws import bundle as bundles
from lakehouse.aws import deploy_config
from lakehouse.console import table

# --- CLI --------------------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bundle",
        help="build the AWS deploy bundle (MWAA dags/, requirements, startup.sh, plugins.zip; Spark artifacts)",
        description=bundles.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    deploy_config.add_arguments(
        parser, f"MWAA's constraints file or URL (default: LAKEHOUSE_MWAA_CONSTRAINTS, else {bundles.CONSTRAINTS_URL})"
    )
    parser.add_argument("--out", type=Path, help="output folder (default: build/bundle/<env>)")
    parser.add_argument("--no-wheels", action="store_true", help="skip plugins.zip and the jobs' wheels (quick check)")
    parser.set_defaults(func=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    started = time.monotonic()
    try:
        bundle = bundles.build(args.env, args.out, args.constraints, wheels=not args.no_wheels, outputs=args.outputs)
    except (bundles.BundleError, deploy_config.DeployConfigError) as exc:
        print(f"lakehouse bundle: {exc}", file=sys.stderr)
        return 1
    rows = bundle.files()
    shown = [(p, f"{n:,}") for p, n, _ in rows if not p.startswith("mwaa/dags/")]
    dag_files = [r for r in rows if r[0].startswith("mwaa/dags/")]
    shown.insert(0, (f"mwaa/dags/ ({len(dag_files)} files)", f"{sum(n for _, n, _ in dag_files):,}"))
    print(table(("file", "bytes"), shown))
    print(f"bundle {bundle.root} built in {time.monotonic() - started:.1f} s ({len(rows)} files)")
    return 0
