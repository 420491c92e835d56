"""One self-contained HTML file: Apache ECharts inlined, the data inlined, no network at all.

ECharts (Apache-2.0) comes from the npm package `echarts` (dist/echarts.min.js), vendored in
lakehouse/dashboard/vendor/ with its LICENSE and NOTICE so a fresh clone builds the page
offline and the file opens from disk (file://) or any static server. The page keeps each
chart object in `window.dashboardCharts[<visual id>]` so a browser test can read the series
data ECharts actually holds.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from lakehouse.dashboard.spec import Visual

VENDOR = Path(__file__).parent / "vendor"
ECHARTS_JS = VENDOR / "echarts.min.js"
ECHARTS_VERSION = "5.6.0"
TIME_AXIS_VISUALS = {
    "revenue_by_country",
    "hourly_transactions",
    "order_rate_alarms",
    "gate_pass_rate",
    "quarantine_reasons",
}
# The rate alarm's panel: the band's edges dashed, the expected line thin, alarms as red points.
BAND_STYLE: dict[str, dict[str, Any]] = {
    "lower": {"lineStyle": {"type": "dashed", "width": 1}, "itemStyle": {"color": "#8a96a3"}},
    "upper": {"lineStyle": {"type": "dashed", "width": 1}, "itemStyle": {"color": "#8a96a3"}},
    "expected": {"lineStyle": {"width": 1}, "itemStyle": {"color": "#3b8d5b"}},
    "alarms": {"type": "scatter", "symbolSize": 10, "itemStyle": {"color": "#d0342c"}},
}
STACKED_VISUALS = {"quarantine_reasons"}
HORIZONTAL_VISUALS = {"top_products", "product_affinity"}


def chart_option(visual: Visual, data: dict[str, Any]) -> dict[str, Any]:
    """The ECharts option of one visual: a category axis and one series per key of data['series']."""
    horizontal = visual.id in HORIZONTAL_VISUALS
    # A line needs points to join: over a range of a day or two (the demo) a daily series is bars.
    kind = "bar" if visual.kind == "line" and len(data["x"]) < 3 else visual.kind
    labels = list(reversed(data["x"])) if horizontal else data["x"]
    series = []
    for name, values in data["series"].items():
        item: dict[str, Any] = {
            "name": name,
            "type": kind,
            "data": list(reversed(values)) if horizontal else values,
        }
        if visual.id in STACKED_VISUALS:
            item["stack"] = "total"
        if kind == "line":
            item["showSymbol"] = len(values) <= 48
        if visual.extra_y and name in BAND_STYLE:
            item.update(BAND_STYLE[name])
            if item["type"] == "line":
                item["showSymbol"] = False
        series.append(item)
    category = {"type": "category", "data": labels, "axisLabel": {"hideOverlap": True}}
    value = {"type": "value", "max": 100} if visual.id == "gate_pass_rate" else {"type": "value"}
    return {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"type": "scroll", "top": 0} if len(series) > 1 else {"show": False},
        "grid": {"left": 8, "right": 24, "top": 36 if len(series) > 1 else 16, "bottom": 8, "containLabel": True},
        "xAxis": value if horizontal else category,
        "yAxis": {**category, "axisLabel": {"width": 220, "overflow": "truncate"}} if horizontal else value,
        "series": series,
    }


def _script_json(value: Any) -> str:
    """JSON safe inside <script>: '</' cannot close the element."""
    return json.dumps(value, ensure_ascii=False, default=str).replace("</", "<\\/")


def render(visuals: list[Visual], data: dict[str, dict[str, Any]], overview: dict[str, Any], built_at: str) -> str:
    options = {v.id: chart_option(v, data[v.id]) for v in visuals}
    gate = data.get("gate_pass_rate", {})
    facts = [
        ("order days", f"{overview['first_day']} to {overview['last_day']}"),
        ("net revenue", f"{overview['net_revenue']:,.2f}"),
        ("orders", f"{overview['orders']:,}"),
        ("cancellations", f"{overview['cancellations']:,}"),
        ("customers scored", f"{overview['customers']:,}"),
        ("products", f"{overview['products']:,}"),
        ("product pairs", f"{overview['product_pairs']:,}"),
        ("gate validations", f"{gate.get('validations', 0)} ({gate.get('failed', 0)} failed)"),
    ]
    cards = "\n".join(
        f'<div class="fact"><div class="k">{html.escape(k)}</div><div class="v">{html.escape(v)}</div></div>'
        for k, v in facts
    )
    panels = "\n".join(
        f'<section class="panel"><h2>{html.escape(v.title)}</h2><div class="chart" id="chart-{v.id}" '
        f'data-visual="{v.id}"></div></section>'
        for v in visuals
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Orders lakehouse dashboard</title>
<style>
  body {{ font-family: system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2733; }}
  header {{ padding: 16px 24px 8px; }}
  h1 {{ font-size: 20px; margin: 0 0 4px; }}
  .sub {{ color: #5b6776; font-size: 13px; }}
  .facts {{ display: flex; flex-wrap: wrap; gap: 8px; padding: 8px 24px; }}
  .fact {{ background: #fff; border-radius: 6px; padding: 8px 12px; min-width: 120px; }}
  .fact .k {{ color: #5b6776; font-size: 12px; }}
  .fact .v {{ font-size: 16px; font-weight: 600; }}
  main {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 12px;
         padding: 8px 24px 24px; }}
  .panel {{ background: #fff; border-radius: 6px; padding: 8px 12px; }}
  .panel h2 {{ font-size: 14px; margin: 4px 0 8px; }}
  .chart {{ height: 300px; }}
</style>
</head>
<body>
<header>
  <h1>Orders lakehouse</h1>
  <div class="sub">The marts of the local run (the same visuals as the QuickSight dashboard);
  built {html.escape(built_at)} UTC; hours {html.escape(overview["first_hour"])} to
  {html.escape(overview["last_hour"])}.</div>
</header>
<div class="facts">
{cards}
</div>
<main>
{panels}
</main>
<script>/* Apache ECharts {ECHARTS_VERSION} (Apache-2.0), inlined: the page needs no network */
{ECHARTS_JS.read_text()}
</script>
<script>
const DASHBOARD_OPTIONS = {_script_json(options)};
window.dashboardCharts = {{}};
for (const [id, option] of Object.entries(DASHBOARD_OPTIONS)) {{
  const chart = echarts.init(document.getElementById("chart-" + id));
  chart.setOption(option);
  window.dashboardCharts[id] = chart;
}}
window.addEventListener("resize", () => Object.values(window.dashboardCharts).forEach((c) => c.resize()));
</script>
</body>
</html>
"""
