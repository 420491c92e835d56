"""The real `orders_lakehouse` DAG, end to end, through Airflow (`airflow dags test` per hour).

Nothing is mocked: the simulator writes Firehose objects with every fault it knows, Airflow
runs the DAG file as deployed (local spark-submit for ingest / gate / publish on a JDBC
Iceberg catalog, Cosmos running dbt from its own virtualenv on DuckDB), and the checks read
the tables back with pyiceberg and DuckDB.

1. Two good arrival hours, run as a backfill: every run green; bronze, quarantine and silver
   hold exactly the ground truth's counts; the marts exist and are not empty.
2. The first hour again, after the second was published: green again, and nothing changed
   (content checksums of bronze, quarantine, silver and every mart are equal; lineage
   columns that name the run are left out, because a re-run is a new run).
3. `lakehouse_maintenance` (compaction, manifest rewrite, snapshot expiry, orphan cleanup)
   through Airflow: green, content unchanged.
4. A bad hour (a batch far over the quarantine threshold): the run fails at the gate task;
   publish and every dbt task did not run; silver's `main` did not move.
5. The local dashboard built from those marts, opened in headless Chromium with no network:
   no console error, every chart has data points, a screenshot in build/artifacts/.

Every run's Spark jobs go to one warm driver for the module, as `lakehouse backfill`/`run-hour`
do (one JVM whose JIT is warm by the time maintenance runs: its 28 procedure calls cost about a
third of a cold driver's time). The bad hour's gate verdict comes back through it as the job's
exit code (tests/spark/test_warm_spark.py); a spark-submit's exit code and the verdict rule are
tests/spark/test_ingest_submit.py's and tests/unit/test_spark_backends.py's. Slow by nature:
minutes, not seconds.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lakehouse.generate import GenerateConfig, generate
from lakehouse.runtime.local_airflow import HourResult, hours_between, run_hour, warm_spark
from lakehouse_core.settings import Settings, load_settings
from tests.helpers.checksums import ICEBERG_TABLES, content_checksum

# `make test` runs two xdist workers with --dist loadscope: this module's tests stay on one worker, in order.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(3600)]

GOOD_START = datetime(2026, 11, 1, 8, tzinfo=UTC)
GOOD_HOURS = 2
BAD_HOUR = GOOD_START + timedelta(hours=GOOD_HOURS)


@pytest.fixture(scope="module")
def pipeline_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A fresh lakehouse home; the environment points Airflow and the jobs at it."""
    home = tmp_path_factory.mktemp("pipeline") / "lake"
    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("LAKEHOUSE_")]:
        del os.environ[name]
    os.environ.update(
        {
            "LAKEHOUSE_HOME": str(home),
            # Simulated hours are long past: no Firehose wait to sit through.
            "LAKEHOUSE_FIREHOSE_BUFFER_SECONDS": "0",
            "LAKEHOUSE_LANDING_MARGIN_SECONDS": "0",
        }
    )
    try:
        yield load_settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def iceberg_state(settings: Settings) -> dict[str, Any]:
    """Row counts, content checksums and silver's main snapshot, read through pyiceberg."""
    from lakehouse_core.catalog import open_catalog

    catalog = open_catalog(settings)
    state: dict[str, Any] = {}
    for identifier in ICEBERG_TABLES:
        table = catalog.load_table(identifier)
        rows = table.scan().to_arrow().to_pylist()
        state[identifier] = {"rows": len(rows), "checksum": content_checksum(rows)}
    silver = catalog.load_table("silver.order_lines")
    state["silver_main_snapshot"] = silver.current_snapshot().snapshot_id if silver.current_snapshot() else None
    return state


def mart_state(settings: Settings) -> dict[str, dict[str, Any]]:
    import duckdb

    from pipeline.warehouse import duckdb_path

    marts: dict[str, dict[str, Any]] = {}
    with duckdb.connect(str(duckdb_path(settings)), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        for name in names:
            cursor = con.execute(f'select * from marts."{name}"')
            columns = [d[0] for d in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            marts[name] = {"rows": len(rows), "checksum": content_checksum(rows)}
    return marts


def summary(results: list[HourResult]) -> str:
    return "; ".join(
        f"{r.hour:%H}:00 {r.state} {r.seconds:.0f}s failed={[t for t, s in r.tasks.items() if s == 'failed']}"
        f" log={r.log_file}"
        for r in results
    )


@pytest.fixture(scope="module")
def ground_truth(pipeline_home: Settings) -> dict[str, Any]:
    config = GenerateConfig(start=GOOD_START, hours=GOOD_HOURS, events_per_hour=2000, faults="all", seed=11)
    return generate(config, pipeline_home.raw_root)


@pytest.fixture(scope="module")
def warm_driver(pipeline_home: Settings) -> Iterator[dict[str, str]]:
    """One warm Spark driver for every run of the module: the environment that names it to a run.

    It holds no lock on the SQLite catalog while idle (spark_jobs.session.catalog_conf), so it
    can stay up through the bad hour and the maintenance run."""
    with warm_spark(pipeline_home) as env:
        yield env


@pytest.fixture(scope="module")
def first_pass(pipeline_home: Settings, ground_truth: dict[str, Any], warm_driver: dict[str, str]) -> dict[str, Any]:
    """The good hours in order, stopping at the first failure: `lakehouse backfill`'s loop."""
    results: list[HourResult] = []
    for hour in hours_between(GOOD_START, BAD_HOUR):
        results.append(run_hour(pipeline_home, hour, env_overrides=warm_driver))
        if not results[-1].ok:
            break
    return {"results": results, "iceberg": iceberg_state(pipeline_home), "marts": mart_state(pipeline_home)}


def test_good_hours_end_green_with_the_ground_truth_counts(first_pass, ground_truth) -> None:
    results = first_pass["results"]
    assert len(results) == GOOD_HOURS and all(r.ok for r in results), summary(results)
    for r in results:
        assert r.tasks["quality_gate"] == "success" and r.tasks["publish"] == "success"
        assert r.tasks["marts_published"] == "success"
        assert not [t for t, s in r.tasks.items() if s not in ("success", "skipped")], r.tasks

    expected = ground_truth["expected"]
    state = first_pass["iceberg"]
    assert state["bronze.orders_raw"]["rows"] == expected["bronze_rows"]
    assert state["bronze.orders_quarantine"]["rows"] == expected["quarantine_rows"]
    assert state["silver.order_lines"]["rows"] == expected["silver_rows"]

    marts = first_pass["marts"]
    assert {"fct_order_lines", "dim_date", "agg_daily_sales"} <= set(marts), sorted(marts)
    # every mart over silver has rows; the recommendations mart stays empty until the
    # product_recommendations DAG publishes (it reads the gold tables, created empty here)
    from_silver = {name: m for name, m in marts.items() if name != "agg_customer_recommendations"}
    assert all(m["rows"] > 0 for m in from_silver.values()), marts
    assert marts["agg_customer_recommendations"]["rows"] == 0


def test_the_gates_data_docs_are_where_lakehouse_dq_says(pipeline_home, first_pass, capsys) -> None:
    """The DAG's quality_gate wrote Data Docs; `lakehouse dq` names them, from the gate's record
    and from settings alone (one function decides the place for both), and the page opens."""
    from lakehouse.cli import main
    from lakehouse.commands import dq as dq_cmd

    rows = dq_cmd.read_results(pipeline_home)
    run_id = max(rows, key=lambda r: r["validated_at"])["run_id"]
    assert main(["dq", "--run-id", run_id]) == 0
    said = re.search(r"^Data Docs: (.+)$", capsys.readouterr().out, re.MULTILINE)
    assert said, "lakehouse dq named no Data Docs"
    assert said.group(1) == dq_cmd.docs_location(pipeline_home, run_id, []), (
        "the gate wrote elsewhere than the CLI looks"
    )
    page = Path(said.group(1)).read_text()
    assert "<html" in page.lower() and "silver.order_lines" in page


def test_running_an_earlier_hour_again_changes_nothing(pipeline_home, first_pass, warm_driver) -> None:
    """The first hour again, after a later hour was published: the out-of-order re-run a
    backfill of a past day is made of (one hour, not both: each costs minutes of CI)."""
    result = run_hour(pipeline_home, GOOD_START, env_overrides=warm_driver)
    assert result.ok, summary([result])
    assert iceberg_state(pipeline_home) == {
        **first_pass["iceberg"],
        # a green re-run publishes a (content-identical) snapshot; compare content, not ids
        "silver_main_snapshot": iceberg_state(pipeline_home)["silver_main_snapshot"],
    }
    assert mart_state(pipeline_home) == first_pass["marts"]


def test_daily_maintenance_runs_green_and_changes_no_content(pipeline_home, first_pass, warm_driver) -> None:
    """lakehouse_maintenance through Airflow: Iceberg procedures on every table, content intact."""
    result = run_hour(pipeline_home, BAD_HOUR, dag_id="lakehouse_maintenance", env_overrides=warm_driver)
    assert result.ok and result.tasks == {"maintain_tables": "success"}, summary([result])
    state = iceberg_state(pipeline_home)
    for identifier in ICEBERG_TABLES:
        assert state[identifier] == first_pass["iceberg"][identifier], identifier


def test_a_batch_that_fails_the_gate_stops_before_publish_and_dbt(pipeline_home, first_pass, warm_driver) -> None:
    # About 10 events and 7 injected faults: far over the 1% quarantine share the gate allows.
    generate(GenerateConfig(start=BAD_HOUR, hours=1, events_per_hour=10, faults="all", seed=5), pipeline_home.raw_root)
    before = iceberg_state(pipeline_home)
    marts_before = mart_state(pipeline_home)

    result = run_hour(pipeline_home, BAD_HOUR, env_overrides=warm_driver)

    assert result.state == "failed", summary([result])
    assert result.tasks["ingest"] == "success"
    assert result.tasks["quality_gate"] == "failed"
    assert result.tasks["publish"] == "upstream_failed"
    dbt_states = {state for task, state in result.tasks.items() if task.startswith("dbt.")}
    assert dbt_states == {"upstream_failed"}, dbt_states
    assert result.tasks["marts_published"] == "upstream_failed"

    after = iceberg_state(pipeline_home)
    assert after["silver_main_snapshot"] == before["silver_main_snapshot"]  # main did not move
    assert after["silver.order_lines"] == before["silver.order_lines"]
    assert mart_state(pipeline_home) == marts_before
    # the bad hour did land in bronze/quarantine (that is the evidence), only silver is gated
    assert after["bronze.orders_quarantine"]["rows"] > before["bronze.orders_quarantine"]["rows"]


# Each chart's data as ECharts holds it (not as the page was written): visual id -> points per series.
CHART_POINTS_JS = """
JSON.stringify(Object.fromEntries(Object.entries(window.dashboardCharts).map(
  ([id, chart]) => [id, chart.getOption().series.map((s) => s.data.filter((v) => v !== null).length)])))
"""
HOURLY_ORDERS_JS = "window.dashboardCharts.hourly_transactions.getOption().series[0].data.reduce((a, b) => a + b, 0)"


def test_the_local_dashboard_draws_every_chart_in_an_offline_browser(pipeline_home, first_pass, tmp_path) -> None:
    """Headless Chromium (no network) opens the page the demo writes: no console error, every
    chart of dashboard.json has data points, and the numbers are the marts'. Saves a screenshot
    (build/artifacts/dashboard.png). Runs last in this module, so the gate history holds the
    failed bad hour too."""
    import re

    import duckdb

    from lakehouse.dashboard import build
    from lakehouse.dashboard.spec import visuals
    from lakehouse_core.settings import REPO_ROOT
    from pipeline.warehouse import duckdb_path
    from tests.e2e.headless_chromium import chromium, executable

    if executable() is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)")
    built = build(pipeline_home)
    assert built.empty == [], f"charts without data: {built.empty}"
    page_html = built.path.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page_html), "the page must not load anything"

    with chromium(tmp_path / "chromium-profile", width=1400, height=1000) as page:
        page.call("Page.navigate", url=built.path.as_uri())
        page.wait_for("Page.loadEventFired")
        points = json.loads(page.evaluate(CHART_POINTS_JS))
        hourly_orders = page.evaluate(HOURLY_ORDERS_JS)
        gate_rates = page.evaluate("window.dashboardCharts.gate_pass_rate.getOption().series[0].data")
        page.screenshot(REPO_ROOT / "build" / "artifacts" / "dashboard.png")
        errors = page.errors()

    assert errors == []
    assert set(points) == {v.id for v in visuals()}
    # the rate panel's last series is its alarm points: as many as the mart raised (none in two
    # good hours, which are far too little history to judge); every other series has points
    alarm_points = points["order_rate_alarms"].pop()
    assert {visual: counts for visual, counts in points.items() if not counts or min(counts) == 0} == {}
    with duckdb.connect(str(duckdb_path(pipeline_home)), read_only=True) as con:
        (orders,) = con.execute("select sum(order_count) from marts.agg_hourly_transactions").fetchone()
        (alarms,) = con.execute(
            "select count(*) from marts.agg_hourly_order_rate where alarm_order_count is not null"
        ).fetchone()
    assert hourly_orders == orders
    assert alarm_points == alarms
    assert min(gate_rates) < 100  # the bad hour's failed gate is in the history
