"""`lakehouse demo` with history, as a user runs it, and its dashboard in an offline browser.

One real demo in a fresh lakehouse home (a subprocess: the command a user types, through
Airflow, Spark, Iceberg, GX and dbt): a week of history bulk-loaded by one `orders_backfill`
run, then one hour through `orders_lakehouse` (the demo's last hour, with its injected spike).
Then the checks a user's eye makes, on the numbers ECharts holds in headless Chromium:

- the summary says what was bulk-loaded and what ran hourly, and every layer matches the
  simulator's ground truth (what the quickstart lane greps);
- every panel shows a distribution, not a lone bar: RFM has at least 3 non-empty segments,
  revenue is a line over the week's days, the gate has a verdict for every day, quarantined
  records are spread over days and reasons, the order-rate panel has a baseline band for the
  hourly hour and exactly the spike the simulator injected as its one alarm.

A lane of its own (marker `demo`, `make test-demo`, run by .ci/run): the bulk run and an hourly
run take minutes, which `make test` does not spend twice (tests/e2e/test_airflow_pipeline.py
runs the DAG and the browser on its own two hours). Saves build/artifacts/dashboard-history.png,
the README's screenshot (docs/img/dashboard.png is a copy of it).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lakehouse_core.settings import REPO_ROOT, Settings, load_settings

pytestmark = [pytest.mark.demo, pytest.mark.timeout(3600)]

HISTORY_DAYS = 7  # the rate alarm's baseline needs 7 points (days) for an hour of day
SCREENSHOT = REPO_ROOT / "build" / "artifacts" / "dashboard-history.png"
CHART_DATA_JS = """
JSON.stringify(Object.fromEntries(Object.entries(window.dashboardCharts).map(([id, chart]) => {
  const option = chart.getOption();
  const axis = option.xAxis[0].type === "category" ? option.xAxis[0] : option.yAxis[0];
  return [id, {x: axis.data, series: Object.fromEntries(option.series.map((s) => [s.name, s.data]))}];
})))
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`lakehouse demo --history-days 7 --hours 1` in a fresh home: its exit code, output and settings."""
    home = tmp_path_factory.mktemp("demo") / "lake"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "DBT_", "AIRFLOW_"))}
    env.update(
        {
            "LAKEHOUSE_HOME": str(home),
            "LAKEHOUSE_FIREHOSE_BUFFER_SECONDS": "0",
            "LAKEHOUSE_LANDING_MARGIN_SECONDS": "0",
        }
    )
    command = [sys.executable, "-m", "lakehouse.cli", "demo", "--history-days", str(HISTORY_DAYS), "--hours", "1"]
    done = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=3000)
    yield {
        "code": done.returncode,
        "out": done.stdout,
        "err": done.stderr,
        "settings": load_settings({**env, "LAKEHOUSE_ENV": "local"}),
    }


def test_the_demo_loads_the_history_in_one_run_and_the_last_hour_hourly(demo) -> None:
    assert demo["code"] == 0, demo["out"][-3000:] + demo["err"][-3000:]
    out = demo["out"]
    assert re.search(rf"history: {HISTORY_DAYS} days, bulk \(orders_backfill\).*success", out), out
    assert "last hours, hourly (orders_lakehouse)" in out
    layer = r"^(bronze\.orders_raw|bronze\.orders_quarantine|silver\.order_lines) +\d+ +\d+ +yes"
    layers = re.findall(layer, out, re.M)
    assert len(layers) == 3, out  # what the quickstart lane checks
    assert re.search(r"^Customers by RFM segment", out, re.M)
    # The injected spike in the hourly hour fired the rate alarm, recorded while the warm Spark
    # driver holds the SQLite catalog (issue 26: this once failed with "database is locked").
    assert re.search(r"^Transaction-rate alarms", out, re.M), out
    assert re.search(r"^\d{4}-\d{2}-\d{2} \d{2}:00 +spike ", out, re.M), out


def test_every_panel_of_the_dashboard_shows_a_distribution(demo, tmp_path: Path) -> None:
    from lakehouse.dashboard import default_path
    from tests.e2e.headless_chromium import chromium, executable

    if executable() is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)")
    assert demo["code"] == 0, demo["err"][-3000:]
    settings: Settings = demo["settings"]
    path = default_path(settings)
    with chromium(tmp_path / "chromium-profile", width=1400, height=1700) as page:
        page.call("Page.navigate", url=path.as_uri())
        page.wait_for("Page.loadEventFired")
        charts = json.loads(page.evaluate(CHART_DATA_JS))
        page.screenshot(SCREENSHOT)
        assert page.errors() == []

    def nonzero(values: list) -> int:
        return sum(1 for v in values if v not in (None, 0))

    segments = charts["customer_segments"]
    assert nonzero(segments["series"]["customers"]) >= 3, segments  # not everyone a champion

    days = HISTORY_DAYS + 1  # the history's days and the hourly hour's
    revenue = charts["revenue_by_country"]
    totals = [sum(s[i] or 0 for s in revenue["series"].values()) for i in range(len(revenue["x"]))]
    assert nonzero(totals) >= days, revenue["x"]  # a line over the days, not one group of bars
    assert len(revenue["series"]) >= 3  # several countries

    gate = charts["gate_pass_rate"]
    assert len(gate["x"]) >= days and all(v == 100 for v in gate["series"]["pass rate %"]), gate

    quarantine = charts["quarantine_reasons"]
    per_day = [sum(s[i] for s in quarantine["series"].values()) for i in range(len(quarantine["x"]))]
    assert nonzero(per_day) >= HISTORY_DAYS - 1, quarantine  # bad records arrive on (almost) every day
    assert sum(1 for s in quarantine["series"].values() if nonzero(s)) >= 4  # of several kinds

    hourly = charts["hourly_transactions"]["series"]["orders"]
    assert len(hourly) >= HISTORY_DAYS * 24 and max(hourly) > 3 * min(hourly)  # a day's rhythm, not flat

    rate = charts["order_rate_alarms"]["series"]
    assert nonzero(rate["expected"]) >= 1 and nonzero(rate["upper"]) >= 1  # a baseline band where judged
    assert nonzero(rate["alarms"]) == 1  # the injected spike, and nothing else

    assert nonzero(charts["top_products"]["series"]["net revenue"]) >= 5
    assert nonzero(charts["product_affinity"]["series"]["lift"]) >= 5
