"""Running the real DAGs on this machine: the service behind `lakehouse airflow`, `run-hour`,
`backfill` (`lakehouse/commands/airflow.py`), `lakehouse demo` and `lakehouse compose`.

What it owns: one Airflow home per lakehouse home (`<LAKEHOUSE_HOME>/airflow`, SQLite metadata
DB, the repository's `dags/`, no example DAGs) and its admin login (a random password kept mode
600, never admin/admin); one hourly run (`run_hour`: `airflow dags test` for an arrival hour,
with a progress line and a failure report), a range hour by hour (`backfill`) or in one
`orders_backfill` run (`bulk_backfill`), the claims a dead run left, the warm Spark driver shared
by a command's Spark tasks (`warm_spark`), stopping every process on Ctrl-C or SIGTERM
(`interruptible`), the doctor's checks before any Airflow starts (`ready`), and the summary lines
(`print_results`, `hour_and_run`). Why a module apart from the command: the demo and the compose
commands run hours too, and a command never imports another command (tests/unit/test_import_layers.py).
Dates: a run's arrival hour is its data interval's start; Airflow names a run by the interval's end
or by when it ran, which `hour_and_run` prints beside the hour.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from lakehouse.console import progress, table
from lakehouse.runtime.run_watch import ProgressLine, failure_report
from lakehouse_core.settings import REPO_ROOT, Settings

DAG_ID = "orders_lakehouse"
ADMIN_USER = "admin"
PASSWORDS_FILE = "simple_auth_manager_passwords.json"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
WEAK_PASSWORDS = ("", "admin")  # what earlier versions wrote, and nothing
DEFAULT_PORT = 8080
HOUR = timedelta(hours=1)


def airflow_home(settings: Settings) -> Path:
    return settings.home / "airflow"


def airflow_bin() -> str:
    """The `airflow` next to this interpreter (the project's virtualenv), else the one on PATH."""
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else "airflow"


def airflow_env(settings: Settings, port: int = DEFAULT_PORT, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for every Airflow process we start: home, dags folder, login, API port."""
    home = airflow_home(settings)
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / PASSWORDS_FILE),
            "AIRFLOW__API__PORT": str(port),
            # Serve this machine only, unless LAKEHOUSE_AIRFLOW_HOST says otherwise (0.0.0.0 opens
            # it to the network, which run_standalone allows only with the user's own password).
            "AIRFLOW__API__HOST": settings.airflow_host,
            # Task processes report to the API server; it must be the port we chose.
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{browse_host(settings)}:{port}/execution/",
            # New DAG files show up within seconds instead of minutes.
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            # Two cores here: a handful of task processes is plenty (Spark is the heavy part).
            "AIRFLOW__CORE__PARALLELISM": "4",
            # Cosmos would report every DAG run to its telemetry endpoint: no network calls here.
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            # The pipeline reads the same lakehouse as the CLI that started Airflow.
            "LAKEHOUSE_HOME": str(settings.home),
        }
    )
    env.setdefault("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "True")
    # `airflow standalone` starts its components as `airflow ...` from PATH: this virtualenv's.
    venv_bin = str(Path(sys.executable).parent)
    if venv_bin not in env.get("PATH", "").split(os.pathsep):
        env["PATH"] = os.pathsep.join(p for p in (venv_bin, env.get("PATH", "")) if p)
    return env


@dataclass(frozen=True)
class Login:
    """The admin login of one Airflow home: where its password is kept, and whether it is new."""

    path: Path
    password: str = field(repr=False)
    created: bool


def read_password(path: Path) -> str:
    try:
        return str(json.loads(path.read_text()).get(ADMIN_USER, ""))
    except (OSError, ValueError, AttributeError):
        return ""


def write_login(env: Mapping[str, str], password: str = "") -> Login:
    """The simple auth manager's password file (mode 600): `password`, else the one already kept
    there, else a new random one. A password of an earlier version (admin) is replaced."""
    path = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = read_password(path)
    if password in WEAK_PASSWORDS and kept not in WEAK_PASSWORDS:
        os.chmod(path, 0o600)
        return Login(path, kept, created=False)
    chosen = password if password not in WEAK_PASSWORDS else secrets.token_urlsafe(18)
    # Written under a new name created 0600 (never world-readable, not even for a moment), then renamed.
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(json.dumps({ADMIN_USER: chosen}))
    os.replace(partial, path)
    return Login(path, chosen, created=chosen != password)


def prepare_home(settings: Settings, env: Mapping[str, str]) -> Path:
    """Create the Airflow home, the admin login and a migrated metadata DB (migrated once)."""
    home = airflow_home(settings)
    write_login(env, settings.airflow_password)
    stamp = home / ".migrated"
    if not stamp.exists():
        progress(f"airflow: initialising the metadata database in {home}")
        subprocess.run([airflow_bin(), "db", "migrate"], env=dict(env), check=True, stdout=subprocess.DEVNULL)
        stamp.touch()
    return home


def standalone_command(
    settings: Settings, port: int = DEFAULT_PORT, base: Mapping[str, str] | None = None
) -> tuple[list[str], dict[str, str], Login]:
    """The `airflow standalone` command line, environment and admin login.

    Standalone migrates the metadata DB itself; only the login file must exist beforehand.
    """
    env = airflow_env(settings, port, base)
    # One JWT secret shared by the API server, scheduler, triggerer and task processes.
    env.setdefault("AIRFLOW__API_AUTH__JWT_SECRET", secrets.token_urlsafe(32))
    login = write_login(env, settings.airflow_password)
    return [airflow_bin(), "standalone"], env, login


# --- one hour, a range of hours -------------------------------------------------------------


@dataclass
class HourResult:
    """The outcome of one `airflow dags test` run."""

    hour: datetime
    state: str
    run_id: str
    seconds: float
    tasks: dict[str, str] = field(default_factory=dict)  # task_id -> state
    log_file: str = ""
    tries: dict[str, int] = field(default_factory=dict)  # task_id -> try number

    @property
    def ok(self) -> bool:
        return self.state == "success"


def hours_between(start: datetime, end: datetime) -> Iterator[datetime]:
    """The arrival hours in [start, end)."""
    hour = start
    while hour < end:
        yield hour
        hour += HOUR


def run_hour(
    settings: Settings,
    hour: datetime,
    dag_id: str = DAG_ID,
    verbose: bool = False,
    env_overrides: Mapping[str, str] | None = None,
    conf: Mapping[str, str] | None = None,
    what: str = "",
) -> HourResult:
    """Run `dag_id` for one arrival hour with `airflow dags test` and report every task's state.

    The run is its own process group: Ctrl-C or SIGTERM of this process (see `interruptible`)
    stops it and every Spark job it started. While it runs, a progress line follows its log;
    if it fails, the failed tasks, their errors and their last log lines are printed.
    """
    env = airflow_env(settings)
    env.update(env_overrides or {})
    prepare_home(settings, env)
    # A manual run's interval ends at its logical date (see the module docstring).
    logical_date = hour + HOUR
    log_dir = airflow_home(settings) / "logs" / "dags-test"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"{dag_id}-{hour:%Y%m%dT%H}.log"
    result_file = log_file.with_suffix(".json")
    result_file.unlink(missing_ok=True)  # an earlier run's outcome must not pass for this one's
    one_hour = not what
    what = what or f"arrival hour {hour_text(hour)}"  # what the run works on, for the progress lines
    progress(f"airflow: {dag_id} for {what} (log: {log_file})")
    # `airflow dags test`, with the Execution API app built once, the outcome as JSON (lakehouse.runtime.dags_test)
    command = [sys.executable, "-m", "lakehouse.runtime.dags_test", dag_id, logical_date.isoformat()]
    command += ["--result", str(result_file)]
    if conf:
        command += ["--conf", json.dumps(dict(conf))]
    started = time.perf_counter()
    with open(log_file, "w") as log:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=REPO_ROOT,
            stdout=None if verbose else log,
            stderr=None if verbose else subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            if verbose:
                returncode = process.wait()
            else:
                with ProgressLine(log_file, f"{dag_id} {what}"):
                    returncode = process.wait()
        except BaseException:
            stop_process_tree(process)
            release_abandoned_claims(settings, dag_id, hour)
            raise
    seconds = time.perf_counter() - started
    outcome = json.loads(result_file.read_text()) if result_file.exists() else {}
    state = outcome.get("state", "")
    if returncode != 0 and state == "success":
        state = "failed"  # the command failed before or after the run; do not call it green
    result = HourResult(
        hour,
        state or "failed",
        outcome.get("run_id", ""),
        seconds,
        outcome.get("tasks", {}),
        str(log_file),
        outcome.get("tries", {}),
    )
    tasks = result.tasks
    shown = f"arrival hour {hour_and_run(hour, result.run_id)}" if one_hour else f"{what} (Airflow run {result.run_id})"
    progress(f"airflow: {dag_id} {shown} -> {result.state} in {seconds:.0f}s")
    if not result.ok:
        failed = [t for t, s in tasks.items() if s == "failed"] or [t for t, s in tasks.items() if s == "up_for_retry"]
        report = failure_report(log_file, failed) if failed else ""
        print(report or f"the run did not start or ended early; last lines of {log_file}:", file=sys.stderr)
        if not failed:
            tail = log_file.read_text(errors="replace").splitlines()[-25:] if log_file.exists() else []
            print("\n".join(f"    {line}" for line in tail), file=sys.stderr)
    return result


def release_abandoned_claims(settings: Settings, dag_id: str, hour: datetime) -> None:
    """A stopped `dags test` run never reached its `release_hour` teardown: drop the hour claims it
    holds (`lakehouse_core.hour_claims`; owner `<dag>/manual__...`), so the next run of the hour is not refused."""
    if dag_id != DAG_ID:
        return
    from lakehouse_core import hour_claims

    released = hour_claims.release_abandoned(settings, hour, settings.straggler_hours, f"{dag_id}/manual__")
    if released:
        progress(f"airflow: released the stopped run's claim of {', '.join(f'{h:%Y-%m-%dT%H}' for h in released)}")


STOP_GRACE_SECONDS = 15.0  # SIGTERM, then SIGKILL what is left


def stop_process_tree(process: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM the run's process group and every descendant (Spark jobs have their own groups),
    then SIGKILL what is still there after `grace` seconds."""
    import psutil

    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.terminate()
    _, alive = psutil.wait_procs([*children], timeout=grace)
    try:
        process.wait(timeout=max(0.1, grace / 2))
    except subprocess.TimeoutExpired:
        alive.append(psutil.Process(process.pid))
    for leftover in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            leftover.kill()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C (KeyboardInterrupt) in this process, so both stop a run the same way."""

    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def warm_spark(settings: Settings, enabled: bool = True) -> Iterator[dict[str, str]]:
    """A warm Spark driver for the runs inside the block (local backend); yields the env that names it.

    See `lakehouse.runtime.warm_spark`: one JVM for every Spark job of the block instead of one per job.
    It starts now and warms up while Airflow starts; it is stopped when the block ends.
    """
    if not enabled or settings.spark_backend != "local":
        yield {}
        return
    from lakehouse.runtime import local_spark

    folder = Path(tempfile.mkdtemp(prefix="lakehouse-spark-"))
    log_file = airflow_home(settings) / "logs" / "warm-spark.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    process = local_spark.start_warm_driver(settings, folder, log_file)
    try:
        yield {"LAKEHOUSE_WARM_SPARK": str(folder)}
    finally:
        stop_process_tree(process, grace=3.0)
        shutil.rmtree(folder, ignore_errors=True)


def backfill(
    settings: Settings, start: datetime, end: datetime, verbose: bool = False, warm: bool = True
) -> list[HourResult]:
    """Run every hour in [start, end) in order; stop at the first failure (later hours depend on it).

    `warm`: the Spark jobs of all hours run in one warm driver (`warm_spark`), not one spark-submit each.
    """
    results: list[HourResult] = []
    with warm_spark(settings, warm) as env:
        for hour in hours_between(start, end):
            result = run_hour(settings, hour, verbose=verbose, env_overrides=env)
            results.append(result)
            if not result.ok:
                break
    return results


BACKFILL_DAG_ID = "orders_backfill"


def bulk_backfill(
    settings: Settings,
    start: datetime,
    end: datetime,
    verbose: bool = False,
    warm: bool = True,
    env_overrides: Mapping[str, str] | None = None,
) -> HourResult:
    """Ingest arrival hours [start, end) in one Spark job: one run of the `orders_backfill` DAG
    (`airflow dags test`, params from/to), on the configured Spark backend.

    The Python entry of `lakehouse backfill --bulk` (and of the demo's history): claims, manifests,
    one ingest job, one gate, one publish, then the marts. `warm`: the run's Spark jobs go to one
    warm driver (`warm_spark`), unless `env_overrides` already names one. The result's `hour` is
    the range's first hour; its log says the rest.
    """
    conf = {"from": f"{start:%Y-%m-%dT%H:%M:%SZ}", "to": f"{end:%Y-%m-%dT%H:%M:%SZ}"}
    overrides = dict(env_overrides or {})
    with contextlib.ExitStack() as stack:
        if "LAKEHOUSE_WARM_SPARK" not in overrides:
            overrides.update(stack.enter_context(warm_spark(settings, warm)))
        try:
            # the run's logical date is the range's end: one run per range, named by it
            what = f"arrival hours [{hour_text(start)}, {hour_text(end)}) in one run"
            return run_hour(settings, end - HOUR, BACKFILL_DAG_ID, verbose, overrides, conf, what)
        except BaseException:
            release_abandoned_range(settings, start, end)
            raise


def release_abandoned_range(settings: Settings, start: datetime, end: datetime) -> None:
    """A stopped bulk run never reached its `release_range` teardown: drop the claims its
    `dags test` run holds (owner `orders_backfill/manual__...`)."""
    from lakehouse_core import hour_claims

    released = []
    for hour in [*hours_between(start - HOUR * settings.straggler_hours, end)]:
        current = hour_claims.holder(settings, hour)
        if current is not None and current.owner.startswith(f"{BACKFILL_DAG_ID}/manual__"):
            released += hour_claims.release(settings, [hour], current.owner)
    if released:
        progress(f"airflow: released the stopped backfill's claims of {len(released)} hour(s)")


def scheduler_backfill_command(start: datetime, end: datetime, reprocess: str = "completed") -> list[str]:
    """`airflow backfill create` for arrival hours [start, end): runs whose interval starts there."""
    return [
        airflow_bin(),
        "backfill",
        "create",
        "--dag-id",
        DAG_ID,
        "--from-date",
        start.isoformat(),
        # inclusive in Airflow: the last hour's logical date (its interval start)
        "--to-date",
        (end - HOUR).isoformat(),
        "--max-active-runs",
        "1",
        "--reprocess-behavior",
        reprocess,
    ]


def hour_text(hour: datetime) -> str:
    """An arrival hour as the summaries print it: `2026-11-01 08:00`."""
    return f"{hour:%Y-%m-%d %H}:00"


def airflow_run_name(hour: datetime, run_id: str) -> str:
    """The Airflow run name to show beside arrival hour `hour`; "" when the name already says that hour.

    Airflow names a scheduled or backfill run by its `run_after`, the *end* of its data interval
    (arrival hour 08:00 is `backfill__2026-11-01T09:00:00+00:00`), and a `dags test` run by the
    moment it ran (`manual__<now>`): the UI shows those names and times, the summaries the hour.
    """
    return "" if not run_id or hour.isoformat() in run_id else run_id


def hour_and_run(hour: datetime, run_id: str) -> str:
    """`2026-11-01 08:00 (Airflow run backfill__2026-11-01T09:00:00+00:00)`, or just the hour."""
    name = airflow_run_name(hour, run_id)
    return f"{hour_text(hour)} (Airflow run {name})" if name else hour_text(hour)


MAX_NAMES_IN_CELL = 3


def print_results(results: list[HourResult]) -> None:
    """One row per arrival hour (with its Airflow run name), then every skipped task and why."""
    from pipeline.skip_reasons import explain_skipped

    show_runs = any(airflow_run_name(r.hour, r.run_id) for r in results)
    rows = []
    reasons: dict[str, dict[str, list[str]]] = {}  # reason -> tasks -> hours
    for r in results:
        failed = [t for t, s in r.tasks.items() if s in ("failed", "upstream_failed")]
        skipped = explain_skipped(r.tasks)
        names = [name for tasks in skipped.values() for name in tasks]
        for reason, tasks in skipped.items():
            for name in tasks:
                reasons.setdefault(reason, {}).setdefault(name, []).append(hour_text(r.hour))
        cell = ", ".join(names) if len(names) <= MAX_NAMES_IN_CELL else f"{len(names)} (below)"
        run = [airflow_run_name(r.hour, r.run_id) or "-"] if show_runs else []
        rows.append([hour_text(r.hour), *run, r.state, f"{r.seconds:.0f}s", ",".join(failed) or "-", cell or "-"])
    headers = ["arrival hour", *(["Airflow run"] if show_runs else []), "state", "time", "failed tasks", "skipped"]
    print(table(headers, rows))
    for reason, tasks in reasons.items():
        hours = sorted({h for hs in tasks.values() for h in hs})
        where = ", ".join(hours) if len(hours) <= MAX_NAMES_IN_CELL else f"{len(hours)} of {len(results)} runs"
        print(f"skipped {', '.join(tasks)} ({where}): {reason}")
    for r in results:
        if not r.ok:
            print(f"log of the failed run: {r.log_file}")


def ready(settings: Settings, command: str) -> bool:
    """The doctor's checks (and the dbt manifest, made if missing) before any Airflow starts."""
    from lakehouse.runtime.preflight import explain, preflight

    problems = preflight(settings)
    if problems:
        explain(command, problems)
    return not problems


def browse_host(settings: Settings) -> str:
    """Where a browser (and the task processes) reach the server: 127.0.0.1 for a wildcard bind."""
    return "127.0.0.1" if settings.airflow_host in ("0.0.0.0", "::") else settings.airflow_host  # nosec B104  # compares, never binds
