"""One recommendation run: read silver, evaluate on the holdout, train, check, publish or refuse.

1. Purchases (`lines.purchases`) of silver's `main` in `[as_of - lookback_days, as_of)`.
2. Holdout: ALS, popularity and co-purchase affinity trained on the days before
   `holdout_start = as_of - holdout_days`, measured on the holdout (`evaluate`).
3. The published model: ALS refitted on every purchase before `as_of` (the holdout included,
   so the lists know last week), its top-k lists and similar products.
4. The quality check (`checks`). Passed: each gold table is replaced by one overwrite commit
   (readers see the old table or the new one, never a mix; a re-run with the same arguments
   writes the same rows). Failed: the gold tables are not touched.
5. One audit row per model (`audit.recommendation_runs`) with the metrics and the verdict,
   written in both cases, last.

Deterministic for a seed: the data cut is `as_of` (not the clock), ids are indexed in sorted
order, ALS has a fixed seed, blocks and no checkpointing, scores are rounded and ties broken by
stock code. Only `trained_at` (wall clock) differs between two runs with the same arguments.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_jobs.naming import TableNames
from spark_jobs.recommend import checks, evaluate, lines, models

SILVER = "silver.order_lines"
RECOMMENDATIONS = "gold.product_recommendations"
SIMILAR = "gold.similar_products"
RUNS = "audit.recommendation_runs"


@dataclass(frozen=True)
class RunParams:
    as_of: date
    run_id: str
    holdout_days: int = 7
    lookback_days: int = 365
    top_k: int = 10
    similar_k: int = 10
    min_lift: float = 0.0
    min_co_invoices: int = 2
    als: models.AlsParams = field(default_factory=models.AlsParams)

    def __post_init__(self) -> None:
        if self.holdout_days < 1 or self.lookback_days <= self.holdout_days:
            raise ValueError("need 1 <= holdout_days < lookback_days")
        if self.top_k < 1 or self.similar_k < 1:
            raise ValueError("top_k and similar_k must be >= 1")
        if self.min_lift < 0:
            raise ValueError("min_lift must be >= 0")

    @property
    def as_of_ts(self) -> datetime:
        return datetime(self.as_of.year, self.as_of.month, self.as_of.day, tzinfo=UTC)

    @property
    def holdout_start(self) -> date:
        return self.as_of - timedelta(days=self.holdout_days)

    @property
    def model_version(self) -> str:
        """Names the data cut and the parameters: the same arguments, the same version."""
        payload = json.dumps(
            {**asdict(self.als), "lookback": self.lookback_days, "k": self.top_k, "co": self.min_co_invoices},
            sort_keys=True,
        )
        digest = hashlib.sha256(payload.encode()).hexdigest()[:8]
        return f"als-{self.as_of:%Y%m%d}-{self.als.tag()}-{digest}"


@dataclass
class RunResult:
    status: str  # published | rejected
    reasons: list[str]
    metrics: list[evaluate.Metrics]
    model_version: str
    customers: int = 0
    products: int = 0
    train_purchases: int = 0
    training_seconds: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def published(self) -> bool:
        return self.status == "published"

    def summary(self) -> str:
        head = f"recommendations {self.status}: {self.model_version}"
        if self.published:
            head += f", {self.customers} customers, {self.products} products, {self.train_purchases} purchase lines"
        out = [head]
        out += [
            f"  {m.model:<10} precision@{m.k} {m.precision_at_k:.4f}  recall@{m.k} {m.recall_at_k:.4f}  "
            f"coverage {m.coverage:.3f}  ({m.evaluated_customers} customers)"
            for m in self.metrics
        ]
        out += [f"  rejected: {r}" for r in self.reasons]
        return "\n".join(out)


def load_purchases(spark, tables: TableNames, params: RunParams) -> DataFrame:
    start = params.as_of_ts - timedelta(days=params.lookback_days)
    silver = spark.table(tables.qualified(SILVER)).where(
        (F.col("event_ts") >= F.lit(start)) & (F.col("event_ts") < F.lit(params.as_of_ts))
    )
    return lines.purchases(silver)


def evaluate_models(purchases: DataFrame, params: RunParams) -> tuple[list[evaluate.Metrics], float]:
    """Metrics of ALS, popularity and affinity on the holdout; and the ALS fit's seconds."""
    day = params.holdout_start
    holdout_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    train, test = evaluate.split(purchases, holdout_start)
    train = train.cache()
    truth = evaluate.truth(train, test).cache()
    catalogue_size = train.select("stock_code").distinct().count()
    k = params.top_k
    began = time.perf_counter()
    fitted = models.fit_als(models.interactions(train), params.als)
    fit_seconds = time.perf_counter() - began
    customers = truth.select("customer_id").distinct()
    als = models.als_recommendations(fitted, k, customers)
    popular = models.popularity_recommendations(models.popularity(train, k), customers)
    pairs = models.affinity_pairs(train, params.min_co_invoices)
    history = train.where(F.col("customer_id").isNotNull()).join(customers, "customer_id")
    affinity = models.affinity_recommendations(pairs, history, k)
    metrics = [
        evaluate.measure("als", als, truth, k, catalogue_size),
        evaluate.measure("popularity", popular, truth, k, catalogue_size),
        evaluate.measure("affinity", affinity, truth, k, catalogue_size),
    ]
    train.unpersist()
    truth.unpersist()
    return metrics, fit_seconds


def run(spark, tables: TableNames, params: RunParams, progress=print) -> RunResult:
    """The whole run (see the module docstring); returns what happened, raises on engine errors."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    trained_at = datetime.now(UTC)
    purchases = load_purchases(spark, tables, params).cache()
    train_purchases = purchases.count()
    version = params.model_version
    if train_purchases == 0:
        result = RunResult("rejected", [f"no purchases in silver before {params.as_of}"], [], version)
        write_audit(spark, tables, params, result, trained_at)
        return result
    progress(f"recommend: {train_purchases} purchase lines before {params.as_of}; evaluating on the holdout")
    metrics, eval_fit = evaluate_models(purchases, params)
    seconds["evaluate"] = time.perf_counter() - started
    by_name = {m.model: m for m in metrics}

    progress("recommend: training the published model")
    began = time.perf_counter()
    fitted = models.fit_als(models.interactions(purchases), params.als)
    final_fit = time.perf_counter() - began
    recs = (
        models.als_recommendations(fitted, params.top_k)
        .withColumn("model_version", F.lit(version))
        .withColumn("trained_at", F.lit(trained_at))
        .cache()
    )
    similar = models.similar_products(fitted, params.similar_k)
    catalogue = purchases.select("stock_code").distinct().cache()
    product_codes = {r["stock_code"] for r in catalogue.collect()}
    customers = fitted.customers.count()
    reasons = [
        *checks.check_lists(recs, customers, catalogue, params.top_k),
        *checks.check_similar(similar, product_codes),
        *checks.check_beats_popularity(by_name["als"], by_name["popularity"], params.min_lift),
    ]
    seconds["train"] = time.perf_counter() - began
    result = RunResult(
        "rejected" if reasons else "published",
        reasons,
        metrics,
        version,
        customers=customers,
        products=len(product_codes),
        train_purchases=train_purchases,
        training_seconds=eval_fit + final_fit,
        seconds=seconds,
    )
    if not reasons:
        began = time.perf_counter()
        publish(spark, tables, recs, similar, version, trained_at)
        seconds["publish"] = time.perf_counter() - began
    write_audit(spark, tables, params, result, trained_at)
    recs.unpersist()
    purchases.unpersist()
    seconds["total"] = time.perf_counter() - started
    return result


def publish(spark, tables: TableNames, recs: DataFrame, similar, version: str, trained_at: datetime) -> None:
    """Replace each gold table with one overwrite commit (Iceberg: a single atomic snapshot)."""
    rec_table = tables.qualified(RECOMMENDATIONS)
    (
        recs.select("customer_id", "rank", "stock_code", "score", "model_version", "trained_at")
        .repartition(1)
        .sortWithinPartitions("customer_id", "rank")
        .writeTo(rec_table)
        .overwrite(F.lit(True))
    )
    schema = "stock_code string, rank int, similar_stock_code string, score double"
    similar_df = (
        spark.createDataFrame(similar, schema)
        .withColumn("model_version", F.lit(version))
        .withColumn("trained_at", F.lit(trained_at))
        .repartition(1)
        .sortWithinPartitions("stock_code", "rank")
    )
    similar_df.writeTo(tables.qualified(SIMILAR)).overwrite(F.lit(True))


AUDIT_SCHEMA = (
    "run_id string, model_version string, trained_at timestamp, as_of date, holdout_start date, model string, "
    "k int, precision_at_k double, recall_at_k double, coverage double, evaluated_customers long, status string, "
    "reasons string, train_purchases long, customers long, products long, training_seconds double, parameters string"
)


def write_audit(spark, tables: TableNames, params: RunParams, result: RunResult, trained_at: datetime) -> None:
    """One row per model (one placeholder row when the run stopped before measuring anything)."""
    metrics = result.metrics or [evaluate.Metrics("als", params.top_k, 0.0, 0.0, 0.0, 0)]
    reasons = "; ".join(result.reasons) or None
    parameters = json.dumps(
        {**asdict(params.als), "holdout_days": params.holdout_days, "lookback_days": params.lookback_days,
         "min_lift": params.min_lift, "min_co_invoices": params.min_co_invoices},
        sort_keys=True,
    )  # fmt: skip
    rows = [
        (
            params.run_id,
            result.model_version,
            trained_at,
            params.as_of,
            params.holdout_start,
            m.model,
            m.k,
            m.precision_at_k,
            m.recall_at_k,
            m.coverage,
            m.evaluated_customers,
            result.status,
            reasons,
            result.train_purchases,
            result.customers,
            result.products,
            round(result.training_seconds, 3),
            parameters,
        )
        for m in metrics
    ]
    spark.createDataFrame(rows, AUDIT_SCHEMA).writeTo(tables.qualified(RUNS)).append()
