"""`lakehouse bench-dbt`: what one day of orders costs the local warehouse build (DuckDB).

Why a benchmark and not a test: a time limit in a test fails on a loaded machine and passes
on a fast one; it measures the machine. This measures, in one run on the same machine:

1. `dbt build` (every model, data test and unit test) on an empty silver: dbt's fixed cost
   (start-up, parsing, one statement per node);
2. the export of one day of silver (about 3,000 order lines, the Online Retail shape) from
   Iceberg (pyiceberg) into the DuckDB file;
3. `dbt build` on that day;

and reports the ratio build(one day) / build(empty): how much of a build is data, not dbt.
The section in docs/benchmarks.md is rewritten with the numbers (unless --no-docs).

The data helpers (`one_day_of_lines`, `make_lake`, `dbt_build`) are also what
tests/integration/test_dbt_local.py builds its lakes with.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from lakehouse_core.settings import Settings, load_settings

HEADING = "## dbt build (local, DuckDB)"
DAY = datetime(2011, 3, 1, tzinfo=UTC)


def silver_row(line: tuple, ingested_at: datetime, run_id: str = "run-1") -> dict:
    """A silver.order_lines row from (event_id, invoice_no, stock_code, description, quantity,
    unit price, currency, customer_id, country, event_ts)."""
    event_id, invoice_no, stock_code, description, quantity, price, currency, customer_id, country, ts = line
    event_ts = datetime.fromisoformat(ts).replace(tzinfo=UTC) if isinstance(ts, str) else ts
    return {
        "event_id": event_id,
        "invoice_no": invoice_no,
        "invoice_line": 1,
        "stock_code": stock_code,
        "description": description,
        "quantity": quantity,
        "unit_price": Decimal(price).quantize(Decimal("0.001")),
        "currency": currency,
        "customer_id": customer_id,
        "country": country,
        "event_ts": event_ts,
        "emitted_at": event_ts + timedelta(seconds=5),
        "is_cancellation": invoice_no.startswith("C"),
        "source_object": f"raw/orders/{event_ts:%Y/%m/%d/%H}/orders-stream-1.gz",
        "arrival_hour": event_ts.replace(minute=0, second=0, microsecond=0),
        "run_id": run_id,
        "ingested_at": ingested_at,
    }


def one_day_of_lines(day: datetime, invoices: int = 330, seed: int = 5) -> list[tuple]:
    """About 3,000 order lines of one day in the Online Retail shape."""
    rng = random.Random(seed)
    products = [(f"{20000 + i}{rng.choice(['', '', 'A', 'B'])}", f"PRODUCT {i}") for i in range(600)]
    customers = [str(12000 + i) for i in range(400)]
    countries = ["United Kingdom"] * 8 + ["France", "Germany", "EIRE", "Netherlands"]
    lines: list[tuple] = []
    for n in range(invoices):
        ts = day + timedelta(seconds=rng.randrange(24 * 3600))
        cancelled = rng.random() < 0.03
        invoice = f"{'C' if cancelled else ''}{580000 + n}"
        customer = None if rng.random() < 0.25 else rng.choice(customers)
        country = rng.choice(countries)
        for stock_code, description in rng.sample(products, rng.randint(1, 17)):
            quantity = rng.randint(1, 24) * (-1 if cancelled else 1)
            price = f"{rng.randint(29, 1500) / 100:.2f}"
            line = (stock_code, description, quantity, price, "GBP", customer, country, ts)
            lines.append((f"d{len(lines):06d}", invoice, *line))
        if not cancelled and rng.random() < 0.3:
            lines.append((f"d{len(lines):06d}", invoice, "POST", "POSTAGE", 1, "18.00", "GBP", customer, country, ts))
    return lines


def make_lake(home: Path, lines: list[tuple], ingested_at: datetime) -> Settings:
    """A fresh lakehouse home whose silver.order_lines holds `lines` (written through pyiceberg)."""
    import pyarrow as pa

    from lakehouse_core.catalog import init_catalog, load_table

    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "DBT_"))}
    settings = load_settings({**env, "LAKEHOUSE_ENV": "local", "LAKEHOUSE_HOME": str(home)})
    init_catalog(settings)
    if lines:
        table = load_table(settings, "silver.order_lines")
        rows = [silver_row(line, ingested_at) for line in lines]
        table.append(pa.Table.from_pylist(rows, schema=table.schema().as_arrow()))
    return settings


def dbt_build(settings: Settings, work: Path, *extra: str) -> tuple[int, dict, float]:
    """(exit code, run_results.json, seconds) of `dbt build` on the settings' DuckDB file."""
    from lakehouse.runtime.dbt_runner import run_dbt

    started = time.perf_counter()
    code = run_dbt(settings, ["build", "--target-path", str(work / "target"), "--log-path", str(work / "logs"), *extra])
    elapsed = time.perf_counter() - started
    results_path = work / "target" / "run_results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    return code, results, elapsed


def measure(work: Path) -> dict[str, float | int]:
    """The three timings and the ratio (see the module docstring); raises when a build fails."""
    from lakehouse.console import progress
    from pipeline.warehouse import warehouse_for

    empty = make_lake(work / "empty", [], ingested_at=DAY)
    warehouse_for(empty).export_silver()
    progress("dbt build on an empty silver (dbt's fixed cost)")
    code, _, empty_seconds = dbt_build(empty, work / "empty" / "dbt")
    if code != 0:
        raise RuntimeError(f"dbt build on an empty silver failed (exit {code}); logs in {work / 'empty' / 'dbt'}")

    lines = one_day_of_lines(DAY)
    day = make_lake(work / "day", lines, ingested_at=DAY + timedelta(days=1, hours=1))
    progress(f"export one day of silver ({len(lines):,} lines) to DuckDB")
    started = time.perf_counter()
    rows = warehouse_for(day).export_silver()
    export_seconds = time.perf_counter() - started
    progress("dbt build on one day")
    code, results_day, day_seconds = dbt_build(day, work / "day" / "dbt")
    if code != 0:
        raise RuntimeError(f"dbt build on one day failed (exit {code}); logs in {work / 'day' / 'dbt'}")
    return {
        "lines": rows,
        "nodes": len(results_day.get("results", [])),
        "empty_build_s": empty_seconds,
        "export_s": export_seconds,
        "day_build_s": day_seconds,
        "ratio_day_to_empty": day_seconds / empty_seconds,
    }


def report(result: dict[str, float | int]) -> str:
    from lakehouse.console import table

    rows = [
        ("dbt build, empty silver (fixed cost)", f"{result['empty_build_s']:.1f} s", f"{result['nodes']} nodes"),
        ("export one day of silver to DuckDB", f"{result['export_s']:.1f} s", f"{result['lines']:,} lines"),
        ("dbt build, one day", f"{result['day_build_s']:.1f} s", ""),
        ("ratio one day / empty", f"{result['ratio_day_to_empty']:.2f}", "1.0 = all fixed cost"),
    ]
    return table(("measure", "value", "note"), rows)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench-dbt",
        help="time dbt build on DuckDB: empty silver vs one day of orders (ratio in docs/benchmarks.md)",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--no-docs", action="store_true", help="do not rewrite the dbt section of docs/benchmarks.md")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-dbt-") as tmp:
        try:
            result = measure(Path(tmp))
        except RuntimeError as exc:
            print(f"lakehouse bench-dbt: {exc}")
            return 1
    text = report(result)
    print(text)
    if not args.no_docs:
        from lakehouse.benchmarks.docs import replace_section

        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        body = (
            f"{HEADING}\n\nMeasured by `lakehouse bench-dbt` (`make bench-dbt`) on {datetime.now(UTC):%Y-%m-%d} "
            f"({os.cpu_count()} cores, {platform.machine()}, load average {load}). One run; compare the ratio, "
            "not the bare times: they follow the machine and its load. A ratio near 1 means a build's time is "
            "dbt's per-node cost (start-up, one statement per model and test), not the data. (This replaces "
            "a 60-second limit that tests/integration/test_dbt_local.py used to assert.)\n\n```\n" + text + "\n```\n"
        )
        replace_section(HEADING, body)
    return 0
