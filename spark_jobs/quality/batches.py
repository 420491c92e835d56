"""The DataFrames the suites run on, read from the run's audit branch and from the run's audit row.

Three batches, each named in its suite's `meta.batches`:

- `run_rows` (silver.order_lines): rows with `run_id = <run>` on the audit branch, restricted to
  the event days the run's commits touched (partition pruning: only those days are read).
- `event_days` (silver.order_lines): rows on the branch in those days, whichever run wrote them,
  that share an event id with the run's rows, projected to the columns the cross-run checks
  need (event-id uniqueness): the run's rows plus `other_runs_sharing_ids`.
- `ingest_run` (audit.ingest_runs): the run's latest row on `main`, with the derived columns the
  suite declares as SQL in `meta.derived_columns`, plus what only the gate knows
  (`silver_rows_on_branch`).

Why cache `run_rows`: GX on Spark runs at least one Spark job per expectation; on a cached
DataFrame each is a scan of memory instead of a read of Parquet files. The gate caches it
uncompressed (`spark_jobs.session.UNCOMPRESSED_CACHE`, about 200 MB for 1M rows, held for the
few seconds of the gate).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from spark_jobs.naming import TableNames
from spark_jobs.quality import branches

SILVER = "silver.order_lines"
INGEST_RUNS = "audit.ingest_runs"
DQ_RESULTS = "audit.dq_results"
RUN_ROWS = "run_rows"
EVENT_DAYS = "event_days"
INGEST_RUN = "ingest_run"
GATE_COLUMNS = {"silver_rows_on_branch"}  # derived columns the gate provides, not SQL
IDENTIFYING_COLUMNS = ("event_id", "invoice_no", "invoice_line", "event_ts", "run_id")  # shown in samples
PARTITION_DAY_FIELD = "event_ts_day"
ID_HASH = "_event_id_hash"


@dataclass
class BranchState:
    """Where `main` and the audit branch of a table point, and what the branch added."""

    table: str  # catalog-qualified
    branch: str
    branch_snapshot_id: int
    main_snapshot_id: int | None
    run_snapshots: list[int]
    days: list[date]
    main_is_ancestor: bool = True  # False: main moved since the branch was cut; publish will refuse
    branch_max_age_ms: int | None = None  # the branch's ref age: snapshot expiry removes it when older


def branch_state(spark, tables: TableNames, branch: str, table: str = SILVER) -> BranchState:
    """Resolve the branch; `LookupError` when it does not exist (nothing to validate or publish)."""
    name = tables.qualified(table)
    all_refs = branches.refs(spark, name)
    if branch not in all_refs:
        known = ", ".join(sorted(r for r in all_refs if r != branches.MAIN)) or "none"
        raise LookupError(f"{name} has no branch {branch!r} (audit branches: {known})")
    head = all_refs[branch].snapshot_id
    main = all_refs[branches.MAIN].snapshot_id if branches.MAIN in all_refs else None
    parents = branches.snapshot_parents(spark, name)
    own = branches.branch_only_snapshots(parents, head, main)
    days = branches.touched_days(spark, name, own, PARTITION_DAY_FIELD)
    return BranchState(
        name,
        branch,
        head,
        main,
        own,
        days,
        branches.is_ancestor(parents, main, head),
        all_refs[branch].max_age_ms,
    )


def day_ranges_filter(days: list[date], column: str = "event_ts"):
    """`column` inside any of the days, as a Column Iceberg can prune partitions with (None: no days)."""
    from pyspark.sql import functions as F

    condition = None
    for day in days:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = start + timedelta(days=1)
        one = (F.col(column) >= F.lit(start)) & (F.col(column) < F.lit(end))
        condition = one if condition is None else condition | one
    return condition


def branch_table(spark, state: BranchState):
    return spark.read.option("branch", state.branch).table(state.table)


def run_rows(spark, state: BranchState, run_id: str, columns: Iterable[str] = ()):
    """The run's rows on its branch, only `columns` (all when empty) plus the identifying ones.

    Not cached here; the caller caches and unpersists. Projecting first keeps the cache small:
    long free-text columns nobody checks (description) would otherwise dominate it.
    """
    from pyspark.sql import functions as F

    table = branch_table(spark, state)
    if columns:
        wanted = dict.fromkeys([*IDENTIFYING_COLUMNS, *sorted(columns)])
        table = table.select(*[c for c in wanted if c in table.columns])
    days = day_ranges_filter(state.days)
    if days is None:
        return table.where(F.lit(False))
    return table.where(days & (F.col("run_id") == F.lit(run_id)))


def event_day_rows(spark, state: BranchState, columns: Iterable[str] = ()):
    """Rows on the branch in the touched days, `event_id` and `columns` only (samples read them)."""
    from pyspark.sql import functions as F

    table = branch_table(spark, state)
    wanted = dict.fromkeys(["event_id", *sorted(columns)])
    table = table.select(*[c for c in wanted if c in table.columns])
    days = day_ranges_filter(state.days)
    return table.where(F.lit(False)) if days is None else table.where(days)


def other_runs_sharing_ids(spark, state: BranchState, run_id: str, run_df, columns: Iterable[str] = ()):
    """Rows of the touched days that other runs wrote (or no run), sharing an event id with `run_df`.

    With the run's own rows (`run_df`, already cached) these make the `event_days` batch: the
    rows whose ids the run wrote, whichever run wrote them. Uniqueness among them is exactly
    "no row of this run has a second copy in its days", bounded by the run's size instead of
    the day's. Split by writer so the run's rows are not read a second time: whether other runs
    wrote any rows in those days is answered from the `run_id` column alone (0.3 s beside 1M
    rows of the run), and only then are their ids read. None when there are no such rows.
    """
    from pyspark.sql import functions as F

    others = event_day_rows(spark, state, {*columns, "run_id"}).where(~F.col("run_id").eqNullSafe(F.lit(run_id)))
    if others.isEmpty():
        return None
    # The run's ids are broadcast as 64-bit hashes: the days stream through a probe of longs and
    # are never shuffled (for 23M rows of other runs: 5.7 s, against 7.5 s probing the id
    # strings). A hash match is a superset of an id match, and the uniqueness check then runs on
    # the ids themselves, so a collision costs one extra row, never a wrong verdict.
    hashed = F.xxhash64("event_id").alias(ID_HASH)
    run_ids = F.broadcast(run_df.select(hashed))
    return others.select("*", hashed).join(run_ids, ID_HASH, "left_semi").drop(ID_HASH)


def ingest_run_row(spark, tables: TableNames, run_id: str, derived_columns: dict[str, str], silver_rows_on_branch: int):
    """The run's latest audit.ingest_runs row (0 rows if it never recorded itself), with derived columns.

    A bulk run (`spark_jobs.ingest.bulk`) records one row per arrival hour, all with one
    `finished_at`: its latest attempt is those rows, and the gate checks their sum (counts and
    bytes added up, the earliest hour, `failed` unless every row succeeded). An hourly run's one
    row sums to itself. Read on `main` (the audit tables are not branched), inside `without_wap`.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    rows = spark.table(tables.qualified(INGEST_RUNS)).where(F.col("run_id") == F.lit(run_id))
    latest = Window.partitionBy("run_id").orderBy(F.col("finished_at").desc_nulls_last())
    rows = rows.withColumn("_rank", F.rank().over(latest)).where(F.col("_rank") == 1).drop("_rank")
    summed = [
        f.name for f in rows.schema.fields if isinstance(f.dataType, T.LongType) and f.name != "silver_snapshot_id"
    ]
    reasons = "quarantined_by_reason"
    firsts = [c for c in rows.columns if c not in {*summed, reasons, "run_id", "status", "arrival_hour", "started_at"}]
    by_reason = (
        rows.select("run_id", F.explode(reasons).alias("reason", "n"))
        .groupBy("run_id", "reason")
        .agg(F.sum("n").alias("n"))
        .groupBy("run_id")
        .agg(F.map_from_entries(F.collect_list(F.struct("reason", "n"))).alias(reasons))
    )
    rows = rows.groupBy("run_id").agg(
        F.min("arrival_hour").alias("arrival_hour"),
        F.min("started_at").alias("started_at"),
        F.when(F.min("status") == F.max("status"), F.min("status")).otherwise(F.lit("failed")).alias("status"),
        *(F.sum(c).alias(c) for c in summed),
        *(F.first(c).alias(c) for c in firsts),
    )
    rows = rows.join(by_reason, "run_id", "left")
    rows = rows.withColumn("silver_rows_on_branch", F.lit(int(silver_rows_on_branch)).cast("long"))
    for name, expression in derived_columns.items():
        if name in GATE_COLUMNS:
            continue
        rows = rows.withColumn(name, F.expr(expression))
    return rows
