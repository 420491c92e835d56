"""The local dashboard without marts: the page's shape, and the command's exit codes.

The page with real marts, in a real browser, is tested in tests/e2e (test_airflow_pipeline.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lakehouse.cli import main
from lakehouse.dashboard import page, spec

pytestmark = pytest.mark.unit


def sample_data() -> dict[str, dict]:
    return {
        v.id: {"x": ["2026-11-01", "2026-11-02", "2026-11-03"], "series": {"a": [1, 2, 3], "b": [3, 2, 1]}}
        for v in spec.visuals()
    }


def overview() -> dict[str, object]:
    return {
        "first_day": "2026-11-01",
        "last_day": "2026-11-03",
        "first_hour": "2026-11-01 08:00",
        "last_hour": "2026-11-03 10:00",
        "net_revenue": 1234.5,
        "orders": 10,
        "cancellations": 1,
        "customers": 3,
        "products": 4,
        "product_pairs": 5,
    }


def test_the_page_is_self_contained_with_one_chart_per_visual() -> None:
    html = page.render(spec.visuals(), sample_data(), overview(), "2026-11-30 12:00")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # nothing loaded from anywhere
    assert page.ECHARTS_JS.read_text()[:200] in html  # the library is inlined
    ids = re.findall(r'id="chart-([a-z_]+)"', html)
    assert ids == [v.id for v in spec.visuals()]
    options = json.loads(re.search(r"const DASHBOARD_OPTIONS = (.*);\n", html).group(1).replace("<\\/", "</"))
    assert set(options) == set(ids)
    assert options["quarantine_reasons"]["series"][0]["stack"] == "total"
    assert "2026-11-01 to 2026-11-03" in html


def test_text_from_the_data_cannot_break_out_of_the_script() -> None:
    data = sample_data()
    data["top_products"]["x"][0] = "</script><script>alert(1)</script>"
    html = page.render(spec.visuals(), data, overview(), "now")
    assert "</script><script>alert(1)" not in html


def test_a_short_range_draws_bars_instead_of_one_point_lines() -> None:
    (visual,) = [v for v in spec.visuals() if v.id == "revenue_by_country"]
    one_day = page.chart_option(visual, {"x": ["2026-11-01"], "series": {"UK": [5.0]}})
    assert one_day["series"][0]["type"] == "bar"
    week = page.chart_option(visual, {"x": [f"2026-11-0{d}" for d in range(1, 8)], "series": {"UK": [1.0] * 7}})
    assert week["series"][0]["type"] == "line"


def test_the_rate_panel_draws_the_band_dashed_and_the_alarms_as_points() -> None:
    (visual,) = [v for v in spec.visuals() if v.id == "order_rate_alarms"]
    assert visual.extra_y == ("lower_order_count", "expected_order_count", "upper_order_count", "alarm_order_count")
    hours = [f"2026-11-03 {h:02d}:00" for h in range(4)]
    data = {
        "x": hours,
        "series": {
            "orders": [40, 38, 0, None],  # the last hour is pending: no observation yet
            "lower": [20.0, 20.0, 20.0, 21.0],
            "expected": [41.0, 40.0, 40.0, 42.0],
            "upper": [62.0, 60.0, 60.0, 63.0],
            "alarms": [None, None, 0, None],
        },
    }
    series = {s["name"]: s for s in page.chart_option(visual, data)["series"]}
    assert series["orders"]["type"] == "line" and series["orders"]["data"] == [40, 38, 0, None]
    assert series["lower"]["lineStyle"]["type"] == series["upper"]["lineStyle"]["type"] == "dashed"
    assert series["alarms"]["type"] == "scatter" and series["alarms"]["data"] == [None, None, 0, None]


def test_without_marts_the_command_says_so_and_exits_2(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "lake"))
    assert main(["dashboard"]) == 2
    assert "run `make demo`" in capsys.readouterr().err


def test_help_exits_0(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["dashboard", "--help"])
    assert exited.value.code == 0
    assert "--serve" in capsys.readouterr().out
