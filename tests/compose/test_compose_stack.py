"""The docker-compose stack end to end: real containers, the real DAG, through Airflow's REST API.

Nothing is mocked. The lane builds the images (docker/build-images.sh; cached layers make a
rebuild a matter of seconds), starts its own compose project (own name, own env file with fresh
secrets and free ports, so a developer's running stack is not touched) and talks to it only
through the ports it publishes on 127.0.0.1:

1. every service is healthy, and every published port binds 127.0.0.1 only;
2. two arrival hours with every fault the simulator knows go to the object store
   (`lakehouse generate` to s3:// through the published port) and through the real DAG as an
   Airflow backfill (REST API). While the second hour's ingest runs, the scheduler container is
   killed (SIGKILL: its task processes and the Spark job die with it) and started again; the
   run still ends green. Then, read through pyiceberg on the host (catalog in PostgreSQL, files
   in the object store): bronze, quarantine and silver hold exactly the simulator's ground truth
   (per layer, per arrival hour, per quarantine reason: nothing lost, nothing duplicated), and
   the marts exist in the PostgreSQL warehouse;
3. the first hour again: green, and the content checksums of bronze, quarantine, silver and
   every mart are unchanged;
4. `down --volumes` leaves no container, volume or network of the project behind.

Slow by nature (three hourly runs of three Spark jobs in the scheduler's warm driver, one dbt
build and 36 dbt tasks each): several minutes.
Run it with `make test-compose`; `make test` leaves it out (marker `compose`).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from lakehouse.generate import GenerateConfig, generate
from lakehouse.runtime.compose_stack import HOUR, AirflowApi, Stack, ensure_env_file, run_hours
from lakehouse_core.settings import REPO_ROOT, Settings
from tests.helpers.checksums import ICEBERG_TABLES, content_checksum

pytestmark = [pytest.mark.compose, pytest.mark.timeout(3600)]

START = datetime(2026, 11, 1, 8, tzinfo=UTC)
HOURS = 2
KILLED_HOUR = START + HOUR  # the scheduler dies while this hour's ingest runs
PROJECT = f"lakehouse-test-{os.getpid()}"
AIRFLOW_SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
MARTS = {"fct_order_lines", "fct_invoices", "dim_date", "dim_products", "dim_customers", "agg_daily_sales"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A fresh compose project, up and healthy; removed with its volumes at the end whatever happens."""
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.fail("no Docker engine: the compose lane needs one (`.ci/run` starts dockerd)")
    subprocess.run([str(REPO_ROOT / "docker" / "build-images.sh")], check=True)

    env_file = tmp_path_factory.mktemp("compose") / "compose.env"
    ports = {"AIRFLOW_PORT": _free_port(), "POSTGRES_PORT": _free_port(), "S3_PORT": _free_port()}
    ensure_env_file(env_file, overrides={k: str(v) for k, v in ports.items()})
    stack = Stack(project=PROJECT, env_file=env_file)

    # The stack's values come from its env file only (a shell's AIRFLOW_PORT would win in compose);
    # boto3, pyarrow and S3A on this host read the AWS_* variables the containers get.
    saved = dict(os.environ)
    for name in stack.values():
        os.environ.pop(name, None)
    os.environ.update({k: v for k, v in stack.host_environ().items() if k.startswith("AWS_")})
    try:
        seconds = stack.up()
        print(f"\ncompose lane: stack up and healthy in {seconds:.0f} s")
        yield stack
    finally:
        try:
            if os.environ.get("COMPOSE_KEEP") != "1":
                stack.down(volumes=True)
        finally:
            os.environ.clear()
            os.environ.update(saved)


@pytest.fixture(scope="module")
def settings(stack: Stack) -> Settings:
    return stack.settings()


@pytest.fixture(scope="module")
def api(stack: Stack) -> AirflowApi:
    return stack.api()


def iceberg_state(settings: Settings) -> dict[str, Any]:
    """Rows, content checksum (run lineage left out), rows per arrival hour, per table."""
    from lakehouse_core.catalog import open_catalog

    catalog = open_catalog(settings)
    state: dict[str, Any] = {}
    for identifier in ICEBERG_TABLES:
        rows = catalog.load_table(identifier).scan().to_arrow().to_pylist()
        state[identifier] = {
            "rows": len(rows),
            "checksum": content_checksum(rows),
            "by_arrival_hour": dict(Counter(r["arrival_hour"].astimezone(UTC) for r in rows)),
        }
    quarantine = catalog.load_table("bronze.orders_quarantine").scan(selected_fields=("reason_code",))
    state["quarantine_by_reason"] = dict(Counter(quarantine.to_arrow().column("reason_code").to_pylist()))
    return state


def mart_state(settings: Settings) -> dict[str, dict[str, Any]]:
    """Rows and content checksum of every table dbt built in the warehouse's `marts` schema."""
    from lakehouse.runtime.warehouse_export import connect

    marts: dict[str, dict[str, Any]] = {}
    with connect(settings) as con, con.cursor() as cur:
        cur.execute("select table_name from information_schema.tables where table_schema = 'marts'")
        for (name,) in cur.fetchall():
            cur.execute(f'select * from marts."{name}"')
            columns = [d[0] for d in cur.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
            marts[name] = {"rows": len(rows), "checksum": content_checksum(rows)}
    return marts


def describe(results: list) -> str:
    return "; ".join(f"{r.hour:%H}:00 {r.state} {r.seconds:.0f}s {r.log_file}" for r in results)


class SchedulerKiller:
    """`while_running` hook: once the killed hour's ingest task runs, SIGKILL the scheduler and start it again."""

    def __init__(self, stack: Stack, hour: datetime) -> None:
        self.stack = stack
        self.logical_date = hour.isoformat().replace("+00:00", "Z")
        self.killed_at: float | None = None
        self.run_id = ""

    def __call__(self, api: AirflowApi, runs: list[dict[str, Any]]) -> None:
        if self.killed_at is not None:
            return
        run = next((r for r in runs if r["logical_date"] == self.logical_date and r["state"] == "running"), None)
        if run is None or api.task_states("orders_lakehouse", run["dag_run_id"]).get("ingest") != "running":
            return
        self.run_id = run["dag_run_id"]
        self.stack.run("kill", "--signal", "SIGKILL", "scheduler")
        self.killed_at = time.monotonic()
        print(f"\ncompose lane: scheduler killed during the ingest of {self.run_id}")
        time.sleep(5)
        self.stack.run("start", "scheduler")


@pytest.fixture(scope="module")
def ground_truth(stack: Stack, settings: Settings) -> dict[str, Any]:
    config = GenerateConfig(start=START, hours=HOURS, events_per_hour=2000, faults="all", seed=11)
    return generate(config, settings.raw_root)


@pytest.fixture(scope="module")
def first_pass(stack: Stack, settings: Settings, api: AirflowApi, ground_truth: dict[str, Any]) -> dict[str, Any]:
    killer = SchedulerKiller(stack, KILLED_HOUR)
    started = time.perf_counter()
    results = run_hours(api, START, START + HOURS * HOUR, while_running=killer)
    print(f"\ncompose lane: {HOURS} hours in {time.perf_counter() - started:.0f} s ({describe(results)})")
    return {"results": results, "killer": killer, "iceberg": iceberg_state(settings), "marts": mart_state(settings)}


def test_every_service_is_healthy_and_published_on_loopback_only(stack: Stack) -> None:
    containers = {c["Service"]: c for c in stack.containers()}
    assert set(containers) == {"postgres", "objectstore", "airflow-init", *AIRFLOW_SERVICES}
    init = containers.pop("airflow-init")
    assert (init["State"], init["ExitCode"]) == ("exited", 0)
    assert {name: (c["State"], c["Health"]) for name, c in containers.items()} == {
        name: ("running", "healthy") for name in containers
    }
    published = [p for c in containers.values() for p in c.get("Publishers") or [] if p.get("PublishedPort")]
    assert {p["TargetPort"] for p in published} == {8080, 5432, 8333}
    assert {p["URL"] for p in published} == {"127.0.0.1"}
    # the same through the engine: every host binding of every container
    for container in containers.values():
        bindings = json.loads(_docker("inspect", "--format", "{{json .HostConfig.PortBindings}}", container["ID"]))
        hosts = {b["HostIp"] for binds in (bindings or {}).values() for b in binds or []}
        assert hosts <= {"127.0.0.1"}, (container["Service"], bindings)


def test_two_hours_with_every_fault_land_exactly_despite_a_killed_scheduler(
    first_pass: dict[str, Any], ground_truth: dict[str, Any], api: AirflowApi, stack: Stack
) -> None:
    results = first_pass["results"]
    assert [r.hour for r in results] == [START + i * HOUR for i in range(HOURS)], describe(results)
    assert all(r.ok for r in results), describe(results)
    for r in results:
        assert {t: s for t, s in r.tasks.items() if s not in ("success", "skipped")} == {}, r.tasks
        assert r.tasks["quality_gate"] == r.tasks["publish"] == r.tasks["marts_published"] == "success"
        # dbt ran as one `dbt build` (Cosmos' watcher), each model still its own task (issue 30)
        assert r.tasks["dbt.dbt_producer_watcher"] == r.tasks["dbt.fct_order_lines.run"] == "success"

    # The Spark jobs ran in the scheduler's warm driver, not a spark-submit each (issue 30); its
    # log outlives the SIGKILL (the Airflow home is a volume) and names every job it finished.
    log = stack.run("exec", "-T", "scheduler", "cat", "/opt/airflow/logs/warm-spark.log", capture=True).stdout
    finished = Counter(line.split()[1] for line in log.splitlines() if line.startswith("job ") and " exit 0 " in line)
    for script in ("ingest_orders.py", "validate_orders.py", "publish_orders.py"):
        assert finished[script] >= HOURS, (script, finished)

    killer = first_pass["killer"]
    assert killer.killed_at is not None, "the scheduler was never killed: the ingest of the second hour was not seen"
    ingest = api.request("GET", f"/api/v2/dags/orders_lakehouse/dagRuns/{killer.run_id}/taskInstances/ingest")
    assert ingest["try_number"] >= 2, ingest  # the killed attempt is gone; a new one did the work

    expected = ground_truth["expected"]
    state = first_pass["iceberg"]
    assert state["bronze.orders_raw"]["rows"] == expected["bronze_rows"]
    assert state["bronze.orders_quarantine"]["rows"] == expected["quarantine_rows"]
    assert state["silver.order_lines"]["rows"] == expected["silver_rows"]
    assert state["quarantine_by_reason"] == {r: n for r, n in expected["quarantine_by_reason"].items() if n}
    for hour in ground_truth["hours"]:
        arrival = datetime.fromisoformat(hour["arrival_hour"].replace("Z", "+00:00"))
        assert state["bronze.orders_raw"]["by_arrival_hour"][arrival] == hour["bronze_rows"], arrival
        assert state["bronze.orders_quarantine"]["by_arrival_hour"][arrival] == hour["quarantine_rows"], arrival

    marts = first_pass["marts"]
    assert set(marts) >= MARTS, sorted(marts)
    # the recommendations mart reads the gold tables, empty until product_recommendations publishes
    assert all(m["rows"] > 0 for name, m in marts.items() if name != "agg_customer_recommendations"), marts


def test_running_an_hour_again_changes_no_content(
    first_pass: dict[str, Any], settings: Settings, api: AirflowApi
) -> None:
    started = time.perf_counter()
    (result,) = run_hours(api, START, START + HOUR)
    print(f"\ncompose lane: one hour again in {time.perf_counter() - started:.0f} s ({describe([result])})")
    assert result.ok, describe([result])
    assert iceberg_state(settings) == first_pass["iceberg"]
    assert mart_state(settings) == first_pass["marts"]


def test_down_with_volumes_leaves_nothing_behind(stack: Stack) -> None:
    stack.down(volumes=True)
    label = f"label=com.docker.compose.project={stack.project}"
    assert _docker("ps", "--all", "--quiet", "--filter", label).split() == []
    assert _docker("volume", "ls", "--quiet", "--filter", label).split() == []
    assert _docker("network", "ls", "--quiet", "--filter", label).split() == []
