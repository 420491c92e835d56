"""Run a Spark job on this machine with `spark-submit`: the `local` Spark backend.

Used by the Airflow local backend (`lakehouse_core.spark_backends`) and by `lakehouse ingest`. The
command is built from the same parts the test session uses, so a job behaves the same under
pytest and under spark-submit:

- the JVM parts (`lakehouse.runtime.jvm.discover`): JAVA_HOME, the Iceberg runtime and SQLite JDBC jars,
  `java.library.path` for the driver's native library;
- small-machine tuning (`spark_jobs.session.local_tuning`);
- Python: driver and workers run `sys.executable` (this virtualenv: pyarrow, numpy), and the
  repository root is on PYTHONPATH so `spark_jobs` imports without installing;
- the job's `--snake_case` arguments after the catalog ones of the local backend
  (`lakehouse_core.spark_catalog.local_catalog_args`, what `LocalSpark.catalog_args` returns),
  rendered by `spark_jobs.jobargs.to_argv`.

What each job is given comes from `lakehouse_core.spark_args`, the same builders the DAG uses.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lakehouse_core.settings import REPO_ROOT, Settings
from lakehouse_core.spark_catalog import local_catalog_args, local_catalog_conf
from spark_jobs.jobargs import CATALOG_PASSWORD_ENV, jdbc_catalog_uri, to_argv

LineSink = Callable[[str], None]
INGEST_SCRIPT = REPO_ROOT / "spark_jobs" / "ingest_orders.py"
# Jobs whose time goes to a cold JVM's first queries (catalog, metadata tables, small scans),
# not to long loops: there the C2 compiler only competes with the job for two cores, so they
# run with the C1 compiler alone. Measured by spark-submit wall time on this machine: gate of a
# 5,000-row hour 25.8 -> 21.6-22.2 s, gate of a 1M-row hour 31.8-37.0 -> 24.6-24.8 s, publish
# 11.7 -> 10.4 s. The ingest keeps the default: its 1M-row hour went 49-53 -> 62-64 s with C1.
QUICK_JIT_JOBS = frozenset({"validate_orders", "publish_orders"})
QUICK_JIT_OPTION = "-XX:TieredStopAtLevel=1"
DRIVER_JAVA_OPTIONS = "spark.driver.extraJavaOptions"  # local mode: the executors live in the driver


# ------------------------------------------------------------------------------ the command


@dataclass(frozen=True)
class SparkSubmit:
    """A ready-to-run spark-submit: the argv and the environment for the child process."""

    argv: list[str]
    env: dict[str, str]


def spark_submit_executable() -> str:
    """The virtualenv's spark-submit (pyspark installs it next to the interpreter)."""
    beside = Path(sys.executable).parent / "spark-submit"
    if beside.exists():
        return str(beside)
    import pyspark

    return str(Path(pyspark.__file__).parent / "bin" / "spark-submit")


def build_command(
    settings: Settings,
    script: str | Path,
    job_args: Mapping[str, object] | Sequence[str],
    extra_conf: Mapping[str, str] | None = None,
) -> SparkSubmit:
    """spark-submit argv + environment for `script` with the catalog args from settings first.

    Arguments given in `job_args` win over the catalog ones (argparse keeps the last value).
    """
    from lakehouse.runtime import jvm
    from spark_jobs.session import local_tuning, s3a_conf

    found = jvm.discover(settings)
    # An S3-compatible store (compose): S3A's endpoint; credentials stay in the environment.
    store = s3a_conf(settings.s3_endpoint, settings.aws_region) if settings.s3_endpoint else {}
    conf = {**local_tuning(), "spark.log.level": "WARN", **found.spark_conf(), **store, **(extra_conf or {})}
    if Path(script).stem in QUICK_JIT_JOBS:
        options = conf.get(DRIVER_JAVA_OPTIONS, "")
        conf[DRIVER_JAVA_OPTIONS] = f"{options} {QUICK_JIT_OPTION}".strip()
    # The catalog password goes in the environment, not on the command line (`ps` shows argv to
    # every user): the job's parser and the warm driver read CATALOG_PASSWORD_ENV.
    conf = {k: v for k, v in conf.items() if not k.endswith(".jdbc.password")}
    argv = [spark_submit_executable(), "--name", Path(script).stem]
    for key, value in conf.items():
        argv += ["--conf", f"{key}={value}"]
    argv += [str(script), *to_argv(local_catalog_args(settings)), *to_argv(job_args)]
    env = dict(os.environ)
    env.update(found.environ())
    password = jdbc_catalog_uri(settings.catalog_uri)[2]
    if password:
        env[CATALOG_PASSWORD_ENV] = password
    env["PYSPARK_PYTHON"] = sys.executable
    env["PYSPARK_DRIVER_PYTHON"] = sys.executable
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return SparkSubmit(argv, env)


def start(command: SparkSubmit) -> subprocess.Popen:
    """Start spark-submit in its own process group (so one signal stops the JVM and its Python)."""
    return subprocess.Popen(
        command.argv,
        env=command.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
        start_new_session=True,
    )


def _pump(stream, sink: LineSink) -> None:
    for line in stream:
        sink(line.rstrip("\n"))
    stream.close()


def _to(stream) -> LineSink:
    def write(line: str) -> None:
        print(line, file=stream, flush=True)

    return write


def wait(
    process: subprocess.Popen,
    on_stdout: LineSink | None = None,
    on_stderr: LineSink | None = None,
    timeout: float | None = None,
) -> int:
    """Stream the child's output line by line to the sinks; return its exit code."""
    pumps = [
        threading.Thread(target=_pump, args=(process.stdout, on_stdout or _to(sys.stdout)), daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, on_stderr or _to(sys.stderr)), daemon=True),
    ]
    for pump in pumps:
        pump.start()
    try:
        returncode = process.wait(timeout=timeout)
    except BaseException:  # timeout, Ctrl-C: do not leave a JVM behind
        kill(process)
        raise
    for pump in pumps:
        pump.join()
    return returncode


def kill(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Signal the job's whole process group (spark-submit, its JVM, the Python driver)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    process.wait()


def run_job(
    settings: Settings,
    script: str | Path,
    job_args: Mapping[str, object] | Sequence[str],
    *,
    on_stdout: LineSink | None = None,
    on_stderr: LineSink | None = None,
    extra_conf: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> int:
    """Run `script` with spark-submit, streaming its output; return the exit code.

    When the CLI started a warm driver for this run (`settings.warm_spark`, see
    `lakehouse.runtime.warm_spark`), the job runs there instead, with the same arguments; if that driver
    is gone, the job falls back to its own spark-submit.
    """
    if settings.warm_spark and not extra_conf and timeout is None:
        from lakehouse.runtime import warm_spark

        argv = [*to_argv(local_catalog_args(settings)), *to_argv(job_args)]
        try:
            return warm_spark.run_remote(settings.warm_spark, str(script), argv, on_stdout or _to(sys.stdout))
        except warm_spark.WarmSparkUnavailable as exc:
            (on_stderr or _to(sys.stderr))(f"{exc}; running {Path(script).name} with its own spark-submit")
    process = start(build_command(settings, script, job_args, extra_conf))
    return wait(process, on_stdout, on_stderr, timeout)


def start_warm_driver(settings: Settings, folder: Path, log_file: Path, append: bool = False) -> subprocess.Popen:
    """Start `lakehouse.runtime.warm_spark` under spark-submit in `folder` (its own process group).

    Same jars, tuning and Python as a job's spark-submit, plus the catalog, set when the session
    is made (a job's catalog conf cannot change a running session); Iceberg's table cache is off
    so the driver always sees commits made by other processes (pyiceberg, a scheduler's task).
    """
    from lakehouse.runtime import warm_spark

    conf = local_catalog_conf(settings)
    conf[f"spark.sql.catalog.{settings.catalog_name}.cache-enabled"] = "false"
    command = build_command(settings, warm_spark.__file__, {"folder": str(folder)}, extra_conf=conf)
    folder.mkdir(parents=True, exist_ok=True)
    with open(log_file, "a" if append else "w") as log:
        process = subprocess.Popen(
            command.argv, env=command.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    (folder / warm_spark.PID_NAME).write_text(str(process.pid))
    return process


def keep_warm_driver(
    settings: Settings, folder: Path, log_file: Path, restart_seconds: float = 5.0, runs: int | None = None
) -> int:
    """Keep a warm driver in `folder` for a long-lived worker: start it, and start it again whenever
    it ends (idle timeout, a crash, an out-of-memory kill); returns how many it started.

    Why: docker-compose's scheduler runs the tasks (LocalExecutor) as an MWAA worker does, but it
    lives as long as the stack, so it can keep one warm Spark driver beside it (LAKEHOUSE_WARM_SPARK
    on the scheduler service, started by docker/airflow/entrypoint.sh). The ingest, gate and
    publish of every hour then run in one JVM instead of three cold spark-submits. A task that
    finds no driver (between two starts) runs its own spark-submit (`run_job`). `runs` bounds the
    starts (tests); None keeps going until the process is stopped.
    """
    import time

    started = 0
    log_file.parent.mkdir(parents=True, exist_ok=True)
    while runs is None or started < runs:
        process = start_warm_driver(settings, folder, log_file, append=True)
        started += 1
        code = process.wait()
        with open(log_file, "a") as log:
            print(f"warm Spark driver {process.pid} ended with exit code {code}; starting another", file=log)
        if runs is None or started < runs:
            time.sleep(restart_seconds)
    return started


if __name__ == "__main__":  # python -m lakehouse.runtime.local_spark <folder> <log file>: keep_warm_driver
    from lakehouse_core.settings import load_settings

    keep_warm_driver(load_settings(), Path(sys.argv[1]), Path(sys.argv[2]))


# ------------------------------------------------------------------------------ in this process


def in_process_session(
    settings: Settings, app_name: str, conf: Mapping[str, str] | None = None, catalogs: Sequence[Settings] = ()
):  # -> pyspark.sql.SparkSession
    """A local[2] SparkSession inside this Python process, on `settings`' catalog (and `catalogs`').

    For the tests' session and the benchmarks: the same JVM parts, tuning and Python as a
    spark-submit job (`build_command`), `conf` on top. A missing part (Java, a jar) raises
    `jvm.EnvironmentNotReady` naming it. The tables must exist first (`init_catalog`): a live
    JDBC catalog keeps the SQLite file read-locked.
    """
    from lakehouse.runtime import jvm
    from spark_jobs.session import get_session, local_tuning

    found = jvm.discover(settings)
    if not found.ok:
        raise jvm.EnvironmentNotReady(f"local Spark cannot start; run `lakehouse doctor` (missing: {found.missing()})")
    os.environ.update(found.environ())
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers import what this process imports
    merged = {**local_tuning(), **found.spark_conf()}
    for each in (settings, *catalogs):
        merged.update(local_catalog_conf(each))
    return get_session(app_name, {**merged, **(conf or {})})
