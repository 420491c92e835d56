"""The time-based holdout and the metrics every model is measured with.

Train on purchases before the holdout start D, test on D..D+k days (the run's last `holdout_days`
days before `as_of`). The evaluated customers are the known customers who bought in the holdout
*and* before it: a model cannot be asked about customers it has never seen (new customers get
the popularity list; that is a cold-start policy, not a model quality).

- precision@k: of the k recommended products, the share the customer bought in the holdout,
  averaged over the evaluated customers (always out of k, also when a list is shorter);
- recall@k: of the distinct products the customer bought in the holdout, the share that was
  recommended, averaged the same way;
- coverage: the share of the catalogue (products bought before the holdout) that appears in at
  least one evaluated customer's list; a popularity list has coverage k / catalogue.

Products a customer bought before are not removed from the lists or the truth: retail customers
re-order (the UCI data is full of repeat purchases), so "buy again" is part of what is measured.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


@dataclass(frozen=True)
class Metrics:
    model: str
    k: int
    precision_at_k: float
    recall_at_k: float
    coverage: float
    evaluated_customers: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def split(purchases: DataFrame, holdout_start: datetime) -> tuple[DataFrame, DataFrame]:
    """(train, test): purchases before `holdout_start`, and from it on."""
    before = F.col("event_ts") < F.lit(holdout_start)
    return purchases.where(before), purchases.where(~before)


def truth(train: DataFrame, test: DataFrame) -> DataFrame:
    """(customer_id, stock_code): what each evaluable customer bought in the holdout."""
    known = train.where(F.col("customer_id").isNotNull()).select("customer_id").distinct()
    return (
        test.where(F.col("customer_id").isNotNull())
        .select("customer_id", "stock_code")
        .distinct()
        .join(known, "customer_id")
    )


def measure(name: str, recommendations: DataFrame, holdout: DataFrame, k: int, catalogue_size: int) -> Metrics:
    """precision@k, recall@k and coverage of `recommendations` (customer_id, rank, stock_code, ...)."""
    customers = holdout.groupBy("customer_id").agg(F.count("*").alias("bought"))
    top = recommendations.where(F.col("rank") <= k).join(customers.select("customer_id"), "customer_id")
    hits = top.join(holdout, ["customer_id", "stock_code"]).groupBy("customer_id").agg(F.count("*").alias("hits"))
    per_customer = customers.join(hits, "customer_id", "left").fillna(0, ["hits"])
    row = per_customer.agg(
        F.count("*").alias("n"),
        F.avg(F.col("hits") / F.lit(k)).alias("precision"),
        F.avg(F.col("hits") / F.col("bought")).alias("recall"),
    ).first()
    covered = top.select("stock_code").distinct().count()
    n = int(row["n"] or 0)
    return Metrics(
        model=name,
        k=k,
        precision_at_k=float(row["precision"] or 0.0) if n else 0.0,
        recall_at_k=float(row["recall"] or 0.0) if n else 0.0,
        coverage=covered / catalogue_size if catalogue_size else 0.0,
        evaluated_customers=n,
    )
