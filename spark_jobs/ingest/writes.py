"""Iceberg writes of the ingest, each one atomic (one snapshot commit per table).

Commit order of a run, and what a crash between two commits leaves behind:

1. quarantine: replace the arrival hour        (crash after: quarantine new, the rest old)
2. bronze: replace the arrival hour            (crash after: bronze+quarantine new, silver old)
   (then, for each earlier hour with stragglers, the same two tables: replace those objects' rows)
3. silver: MERGE on the audit branch or main   (crash after: silver new, no run record)
4. audit.ingest_runs: append the run record

Every step is idempotent, so re-running the hour after a crash at any point converges to the
same tables: steps 1-2 replace the hour again (a static overwrite of the hour, which also
empties it when the input has no rows), step 3 changes nothing for rows it already applied
(a row only replaces an older version), and the run record of the completed run is the one
with status `succeeded`. A crash *during* a step leaves that table at its previous snapshot:
an Iceberg commit is one compare-and-swap of the table's metadata pointer in the catalog;
files written before it are orphans that `remove_orphan_files` (maintenance DAG) deletes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_jobs.ingest.contract import REASONS
from spark_jobs.ingest.transforms import NEWER_SQL
from spark_jobs.quality.branches import MAIN, check_branch_name
from spark_jobs.session import runtime_conf

WAP_BRANCH_CONF = "spark.wap.branch"
DISTRIBUTION_CONF = "spark.sql.iceberg.distribution-mode"

RUNS_SCHEMA = T.StructType(
    [
        T.StructField("run_id", T.StringType(), False),
        T.StructField("arrival_hour", T.TimestampType(), False),
        T.StructField("started_at", T.TimestampType(), False),
        T.StructField("finished_at", T.TimestampType(), False),
        T.StructField("status", T.StringType(), False),
        T.StructField("audit_branch", T.StringType(), True),
        T.StructField("objects", T.LongType(), False),
        T.StructField("objects_corrupt", T.LongType(), False),
        T.StructField("bytes_read", T.LongType(), False),
        T.StructField("records_read", T.LongType(), False),
        T.StructField("records_parsed", T.LongType(), False),
        T.StructField("records_quarantined", T.LongType(), False),
        T.StructField("quarantined_by_reason", T.MapType(T.StringType(), T.LongType()), True),
        T.StructField("duplicates_dropped", T.LongType(), False),
        T.StructField("silver_inserted", T.LongType(), False),
        T.StructField("silver_updated", T.LongType(), False),
        T.StructField("silver_snapshot_id", T.LongType(), True),
        T.StructField("bytes_decoded", T.LongType(), True),
        T.StructField("bytes_parsed", T.LongType(), True),
        T.StructField("bytes_quarantined", T.LongType(), True),
        T.StructField("bytes_whitespace", T.LongType(), True),
        T.StructField("bytes_corrupt", T.LongType(), True),
        T.StructField("straggler_objects", T.LongType(), True),
        T.StructField("straggler_records", T.LongType(), True),
        T.StructField("firehose_error_objects", T.LongType(), True),
    ]
)
# Byte-level accounting of a run: decoded = parsed + quarantined + whitespace (see `unaccounted_bytes`).
BYTE_COUNTS = ("bytes_decoded", "bytes_parsed", "bytes_quarantined", "bytes_whitespace")


def unaccounted_bytes(record: dict) -> int:
    """Decoded bytes that are in no record, no quarantined span and no whitespace (0 when all reconcile).

    Negative when spans overlap (bytes counted twice). An unreadable object counts its raw
    bytes on both sides (decoded and quarantined).
    """
    return record["bytes_decoded"] - record["bytes_parsed"] - record["bytes_quarantined"] - record["bytes_whitespace"]


def replace_hour(df: DataFrame, table: str, arrival_hour: datetime) -> None:
    """Atomically replace the rows of one arrival hour with `df` (an empty df empties the hour).

    A static overwrite by filter, not `overwritePartitions()`: dynamic overwrite only replaces
    partitions present in the new data, so a re-run that produced no rows would keep stale ones.
    The filter covers the whole `hours(arrival_hour)` partition, so Iceberg drops whole files.
    `distribution-mode=none`: the hour is one partition; without it Iceberg would shuffle every
    row to a single writer task.
    """
    hour = F.lit(arrival_hour).cast(T.TimestampType())
    df.writeTo(table).option("distribution-mode", "none").overwrite(F.col("arrival_hour") == hour)


def replace_hours(df: DataFrame, table: str, arrival_hours: list[datetime]) -> None:
    """`replace_hour` for several arrival hours in one commit (a bulk backfill's range).

    One static overwrite by filter (`arrival_hour IN (...)`, whole `hours(arrival_hour)`
    partitions, so Iceberg drops whole files); hours not named keep their rows. Distribution
    `hash`: the rows of many hours arrive unclustered, and each hour's rows go to one writer task
    (one file per hour, as the hourly runs write).
    """
    if not arrival_hours:
        return
    hours = [F.lit(h).cast(T.TimestampType()) for h in sorted(arrival_hours)]
    df.writeTo(table).option("distribution-mode", "hash").overwrite(F.col("arrival_hour").isin(hours))


def replace_objects(spark, df: DataFrame, table: str, arrival_hour: datetime, uris: list[str]) -> None:
    """Add the rows of some objects to an earlier arrival hour, keeping the hour's other rows.

    For stragglers (objects that landed in the hour's prefix after it was read): keyed on the
    object, so a retry converges. Rows an earlier attempt left for these objects are deleted
    first (a row-level DELETE, only when there are any), then the rows appended: two commits,
    and a crash between them leaves the objects absent, as before the run. Not one static
    overwrite by filter: Iceberg refuses a filter that matches only part of a data file, and the
    hour's files hold other objects' rows too.
    """
    hour = F.lit(arrival_hour).cast(T.TimestampType())
    mine = (F.col("arrival_hour") == hour) & F.col("source_object").isin(uris)
    if not spark.table(table).where(mine).isEmpty():
        quoted = ", ".join("'" + u.replace("\\", "\\\\").replace("'", "\\'") + "'" for u in uris)
        at = arrival_hour.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        spark.sql(f"DELETE FROM {table} WHERE arrival_hour = CAST('{at}' AS TIMESTAMP) AND source_object IN ({quoted})")
    df.writeTo(table).option("distribution-mode", "none").append()


def current_snapshot_id(spark, table: str, ref: str = MAIN) -> int | None:
    rows = spark.sql(f"SELECT snapshot_id FROM {table}.refs WHERE name = '{ref}'").collect()  # nosec B608  # table and ref from code
    return int(rows[0][0]) if rows else None


def prepare_branch(spark, table: str, branch: str, retain_hours: int) -> bool:
    """Point `branch` at main's current snapshot (create or replace), so the run starts from main.

    The branch is created with a ref age (`RETAIN n HOURS`): Iceberg's `expire_snapshots`
    removes it once its head is older than that, so a failed run's branch, kept for inspection,
    goes by itself with the daily snapshot expiry; nothing of ours sweeps branches.

    A table without any snapshot has nothing to branch from: a stale branch of an earlier
    attempt is dropped, the first write on the branch creates it, and `retain_branch` gives it
    its ref age afterwards. Returns whether the branch was cut here.
    """
    check_branch_name(branch)
    if current_snapshot_id(spark, table, MAIN) is not None:
        spark.sql(f"ALTER TABLE {table} CREATE OR REPLACE BRANCH `{branch}` RETAIN {int(retain_hours)} HOURS")
        return True
    if current_snapshot_id(spark, table, branch) is not None:
        spark.sql(f"ALTER TABLE {table} DROP BRANCH `{branch}`")
    return False


def retain_branch(spark, table: str, branch: str, retain_hours: int) -> None:
    """Give a branch that a write created (see `prepare_branch`) its ref age; no branch, no-op."""
    head = current_snapshot_id(spark, table, check_branch_name(branch))
    if head is not None:
        spark.sql(
            f"ALTER TABLE {table} REPLACE BRANCH `{branch}` AS OF VERSION {head} RETAIN {int(retain_hours)} HOURS"
        )


def merge_silver(
    spark, batch: DataFrame, table: str, prune: str, view: str, branch: str | None, updates: bool = True
) -> None:
    """Upsert the deduplicated batch: insert new event_ids, replace older versions, else nothing.

    `prune` restricts the target: to the event days the batch touches (partition pruning on
    `days(event_ts)`), so an hour's MERGE reads those days only however large silver grows,
    and to the ids the caller found to match, so it does not scan those days at all when
    nothing matches. Without `updates` (the caller found no newer versions) the MERGE has
    only its NOT MATCHED clause, which Iceberg plans as an append: no join with silver and no
    shuffle of the batch, where a MATCHED clause means a full outer join of both.

    With a branch, the write goes to it through Iceberg's WAP session setting; main stays put.
    Write distribution `none`: each task writes its rows sorted by the table's sort order,
    instead of shuffling every row of a day to one writer task.
    """
    batch.createOrReplaceTempView(view)
    matched = f"WHEN MATCHED AND {NEWER_SQL} THEN UPDATE SET *" if updates else ""  # nosec B608  # view and table names from code
    sql = f"""
        MERGE INTO {table} t
        USING {view} s
        ON t.event_id = s.event_id AND {prune}
        {matched}
        WHEN NOT MATCHED THEN INSERT *
    """
    settings = {DISTRIBUTION_CONF: "none"}
    if branch:
        settings[WAP_BRANCH_CONF] = check_branch_name(branch)
    try:
        with runtime_conf(spark, settings):
            spark.sql(sql)
    finally:
        spark.catalog.dropTempView(view)


def append_run(spark, table: str, record: dict) -> None:
    """Append the run record (one row) to audit.ingest_runs."""
    append_runs(spark, table, [record])


def append_runs(spark, table: str, records: list[dict]) -> None:
    """Append run records in one commit (a bulk run: one row per arrival hour)."""
    rows = []
    for record in records:
        row = {name: record.get(name) for name in RUNS_SCHEMA.fieldNames()}
        row["quarantined_by_reason"] = {r: int(n) for r, n in (row.get("quarantined_by_reason") or {}).items()}
        for name in ("started_at", "finished_at", "arrival_hour"):
            if isinstance(row[name], str):
                row[name] = datetime.fromisoformat(row[name].replace("Z", "+00:00"))
        rows.append(row)
    spark.createDataFrame(rows, RUNS_SCHEMA).writeTo(table).append()


def empty_reason_counts() -> dict[str, int]:
    return dict.fromkeys(REASONS, 0)
