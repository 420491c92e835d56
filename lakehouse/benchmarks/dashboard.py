"""`lakehouse bench-dashboard`: how long building the local dashboard takes from the demo's marts.

The budget is 5 s (issue 16): the page is rebuilt at the end of every `make demo` and by
`make dashboard`, so it must stay a small part of either. Each run is a full `build()` in this
process (queries on the warehouse, the audit tables through pyiceberg, the HTML written);
the report gives the median, where the time goes (marts, audit tables, writing the page) as
shares of one build, and the build's share of the budget. Run `make demo` first.
Exit codes: 0 within budget, 1 over it, 2 no marts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime

from lakehouse.console import progress, table
from lakehouse_core.settings import load_settings

BUDGET_SECONDS = 5.0


def measure(settings, runs: int) -> dict[str, float]:
    from lakehouse.dashboard import build, data, page, spec

    totals, marts, audit, render = [], [], [], []
    built = None
    for _ in range(runs):
        started = time.perf_counter()
        built = build(settings)
        totals.append(time.perf_counter() - started)
        # the same work in parts, to say where the time goes
        visuals = spec.visuals()
        t0 = time.perf_counter()
        with data.open_marts(settings) as connection:
            values = {"overview": data.overview(connection)}
            values.update({v.id: data.MART_READERS[v.id](connection) for v in visuals if v.id in data.MART_READERS})
        t1 = time.perf_counter()
        values.update({v.id: data.AUDIT_READERS[v.id](settings) for v in visuals if v.id in data.AUDIT_READERS})
        t2 = time.perf_counter()
        page.render(visuals, {k: v for k, v in values.items() if k != "overview"}, values["overview"], "bench")
        t3 = time.perf_counter()
        marts.append(t1 - t0)
        audit.append(t2 - t1)
        render.append(t3 - t2)
    parts = sum(map(statistics.median, (marts, audit, render)))
    return {
        "cold": cold_build(),
        "median": statistics.median(totals),
        "marts_share": statistics.median(marts) / parts,
        "audit_share": statistics.median(audit) / parts,
        "render_share": statistics.median(render) / parts,
        "page_bytes": built.path.stat().st_size if built else 0,
        "points": sum(built.points.values()) if built else 0,
    }


def cold_build() -> float:
    """`lakehouse dashboard` as a new process (what `make dashboard` pays: interpreter, imports, build)."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "lakehouse.cli", "dashboard", "--out", str(Path(tmp) / "d.html")],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - started


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench-dashboard",
        help="time building the local dashboard from the demo's marts (budget 5 s)",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--runs", type=int, default=5, help="builds to time (median reported; default 5)")
    p.add_argument("--no-docs", action="store_true", help="do not rewrite the section of docs/benchmarks.md")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lakehouse.benchmarks.docs import replace_section
    from lakehouse.dashboard.data import WarehouseMissingError

    settings = load_settings()
    runs = max(1, args.runs)
    progress(f"bench-dashboard: {runs} builds from the marts under {settings.home}")
    load = os.getloadavg()[0]  # this machine is shared: the new process's time grows with the load
    try:
        m = measure(settings, runs)
    except WarehouseMissingError as exc:
        progress(f"bench-dashboard: {exc}")
        return 2
    report = table(
        (
            "new process",
            "share of 5 s budget",
            "build in-process",
            "marts queries",
            "audit tables",
            "page render",
            "page",
            "points",
        ),
        [
            (
                f"{m['cold']:.2f} s",
                f"{m['cold'] / BUDGET_SECONDS:.0%}",
                f"{m['median']:.2f} s",
                f"{m['marts_share']:.0%}",
                f"{m['audit_share']:.0%}",
                f"{m['render_share']:.0%}",
                f"{m['page_bytes'] / 1e6:.2f} MB",
                m["points"],
            )
        ],
    )
    print(report)
    if not args.no_docs:
        replace_section(
            "## Dashboard build",
            "\n".join(
                [
                    "## Dashboard build",
                    "",
                    f"Measured by `make bench-dashboard` on {datetime.now(UTC):%Y-%m-%d} ({os.cpu_count()} cores, "
                    f"load average {load:.1f} at the start), "
                    f"from the marts of `make demo`: `lakehouse dashboard` once as a new process (interpreter, imports "
                    f"and build), then the median of {runs} full builds in one process "
                    "(every visual's query on DuckDB, the audit tables through pyiceberg, the HTML with ECharts "
                    "inlined written), and where one build's time goes (shares of the in-process build). "
                    f"Budget: {BUDGET_SECONDS:g} s for the new process.",
                    "",
                    "```",
                    report,
                    "```",
                ]
            ),
        )
    return 0 if m["cold"] <= BUDGET_SECONDS else 1
