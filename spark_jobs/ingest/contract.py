"""Names and schemas the ingest shares with its tables and its callers.

The tables themselves are defined once, in `pipeline.tables` (pyiceberg, applied by
`lakehouse init`); the job cannot import that module on Glue/EMR, so the Spark-side shapes
live here and a unit test checks they match.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import types as T

REASONS = ("malformed_json", "missing_required_field", "wrong_type", "oversize_record", "corrupt_object")
MALFORMED, MISSING, WRONG_TYPE, OVERSIZE, CORRUPT_OBJECT = REASONS

MAX_RECORD_BYTES = 1_024_000  # Firehose's record limit (1,000 KiB)
RAW_RECORD_MAX_CHARS = 4096  # quarantine keeps this much of a rejected record's text

MONEY = T.DecimalType(12, 3)
# The order-line event as the producer sends it, with the Spark type each field parses to.
EVENT_FIELDS: tuple[tuple[str, T.DataType], ...] = (
    ("event_id", T.StringType()),
    ("invoice_no", T.StringType()),
    ("invoice_line", T.IntegerType()),
    ("stock_code", T.StringType()),
    ("description", T.StringType()),
    ("quantity", T.IntegerType()),
    ("unit_price", MONEY),
    ("currency", T.StringType()),
    ("customer_id", T.StringType()),
    ("country", T.StringType()),
    ("event_ts", T.TimestampType()),
    ("emitted_at", T.TimestampType()),
)
EVENT_COLUMNS = tuple(name for name, _ in EVENT_FIELDS)
REQUIRED_FIELDS = (
    "event_id",
    "invoice_no",
    "invoice_line",
    "stock_code",
    "quantity",
    "unit_price",
    "currency",
    "country",
    "event_ts",
)
# Fields the producer sends that the tables do not keep; they are not "extra".
IGNORED_FIELDS = ("schema_version",)
KNOWN_FIELDS = frozenset(EVENT_COLUMNS) | frozenset(IGNORED_FIELDS)
CORRUPT_COLUMN = "_corrupt_record"

# One row per framed record (or per unreadable object), as the Python framing step emits it.
FRAMED_SCHEMA = T.StructType(
    [
        T.StructField("source_object", T.StringType(), False),
        T.StructField("record_index", T.LongType(), True),  # null: object-level row
        T.StructField("record", T.StringType(), True),  # null: object-level row
        T.StructField("record_bytes", T.LongType(), False),
        T.StructField("frame_reason", T.StringType(), True),  # oversize_record / corrupt_object
        T.StructField("frame_detail", T.StringType(), True),
        T.StructField("extra_fields", T.StringType(), True),  # JSON object of unknown fields
    ]
)

LINEAGE_COLUMNS = ("source_object", "arrival_hour", "run_id", "ingested_at")
BRONZE_COLUMNS = (*EVENT_COLUMNS, "record_index", "extra_fields", *LINEAGE_COLUMNS)
QUARANTINE_COLUMNS = (
    "reason_code",
    "reason_detail",
    "raw_record",
    "raw_size_bytes",
    "record_index",
    *LINEAGE_COLUMNS,
)
SILVER_COLUMNS = (*EVENT_COLUMNS, "is_cancellation", *LINEAGE_COLUMNS)


@dataclass(frozen=True)
class IngestTables:
    """Table identifiers (namespace.table) inside the catalog; tests point them elsewhere."""

    bronze: str = "bronze.orders_raw"
    quarantine: str = "bronze.orders_quarantine"
    silver: str = "silver.order_lines"
    runs: str = "audit.ingest_runs"

    def qualified(self, catalog: str) -> IngestTables:
        from spark_jobs.naming import physical

        names = (self.bronze, self.quarantine, self.silver, self.runs)
        return IngestTables(*(f"{catalog}.{physical(name)}" for name in names))
