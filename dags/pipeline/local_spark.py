"""Run a Spark job on this machine with `spark-submit`: the `local` Spark backend.

Used by the Airflow local backend (`pipeline.spark_backends`) and by `lakehouse ingest`. The
command is built from the same parts the test session uses, so a job behaves the same under
pytest and under spark-submit:

- the JVM parts (`pipeline.jvm.discover`): JAVA_HOME, the Iceberg runtime and SQLite JDBC jars,
  `java.library.path` for the driver's native library;
- small-machine tuning (`spark_jobs.session.local_tuning`);
- Python: driver and workers run `sys.executable` (this virtualenv: pyarrow, numpy), and the
  repository root is on PYTHONPATH so `spark_jobs` imports without installing;
- the job's `--snake_case` arguments, the catalog ones taken from settings (`catalog_args`).

The argument builders (`catalog_args`, `ingest_args`) are plain dicts so the Glue and EMR
renderers can give a job exactly the same arguments.
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
from datetime import UTC, datetime
from pathlib import Path

from pipeline.settings import REPO_ROOT, Settings

LineSink = Callable[[str], None]
PLATFORM_OF_BACKEND = {"local": "local", "glue": "glue", "emr-serverless": "emr"}
INGEST_SCRIPT = REPO_ROOT / "spark_jobs" / "ingest_orders.py"
# Jobs whose time goes to a cold JVM's first queries (catalog, metadata tables, small scans),
# not to long loops: there the C2 compiler only competes with the job for two cores, so they
# run with the C1 compiler alone. Measured by spark-submit wall time on this machine: gate of a
# 5,000-row hour 25.8 -> 21.6-22.2 s, gate of a 1M-row hour 31.8-37.0 -> 24.6-24.8 s, publish
# 11.7 -> 10.4 s. The ingest keeps the default: its 1M-row hour went 49-53 -> 62-64 s with C1.
QUICK_JIT_JOBS = frozenset({"validate_orders", "publish_orders"})
QUICK_JIT_OPTION = "-XX:TieredStopAtLevel=1"
DRIVER_JAVA_OPTIONS = "spark.driver.extraJavaOptions"  # local mode: the executors live in the driver


class SparkJobFailed(RuntimeError):
    """spark-submit ended with a non-zero exit code."""

    def __init__(self, script: str, returncode: int) -> None:
        super().__init__(f"spark job {Path(script).name} failed with exit code {returncode}")
        self.returncode = returncode


# ------------------------------------------------------------------------------ job arguments


def catalog_args(settings: Settings) -> dict[str, str]:
    """The catalog arguments of every job, for the backend in settings.

    Locally the catalog URI is the JDBC form of the settings' SQLAlchemy URI (Spark's
    JdbcCatalog and pyiceberg's SqlCatalog share the tables); on Glue/EMR the Glue Data
    Catalog needs no URI.
    """
    platform = PLATFORM_OF_BACKEND[settings.spark_backend]
    args = {"environment": platform, "catalog_name": settings.catalog_name, "warehouse": settings.warehouse}
    if settings.namespace_prefix:
        args["namespace_prefix"] = settings.namespace_prefix
    if platform == "local":
        from spark_jobs.jobargs import jdbc_catalog_uri

        uri, user, password = jdbc_catalog_uri(settings.catalog_uri)
        args |= {"catalog_uri": uri, "catalog_jdbc_user": user, "catalog_jdbc_password": password}
    return args


def ingest_args(
    settings: Settings,
    *,
    arrival_hour: datetime,
    manifest: str,
    run_id: str,
    audit_branch: str = "",
    max_record_bytes: int | None = None,
) -> dict[str, str]:
    """Every argument of `spark_jobs/ingest_orders.py` for one arrival hour."""
    hour = arrival_hour.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    args = {
        **catalog_args(settings),
        "manifest": manifest,
        "arrival_hour": hour,
        "run_id": run_id,
        "lateness_hours": str(settings.lateness_hours),  # the gate's range check uses the same window
    }
    if audit_branch:
        args["audit_branch"] = audit_branch
    if max_record_bytes is not None:
        args["max_record_bytes"] = str(max_record_bytes)
    return args


def to_argv(job_args: Mapping[str, object] | Sequence[str]) -> list[str]:
    """{name: value} -> ['--name', 'value', ...] (empty values left out); an argv passes through."""
    if not isinstance(job_args, Mapping):
        return [str(a) for a in job_args]
    argv: list[str] = []
    for name, value in job_args.items():
        if value is None or value == "":
            continue
        argv += [name if name.startswith("--") else f"--{name}", str(value)]
    return argv


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
    from pipeline import jvm
    from spark_jobs.session import local_tuning, s3a_conf

    found = jvm.discover(settings)
    # An S3-compatible store (compose): S3A's endpoint; credentials stay in the environment.
    store = s3a_conf(settings.s3_endpoint, settings.aws_region) if settings.s3_endpoint else {}
    conf = {**local_tuning(), "spark.log.level": "WARN", **found.spark_conf(), **store, **(extra_conf or {})}
    if Path(script).stem in QUICK_JIT_JOBS:
        options = conf.get(DRIVER_JAVA_OPTIONS, "")
        conf[DRIVER_JAVA_OPTIONS] = f"{options} {QUICK_JIT_OPTION}".strip()
    argv = [spark_submit_executable(), "--name", Path(script).stem]
    for key, value in conf.items():
        argv += ["--conf", f"{key}={value}"]
    argv += [str(script), *to_argv(catalog_args(settings)), *to_argv(job_args)]
    env = dict(os.environ)
    env.update(found.environ())
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
    `pipeline.warm_spark`), the job runs there instead, with the same arguments; if that driver
    is gone, the job falls back to its own spark-submit.
    """
    if settings.warm_spark and not extra_conf and timeout is None:
        from pipeline import warm_spark

        argv = [*to_argv(catalog_args(settings)), *to_argv(job_args)]
        try:
            return warm_spark.run_remote(settings.warm_spark, str(script), argv, on_stdout or _to(sys.stdout))
        except warm_spark.WarmSparkUnavailable as exc:
            (on_stderr or _to(sys.stderr))(f"{exc}; running {Path(script).name} with its own spark-submit")
    process = start(build_command(settings, script, job_args, extra_conf))
    return wait(process, on_stdout, on_stderr, timeout)


def start_warm_driver(settings: Settings, folder: Path, log_file: Path) -> subprocess.Popen:
    """Start `pipeline.warm_spark` under spark-submit in `folder` (its own process group).

    Same jars, tuning and Python as a job's spark-submit, plus the catalog, set when the session
    is made (a job's catalog conf cannot change a running session); Iceberg's table cache is off
    so the driver always sees commits made by other processes (pyiceberg, a scheduler's task).
    """
    from pipeline import warm_spark
    from spark_jobs.jobargs import jdbc_catalog_uri
    from spark_jobs.session import catalog_conf

    uri, user, password = jdbc_catalog_uri(settings.catalog_uri)
    conf = catalog_conf("local", settings.catalog_name, settings.warehouse, uri, user, password)
    conf[f"spark.sql.catalog.{settings.catalog_name}.cache-enabled"] = "false"
    command = build_command(settings, warm_spark.__file__, {"folder": str(folder)}, extra_conf=conf)
    folder.mkdir(parents=True, exist_ok=True)
    with open(log_file, "w") as log:
        process = subprocess.Popen(
            command.argv, env=command.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    (folder / warm_spark.PID_NAME).write_text(str(process.pid))
    return process


def run(settings: Settings, script: str | Path, job_args: Mapping[str, object] | Sequence[str]) -> None:
    """Like `run_job`, raising `SparkJobFailed` on a non-zero exit (what an Airflow task wants)."""
    returncode = run_job(settings, script, job_args)
    if returncode != 0:
        raise SparkJobFailed(str(script), returncode)
