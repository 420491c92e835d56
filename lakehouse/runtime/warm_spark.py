"""A warm Spark driver for local runs: one JVM for every Spark job of a `run-hour`/`backfill`/demo.

Why: on the local backend each Spark task was its own `spark-submit`: a JVM start, a session,
the Iceberg catalog and a cold JIT, three times an hour (ingest, gate, publish). For a demo-sized
hour that start-up was most of the Spark time. The jobs are written to share a session
(`spark_jobs.session.get_session` is getOrCreate; tests and the benchmark already run them in
one), so locally they can run one after the other in one long-lived driver.

How: `lakehouse run-hour`/`backfill`/`demo` start this module with `spark-submit` (so the
driver has exactly the jars, conf and Python a task's own spark-submit would have) before the
DAG runs, and stop it at the end. It listens on a Unix socket; the local Spark task
(`lakehouse.runtime.local_spark.run_job`) sends `{"script", "argv"}`, and the server runs the script's
`main(argv)` in its session with the job's stdout/stderr (Python and JVM) sent back over the
socket, then a last line with the exit code. One job at a time. If the client goes away (the
task was killed), the server cancels the job's Spark work. The scheduler (`make airflow`) does
not use it: there every task is its own spark-submit, as on a worker. docker-compose's scheduler
does: it lives as long as the stack, and keeps one driver beside it
(`lakehouse.runtime.local_spark.keep_warm_driver`, started by docker/airflow/entrypoint.sh).

The socket's folder also holds `pid` (the server's process id, written by whoever started it),
so a client waiting for a server that is still starting knows whether it is still alive.
"""

from __future__ import annotations

import contextlib
import json
import os
import runpy
import select
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path

SOCKET_NAME = "spark.sock"
PID_NAME = "pid"
EXIT_MARK = "\x00exit "
IDLE_SECONDS = 1800  # a forgotten server goes away on its own
CONNECT_WAIT_SECONDS = 120  # a client waits this long for a server that is starting


def socket_path(folder: str | Path) -> Path:
    return Path(folder) / SOCKET_NAME


# ------------------------------------------------------------------------------ client side


class WarmSparkUnavailable(RuntimeError):
    """No warm driver answers at the configured folder (the caller falls back to spark-submit)."""


def _alive(folder: Path) -> bool:
    """Whether the driver process named in `folder/pid` still runs (a zombie does not count)."""
    import psutil

    try:
        process = psutil.Process(int((folder / PID_NAME).read_text().strip()))
        return process.status() != psutil.STATUS_ZOMBIE
    except (OSError, ValueError, psutil.Error):
        return False


def connect(folder: str | Path, wait_seconds: float = CONNECT_WAIT_SECONDS) -> socket.socket:
    """A connection to the warm driver in `folder`, waiting while it is still starting."""
    folder = Path(folder)
    deadline = time.monotonic() + wait_seconds
    while True:
        path = socket_path(folder)
        if path.exists():
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(path))
                return sock
            except OSError:
                sock.close()
        if not _alive(folder) or time.monotonic() > deadline:
            raise WarmSparkUnavailable(f"no warm Spark driver at {folder}")
        time.sleep(0.2)


def run_remote(folder: str | Path, script: str, argv: list[str], sink: Callable[[str], None]) -> int:
    """Run `script` with `argv` in the warm driver; each output line goes to `sink`; returns the exit code."""
    sock = connect(folder)
    with sock, sock.makefile("rw", encoding="utf-8", errors="replace", newline="\n") as stream:
        stream.write(json.dumps({"script": str(script), "argv": list(argv)}) + "\n")
        stream.flush()
        for line in stream:
            line = line.rstrip("\n")
            if line.startswith(EXIT_MARK):
                return int(line[len(EXIT_MARK) :])
            sink(line)
    sink("warm Spark driver went away before the job ended (see its log)")
    return 1


# ------------------------------------------------------------------------------ server side


def _watch_client(conn: socket.socket, done: threading.Event, spark) -> None:
    """Cancel the running job's Spark work when its client disconnects (the task was killed)."""
    # select, not a socket timeout: a timeout makes the socket non-blocking, and fds 1 and 2
    # (the job's output) share it, so the JVM's writes could fail with EAGAIN.
    while not done.is_set():
        try:
            readable, _, _ = select.select([conn], [], [], 0.5)
            if readable and conn.recv(1, socket.MSG_PEEK) == b"":
                break
        except OSError:
            break
    if not done.is_set():  # (nothing printed: fds 1 and 2 still point at the closed connection)
        with contextlib.suppress(Exception):
            spark.sparkContext.cancelAllJobs()


def _run_job(request: dict, conn: socket.socket, spark) -> int:
    """Run one job with fds 1 and 2 pointing at the client; returns its exit code."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    done = threading.Event()
    watcher = threading.Thread(target=_watch_client, args=(conn, done, spark), daemon=True)
    code = 1
    try:
        os.dup2(conn.fileno(), 1)
        os.dup2(conn.fileno(), 2)
        watcher.start()
        try:
            job = runpy.run_path(request["script"], run_name="__warm_spark_job__")
            code = int(job["main"](list(request["argv"])) or 0)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
    finally:
        done.set()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
        # The next job starts from an empty cache (a job that failed may not have unpersisted).
        with contextlib.suppress(Exception):
            spark.catalog.clearCache()
    return code


def _preload() -> None:
    """Import what the jobs import (and start GX's import) while Airflow is still starting."""
    import importlib

    for module in ("spark_jobs.ingest.job", "spark_jobs.quality.validate", "spark_jobs.quality.publish"):
        with contextlib.suppress(Exception):
            importlib.import_module(module)
    with contextlib.suppress(Exception):
        from spark_jobs.quality import gx_runner

        gx_runner.preload()


def catalog_password_conf(environ: Mapping[str, str]) -> dict[str, str]:
    """The JDBC catalog's password conf, from the environment start_warm_driver gave this driver."""
    from lakehouse_core.settings import load_settings
    from spark_jobs.jobargs import CATALOG_PASSWORD_ENV

    password = environ.get(CATALOG_PASSWORD_ENV, "")
    return {f"spark.sql.catalog.{load_settings(environ).catalog_name}.jdbc.password": password} if password else {}


def serve(folder: Path, idle_seconds: float = IDLE_SECONDS) -> None:
    """Create the session, then run jobs from the socket one at a time until idle or killed."""
    from spark_jobs.session import get_session

    # The catalog and jars come from spark-submit's --conf (lakehouse.runtime.local_spark.start_warm_driver),
    # the catalog's password from the environment (never a command line).
    spark = get_session("lakehouse-warm-spark", catalog_password_conf(os.environ))
    spark.sql("select 1").collect()  # the first query plans and compiles a lot: do it now
    _preload()
    path = socket_path(folder)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(4)
    server.settimeout(idle_seconds)
    print(f"warm Spark driver ready on {path}", flush=True)
    try:
        while True:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                print(f"idle for {idle_seconds:.0f}s: stopping", flush=True)
                return
            with conn:
                line = conn.makefile("r", encoding="utf-8").readline()
                if not line.strip():
                    continue
                request = json.loads(line)
                started = time.perf_counter()
                name = Path(request["script"]).name
                print(f"job {name} started", flush=True)
                code = _run_job(request, conn, spark)
                print(f"job {name} exit {code} in {time.perf_counter() - started:.1f}s", flush=True)
                with contextlib.suppress(OSError):
                    conn.sendall(f"{EXIT_MARK}{code}\n".encode())
    finally:
        server.close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


if __name__ == "__main__":
    import argparse

    # --folder, among the catalog arguments every job gets (unused here: the session has them)
    parser = argparse.ArgumentParser(prog="warm_spark")
    parser.add_argument("--folder", required=True)
    serve(Path(parser.parse_known_args()[0].folder))
