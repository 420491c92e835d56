"""The quality check a run must pass before its tables replace the published ones.

A recommendation table nobody measured is worse than none, and a broken one is worse still:
it is served. So before publishing, the run's own output must show

- no empty lists: every customer the model knows gets `k` recommendations (or every product,
  when the catalogue is smaller than k);
- finite scores (ALS diverging shows up as NaN or infinity);
- every recommended code is a real product: a stock code that was sold as a product (not
  postage, a fee or a voucher) in the training history;
- the model beats the popularity baseline on the holdout: precision@k above popularity's by at
  least the relative `min_lift` (0 = strictly above).

Any failure is the run's verdict: nothing is written to the gold tables (the previous ones stay),
the audit table records the run as rejected with the reasons, and the job exits with a verdict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_jobs.recommend.evaluate import Metrics


def check_lists(recommendations: DataFrame, customers: int, products: DataFrame, k: int) -> list[str]:
    """Problems with the customer lists (empty list: [] means fine)."""
    problems: list[str] = []
    expected = min(k, products.count())
    if customers == 0:
        return ["no customer has a purchase history: nothing to recommend"]
    stats = recommendations.agg(
        F.countDistinct("customer_id").alias("customers"),
        F.count("*").alias("rows"),
        F.sum(
            F.when(F.isnan("score") | F.col("score").isNull() | (F.abs("score") == float("inf")), 1).otherwise(0)
        ).alias("not_finite"),
    ).first()
    short = recommendations.groupBy("customer_id").count().where(F.col("count") < expected).count()
    if (stats["customers"] or 0) < customers:
        problems.append(f"{customers - (stats['customers'] or 0)} of {customers} customers have an empty list")
    if short:
        problems.append(f"{short} customers have fewer than {expected} recommendations")
    if stats["not_finite"]:
        problems.append(f"{stats['not_finite']} scores are not finite (NaN or infinite)")
    unknown = recommendations.select("stock_code").distinct().join(products, "stock_code", "left_anti").count()
    if unknown:
        problems.append(f"{unknown} recommended stock codes are not products of the catalogue")
    return problems


def check_similar(similar: Sequence[tuple[str, int, str, float]], products: set[str]) -> list[str]:
    problems: list[str] = []
    if not similar:
        problems.append("similar_products is empty")
    if any(not math.isfinite(score) for *_, score in similar):
        problems.append("similar_products has scores that are not finite")
    unknown = {c for code, _, other, _ in similar for c in (code, other)} - products
    if unknown:
        problems.append(f"similar_products names {len(unknown)} codes that are not products")
    return problems


def check_beats_popularity(model: Metrics, popular: Metrics, min_lift: float) -> list[str]:
    if model.evaluated_customers == 0:
        return ["the holdout has no customer who also bought before it: the model cannot be measured"]
    needed = popular.precision_at_k * (1.0 + min_lift)
    if model.precision_at_k > needed or (popular.precision_at_k == 0 and model.precision_at_k > 0):
        return []
    return [
        f"precision@{model.k} {model.precision_at_k:.4f} does not beat popularity's {popular.precision_at_k:.4f} "
        f"by the required {min_lift:.0%} (needs > {needed:.4f})"
    ]
