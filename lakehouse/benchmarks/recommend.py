"""`lakehouse bench-recommend`: the recommendation job on 1M order lines and 10k customers.

What it does (on this machine, one process, one SparkSession, local[2]):

1. Draws a silver-shaped history from the simulator's preference model
   (`lakehouse.generate.histories.simulate_order_lines`: stable customer tastes, themed
   baskets, seasons) and appends it to a fresh `silver.order_lines` with pyiceberg, in a
   throwaway lakehouse under `<LAKEHOUSE_HOME>/bench/recommend`.
2. Starts Spark (timed apart), then runs the job exactly as the DAG does
   (`spark_jobs.recommend.job.run`): holdout evaluation of ALS, popularity and co-purchase
   affinity, the published model's fit, the quality check, the overwrite of the gold tables.
3. Reports the training time (both ALS fits), where the run's time goes, and the metrics table,
   and writes them to docs/benchmarks.md (section "Recommendations").

`load_simulated_silver` is also what the Spark tests use to make their history.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from lakehouse.benchmarks.docs import DOCS, replace_section
from lakehouse.console import progress, table
from lakehouse_core.settings import REPO_ROOT, Settings, load_settings

SECTION = "## Recommendations"
START = datetime(2026, 8, 1, tzinfo=UTC)
DAYS = 120  # August to November: the summer, autumn and Christmas seasons


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench-recommend",
        help="benchmark the recommendation job: training time (1M lines, 10k customers), metrics (docs/benchmarks.md)",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--lines", type=int, default=1_000_000, help="order lines (default: %(default)s)")
    p.add_argument("--customers", type=int, default=10_000, help="customers (default: %(default)s)")
    p.add_argument("--days", type=int, default=DAYS, help="days of history (default: %(default)s)")
    p.add_argument("--seed", type=int, default=7, help="simulator and ALS seed (default: %(default)s)")
    p.add_argument("--work-dir", default="", help="scratch lakehouse (default: <LAKEHOUSE_HOME>/bench/recommend)")
    p.add_argument("--no-docs", action="store_true", help="do not rewrite the Recommendations section")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    work = Path(args.work_dir) if args.work_dir else settings.home / "bench" / "recommend"
    result = bench(work, args.lines, args.customers, args.days, args.seed)
    print(render(result))
    if not args.no_docs:
        write_docs(result)
        progress(f"bench-recommend: results written to {DOCS.relative_to(REPO_ROOT)}")
    return 0 if result["status"] == "published" else 1


# ------------------------------------------------------------------------------------- history


def load_simulated_silver(
    settings: Settings, *, seed: int, customers: int, lines: int, start: datetime, days: int
) -> int:
    """Append a simulated history to `silver.order_lines` (pyiceberg, one commit); rows written."""
    import pyarrow as pa

    from lakehouse.generate import catalogue
    from lakehouse.generate.histories import simulate_order_lines
    from lakehouse_core.catalog import load_table

    columns = simulate_order_lines(seed=seed, customers=customers, lines=lines, start=start, days=days)
    products = {p.stock_code: p for p in catalogue().products}
    prices = {code: Decimal(f"{p.unit_price:.3f}") for code, p in products.items()}
    n = len(columns["event_id"])
    ingested = datetime(2026, 12, 1, tzinfo=UTC)
    data = {
        **columns,
        "description": [products[c].description for c in columns["stock_code"]],
        "unit_price": [prices[c] for c in columns["stock_code"]],
        "currency": ["GBP"] * n,
        "country": ["United Kingdom"] * n,
        "emitted_at": columns["event_ts"],
        "is_cancellation": [no.startswith("C") for no in columns["invoice_no"]],
        "source_object": ["simulated"] * n,
        "arrival_hour": [ts.replace(minute=0, second=0, microsecond=0) for ts in columns["event_ts"]],
        "run_id": ["simulated"] * n,
        "ingested_at": [ingested] * n,
        "record_index": list(range(n)),
    }
    silver = load_table(settings, "silver.order_lines")
    schema = silver.schema().as_arrow()
    silver.append(pa.Table.from_pydict({f.name: data[f.name] for f in schema}, schema=schema))
    return n


# ------------------------------------------------------------------------------------- the run


def spark_session(settings: Settings):
    """A local[2] session on `settings`' catalog (the launcher's JVM parts)."""
    from lakehouse.runtime.jvm import EnvironmentNotReady
    from lakehouse.runtime.local_spark import in_process_session

    try:
        return in_process_session(settings, "lakehouse-bench-recommend")
    except EnvironmentNotReady as exc:
        raise SystemExit(f"bench-recommend: {exc}") from None


def bench(work: Path, lines: int, customers: int, days: int, seed: int) -> dict[str, Any]:
    import shutil

    from lakehouse_core.catalog import init_catalog, spark_tables
    from spark_jobs.recommend.job import RunParams, run
    from spark_jobs.recommend.models import AlsParams

    shutil.rmtree(work, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
    settings = load_settings({**env, "LAKEHOUSE_ENV": "local", "LAKEHOUSE_HOME": str(work)})
    init_catalog(settings)
    progress(f"bench-recommend: simulating {lines:,} order lines of {customers:,} customers over {days} days")
    began = time.perf_counter()
    rows = load_simulated_silver(settings, seed=seed, customers=customers, lines=lines, start=START, days=days)
    simulate_s = time.perf_counter() - began
    load_before = os.getloadavg()
    began = time.perf_counter()
    spark = spark_session(settings)
    spark_start_s = time.perf_counter() - began
    as_of = (START + timedelta(days=days)).date()
    params = RunParams(as_of=as_of, run_id=f"bench_{as_of:%Y%m%d}", als=AlsParams(seed=seed))
    began = time.perf_counter()
    result = run(spark, spark_tables(settings), params, progress=progress)
    run_s = time.perf_counter() - began
    load_after = os.getloadavg()
    spark.stop()
    return {
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "load_average": [round(x, 2) for x in (*load_before, *load_after)],
        "lines": rows,
        "customers_simulated": customers,
        "days": days,
        "as_of": as_of.isoformat(),
        "simulate_s": simulate_s,
        "spark_start_s": spark_start_s,
        "run_s": run_s,
        "training_s": result.training_seconds,
        "phases": result.seconds,
        "status": result.status,
        "reasons": result.reasons,
        "model_version": result.model_version,
        "customers": result.customers,
        "products": result.products,
        "purchases": result.train_purchases,
        "metrics": [m.as_dict() for m in result.metrics],
    }


# ------------------------------------------------------------------------------------- output


def render(result: dict[str, Any]) -> str:
    run_s, train_s = result["run_s"], result["training_s"]
    rows = [
        ("simulate + append silver (pyiceberg)", f"{result['simulate_s']:.1f} s", f"{result['lines']:,} order lines"),
        ("Spark session start", f"{result['spark_start_s']:.1f} s", "excluded below"),
        ("whole job run", f"{run_s:.1f} s", result["status"]),
        ("  ALS training (holdout fit + published fit)", f"{train_s:.1f} s", f"{train_s / run_s:.0%} of the run"),
        *(
            (f"  phase: {name}", f"{seconds:.1f} s", f"{seconds / run_s:.0%} of the run")
            for name, seconds in result["phases"].items()
            if name != "total"
        ),
    ]
    metrics = result["metrics"]
    popularity = next((m for m in metrics if m["model"] == "popularity"), None)
    base = popularity["precision_at_k"] if popularity else 0.0
    metric_rows = [
        (
            m["model"],
            f"{m['precision_at_k']:.4f}",
            f"{m['recall_at_k']:.4f}",
            f"{m['coverage']:.3f}",
            f"{m['precision_at_k'] / base:.2f}x" if base else "",
            m["evaluated_customers"],
        )
        for m in metrics
    ]
    k = metrics[0]["k"] if metrics else 10
    return "\n".join(
        [
            table(("measure", "value", "note"), rows),
            "",
            f"holdout metrics (last 7 days before {result['as_of']}; trained on the days before):",
            table(
                ("model", f"precision@{k}", f"recall@{k}", "coverage", "precision vs popularity", "customers"),
                metric_rows,
            ),
        ]
    )


def write_docs(result: dict[str, Any]) -> None:
    load = result["load_average"]
    body = [
        SECTION,
        "",
        f"Measured by `make bench-recommend` on {datetime.now(UTC):%Y-%m-%d} ({result['machine']}, Spark local[2]); "
        f"load average {load[0]:.1f} before and {load[3]:.1f} after the run (the machine is shared, so bare "
        "times are upper bounds; the ratios are from this one run).",
        f"Input: {result['lines']:,} simulated order lines, {result['customers_simulated']:,} customers, "
        f"{result['days']} days (the simulator's tastes, themed baskets and seasons; "
        "`lakehouse/generate/preferences.py`); "
        f"the model knows {result['customers']:,} customers and {result['products']:,} products "
        f"({result['purchases']:,} purchase lines after cancellations, write-offs and non-product codes).",
        "",
        "```",
        render(result),
        "```",
        "",
        "Raw numbers:",
        "",
        "```json",
        json.dumps({k: v for k, v in result.items() if k != "metrics"} | {"metrics": result["metrics"]}, indent=1,
                   default=str),
        "```",
        "",
    ]  # fmt: skip
    replace_section(SECTION, "\n".join(body))


__all__ = ["bench", "load_simulated_silver", "render", "run"]
