"""`python -m lakehouse.runtime.dags_test <dag_id> <logical date> [--result FILE]`: `airflow dags test`,
minus a per-task tax, with the run's outcome written as JSON.

What `airflow dags test` does, in this process: find the DAG and write it to the metadata DB
(Airflow's own `get_bagged_dag`, what the CLI command calls), then run it with `dag.test()`. We
call `dag.test()` ourselves because it returns the DagRun: its run id, its state and every task
instance's state and try number go to `--result` (JSON), and `lakehouse run-hour` reads them from
there instead of querying Airflow's metadata database.

The per-task tax: `dag.test()` runs every task against an in-process Execution API, and Airflow 3.2
builds a fresh API app for each task, whose first request builds all of Cadwyn's versioned
routers: about 2.5 s per task here, so 30 tasks of an hourly run spent over a minute doing nothing
but that (measured with py-spy). The app holds no per-task state (each task re-installs its own
DAG-bag override), so this wrapper builds it once and reuses it. That is a private function of
Airflow's (`supervisor.in_process_api_server`): `dag.test()` has no parameter for it, and its
public alternative, `use_executor=True`, starts a process per task through the executor, which
costs more than it saves. If a future Airflow moves the function, the patch is skipped and the
run is just slower. This wrapper also keeps `dag.test()`'s once-a-second "No tasks to run" line
(while a task waits for a retry) from filling the log: said once per change.

Exit code: 0 when the run succeeded, 1 when it failed (as `airflow dags test`).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Any


def _reuse_execution_api() -> None:
    try:
        from airflow.sdk.execution_time import supervisor
    except ImportError:  # pragma: no cover - another Airflow layout: run unpatched
        return
    factory = getattr(supervisor, "in_process_api_server", None)
    if callable(factory) and not hasattr(factory, "cache_info"):
        supervisor.in_process_api_server = functools.cache(factory)


class _SayOnce(logging.Filter):
    """Let `dag.test()`'s "No tasks to run. unrunnable tasks: {...}" through once per set of tasks.

    While a task waits for its retry, `dag.test()` polls once a second and logs that line each
    time: 670 KB of log in three minutes. The first one says what is waiting; the rest say nothing new.
    """

    def __init__(self) -> None:
        super().__init__()
        self.last = ""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.startswith("No tasks to run"):
            return True
        if message == self.last:
            return False
        self.last = message
        record.msg, record.args = message + " (waiting; said once until it changes)", ()
        return True


def run_dag(dag_id: str, logical_date: datetime, conf: dict[str, Any] | None = None):  # -> DagRun
    """One run of `dag_id`, as `airflow dags test <dag_id> <logical_date> [--conf JSON]` makes it."""
    from airflow.providers_manager import ProvidersManager
    from airflow.utils.cli import get_bagged_dag

    ProvidersManager().initialize_providers_configuration()  # what the CLI command does first
    dag = get_bagged_dag(bundle_names=None, dag_id=dag_id)
    return dag.test(logical_date=logical_date, run_conf=conf)


def outcome(run) -> dict[str, Any]:
    """The DagRun `dag.test()` returned, as JSON: run id, state, each task's state and try number."""
    instances = run.get_task_instances()
    return {
        "run_id": run.run_id,
        "state": str(run.state),
        "tasks": {ti.task_id: str(ti.state) if ti.state else "none" for ti in instances},
        "tries": {ti.task_id: ti.try_number for ti in instances},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lakehouse.runtime.dags_test", description=__doc__.split("\n\n")[0])
    parser.add_argument("dag_id")
    parser.add_argument("logical_date", type=datetime.fromisoformat, help="ISO date-time (with its offset)")
    parser.add_argument("--result", type=Path, help="write the run's outcome here as JSON")
    parser.add_argument("--conf", type=json.loads, default=None, help="the run's conf (params), as JSON")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    _reuse_execution_api()
    logging.getLogger("airflow.sdk.definitions.dag").addFilter(_SayOnce())
    run = run_dag(args.dag_id, args.logical_date, args.conf)
    result = outcome(run)
    if args.result:
        args.result.write_text(json.dumps(result, indent=1))
    return 0 if result["state"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
