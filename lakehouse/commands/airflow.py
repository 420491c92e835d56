"""`lakehouse airflow`, `lakehouse run-hour`, `lakehouse backfill`: the real DAGs, on this machine.

All three use one Airflow home, `<LAKEHOUSE_HOME>/airflow` (SQLite metadata DB, logs), with the
repository's `dags/` folder and no example DAGs, so the UI, a one-hour run and a backfill all
see the same runs.

    lakehouse airflow [--port 8080]           # airflow standalone: UI at http://127.0.0.1:8080
                                              # login admin / a random password kept in the
                                              # Airflow home (mode 600); bound to 127.0.0.1
    lakehouse run-hour 2026-01-15T10          # run orders_lakehouse for arrival hour 10:00-11:00
    lakehouse backfill --from 2026-01-15T08 --to 2026-01-15T11     # hours 08, 09, 10 (end exclusive)
    lakehouse backfill --from ... --to ... --scheduler               # as a scheduler backfill instead
    lakehouse backfill --from ... --to ... --bulk                    # the range in one Spark job

`run-hour` and `backfill` run `airflow dags test` per hour: no scheduler, one run after the
other, each exactly the run the scheduler would make for that hour (same data interval).
With `--scheduler`, `airflow backfill create` hands the range to a running scheduler
(`lakehouse airflow`), which shows up in the UI. With `--bulk`, the range is one run of the
`orders_backfill` DAG (`bulk_backfill`): one ingest job for every hour, one gate, one publish,
one dbt build, with the tables the hourly runs would leave (docs/operations.md, "Bulk backfill").
All are idempotent: re-running an hour replaces that hour's bronze partition and re-MERGEs the
same events into silver.

A note on dates: a run's arrival hour is its data interval's start, but Airflow names a
scheduled or backfill run by the interval's *end* (`run_after`), and `airflow dags test <date>`
(a manual run) gives the run the interval that *ends* at `<date>` and names it by the moment it
ran. These commands take the arrival hour and do that arithmetic, so you never have to; their
lines print the arrival hour with the Airflow run name beside it (`hour_and_run`).

The admin login: a random password, made once per Airflow home and kept in
`<LAKEHOUSE_HOME>/airflow/simple_auth_manager_passwords.json` (mode 600, readable by you only);
`lakehouse airflow` prints it the first time and says where it is after. Never admin/admin: a
local user, or a web page doing DNS rebinding against 127.0.0.1, would get an admin token from
`/auth/token`. LAKEHOUSE_AIRFLOW_PASSWORD sets your own. The server listens on 127.0.0.1;
LAKEHOUSE_AIRFLOW_HOST=0.0.0.0 (another machine's browser) is refused unless you set your own
password.

`run-hour`, `backfill` and `demo` first run the doctor's checks (and make the dbt manifest when
it is missing), so a missing part stops them in seconds (exit 2, with the how-to). During a run
a progress line shows the step, the elapsed time and the rows so far; a failed run prints the
failed task, its error and its last log lines. Ctrl-C or SIGTERM stops the run and every process
it started (exit 130); Iceberg commits are atomic and publish is the last step, so the tables
stay consistent and `main` never shows an unvalidated run. The Spark jobs of the whole command
run in one warm Spark driver (`lakehouse.runtime.warm_spark`) unless `--cold-spark` is given.
"""

from __future__ import annotations

import argparse
import subprocess
from datetime import datetime

from lakehouse.console import parse_hour, progress, table
from lakehouse.runtime.local_airflow import (
    ADMIN_USER,
    DAG_ID,
    DEFAULT_PORT,
    LOOPBACK,
    PASSWORDS_FILE,
    STOP_GRACE_SECONDS,
    WEAK_PASSWORDS,
    airflow_env,
    airflow_home,
    backfill,
    browse_host,
    bulk_backfill,
    hour_text,
    hours_between,
    interruptible,
    prepare_home,
    print_results,
    ready,
    run_hour,
    scheduler_backfill_command,
    standalone_command,
    stop_process_tree,
    warm_spark,
)
from lakehouse_core.settings import REPO_ROOT, load_settings

# --- the CLI ---------------------------------------------------------------------------------

COLD_SPARK_HELP = (
    "run each Spark task with its own spark-submit, as the scheduler does, instead of one warm Spark driver "
    "for the whole command (slower; for comparing)"
)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "airflow",
        help="start Airflow (standalone) with the lakehouse DAGs; UI login admin / the password it prints",
        description=(
            "Run `airflow standalone` (API server + UI, scheduler, DAG processor, triggerer) with AIRFLOW_HOME "
            "under the lakehouse home and the repository's dags/ folder. Log in as admin with the random "
            f"password kept in <AIRFLOW_HOME>/{PASSWORDS_FILE} (mode 600; LAKEHOUSE_AIRFLOW_PASSWORD sets your "
            "own, required with a non-loopback LAKEHOUSE_AIRFLOW_HOST). Ctrl-C stops it."
        ),
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"UI/API port (default {DEFAULT_PORT})")
    p.set_defaults(func=run_standalone)

    p = subparsers.add_parser(
        "run-hour",
        help="run orders_lakehouse for one arrival hour (airflow dags test)",
        description="Run the real DAG for one arrival hour, in this process tree, and print each task's state.",
    )
    p.add_argument("hour", help="arrival hour, UTC: 2026-01-15T10")
    p.add_argument("--dag-id", default=DAG_ID, help=f"DAG to run (default {DAG_ID})")
    p.add_argument("-v", "--verbose", action="store_true", help="stream Airflow's output instead of a log file")
    p.add_argument("--cold-spark", action="store_true", help=COLD_SPARK_HELP)
    p.set_defaults(func=run_hour_cli)

    p = subparsers.add_parser(
        "backfill",
        help="run orders_lakehouse for a range of arrival hours [from, to)",
        description=(
            "Run the real DAG for every arrival hour in [--from, --to), oldest first, stopping at the first "
            "failure. Idempotent: re-running hours is safe. With --scheduler the range is handed to a running "
            "scheduler (`lakehouse airflow`) through `airflow backfill create` instead."
        ),
    )
    p.add_argument("--from", dest="start", required=True, help="first arrival hour, UTC: 2026-01-15T08")
    p.add_argument("--to", dest="end", required=True, help="end hour, exclusive: 2026-01-15T11")
    p.add_argument("--scheduler", action="store_true", help="create a scheduler backfill instead of running here")
    p.add_argument(
        "--bulk",
        action="store_true",
        help="ingest the whole range in one Spark job (the orders_backfill DAG: one gate, one publish, one dbt "
        "build) instead of one hourly run per hour; same tables as the hourly runs",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="stream Airflow's output")
    p.add_argument("--cold-spark", action="store_true", help=COLD_SPARK_HELP)
    p.set_defaults(func=backfill_cli)


def run_standalone(args: argparse.Namespace) -> int:
    settings = load_settings()
    open_to_network = settings.airflow_host not in LOOPBACK
    if open_to_network and settings.airflow_password in WEAK_PASSWORDS:
        progress(
            f"airflow: refusing to listen on {settings.airflow_host} with a generated password: set your own "
            "in LAKEHOUSE_AIRFLOW_PASSWORD (not admin), or leave LAKEHOUSE_AIRFLOW_HOST unset (127.0.0.1)"
        )
        return 2
    command, env, login = standalone_command(settings, args.port)
    url = f"http://{browse_host(settings)}:{args.port}"
    if login.created:  # printed once; afterwards only where it is kept
        progress(f"airflow: {url}  login {ADMIN_USER} / {login.password}  (kept in {login.path})  (Ctrl-C stops)")
    else:
        progress(f"airflow: {url}  login {ADMIN_USER} / the password in {login.path}  (Ctrl-C stops)")
    if open_to_network:
        progress(f"airflow: listening on {settings.airflow_host}: anyone who reaches it sees the login page")
    else:
        progress("airflow: serving this machine only; LAKEHOUSE_AIRFLOW_HOST=0.0.0.0 (with your own password) opens it")
    progress(f"airflow: home {airflow_home(settings)}, DAGs from {env['AIRFLOW__CORE__DAGS_FOLDER']}")
    # Its own session: Ctrl-C reaches this process only, which stops the whole tree (SIGTERM, then
    # SIGKILL after STOP_GRACE_SECONDS). Standalone's own Ctrl-C shutdown hung here for 90 s+ on
    # its scheduler and LocalExecutor workers; SIGTERM is what the scheduler handles gracefully.
    process = subprocess.Popen(command, env=env, cwd=REPO_ROOT, start_new_session=True)
    with interruptible():
        try:
            return process.wait()
        except KeyboardInterrupt:
            progress("airflow: stopping the API server, scheduler, DAG processor and triggerer")
            stop_process_tree(process, grace=STOP_GRACE_SECONDS)
            return 0


def _parse_hours(*texts: str) -> list[datetime] | None:
    try:
        return [parse_hour(t) for t in texts]
    except ValueError as exc:
        progress(f"invalid hour: {exc}")
        return None


def run_hour_cli(args: argparse.Namespace) -> int:
    parsed = _parse_hours(args.hour)
    if parsed is None:
        return 2
    settings = load_settings()
    if not ready(settings, "run-hour"):
        return 2
    with interruptible(), warm_spark(settings, not args.cold_spark) as env:
        result = run_hour(settings, parsed[0], dag_id=args.dag_id, verbose=args.verbose, env_overrides=env)
    print_results([result])
    return 0 if result.ok else 1


def backfill_cli(args: argparse.Namespace) -> int:
    parsed = _parse_hours(args.start, args.end)
    if parsed is None:
        return 2
    start, end = parsed
    if end <= start:
        progress("--to must be after --from (the range is [from, to))")
        return 2
    settings = load_settings()
    if args.bulk and args.scheduler:
        progress("--bulk and --scheduler do not go together (a bulk backfill is one run, not one per hour)")
        return 2
    if args.bulk:
        if not ready(settings, "backfill"):
            return 2
        with interruptible():
            result = bulk_backfill(settings, start, end, verbose=args.verbose, warm=not args.cold_spark)
        failed = [t for t, state in result.tasks.items() if state in ("failed", "upstream_failed")]
        row = [f"[{hour_text(start)}, {hour_text(end)})", result.run_id or "-", result.state, f"{result.seconds:.0f}s"]
        print(
            table(["arrival hours", "Airflow run", "state", "time", "failed tasks"], [[*row, ",".join(failed) or "-"]])
        )
        if not result.ok:
            print(f"log of the failed run: {result.log_file}")
        return 0 if result.ok else 1
    if args.scheduler:
        env = airflow_env(settings)
        prepare_home(settings, env)
        return subprocess.run(scheduler_backfill_command(start, end), env=env, check=False).returncode
    if not ready(settings, "backfill"):
        return 2
    with interruptible():
        results = backfill(settings, start, end, verbose=args.verbose, warm=not args.cold_spark)
    print_results(results)
    return 0 if results and all(r.ok for r in results) and len(results) == len(list(hours_between(start, end))) else 1
