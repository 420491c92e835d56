"""Names and schemas the ingest shares with its tables and its callers.

The tables themselves are defined once, in `lakehouse_core.tables` (pyiceberg, applied by
`lakehouse init`); the job cannot import that module on Glue/EMR, so the Spark-side shapes
live here and a unit test checks they match.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column
from pyspark.sql import types as T

from spark_jobs.limits import CLOCK_SKEW_MINUTES, LATENESS_HOURS, MAX_OBJECT_BYTES

# re-exported: the job's defaults, beside the other limits (defined once, in spark_jobs.limits)
__all__ = ["CLOCK_SKEW_MINUTES", "LATENESS_HOURS", "MAX_OBJECT_BYTES"]

REASONS = (
    "malformed_json",  # no JSON value parses there (framing), or a record's JSON is invalid (Spark)
    "missing_required_field",
    "wrong_type",
    "oversize_record",
    "corrupt_object",  # the object cannot be decoded: one row for the whole object
    "not_an_object",  # a JSON value that is not an object: [1, 2], 42, "x", null
    "late_beyond_window",  # a valid event older than the lateness window before its arrival hour
    "invalid_utf8",  # bytes that are not UTF-8: kept exactly in raw_bytes, never repaired into silver
    "future_event",  # a valid event later than its arrival hour's end plus the clock skew
    "object_too_large",  # the object decodes to more than max_object_bytes: one row for the object
    "nesting_too_deep",  # a record nested deeper than MAX_NESTING_DEPTH (the JSON parsers' limits)
)
(
    MALFORMED,
    MISSING,
    WRONG_TYPE,
    OVERSIZE,
    CORRUPT_OBJECT,
    NOT_AN_OBJECT,
    LATE_BEYOND_WINDOW,
    INVALID_UTF8,
    FUTURE_EVENT,
    OBJECT_TOO_LARGE,
    NESTING_TOO_DEEP,
) = REASONS
# Object-level reasons: the row stands for (the rest of) an object, not one record.
OBJECT_REASONS = (CORRUPT_OBJECT, OBJECT_TOO_LARGE)

MAX_RECORD_BYTES = 1_024_000  # Firehose's record limit (1,000 KiB)
# An audit branch's ref age (Iceberg `RETAIN n HOURS`): a failed run's branch is kept this long
# for inspection, then the daily `expire_snapshots` removes the ref (and later its files).
AUDIT_BRANCH_RETAIN_HOURS = 72
# Deeper than this, a record is quarantined before any parser sees it: Python's json recurses
# once per level (RecursionError near 1,000) and Spark's Jackson refuses more than 1,000 levels.
MAX_NESTING_DEPTH = 500

CANCELLATION_PREFIX = "C"  # UCI Online Retail: a cancellation invoice's number starts with C


def is_cancellation(invoice_no: Column) -> Column:
    """The line belongs to a cancellation invoice: its number starts with 'C', as sent.

    The one rule (silver's `is_cancellation`, which dbt's marts and the recommender read). Not
    trimmed: the gate's suite holds invoice numbers to `^C?[0-9]{6}$`, so a number with spaces
    never reaches published silver, and the flag describes the number silver stores.
    """
    return invoice_no.startswith(CANCELLATION_PREFIX)


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

# One row per span of an object (a record, a non-object value, an unparsable text) or per
# unreadable object, as the Python framing step emits it (see `framing`).
FRAMED_SCHEMA = T.StructType(
    [
        T.StructField("source_object", T.StringType(), False),
        T.StructField("record_index", T.LongType(), True),  # position among the object's spans; null: object-level row
        # null: object-level row, or a record typed in the worker whose text nothing needs (see `reader`)
        T.StructField("record", T.StringType(), True),
        T.StructField("record_bytes", T.LongType(), False),  # the span's bytes (trimmed); an unreadable object's size
        T.StructField(
            "frame_reason", T.StringType(), True
        ),  # a reason the framing gives itself (malformed_json, not_an_object, corrupt_object, invalid_utf8, ...)
        T.StructField("frame_detail", T.StringType(), True),
        T.StructField("extra_fields", T.StringType(), True),  # JSON object of unknown fields
        T.StructField("whitespace_bytes", T.LongType(), False),  # whitespace after the span (the first also before)
        T.StructField("object_bytes", T.LongType(), True),  # on an object's first row: its decoded size
        T.StructField("raw_bytes", T.BinaryType(), True),  # invalid_utf8 only: the span's exact bytes
        # Typed in the Python worker by Arrow's JSON reader (`reader.typed_records`): true when the
        # event columns below hold the record's values. Null or false: the JVM parses `record`.
        T.StructField("parsed", T.BooleanType(), True),
        *(T.StructField(name, dtype, True) for name, dtype in EVENT_FIELDS),
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
    "raw_bytes",  # last: added to existing tables by schema evolution
)
# record_index last: added to existing tables by schema evolution, which appends columns.
SILVER_COLUMNS = (*EVENT_COLUMNS, "is_cancellation", *LINEAGE_COLUMNS, "record_index")


@dataclass(frozen=True)
class IngestTables:
    """Table identifiers (namespace.table) inside the catalog; tests point them elsewhere."""

    bronze: str = "bronze.orders_raw"
    quarantine: str = "bronze.orders_quarantine"
    silver: str = "silver.order_lines"
    runs: str = "audit.ingest_runs"

    def qualified(self, catalog: str, prefix: str = "") -> IngestTables:
        """The tables as Spark SQL names them in `catalog`, in the environment of namespace `prefix`."""
        from spark_jobs.naming import TableNames

        names = TableNames(catalog, prefix)
        return IngestTables(*(names.qualified(name) for name in (self.bronze, self.quarantine, self.silver, self.runs)))
