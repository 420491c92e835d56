"""Which silver order lines are purchases a recommender learns from: the dbt marts' rule, in Spark.

dbt classifies lines in `int_order_lines_classified` (with the `non_product_stock_codes` seed):
a line is a *sale* when its invoice is not a cancellation and its quantity is positive (negative
lines on normal invoices are stock write-offs), and a *product* when its stock code is not a
non-product code (postage, fees, manual lines, discounts) and not a gift voucher (`GIFT%`).
Codes are compared as staging normalises them (`upper(trim(stock_code))`), customer ids as
`nullif(trim(customer_id), '')`. `agg_product_affinity` builds its baskets from exactly the
sale-and-product lines, so the affinity baseline here matches the mart.

The code list is written out (the Spark package ships without the dbt project); a unit test
checks it against `dbt/seeds/non_product_stock_codes.csv`, so the two cannot drift apart.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

# = dbt/seeds/non_product_stock_codes.csv (tests/unit/test_recommend_rules.py keeps them equal)
NON_PRODUCT_STOCK_CODES: frozenset[str] = frozenset(
    {"POST", "DOT", "C2", "M", "D", "S", "B", "PADS", "BANK CHARGES", "AMAZONFEE", "CRUK"}
)
VOUCHER_PREFIX = "GIFT"


def normalised_stock_code(column: str = "stock_code") -> Column:
    return F.upper(F.trim(F.col(column)))


def is_product(stock_code: Column) -> Column:
    """Not a non-product code and not a gift voucher (int_order_lines_classified.is_product)."""
    return ~stock_code.isin(*sorted(NON_PRODUCT_STOCK_CODES)) & ~stock_code.startswith(VOUCHER_PREFIX)


def is_sale(is_cancellation: Column, quantity: Column) -> Column:
    """Not a cancellation invoice and a positive quantity (int_order_lines_classified.is_sale)."""
    return ~F.coalesce(is_cancellation, F.lit(False)) & (quantity > 0)


def purchases(order_lines: DataFrame) -> DataFrame:
    """Sale lines of products: (invoice_no, customer_id (null for guests), stock_code, quantity, event_ts).

    `order_lines` is silver's shape; `is_cancellation` is derived from the invoice number when
    absent, by the ingest's own rule (`spark_jobs.ingest.contract.is_cancellation`).
    """
    from spark_jobs.ingest.contract import is_cancellation

    lines = order_lines
    if "is_cancellation" not in lines.columns:
        lines = lines.withColumn("is_cancellation", is_cancellation(F.col("invoice_no")))
    code = normalised_stock_code()
    customer = F.trim(F.col("customer_id"))
    return lines.where(is_sale(F.col("is_cancellation"), F.col("quantity")) & is_product(code)).select(
        F.trim(F.col("invoice_no")).alias("invoice_no"),
        F.when(customer != "", customer).alias("customer_id"),
        code.alias("stock_code"),
        F.col("quantity"),
        F.col("event_ts"),
    )
