"""`lakehouse recommend`: a customer's product recommendations, or a recommendation run.

- `recommend --customer ID` prints the customer's published list from
  `gold.product_recommendations` (rank, stock code, description, score) and the run it came
  from. It reads the catalog through pyiceberg: no Spark, about a second. An unknown customer
  (no list: a guest, a typo, or someone who never bought a product) exits 2 with a message.
- `recommend --similar STOCK_CODE` prints the products shown next to one (gold.similar_products).
- `recommend --runs` lists the latest runs' holdout metrics and verdicts (audit.recommendation_runs).
- `recommend --train --as-of YYYY-MM-DD` runs the Spark job (`spark_jobs/recommend_products.py`)
  with local spark-submit, as the DAG's local backend does: evaluation, quality check, publish.

Exit codes: 0 success, 1 the run was refused by its quality check (the published tables stay),
2 bad usage, an unknown customer or product, or tables that do not exist yet.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from lakehouse.console import progress, table
from lakehouse_core.settings import REPO_ROOT, Settings, load_settings

SCRIPT = REPO_ROOT / "spark_jobs" / "recommend_products.py"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "recommend",
        help="print a customer's product recommendations (gold tables), or run the recommendation job",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--customer", metavar="ID", help="print this customer's recommendations")
    what.add_argument("--similar", metavar="STOCK_CODE", help="print the products similar to this one")
    what.add_argument("--runs", action="store_true", help="list the latest runs with their holdout metrics")
    what.add_argument("--train", action="store_true", help="run the recommendation job (local spark-submit)")
    p.add_argument("--as-of", type=_day, help="--train: train on purchases before this UTC day (default: today)")
    p.add_argument("--seed", type=int, default=42, help="--train: ALS seed (default: %(default)s)")
    p.add_argument("--last", type=int, default=5, help="--runs: how many runs (default: %(default)s)")
    p.set_defaults(func=run)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.train:
        return train(settings, args.as_of or date.today(), args.seed)
    try:
        if args.customer is not None:
            return show_customer(settings, args.customer.strip())
        if args.similar is not None:
            return show_similar(settings, args.similar.strip().upper())
        return show_runs(settings, args.last)
    except MissingTables as exc:
        print(f"recommend: {exc}", file=sys.stderr)
        return 2


class MissingTables(RuntimeError):
    pass


def _scan(settings: Settings, identifier: str, row_filter: str | None = None) -> list[dict[str, Any]]:
    from pyiceberg.exceptions import NoSuchTableError

    from lakehouse_core.catalog import load_table

    try:
        found = load_table(settings, identifier)
    except NoSuchTableError:
        raise MissingTables(
            f"{identifier} does not exist yet: run `lakehouse init`, then `lakehouse recommend --train`"
        ) from None
    scan = found.scan(row_filter=row_filter) if row_filter else found.scan()
    return scan.to_arrow().to_pylist()


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _descriptions(settings: Settings, codes: list[str]) -> dict[str, str]:
    """Latest description of each code, from silver (empty when silver is not there)."""
    if not codes:
        return {}
    try:
        rows = _scan(settings, "silver.order_lines", f"stock_code in ({', '.join(_quote(c) for c in codes)})")
    except MissingTables:
        return {}
    found: dict[str, tuple[Any, str]] = {}
    for row in rows:
        if row.get("description") and (row["stock_code"] not in found or row["event_ts"] > found[row["stock_code"]][0]):
            found[row["stock_code"]] = (row["event_ts"], row["description"])
    return {code: text for code, (_, text) in found.items()}


def show_customer(settings: Settings, customer: str) -> int:
    rows = sorted(_scan(settings, "gold.product_recommendations", f"customer_id == {_quote(customer)}"),
                  key=lambda r: r["rank"])  # fmt: skip
    if not rows:
        print(
            f"recommend: no recommendations for customer {customer!r}: not a known customer with purchases in "
            "the last published run (guests and new customers get none; check the id)",
            file=sys.stderr,
        )
        return 2
    described = _descriptions(settings, [r["stock_code"] for r in rows])
    print(f"customer {customer}: model {rows[0]['model_version']}, trained {rows[0]['trained_at']:%Y-%m-%d %H:%M} UTC")
    print(
        table(
            ("rank", "stock_code", "description", "score"),
            [(r["rank"], r["stock_code"], described.get(r["stock_code"], ""), f"{r['score']:.4f}") for r in rows],
        )
    )
    return 0


def show_similar(settings: Settings, code: str) -> int:
    rows = sorted(_scan(settings, "gold.similar_products", f"stock_code == {_quote(code)}"), key=lambda r: r["rank"])
    if not rows:
        print(f"recommend: no similar products for {code!r} (not a product the model knows)", file=sys.stderr)
        return 2
    described = _descriptions(settings, [code, *(r["similar_stock_code"] for r in rows)])
    print(f"similar to {code} {described.get(code, '')}: model {rows[0]['model_version']}")
    print(
        table(
            ("rank", "stock_code", "description", "similarity"),
            [
                (r["rank"], r["similar_stock_code"], described.get(r["similar_stock_code"], ""), f"{r['score']:.3f}")
                for r in rows
            ],
        )
    )
    return 0


def show_runs(settings: Settings, last: int) -> int:
    rows = _scan(settings, "audit.recommendation_runs")
    runs = sorted({(r["trained_at"], r["run_id"]) for r in rows}, reverse=True)[: max(last, 1)]
    keep = {run_id for _, run_id in runs}
    out = sorted((r for r in rows if r["run_id"] in keep), key=lambda r: (r["trained_at"], r["model"]), reverse=True)
    if not out:
        print("no recommendation runs yet")
        return 0
    print(
        table(
            ("trained_at", "run_id", "as_of", "model", "precision@k", "recall@k", "coverage", "customers", "status"),
            [
                (
                    f"{r['trained_at']:%Y-%m-%d %H:%M}",
                    r["run_id"],
                    r["as_of"],
                    r["model"],
                    f"{r['precision_at_k']:.4f}",
                    f"{r['recall_at_k']:.4f}",
                    f"{r['coverage']:.3f}",
                    r["evaluated_customers"],
                    r["status"],
                )
                for r in out
            ],
        )
    )
    return 0


def train(settings: Settings, as_of: date, seed: int) -> int:
    if settings.spark_backend != "local":
        progress(f"recommend --train runs local spark-submit only (LAKEHOUSE_SPARK_BACKEND={settings.spark_backend})")
        return 2
    from lakehouse.runtime import local_spark
    from lakehouse_core.catalog import init_catalog

    init_catalog(settings)
    from lakehouse_core.spark_args import recommend_args
    from spark_jobs.jobargs import to_argv

    job_args = recommend_args(as_of=as_of.isoformat(), seed=seed)
    progress(f"spark-submit {SCRIPT.name} " + " ".join(to_argv(job_args)))
    code = local_spark.run_job(settings, SCRIPT, job_args)
    progress(f"recommend: {'published' if code == 0 else 'refused' if code == 1 else f'could not run (exit {code})'}")
    return code
