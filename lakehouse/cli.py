"""`lakehouse` command: one subcommand per module, each with `register(subparsers)`.

Every subcommand returns an exit code: 0 success, 1 the work failed (a gate, a check),
2 bad usage or settings, or a part the command needs is missing (it says which and how to get
it), 130 interrupted (Ctrl-C or SIGTERM: the run and every process it started are stopped).
Settings errors are reported by name, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lakehouse import generate
from lakehouse.aws import bundle_cmd, deploy
from lakehouse.benchmarks import alarm as bench_alarm
from lakehouse.benchmarks import backfill as bench_backfill
from lakehouse.benchmarks import compose as bench_compose
from lakehouse.benchmarks import dags as bench_dags
from lakehouse.benchmarks import dashboard as bench_dashboard
from lakehouse.benchmarks import dbt as bench_dbt
from lakehouse.benchmarks import demo as bench_demo
from lakehouse.benchmarks import framing as bench_framing
from lakehouse.benchmarks import glue_start as bench_glue_start
from lakehouse.benchmarks import ingest as bench_ingest
from lakehouse.benchmarks import recommend as bench_recommend
from lakehouse.commands import airflow as airflow_cmd
from lakehouse.commands import compose as compose_cmd
from lakehouse.commands import dashboard as dashboard_cmd
from lakehouse.commands import dbt as dbt_cmd
from lakehouse.commands import demo as demo_cmd
from lakehouse.commands import doctor, init_tables
from lakehouse.commands import dq as dq_cmd
from lakehouse.commands import ingest as ingest_cmd
from lakehouse.commands import recommend as recommend_cmd
from lakehouse.commands import reconcile as reconcile_cmd
from lakehouse.commands import unlock as unlock_cmd
from lakehouse_core.settings import SettingsError

# In the order `lakehouse --help` lists them: setup, data, pipeline steps, orchestration, benchmarks.
MODULES = (
    doctor,
    init_tables,
    generate,
    ingest_cmd,
    reconcile_cmd,
    unlock_cmd,
    dq_cmd,
    dbt_cmd,
    recommend_cmd,
    airflow_cmd,
    demo_cmd,
    dashboard_cmd,
    bundle_cmd,
    deploy,
    compose_cmd,
    bench_ingest,
    bench_backfill,
    bench_framing,
    bench_dags,
    bench_dbt,
    bench_demo,
    bench_dashboard,
    bench_compose,
    bench_recommend,
    bench_glue_start,
    bench_alarm,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lakehouse",
        description="Local tooling for the orders lakehouse (settings come from LAKEHOUSE_* variables).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SettingsError as exc:
        print(f"lakehouse: invalid settings: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lakehouse: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
