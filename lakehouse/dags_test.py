"""`python -m lakehouse.dags_test <dag_id> <logical date>`: `airflow dags test`, minus a per-task tax.

`airflow dags test` runs every task in this process against an in-process Execution API. Airflow
3.2 builds a fresh API app for each task, and the app's first request builds all of Cadwyn's
versioned routers: about 2.5 s per task here, so 30 tasks of an hourly run spent over a minute
doing nothing but that (measured with py-spy). The app holds no per-task state (each task
re-installs its own DAG-bag override), so this wrapper builds it once and reuses it. Everything
else is Airflow's own CLI, unchanged; if a future Airflow moves the function, the patch is
skipped and the run is just slower. It also keeps `dag.test()`'s once-a-second "No tasks to
run" line (while a task waits for a retry) from filling the log: said once per change.
"""

from __future__ import annotations

import functools
import logging
import sys


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


def main(argv: list[str] | None = None) -> int:
    _reuse_execution_api()
    logging.getLogger("airflow.sdk.definitions.dag").addFilter(_SayOnce())
    from airflow.__main__ import main as airflow_main

    sys.argv = ["airflow", "dags", "test", *(sys.argv[1:] if argv is None else argv)]
    return airflow_main() or 0


if __name__ == "__main__":
    sys.exit(main())
