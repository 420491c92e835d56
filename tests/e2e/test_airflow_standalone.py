"""`lakehouse airflow` for real: `airflow standalone` headless, a run triggered through the REST API.

The server is started by `lakehouse airflow --port N` itself, on a free port, in a throwaway
lakehouse home. admin/admin is refused (`/auth/token` answers 401); the test logs in with the
random password `lakehouse airflow` kept in the Airflow home (mode 600; Airflow 3: JWT from `/auth/token`),
unpauses `orders_lakehouse`, triggers a run for an hour with no data through `/api/v2`, and
waits for it to succeed: an empty hour is a normal green run that skips the Spark steps, so it
proves the scheduler, DAG processor, triggerer and executor work together without Spark.
Then it is stopped with Ctrl-C as a terminal sends it (SIGINT to the foreground process group,
here `lakehouse airflow` alone): the command exits 0 and no process it started is left.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from lakehouse.runtime.local_airflow import ADMIN_USER, DAG_ID, PASSWORDS_FILE, STOP_GRACE_SECONDS, read_password
from lakehouse_core.settings import REPO_ROOT

# `make test` runs two xdist workers with --dist loadscope: this module's tests stay on one worker, in order.
pytestmark = [pytest.mark.e2e, pytest.mark.runtime, pytest.mark.timeout(420)]

STARTUP_SECONDS = 180
RUN_SECONDS = 150
STOP_SECONDS = STOP_GRACE_SECONDS + 30  # a bound, not a measurement: SIGTERM, grace, SIGKILL
# Nothing is ever generated for it; after the DAG's start_date (else Airflow creates no task).
EMPTY_HOUR = "2024-06-01T00:00:00+00:00"
EMPTY_HOUR_END = "2024-06-01T01:00:00+00:00"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Api:
    base: str
    token: str = ""

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
                return response.status, json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            try:
                return error.code, json.loads(text)
            except json.JSONDecodeError:
                return error.code, text


def wait_for(what: str, check, timeout: float, log: Path, interval: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except (urllib.error.URLError, ConnectionError, OSError):
            result = None
        if result:
            return result
        time.sleep(interval)
    tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}; standalone output ends with:\n{tail}")


@pytest.fixture
def standalone(tmp_path: Path) -> Iterator[tuple[Api, Path, Path]]:
    """A running `lakehouse airflow` with our DAGs; stopped with Ctrl-C afterwards, and checked."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "AIRFLOW"))}
    env.update(
        {
            "LAKEHOUSE_HOME": str(tmp_path / "lake"),
            # An empty hour needs no waiting: the hour is "complete" as soon as it ends.
            "LAKEHOUSE_FIREHOSE_BUFFER_SECONDS": "0",
            "LAKEHOUSE_LANDING_MARGIN_SECONDS": "0",
            "PYTHONPYCACHEPREFIX": str(tmp_path / "pycache"),
        }
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    port = free_port()
    log = tmp_path / "standalone.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("lakehouse")), "airflow", "--port", str(port)],
            env=env,
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own foreground group, as in a terminal
        )
    started: list[psutil.Process] = []
    try:
        api = Api(f"http://127.0.0.1:{port}")
        wait_for("the API server", lambda: api.call("GET", "/api/v2/monitor/health")[0] == 200, STARTUP_SECONDS, log)
        started = psutil.Process(process.pid).children(recursive=True)
        yield api, log, tmp_path / "lake" / "airflow" / PASSWORDS_FILE
        started = psutil.Process(process.pid).children(recursive=True)  # now with the executor's workers
        # Ctrl-C: the terminal signals the foreground group, i.e. `lakehouse airflow` alone
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=STOP_SECONDS) == 0, log.read_text()[-3000:]
        _, alive = psutil.wait_procs(started, timeout=5)
        assert not alive, f"left running after Ctrl-C: {[p.pid for p in alive]}"
    finally:
        kill_all(process, started)


def kill_all(process: subprocess.Popen, started: list[psutil.Process]) -> None:
    """Whatever a failed test left: the command's group and every process it started."""
    for proc in [*started, psutil.Process(process.pid)] if process.poll() is None else started:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_standalone_runs_an_empty_hour_green_through_the_rest_api(standalone: tuple[Api, Path, Path]) -> None:
    api, log, passwords = standalone
    started = time.monotonic()

    status, body = api.call("POST", "/auth/token", {"username": ADMIN_USER, "password": "admin"})
    assert status == 401, body  # no default password
    assert passwords.stat().st_mode & 0o077 == 0  # the kept one is readable by its owner only
    assert f"login {ADMIN_USER} / {read_password(passwords)}" in log.read_text()  # printed, once
    status, body = api.call("POST", "/auth/token", {"username": ADMIN_USER, "password": read_password(passwords)})
    assert status == 201, body
    api.token = body["access_token"]

    wait_for("the DAG to be parsed", lambda: api.call("GET", f"/api/v2/dags/{DAG_ID}")[0] == 200, 120, log)
    status, body = api.call("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
    assert status == 200 and body["is_paused"] is False, body

    status, run = api.call(
        "POST",
        f"/api/v2/dags/{DAG_ID}/dagRuns",
        {
            "dag_run_id": "e2e_empty_hour",
            "logical_date": EMPTY_HOUR,
            "data_interval_start": EMPTY_HOUR,
            "data_interval_end": EMPTY_HOUR_END,
            "note": "tests/e2e/test_airflow_standalone.py",
        },
    )
    assert status == 200, run

    def finished() -> dict[str, Any] | None:
        code, body = api.call("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/e2e_empty_hour")
        return body if code == 200 and body["state"] in ("success", "failed") else None

    final = wait_for("the run to finish", finished, RUN_SECONDS, log, interval=3)
    status, tis = api.call("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/e2e_empty_hour/taskInstances?limit=100")
    states = {ti["task_id"]: ti["state"] for ti in tis["task_instances"]}
    assert final["state"] == "success", states
    assert states["wait_for_hour"] == "success"
    assert states["landing_manifest"] == "success"
    assert states["has_objects"] == "success"
    # the short-circuit skipped every Spark step and dbt: a green run with nothing to do
    assert {states[t] for t in ("ensure_tables", "ingest", "quality_gate", "publish", "marts_published")} == {"skipped"}
    # ... but the transaction-rate check still judged the hour (no marts yet here: nothing to judge)
    assert states["rate_alarm"] == "success"
    print(f"standalone: run succeeded {time.monotonic() - started:.0f}s after the API came up")
