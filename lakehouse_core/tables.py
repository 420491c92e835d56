"""Iceberg tables as code: schemas, partition specs and properties of every lakehouse table.

`lakehouse init` (and the DAG's init task on AWS) applies these through pyiceberg, which
talks to the same catalog Spark uses (SQLite JDBC locally, Glue on AWS). Applying is
idempotent: a missing table is created; an existing one gets new columns added as nullable
(Iceberg schema evolution: metadata only, no data rewrite) and missing properties set.
Columns are never dropped or retyped here; that is a deliberate migration, not a sync.

Field ids below are for readability; pyiceberg assigns fresh ids on create and matches
columns by name when evolving.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table.sorting import SortField, SortOrder
from pyiceberg.transforms import DayTransform, HourTransform, IdentityTransform
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    IntegerType,
    LongType,
    MapType,
    NestedField,
    StringType,
    TimestamptzType,
)

COMMON_PROPERTIES: dict[str, str] = {
    "format-version": "2",
    "write.wap.enabled": "true",
    "write.parquet.compression-codec": "zstd",
    "write.target-file-size-bytes": str(128 * 1024 * 1024),
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "50",
}

# Money: UCI unit prices carry up to 3 decimals; totals up to about 1e9 fit comfortably.
MONEY = DecimalType(12, 3)


def _fields(*specs: tuple[str, object, bool, str]) -> Schema:
    return Schema(
        *(NestedField(i, name, typ, required=req, doc=doc) for i, (name, typ, req, doc) in enumerate(specs, start=1))
    )


# The order-line event as producers send it, typed. Shared by bronze and silver.
EVENT_COLUMNS: tuple[tuple[str, object, bool, str], ...] = (
    ("event_id", StringType(), True, "Producer-assigned unique id; the dedupe key"),
    ("invoice_no", StringType(), True, "Invoice number; a leading 'C' marks a cancellation"),
    ("invoice_line", IntegerType(), True, "1-based line number within the invoice"),
    ("stock_code", StringType(), True, "Product code, or a non-product code such as POST, M, BANK CHARGES"),
    ("description", StringType(), False, "Product description as entered"),
    ("quantity", IntegerType(), True, "Units; negative on cancellations"),
    ("unit_price", MONEY, True, "Price per unit in `currency`"),
    ("currency", StringType(), True, "ISO 4217 code"),
    ("customer_id", StringType(), False, "Customer id; null for guest checkouts (about a quarter)"),
    ("country", StringType(), True, "Customer country name"),
    ("event_ts", TimestamptzType(), True, "When the order line happened (UTC)"),
    ("emitted_at", TimestamptzType(), False, "When the producer sent it; latest version wins on dedupe"),
)

LINEAGE_COLUMNS: tuple[tuple[str, object, bool, str], ...] = (
    ("source_object", StringType(), True, "Raw-zone object the record came from"),
    ("arrival_hour", TimestamptzType(), True, "Firehose arrival hour (the object's prefix), UTC"),
    ("run_id", StringType(), True, "Ingest run that wrote the row"),
    ("ingested_at", TimestamptzType(), True, "When the ingest run wrote the row"),
)


@dataclass(frozen=True)
class TableDef:
    """One table: identifier, schema, partitioning, sort order and properties."""

    identifier: str  # "<namespace>.<table>"
    schema: Schema
    partition_by: tuple[tuple[str, object, str], ...] = ()  # (source column, transform, name)
    sort_by: tuple[str, ...] = ()
    properties: dict[str, str] = field(default_factory=lambda: dict(COMMON_PROPERTIES))
    doc: str = ""

    @property
    def namespace(self) -> str:
        return self.identifier.split(".", 1)[0]

    def partition_spec(self) -> PartitionSpec:
        fields = []
        for i, (column, transform, name) in enumerate(self.partition_by, start=1000):
            source_id = self.schema.find_field(column).field_id
            fields.append(PartitionField(source_id, i, transform, name))
        return PartitionSpec(*fields)

    def sort_order(self) -> SortOrder:
        if not self.sort_by:
            return SortOrder()
        return SortOrder(*(SortField(self.schema.find_field(c).field_id, IdentityTransform()) for c in self.sort_by))


ORDERS_RAW = TableDef(
    identifier="bronze.orders_raw",
    schema=_fields(
        *EVENT_COLUMNS,
        ("record_index", LongType(), True, "Position of the record inside its source object"),
        ("extra_fields", StringType(), False, "Fields the schema does not know, as a JSON object"),
        *LINEAGE_COLUMNS,
    ),
    # By arrival hour: a re-run of an hour atomically replaces exactly its partition.
    partition_by=(("arrival_hour", HourTransform(), "arrival_hour_hour"),),
    doc="Every record that parsed and validated, with lineage. Duplicates are kept here.",
)

ORDERS_QUARANTINE = TableDef(
    identifier="bronze.orders_quarantine",
    schema=_fields(
        (
            "reason_code",
            StringType(),
            True,
            "Why it was rejected (malformed_json, not_an_object, late_beyond_window, invalid_utf8, ...)",
        ),
        ("reason_detail", StringType(), False, "Human-readable detail: the field, the value, the error"),
        ("raw_record", StringType(), False, "The record's text, whole up to max_record_bytes characters"),
        ("raw_size_bytes", LongType(), False, "Size of the raw record (or object) in bytes"),
        ("record_index", LongType(), False, "Position inside the object; null for an object-level row"),
        *LINEAGE_COLUMNS,
        # Last, and optional: existing tables gain it by evolution.
        (
            "raw_bytes",
            BinaryType(),
            False,
            "The record's exact bytes when they are not UTF-8 (invalid_utf8); null otherwise",
        ),
    ),
    partition_by=(("arrival_hour", HourTransform(), "arrival_hour_hour"),),
    doc="What could not be parsed or validated, one row per record (or per unreadable object).",
)

ORDER_LINES = TableDef(
    identifier="silver.order_lines",
    schema=_fields(
        *EVENT_COLUMNS,
        ("is_cancellation", BooleanType(), True, "invoice_no starts with 'C'"),
        *LINEAGE_COLUMNS,
        # Last, and optional: existing tables gain it by evolution (rows written before it: null = oldest).
        (
            "record_index",
            LongType(),
            False,
            "Position in source_object; orders versions with emitted_at, arrival_hour, source_object",
        ),
    ),
    # By event day: a late event lands in its own day; MERGE prunes to the days a batch touches.
    partition_by=(("event_ts", DayTransform(), "event_ts_day"),),
    sort_by=("event_ts", "invoice_no"),
    doc=(
        "Deduplicated, typed order lines: one row per event_id, the newest version "
        "by (emitted_at, arrival_hour, source_object, record_index)."
    ),
)

INGEST_RUNS = TableDef(
    identifier="audit.ingest_runs",
    schema=_fields(
        ("run_id", StringType(), True, "Ingest run id"),
        ("arrival_hour", TimestamptzType(), True, "The arrival hour ingested"),
        ("started_at", TimestamptzType(), True, ""),
        ("finished_at", TimestamptzType(), True, ""),
        ("status", StringType(), True, "succeeded or failed"),
        ("audit_branch", StringType(), False, "Branch silver changes were written to; null = main"),
        ("objects", LongType(), True, "Objects in the landing manifest"),
        ("objects_corrupt", LongType(), True, "Objects that could not be read (one quarantine row each)"),
        ("bytes_read", LongType(), True, ""),
        ("records_read", LongType(), True, "Records framed, plus one per unreadable object"),
        ("records_parsed", LongType(), True, "Rows written to bronze"),
        ("records_quarantined", LongType(), True, "Rows written to quarantine"),
        ("quarantined_by_reason", MapType(100, StringType(), 101, LongType()), False, ""),
        ("duplicates_dropped", LongType(), True, "Bronze rows not applied to silver (same event_id)"),
        ("silver_inserted", LongType(), True, ""),
        ("silver_updated", LongType(), True, ""),
        ("silver_snapshot_id", LongType(), False, "Silver snapshot the run produced"),
        # Byte-level accounting (optional: existing tables gain them by evolution).
        ("bytes_decoded", LongType(), False, "Decoded size of the objects (an unreadable object: its raw size)"),
        ("bytes_parsed", LongType(), False, "Bytes of the records written to bronze"),
        ("bytes_quarantined", LongType(), False, "Bytes of the quarantined spans and unreadable objects"),
        ("bytes_whitespace", LongType(), False, "Whitespace between records (separators, BOMs), counted by byte class"),
        (
            "bytes_corrupt",
            LongType(),
            False,
            "Raw bytes of the objects not read whole (corrupt_object, object_too_large); the gate weighs them",
        ),
        # Objects that landed in an earlier hour's prefix after it was read (lakehouse_core.landing), and
        # Firehose's error output of the hour (optional: existing tables gain them by evolution).
        ("straggler_objects", LongType(), False, "Objects of earlier hours' prefixes no manifest had named"),
        ("straggler_records", LongType(), False, "Records read from them (added to their own arrival hour)"),
        ("firehose_error_objects", LongType(), False, "Objects under firehose-errors/ for the hour"),
    ),
    partition_by=(("arrival_hour", DayTransform(), "arrival_hour_day"),),
    doc="One row per ingest run with its counts; reconciliation reads from here.",
)

DQ_RESULTS = TableDef(
    identifier="audit.dq_results",
    schema=_fields(
        ("run_id", StringType(), True, "Ingest run whose audit branch was validated"),
        ("arrival_hour", TimestamptzType(), False, ""),
        ("validated_at", TimestamptzType(), True, ""),
        ("table_name", StringType(), True, ""),
        ("suite_name", StringType(), True, ""),
        ("expectation", StringType(), True, "Expectation type"),
        ("column_name", StringType(), False, ""),
        ("success", BooleanType(), True, ""),
        ("observed_value", StringType(), False, "As JSON"),
        ("element_count", LongType(), False, ""),
        ("unexpected_count", LongType(), False, ""),
        ("unexpected_percent", DoubleType(), False, ""),
        ("details", StringType(), False, "Expectation kwargs and partial unexpected list, as JSON"),
    ),
    partition_by=(("validated_at", DayTransform(), "validated_at_day"),),
    doc="One row per expectation per validation run.",
)

# Product recommendations (spark_jobs/recommend_products.py): replaced as a whole by each run
# that passes its quality check (one overwrite commit per table), unpartitioned (thousands of
# rows per customer list, not billions), sorted for the lookups that serve them.
PRODUCT_RECOMMENDATIONS = TableDef(
    identifier="gold.product_recommendations",
    schema=_fields(
        ("customer_id", StringType(), True, "Customer the list is for"),
        ("rank", IntegerType(), True, "1 = the best recommendation"),
        ("stock_code", StringType(), True, "Recommended product"),
        ("score", DoubleType(), True, "ALS preference score (higher is better; comparable within a run)"),
        ("model_version", StringType(), True, "als-<as_of>-<parameters>: the data cut and parameters"),
        ("trained_at", TimestamptzType(), True, "When the run trained the model"),
    ),
    sort_by=("customer_id", "rank"),
    doc="Top-k products per known customer from implicit ALS; the last run that passed its check.",
)

SIMILAR_PRODUCTS = TableDef(
    identifier="gold.similar_products",
    schema=_fields(
        ("stock_code", StringType(), True, "Product being viewed"),
        ("rank", IntegerType(), True, "1 = the most similar"),
        ("similar_stock_code", StringType(), True, "Product to show next to it"),
        ("score", DoubleType(), True, "Cosine similarity of the ALS item factors (-1..1)"),
        ("model_version", StringType(), True, "Same as product_recommendations of the run"),
        ("trained_at", TimestamptzType(), True, "When the run trained the model"),
    ),
    sort_by=("stock_code", "rank"),
    doc="Item-to-item recommendations for anonymous visitors (no customer needed).",
)

RECOMMENDATION_RUNS = TableDef(
    identifier="audit.recommendation_runs",
    schema=_fields(
        ("run_id", StringType(), True, "Recommendation run id"),
        ("model_version", StringType(), True, ""),
        ("trained_at", TimestamptzType(), True, ""),
        ("as_of", DateType(), True, "Training data is strictly before this day (UTC)"),
        ("holdout_start", DateType(), True, "Evaluation: trained before, tested from this day to as_of"),
        ("model", StringType(), True, "als, popularity or affinity"),
        ("k", IntegerType(), True, "List length the metrics are computed at"),
        ("precision_at_k", DoubleType(), True, ""),
        ("recall_at_k", DoubleType(), True, ""),
        ("coverage", DoubleType(), True, "Share of the catalogue in at least one evaluated list"),
        ("evaluated_customers", LongType(), True, "Customers who bought both before and in the holdout"),
        ("status", StringType(), True, "published or rejected (the whole run)"),
        ("reasons", StringType(), False, "Why a run was rejected; null when published"),
        ("train_purchases", LongType(), False, "Purchase lines the published model was trained on"),
        ("customers", LongType(), False, "Customers with a published list"),
        ("products", LongType(), False, "Products in the catalogue the model knows"),
        ("training_seconds", DoubleType(), False, "Wall time of the run's two ALS fits"),
        ("parameters", StringType(), False, "ALS parameters and seed, as JSON"),
    ),
    partition_by=(("trained_at", DayTransform(), "trained_at_day"),),
    doc="One row per model per recommendation run: the holdout metrics and the run's verdict.",
)

# The transaction-rate alarm (pipeline.rate_alarm): one row per (arrival hour, kind) that was
# notified. The row is the alarm's "already paged" mark: a re-run or backfill of the hour finds it
# and stays quiet. Written by the hourly DAG's rate_alarm task through pyiceberg, in every environment.
RATE_ALARMS = TableDef(
    identifier="audit.rate_alarms",
    schema=_fields(
        ("arrival_hour", TimestamptzType(), True, "The Firehose arrival hour the alarm is about"),
        ("alarm_kind", StringType(), True, "zero, drop or spike"),
        ("order_count", LongType(), True, "Orders observed in the hour"),
        ("expected_order_count", DoubleType(), False, "Median orders of the baseline"),
        ("lower_order_count", DoubleType(), False, "Lower edge of the normal band"),
        ("upper_order_count", DoubleType(), False, "Upper edge of the normal band"),
        ("order_score", DoubleType(), False, "Robust score (observed - expected) / scale"),
        ("net_revenue", DoubleType(), False, "Net product revenue observed"),
        ("expected_net_revenue", DoubleType(), False, "Median net revenue of the baseline"),
        ("baseline", StringType(), False, "hour_of_week or hour_of_day"),
        ("baseline_points", LongType(), False, "Past hours in the baseline"),
        ("dag_run_id", StringType(), True, "The DAG run that raised it"),
        ("detected_at", TimestamptzType(), True, "When it was raised"),
        ("notified", StringType(), True, "Where it went: sns:<message id>, or log"),
    ),
    partition_by=(("arrival_hour", DayTransform(), "arrival_hour_day"),),
    doc="Transaction-rate alarms raised, one row per arrival hour and kind (the idempotence mark).",
)

TABLES: tuple[TableDef, ...] = (
    ORDERS_RAW,
    ORDERS_QUARANTINE,
    ORDER_LINES,
    INGEST_RUNS,
    DQ_RESULTS,
    PRODUCT_RECOMMENDATIONS,
    SIMILAR_PRODUCTS,
    RECOMMENDATION_RUNS,
    RATE_ALARMS,
)
NAMESPACES: tuple[str, ...] = tuple(dict.fromkeys(t.namespace for t in TABLES))


def table(identifier: str) -> TableDef:
    for t in TABLES:
        if t.identifier == identifier:
            return t
    raise KeyError(f"unknown table {identifier!r}; known: {', '.join(t.identifier for t in TABLES)}")
