"""The recommender and its baselines, as functions of DataFrames.

- `interactions`: one row per (known customer, product): distinct sale invoices, the implicit
  signal (how often a customer came back for a product; bulk quantities would drown it).
- `fit_als` / `als_recommendations`: Spark MLlib's ALS with `implicitPrefs` (Hu, Koren and
  Volinsky's confidence weighting), a fixed seed, fixed blocks and no checkpointing, so a run is
  repeatable for a seed; ids are indexed in sorted order so the same data gives the same matrix.
- `popularity`: the same top list for everyone (products by distinct buyers); the baseline a
  model must beat to be worth publishing.
- `affinity_pairs` / `affinity_recommendations`: the co-purchase baseline. The pairs are exactly
  `agg_product_affinity`'s (baskets = distinct products of a sale invoice, guests included; a
  pair needs `min_co_invoices` shared invoices; confidence = P(b | a)); a customer's score for
  b is the sum of confidence(a -> b) over the products a they bought: "bought with what you buy".
- `similar_products`: item-to-item cosine similarity of ALS's item factors, for anonymous
  visitors (a product page needs no customer).

Ties are broken by stock code everywhere, so equal scores never make a run differ from the next.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

SCORE_DECIMALS = 6  # published scores are rounded: the last bits of a float sum are not a signal
# Affinity baseline: each product's strongest partners only (by confidence). With every pair, a
# customer's few dozen products times the whole catalogue is tens of millions of rows for 1M
# order lines (minutes on 2 cores) for scores decided by the top partners anyway.
AFFINITY_NEIGHBOURS = 20


@dataclass(frozen=True)
class AlsParams:
    # Chosen on the simulator's structure (docs/benchmarks.md): stronger regularisation and a low
    # confidence scale beat the MLlib defaults by a few points of precision@10.
    rank: int = 16
    max_iter: int = 10
    reg_param: float = 0.5
    alpha: float = 5.0
    seed: int = 42
    blocks: int = 2

    def tag(self) -> str:
        return f"r{self.rank}-i{self.max_iter}-l{self.reg_param:g}-a{self.alpha:g}-s{self.seed}"


def interactions(purchases: DataFrame) -> DataFrame:
    """(customer_id, stock_code, invoices, quantity) for known customers' purchases."""
    return (
        purchases.where(F.col("customer_id").isNotNull())
        .groupBy("customer_id", "stock_code")
        .agg(F.countDistinct("invoice_no").alias("invoices"), F.sum("quantity").cast("long").alias("quantity"))
    )


def index_column(df: DataFrame, column: str, index: str) -> DataFrame:
    """Distinct values of `column` numbered 0.. in sorted order (ALS needs integer ids)."""
    ordered = Window.orderBy(column)
    return df.select(column).distinct().withColumn(index, (F.row_number().over(ordered) - 1).cast("int"))


@dataclass
class FittedAls:
    model: object  # pyspark.ml.recommendation.ALSModel
    customers: DataFrame  # customer_id, customer_ix
    items: DataFrame  # stock_code, item_ix


def fit_als(interaction_rows: DataFrame, params: AlsParams) -> FittedAls:
    from pyspark.ml.recommendation import ALS

    customers = index_column(interaction_rows, "customer_id", "customer_ix").cache()
    items = index_column(interaction_rows, "stock_code", "item_ix").cache()
    ratings = (
        interaction_rows.join(customers, "customer_id")
        .join(items, "stock_code")
        .select("customer_ix", "item_ix", F.col("invoices").cast("float").alias("rating"))
        .repartition(params.blocks, "customer_ix")
        .sortWithinPartitions("customer_ix", "item_ix")
    )
    als = ALS(
        rank=params.rank,
        maxIter=params.max_iter,
        regParam=params.reg_param,
        alpha=params.alpha,
        implicitPrefs=True,
        seed=params.seed,
        userCol="customer_ix",
        itemCol="item_ix",
        ratingCol="rating",
        numUserBlocks=params.blocks,
        numItemBlocks=params.blocks,
        checkpointInterval=-1,
        coldStartStrategy="drop",
    )
    return FittedAls(als.fit(ratings), customers, items)


def ranked(scores: DataFrame, k: int, key: str = "customer_id", item: str = "stock_code") -> DataFrame:
    """Top `k` rows of `scores` (key, item, score) per key, as (key, rank, item, score)."""
    order = Window.partitionBy(key).orderBy(F.col("score").desc(), F.col(item))
    return (
        scores.withColumn("rank", F.row_number().over(order).cast("int"))
        .where(F.col("rank") <= k)
        .select(key, "rank", item, "score")
    )


def als_recommendations(fitted: FittedAls, k: int, customers: DataFrame | None = None) -> DataFrame:
    """(customer_id, rank, stock_code, score): each customer's top `k` by predicted preference.

    `customers` (customer_id) restricts the set (evaluation); customers the model never saw get
    no list (cold start: the popularity list serves them).
    """
    users = fitted.customers
    if customers is not None:
        users = users.join(customers.select("customer_id").distinct(), "customer_id")
    # a few more than k, so ties at the cut are resolved by stock code, not by chance
    raw = fitted.model.recommendForUserSubset(users.select(F.col("customer_ix")), k + 5)
    scores = (
        raw.select("customer_ix", F.explode("recommendations").alias("r"))
        .select("customer_ix", F.col("r.item_ix").alias("item_ix"), F.col("r.rating").cast("double").alias("score"))
        .join(users, "customer_ix")
        .join(fitted.items, "item_ix")
        .select("customer_id", "stock_code", F.round("score", SCORE_DECIMALS).alias("score"))
    )
    return ranked(scores, k)


def popularity(purchases: DataFrame, k: int) -> DataFrame:
    """(rank, stock_code, score): the `k` products with the most distinct buyers (then invoices)."""
    counts = purchases.groupBy("stock_code").agg(
        F.countDistinct("customer_id").alias("buyers"), F.countDistinct("invoice_no").alias("invoices")
    )
    order = Window.orderBy(F.col("buyers").desc(), F.col("invoices").desc(), F.col("stock_code"))
    return (
        counts.withColumn("rank", F.row_number().over(order).cast("int"))
        .where(F.col("rank") <= k)
        .select("rank", "stock_code", F.col("buyers").cast("double").alias("score"))
    )


def popularity_recommendations(top: DataFrame, customers: DataFrame) -> DataFrame:
    """The same list for every customer: (customer_id, rank, stock_code, score)."""
    everyone = customers.select("customer_id").distinct()
    return everyone.crossJoin(top).select("customer_id", "rank", "stock_code", "score")


def affinity_pairs(purchases: DataFrame, min_co_invoices: int = 2) -> DataFrame:
    """(product_a, product_b, co_invoice_count, confidence, lift): agg_product_affinity's pairs."""
    baskets = purchases.select("invoice_no", "stock_code").distinct()
    total = baskets.select(F.countDistinct("invoice_no").alias("total")).first()["total"] or 0
    per_product = baskets.groupBy("stock_code").agg(F.count("*").alias("product_invoices"))
    a, b = baskets.alias("a"), baskets.alias("b")
    pairs = (
        a.join(b, (F.col("a.invoice_no") == F.col("b.invoice_no")) & (F.col("a.stock_code") != F.col("b.stock_code")))
        .groupBy(F.col("a.stock_code").alias("product_a"), F.col("b.stock_code").alias("product_b"))
        .agg(F.count("*").alias("co_invoice_count"))
        .where(F.col("co_invoice_count") >= min_co_invoices)
    )
    pa = per_product.select(F.col("stock_code").alias("product_a"), F.col("product_invoices").alias("a_invoices"))
    pb = per_product.select(F.col("stock_code").alias("product_b"), F.col("product_invoices").alias("b_invoices"))
    return (
        pairs.join(pa, "product_a")
        .join(pb, "product_b")
        .select(
            "product_a",
            "product_b",
            "co_invoice_count",
            (F.col("co_invoice_count") / F.col("a_invoices")).alias("confidence"),
            (F.col("co_invoice_count") * F.lit(total) / (F.col("a_invoices") * F.col("b_invoices"))).alias("lift"),
        )
    )


def affinity_recommendations(
    pairs: DataFrame, history: DataFrame, k: int, neighbours: int = AFFINITY_NEIGHBOURS
) -> DataFrame:
    """(customer_id, rank, stock_code, score): sum of confidence(a -> b) over the customer's products a,
    over each product a's `neighbours` strongest partners b."""
    strongest = Window.partitionBy("product_a").orderBy(F.col("confidence").desc(), F.col("product_b"))
    top_pairs = pairs.withColumn("n", F.row_number().over(strongest)).where(F.col("n") <= neighbours).drop("n")
    scores = (
        history.select("customer_id", F.col("stock_code").alias("product_a"))
        .distinct()
        .join(F.broadcast(top_pairs), "product_a")
        .groupBy("customer_id", F.col("product_b").alias("stock_code"))
        .agg(F.round(F.sum("confidence"), SCORE_DECIMALS).alias("score"))
    )
    return ranked(scores, k)


def similar_products(fitted: FittedAls, k: int) -> list[tuple[str, int, str, float]]:
    """(stock_code, rank, similar_stock_code, score): cosine similarity of ALS item factors.

    On the driver with numpy: the matrix is products x rank (a catalogue of thousands), and a
    dense product of it is milliseconds; ties by stock code.
    """
    import numpy as np

    rows = (
        fitted.model.itemFactors.join(fitted.items.withColumnRenamed("item_ix", "id"), "id")
        .select("stock_code", "features")
        .collect()
    )
    rows.sort(key=lambda r: r["stock_code"])
    if len(rows) < 2:
        return []
    codes = [r["stock_code"] for r in rows]
    matrix = np.array([r["features"] for r in rows], dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1)
    norms[norms == 0] = 1.0
    unit = matrix / norms[:, None]
    similarity = np.round(unit @ unit.T, SCORE_DECIMALS)
    np.fill_diagonal(similarity, -np.inf)
    out: list[tuple[str, int, str, float]] = []
    for i, code in enumerate(codes):
        # sort by (-score, index): the index order is the stock code order
        order = np.lexsort((np.arange(len(codes)), -similarity[i]))[: min(k, len(codes) - 1)]
        out.extend((code, rank, codes[j], float(similarity[i, j])) for rank, j in enumerate(order, start=1))
    return out
