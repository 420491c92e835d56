"""Pure DataFrame functions of the ingest: no I/O, no catalog, each testable alone.

Parsing is done once per record with an explicit schema, never inference: in the Python
workers by Arrow's columnar JSON reader (`reader.typed_records`: the framed rows arrive typed,
`parsed` true), and here, by Spark's `from_json`, for the few records Arrow does not accept
(Arrow is stricter; Spark's reading of them is the contract). Only the rare records the typed
parse rejects are parsed a second time, as text, to tell *why*: not JSON at all
(malformed_json), a required field absent or null (missing_required_field), or a value of the
wrong JSON type (wrong_type); a valid record older than the lateness window is
late_beyond_window, one later than its arrival hour's end plus the clock skew future_event.
Spans the framing already rejected (malformed_json, not_an_object, oversize_record,
invalid_utf8, nesting_too_deep, and the object-level corrupt_object and object_too_large) are
never parsed.

Spark's JSON reader accepts single-quoted strings by default; JSON does not, so that is
switched off (the simulator's malformed records include single quotes).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import reduce

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs.ingest.contract import (
    BRONZE_COLUMNS,
    CORRUPT_COLUMN,
    EVENT_COLUMNS,
    EVENT_FIELDS,
    FUTURE_EVENT,
    LATE_BEYOND_WINDOW,
    MALFORMED,
    MAX_RECORD_BYTES,
    MISSING,
    QUARANTINE_COLUMNS,
    REQUIRED_FIELDS,
    SILVER_COLUMNS,
    WRONG_TYPE,
    is_cancellation,
)

JSON_OPTIONS = {
    "mode": "PERMISSIVE",
    "columnNameOfCorruptRecord": CORRUPT_COLUMN,
    "allowSingleQuotes": "false",
    "allowNonNumericNumbers": "false",
}
TYPED_SCHEMA = T.StructType(
    [T.StructField(name, dtype, True) for name, dtype in EVENT_FIELDS] + [T.StructField(CORRUPT_COLUMN, T.StringType())]
)
# Every field as text: succeeds for any valid JSON object, so it separates syntax from type errors.
TEXT_SCHEMA = T.StructType(
    [T.StructField(name, T.StringType(), True) for name, _ in EVENT_FIELDS]
    + [T.StructField(CORRUPT_COLUMN, T.StringType())]
)
_TYPED_FIELDS = tuple(name for name, dtype in EVENT_FIELDS if not isinstance(dtype, T.StringType))
_EPOCH = "TIMESTAMP'0001-01-01 00:00:00'"
# The columns of a row's place in the "newest wins" order (see `version_key`).
VERSION_COLUMNS = ("emitted_at", "arrival_hour", "source_object", "record_index")


def version_key(alias: str = "") -> str:
    """SQL of a row's place in the one total order of versions of an event: newest wins.

    By `emitted_at` (the producer's clock; null = oldest), then the arrival hour, then the
    object's key (Firehose names carry the flush time, so within an hour a later key is a
    later delivery), then the record's position in the object (null = before any). So a
    producer's re-send with the same `emitted_at` and a corrected payload wins over the
    first send, whether Firehose put the two in one hour or in two. Compared as a struct
    (field by field, left to right). The dedupe inside an hour orders by it and the MERGE
    into silver compares by it, so silver is the maximum over every copy ingested, whatever
    the split into hours and the order the hours run in.
    """
    p = f"{alias}." if alias else ""
    return (
        f"named_struct('emitted_at', coalesce({p}emitted_at, {_EPOCH}), 'arrival_hour', {p}arrival_hour, "
        f"'source_object', {p}source_object, 'record_index', coalesce({p}record_index, -1))"
    )


# "s is a newer version than t": one definition, used by the batch classification and by the
# MERGE, so their counts agree.
NEWER_SQL = f"{version_key('s')} > {version_key('t')}"


def parse_records(
    framed: DataFrame,
    oldest_event_ts: datetime | Column | None = None,
    newest_event_ts: datetime | Column | None = None,
    raw_max_chars: int = MAX_RECORD_BYTES,
) -> DataFrame:
    """Framed spans -> typed event columns plus `reason_code`/`reason_detail` (null = valid).

    Output: source_object, record_index, record_bytes, whitespace_bytes, object_bytes,
    extra_fields, reason_code, reason_detail, raw_record (the text of rejected records only,
    up to `raw_max_chars` characters: whole for any record within the size limit), raw_bytes
    (invalid_utf8 only), and EVENT_COLUMNS.

    A valid record costs one typed parse and a null check; only the rest are diagnosed (a
    second parse as text, the list of missing or mistyped fields), so the common path stays
    cheap and code-generated. With `oldest_event_ts` (arrival hour minus the lateness
    window), a valid record whose event_ts is older is `late_beyond_window`; with
    `newest_event_ts` (arrival hour end plus the clock skew), one whose event_ts is later is
    `future_event`: the gate's range check uses the same bounds, so one bad clock does not
    hold back its hour, while many still fail it through the quarantine share.
    """
    # typed in the Python worker (`reader.typed_records`), or parsed here from the text
    arrow = F.struct(*(F.col(n) for n in EVENT_COLUMNS), F.lit(None).cast("string").alias(CORRUPT_COLUMN))
    typed = F.when(
        F.col("frame_reason").isNull(),
        F.when(F.col("parsed"), arrow).otherwise(F.from_json("record", TYPED_SCHEMA, JSON_OPTIONS)),
    )
    step = framed.select("*", typed.alias("_p"))
    corrupt = F.col(f"_p.{CORRUPT_COLUMN}").isNotNull()
    complete = reduce(lambda a, b: a & b, (F.col(f"_p.{n}").isNotNull() for n in REQUIRED_FIELDS))
    step = step.select(
        "*",
        F.when(corrupt, F.from_json("record", TEXT_SCHEMA, JSON_OPTIONS)).alias("_d"),
        (F.col("frame_reason").isNull() & (corrupt | ~complete)).alias("_diagnose"),
    )
    malformed = corrupt & F.col(f"_d.{CORRUPT_COLUMN}").isNotNull()

    def absent(name: str) -> Column:
        return F.when(corrupt, F.col(f"_d.{name}").isNull()).otherwise(F.col(f"_p.{name}").isNull())

    # concat_ws skips nulls: the names of the fields that fail, "" when none does
    missing = F.concat_ws(", ", *(F.when(absent(n), F.lit(n)) for n in REQUIRED_FIELDS))
    mistyped = F.concat_ws(
        ", ",
        *(
            F.when(
                F.col(f"_p.{n}").isNull() & F.col(f"_d.{n}").isNotNull(),
                F.concat(F.lit(f"{n}="), F.substring(F.col(f"_d.{n}"), 1, 80)),
            )
            for n in _TYPED_FIELDS
        ),
    )
    diagnosed = step.select(
        "*",
        F.when(F.col("_diagnose") & ~malformed, missing).alias("_missing"),
        F.when(F.col("_diagnose") & corrupt & ~malformed, mistyped).alias("_mistyped"),
    )
    has_missing = F.col("_missing") != ""
    late, late_detail = _outside(oldest_event_ts, -1, "before the lateness window, which starts at")
    future, future_detail = _outside(newest_event_ts, 1, "after its arrival hour's end plus the clock skew:")
    reason = (
        F.when(F.col("frame_reason").isNotNull(), F.col("frame_reason"))
        .when(~F.col("_diagnose") & late, F.lit(LATE_BEYOND_WINDOW))
        .when(~F.col("_diagnose") & future, F.lit(FUTURE_EVENT))
        .when(~F.col("_diagnose"), F.lit(None))
        .when(malformed, F.lit(MALFORMED))
        .when(has_missing, F.lit(MISSING))
        .otherwise(F.lit(WRONG_TYPE))
    )
    detail = (
        F.when(F.col("frame_reason").isNotNull(), F.col("frame_detail"))
        .when(~F.col("_diagnose") & late, late_detail)
        .when(~F.col("_diagnose") & future, future_detail)
        .when(~F.col("_diagnose"), F.lit(None))
        .when(malformed, F.lit("not a valid JSON object"))
        .when(has_missing, F.concat(F.lit("missing or null: "), F.col("_missing")))
        .when(F.col("_mistyped") != "", F.concat(F.lit("wrong type: "), F.col("_mistyped")))
        .otherwise(F.lit("does not match the schema"))
    )
    out = diagnosed.select(
        "source_object",
        "record_index",
        "record_bytes",
        "whitespace_bytes",
        "object_bytes",
        "extra_fields",
        "record",
        "raw_bytes",
        reason.alias("reason_code"),
        detail.alias("reason_detail"),
        *(F.col(f"_p.{name}").alias(name) for name in EVENT_COLUMNS),
    )
    # the span's text runs on over its trailing separator (zero-copy): trim it, keep the rest whole
    head = F.substring("record", 1, raw_max_chars + 64)
    trimmed = F.regexp_replace(head, r"[\s\x{FEFF}]+$", "")
    raw = F.when(F.col("reason_code").isNotNull(), F.substring(trimmed, 1, raw_max_chars))
    return out.select("*", raw.alias("raw_record")).drop("record")


def _outside(bound: datetime | Column | None, side: int, words: str) -> tuple[Column, Column]:
    """(is the parsed event_ts before (side -1) or after (side 1) `bound`, the detail saying so);
    never, without a bound.

    `bound` may be a Column (a bulk run's rows each carry their own arrival hour's bound,
    `spark_jobs.ingest.bulk`): the detail then formats the row's bound, in the same text.
    """
    if bound is None:
        return F.lit(False), F.lit(None)
    limit = F.lit(bound).cast(T.TimestampType())
    condition = F.col("_p.event_ts") < limit if side < 0 else F.col("_p.event_ts") > limit
    shown = (
        F.date_format(limit, "yyyy-MM-dd'T'HH:mm:ss'Z'")
        if isinstance(bound, Column)
        else F.lit(f"{bound:%Y-%m-%dT%H:%M:%SZ}")
    )
    detail = F.concat(
        F.lit("event_ts "),
        F.date_format("_p.event_ts", "yyyy-MM-dd'T'HH:mm:ss'Z'"),
        F.lit(f" is {words} "),
        shown,
    )
    return F.coalesce(condition, F.lit(False)), detail


def with_lineage(df: DataFrame, arrival_hour: datetime, run_id: str, ingested_at: datetime) -> DataFrame:
    return df.withColumns(
        {
            "arrival_hour": F.lit(arrival_hour).cast(T.TimestampType()),
            "run_id": F.lit(run_id),
            "ingested_at": F.lit(ingested_at).cast(T.TimestampType()),
        }
    )


def bronze_rows(parsed: DataFrame, arrival_hour: datetime, run_id: str, ingested_at: datetime) -> DataFrame:
    """Valid records with lineage, duplicates kept (bronze is the faithful record of input)."""
    valid = parsed.where(F.col("reason_code").isNull())
    return with_lineage(valid, arrival_hour, run_id, ingested_at).select(*BRONZE_COLUMNS)


def quarantine_rows(parsed: DataFrame, arrival_hour: datetime, run_id: str, ingested_at: datetime) -> DataFrame:
    """Rejected records (and unreadable objects) with their reason, their text and (not UTF-8) their bytes."""
    rejected = parsed.where(F.col("reason_code").isNotNull()).withColumnRenamed("record_bytes", "raw_size_bytes")
    return with_lineage(rejected, arrival_hour, run_id, ingested_at).select(*QUARANTINE_COLUMNS)


def duplicate_ids(bronze: DataFrame) -> DataFrame:
    """event_id and copies for the ids that occur more than once in the batch (a narrow shuffle)."""
    return bronze.groupBy("event_id").agg(F.count(F.lit(1)).alias("copies")).where("copies > 1")


def latest_per_event(bronze: DataFrame, duplicates: DataFrame | None = None) -> DataFrame:
    """One row per event_id: the newest by `version_key` (emitted_at, then the latest arrival).

    The order is total, so re-runs pick the same winner, and it is the MERGE's order, so an
    hour's winner is the one silver would keep had its copies arrived in separate hours.

    With `duplicates` (from `duplicate_ids`, small), only rows of duplicated ids go through the
    window; the other 99% pass straight through instead of being shuffled and sorted in full.
    """
    order = Window.partitionBy("event_id").orderBy(F.expr(version_key()).desc())

    def winners(df: DataFrame) -> DataFrame:
        return df.withColumn("_rank", F.row_number().over(order)).where("_rank = 1").drop("_rank")

    if duplicates is None:
        return winners(bronze)
    repeated_ids = F.broadcast(duplicates.select("event_id"))
    unique = bronze.join(repeated_ids, "event_id", "left_anti")
    repeated = bronze.join(repeated_ids, "event_id", "left_semi")
    return unique.unionByName(winners(repeated)).select(*bronze.columns)


ID_HASH = "_event_id_hash"


def matching_target(target: DataFrame, batch: DataFrame) -> DataFrame:
    """(event_id and the `VERSION_COLUMNS`) of the target rows that may share an event_id with the batch.

    `batch` needs only event_id: callers pass the batch's bronze rows, whose ids are those of
    its deduplicated rows, so the dedupe is not computed for the probe (it is for the MERGE).

    The batch's keys are broadcast as 64-bit hashes and the target only streams through a probe
    of longs: the target (hours of silver: millions of rows) is never shuffled, and the build
    side is a million longs, not a million strings (with the bronze ids: 6.3-6.6 -> 3.7-3.9 CPU
    s for 1M ids against 4.9M silver rows, docs/benchmarks.md). A hash match is a superset of an id match: callers
    join the result with the batch on event_id (`classify`, the MERGE's ids), so a collision
    costs one row read, never a wrong change. The result is small (the re-sent and updated
    events), so callers may collect it.
    """
    hashed = F.xxhash64("event_id").alias(ID_HASH)
    keys = F.broadcast(batch.select(hashed))
    rows = target.select("event_id", *VERSION_COLUMNS, hashed)
    return rows.join(keys, ID_HASH, "left_semi").drop(ID_HASH)


def silver_rows(latest: DataFrame) -> DataFrame:
    """Deduplicated events in silver's shape."""
    return latest.withColumn("is_cancellation", is_cancellation(F.col("invoice_no"))).select(*SILVER_COLUMNS)


def classify(batch: DataFrame, target: DataFrame) -> DataFrame:
    """Each batch row with `change`: insert (new event_id), update (newer version) or unchanged.

    `target` needs event_id and the `VERSION_COLUMNS` (the silver rows of the touched days).
    """
    t = target.select("event_id", *VERSION_COLUMNS, F.lit(True).alias("_matched")).alias("t")
    s = batch.alias("s")
    joined = s.join(t, F.col("s.event_id") == F.col("t.event_id"), "left")
    change = (
        F.when(F.col("t._matched").isNull(), F.lit("insert"))
        .when(F.expr(NEWER_SQL), F.lit("update"))
        .otherwise(F.lit("unchanged"))
    )
    return joined.select("s.*", change.alias("change"))


MAX_IDS_IN_CONDITION = 10_000


def ids_condition(ids: list[str] | None, column: str = "t.event_id") -> str:
    """SQL restricting a MERGE target to the ids known to match: `false` for none.

    `None`, or past MAX_IDS_IN_CONDITION ids (the SQL text would grow too large): `true`, and
    the MERGE probes the touched days and hours in full (correct, only slower).
    """
    if ids is None or len(ids) > MAX_IDS_IN_CONDITION:
        return "true"
    if not ids:
        return "false"
    quoted = ", ".join("'" + i.replace("\\", "\\\\").replace("'", "\\'") + "'" for i in ids)
    return f"{column} IN ({quoted})"


def ranges(points: Iterable, step: timedelta) -> list[tuple]:
    """Sorted points -> [first, last] runs of consecutive points `step` apart (days, hours)."""
    runs: list[tuple] = []
    for point in sorted(set(points)):
        if runs and point == runs[-1][1] + step:
            runs[-1] = (runs[-1][0], point)
        else:
            runs.append((point, point))
    return runs


def _literal(moment: date | datetime) -> str:
    text = moment.strftime("%Y-%m-%d %H:%M:%S") if isinstance(moment, datetime) else f"{moment.isoformat()} 00:00:00"
    return f"TIMESTAMP'{text}'"


def _range_condition(points: Iterable, step: timedelta, column: str) -> str:
    parts = [f"({column} >= {_literal(a)} AND {column} < {_literal(b + step)})" for a, b in ranges(points, step)]
    return "(" + " OR ".join(parts) + ")" if parts else "false"


def days_condition(days: Iterable[date], column: str = "t.event_ts") -> str:
    """SQL that keeps only the given event days: what lets a MERGE prune silver's day partitions."""
    return _range_condition(days, timedelta(days=1), column)


def hours_condition(hours: Iterable[datetime], column: str = "t.event_ts") -> str:
    """SQL that keeps only the given event hours (naive UTC, on the hour).

    Finer than the day partitions: silver's files are written sorted by event_ts, so Iceberg
    skips, by their event_ts bounds, the files of a day's other hours. An event keeps its
    event_ts across versions, so a row the batch can match lies in one of the batch's hours.
    """
    return _range_condition(hours, timedelta(hours=1), column)
