"""One ingest run: landing manifest of an arrival hour -> bronze, quarantine, silver, run record.

A manifest can also name stragglers: objects of earlier hours that landed after those hours were
read (`lakehouse_core.landing`). Each earlier hour is one more `HourBatch`, framed and counted like the
run's own hour, its rows added to that hour in bronze and quarantine (keyed on the objects:
`writes.replace_objects`) and reconciled by object; the batches' bronze rows go to silver in one
MERGE, so silver ends as one run over all the objects would leave it. The run record sums the
batches and counts the stragglers apart (`straggler_objects`, `straggler_records`).

`run_ingest(spark, args)` is the whole job minus the SparkSession, so tests call it with the
test session and the entry script (`spark_jobs/ingest_orders.py`) stays a few lines. It
returns the run's counts, the same dict that goes to `audit.ingest_runs` and, as one JSON
line, to stdout.

Counting is exact and cheap: the parsed hour is cached once, and one aggregation over the
cache gives read/parsed/quarantined counts and bytes (decoded = parsed + quarantined +
whitespace, checked by the gate) and the event days touched; the deduplicated batch
is classified against silver's touched days before the MERGE (insert / update / unchanged),
and only rows that change are merged. Reconciliation is checked on what was committed: after
the bronze write, the hour's bronze and quarantine rows are counted back and must add up to
the records read, or the run fails before silver is touched.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pyspark import StorageLevel
from pyspark.sql import functions as F

from spark_jobs.entry import CatalogArgs
from spark_jobs.ingest import reader, transforms, writes
from spark_jobs.ingest.contract import (
    AUDIT_BRANCH_RETAIN_HOURS,
    CLOCK_SKEW_MINUTES,
    LATENESS_HOURS,
    MAX_OBJECT_BYTES,
    MAX_RECORD_BYTES,
    OBJECT_REASONS,
    IngestTables,
)
from spark_jobs.jobargs import CATALOG_ARGS, JobArg, parse_hour
from spark_jobs.quality.branches import check_branch_name
from spark_jobs.session import UNCOMPRESSED_CACHE, runtime_conf

JOB_ARGS = (
    *CATALOG_ARGS,
    JobArg("manifest", "landing manifest JSON (path, file:// or s3://)"),
    JobArg("arrival_hour", "UTC arrival hour, ISO 8601 (e.g. 2026-11-01T08:00:00Z)"),
    JobArg("run_id", "id of this run (lineage column, audit row)"),
    JobArg(
        "to_hour",
        "bulk backfill: the end (exclusive) of a range of arrival hours starting at --arrival_hour; "
        "--manifest is then the range's manifest (spark_jobs.ingest.bulk)",
        "",
    ),
    JobArg("audit_branch", "write silver to this Iceberg branch instead of main", ""),
    JobArg(
        "audit_branch_retain_hours",
        "the audit branch's ref age (RETAIN n HOURS): snapshot expiry drops the branch when its head is older",
        str(AUDIT_BRANCH_RETAIN_HOURS),
    ),
    JobArg("max_record_bytes", "records larger than this are quarantined", str(MAX_RECORD_BYTES)),
    JobArg(
        "lateness_hours",
        "events older than this many hours before the arrival hour are quarantined as late_beyond_window "
        "(the quality gate's range check uses the same setting)",
        str(LATENESS_HOURS),
    ),
    JobArg(
        "clock_skew_minutes",
        "events later than the arrival hour's end plus this many minutes are quarantined as future_event "
        "(the quality gate's range check uses the same setting)",
        str(CLOCK_SKEW_MINUTES),
    ),
    JobArg(
        "max_object_bytes",
        "an object that decodes to more bytes than this is quarantined whole as object_too_large",
        str(MAX_OBJECT_BYTES),
    ),
)


@dataclass(frozen=True)
class IngestArgs:
    platform: str  # local | glue | emr
    catalog_name: str
    warehouse: str
    manifest: str
    arrival_hour: datetime
    run_id: str
    catalog_uri: str = ""  # JDBC form (local platform)
    catalog_jdbc_user: str = ""
    catalog_jdbc_password: str = ""
    audit_branch: str = ""
    audit_branch_retain_hours: int = AUDIT_BRANCH_RETAIN_HOURS
    max_record_bytes: int = MAX_RECORD_BYTES
    lateness_hours: int = LATENESS_HOURS
    clock_skew_minutes: int = CLOCK_SKEW_MINUTES
    max_object_bytes: int = MAX_OBJECT_BYTES
    to_hour: datetime | None = None  # a bulk run: arrival hours [arrival_hour, to_hour) in one job
    namespace_prefix: str = ""  # the environment's (--namespace_prefix): its tables are `<prefix>bronze...`

    @classmethod
    def from_mapping(cls, raw: Mapping[str, str | None]) -> IngestArgs:
        values = {k: ("" if v is None else str(v).strip()) for k, v in raw.items()}
        catalog = CatalogArgs.from_args(values)
        if catalog.platform == "local" and not catalog.catalog_uri:
            raise ValueError("--catalog_uri is required on the local platform")
        if not catalog.warehouse:
            raise ValueError("--warehouse is required (the Iceberg warehouse root, file:// or s3://)")
        if values.get("audit_branch"):
            check_branch_name(values["audit_branch"])
        max_bytes = int(values.get("max_record_bytes") or MAX_RECORD_BYTES)
        if max_bytes < 1:
            raise ValueError("--max_record_bytes must be >= 1")
        lateness = int(values.get("lateness_hours") or LATENESS_HOURS)
        if lateness < 0:
            raise ValueError("--lateness_hours must be >= 0")
        skew = int(values.get("clock_skew_minutes") or CLOCK_SKEW_MINUTES)
        if skew < 0:
            raise ValueError("--clock_skew_minutes must be >= 0")
        max_object = int(values.get("max_object_bytes") or MAX_OBJECT_BYTES)
        if max_object < 1:
            raise ValueError("--max_object_bytes must be >= 1")
        retain = int(values.get("audit_branch_retain_hours") or AUDIT_BRANCH_RETAIN_HOURS)
        if retain < 1:
            raise ValueError("--audit_branch_retain_hours must be >= 1")
        to_hour = parse_hour(values["to_hour"]) if values.get("to_hour") else None
        if to_hour is not None and to_hour <= parse_hour(values["arrival_hour"]):
            raise ValueError("--to_hour must be after --arrival_hour (the range is [arrival_hour, to_hour))")
        return cls(
            platform=catalog.platform,
            catalog_name=catalog.catalog_name,
            warehouse=catalog.warehouse,
            manifest=values["manifest"],
            arrival_hour=parse_hour(values["arrival_hour"]),
            run_id=values["run_id"],
            catalog_uri=catalog.catalog_uri,
            catalog_jdbc_user=catalog.jdbc_user,
            catalog_jdbc_password=catalog.jdbc_password,
            namespace_prefix=catalog.namespace_prefix,
            audit_branch=values.get("audit_branch", ""),
            audit_branch_retain_hours=retain,
            max_record_bytes=max_bytes,
            lateness_hours=lateness,
            clock_skew_minutes=skew,
            max_object_bytes=max_object,
            to_hour=to_hour,
        )

    def catalog(self) -> CatalogArgs:
        return CatalogArgs(
            self.platform,
            self.catalog_name,
            self.warehouse,
            self.catalog_uri,
            self.catalog_jdbc_user,
            self.catalog_jdbc_password,
            self.namespace_prefix,
        )

    def session_conf(self) -> dict[str, str]:
        """Spark conf registering the Iceberg catalog (on Glue/EMR the launcher may pass it too)."""
        return self.catalog().spark_conf()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stderr(message: str) -> None:
    print(f"[ingest {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


DEFAULT_TABLES = IngestTables()


def run_ingest(
    spark, args: IngestArgs, tables: IngestTables = DEFAULT_TABLES, log: Callable[[str], None] = _stderr
) -> dict:
    """Run the ingest of one arrival hour; return its run record (also appended to audit.ingest_runs)."""
    started = datetime.now(UTC)
    t = tables.qualified(args.catalog_name, args.namespace_prefix)
    hour = args.arrival_hour
    record: dict = {
        "run_id": args.run_id,
        "arrival_hour": iso(hour),
        "started_at": started.isoformat(),
        "status": "failed",
        "audit_branch": args.audit_branch or None,
        **dict.fromkeys(("objects", "objects_corrupt", "bytes_read", "records_read", "records_parsed"), 0),
        **dict.fromkeys(("records_quarantined", "duplicates_dropped", "silver_inserted", "silver_updated"), 0),
        **dict.fromkeys(("straggler_objects", "straggler_records", "firehose_error_objects"), 0),
        **dict.fromkeys(writes.BYTE_COUNTS, 0),
        "bytes_corrupt": 0,
        "quarantined_by_reason": writes.empty_reason_counts(),
        "silver_snapshot_id": None,
    }
    try:
        _run(spark, args, t, started, record, log)
        record["status"] = "succeeded"
    finally:
        record["finished_at"] = datetime.now(UTC).isoformat()
        try:
            writes.append_run(spark, t.runs, record)
        except Exception as exc:  # the run's own error matters more; say why the record is missing
            log(f"could not append the run record to {t.runs}: {exc}")
            if record["status"] == "succeeded":
                raise
    return record


@dataclass(frozen=True)
class HourBatch:
    """Objects of one arrival hour read by the run: its own hour (replaced) or an earlier one's stragglers (added)."""

    hour: datetime
    objects: list
    straggler: bool = False


def hour_batches(manifest: Mapping, hour: datetime) -> list[HourBatch]:
    """The run's own hour first, then each earlier hour with stragglers (lakehouse_core.landing), oldest first."""
    batches = [HourBatch(hour, list(manifest["objects"]))]
    for late in manifest.get("stragglers") or []:
        earlier = parse_hour(late["arrival_hour"])
        if earlier >= hour or any(b.hour == earlier for b in batches):
            raise ValueError(f"manifest names stragglers of {late['arrival_hour']}: not an earlier hour of {iso(hour)}")
        batches.append(HourBatch(earlier, list(late["objects"]), straggler=True))
    return batches


def _run(spark, args: IngestArgs, t: IngestTables, started: datetime, record: dict, log) -> None:
    hour = args.arrival_hour
    manifest = reader.read_manifest(spark, args.manifest)
    if manifest.get("arrival_hour") and parse_hour(manifest["arrival_hour"]) != hour:
        raise ValueError(f"manifest {args.manifest} is for {manifest['arrival_hour']}, not {iso(hour)}")
    batches = hour_batches(manifest, hour)
    every = [o for b in batches for o in b.objects]
    record["objects"] = len(every)
    record["bytes_read"] = sum(int(o["size"]) for o in every)
    record["straggler_objects"] = sum(len(b.objects) for b in batches if b.straggler)
    record["firehose_error_objects"] = int(manifest.get("firehose_error_objects") or 0)
    log(f"{iso(hour)}: {len(every)} objects, {record['bytes_read']:,} bytes (manifest {args.manifest})")
    for late in batches[1:]:
        log(f"{iso(late.hour)}: {len(late.objects)} straggler object(s), landed after that hour was read")

    cached, bronzes, hours = [], [], set()
    try:
        for batch in batches:
            oldest = batch.hour - timedelta(hours=args.lateness_hours)
            newest = batch.hour + timedelta(hours=1, minutes=args.clock_skew_minutes)  # the gate's event_ts_max
            framed = reader.framed_records(
                spark, batch.objects, args.max_record_bytes, args.max_object_bytes, (oldest, newest)
            )
            # the hour is read 4 times from the cache: uncompressed columns cost memory, save CPU
            with runtime_conf(spark, UNCOMPRESSED_CACHE):
                parsed = transforms.parse_records(framed, oldest, newest, args.max_record_bytes)
                parsed = parsed.persist(StorageLevel.MEMORY_AND_DISK)
            cached.append(parsed)
            counts = _zero_counts()
            with runtime_conf(spark, UNCOMPRESSED_CACHE):
                hours.update(_count(parsed, counts))
            _add_counts(record, counts)
            if batch.straggler:
                record["straggler_records"] += counts["records_read"]
            quarantine = transforms.quarantine_rows(parsed, batch.hour, args.run_id, started)
            bronze = transforms.bronze_rows(parsed, batch.hour, args.run_id, started)
            if batch.straggler:  # add to the earlier hour, keyed on the object: its other rows stay
                uris = [o["uri"] for o in batch.objects]
                writes.replace_objects(spark, quarantine, t.quarantine, batch.hour, uris)
                writes.replace_objects(spark, bronze, t.bronze, batch.hour, uris)
            else:
                writes.replace_hour(quarantine, t.quarantine, batch.hour)
                log(f"committed {t.quarantine} for {iso(batch.hour)}")
                writes.replace_hour(bronze, t.bronze, batch.hour)
            log(f"committed {t.bronze} for {iso(batch.hour)}{' (stragglers)' if batch.straggler else ''}")
            _reconcile(spark, t, batch, counts)
            bronzes.append(bronze)
        log(
            f"read {record['records_read']:,} records: {record['records_parsed']:,} valid, "
            f"{record['records_quarantined']:,} quarantined {_nonzero(record['quarantined_by_reason'])}"
        )
        unaccounted = writes.unaccounted_bytes(record)
        if unaccounted:  # the gate fails the run on this; say it where the run happens too
            log(
                f"WARNING: {unaccounted:,} decoded bytes are neither in a record, a quarantined span nor "
                f"whitespace ({_bytes_summary(record)}): the framing lost input"
            )
        bronze = functools.reduce(lambda a, b: a.unionByName(b), bronzes)
        _silver(spark, args, t, bronze, sorted(hours), record, log)
    finally:
        for parsed in cached:
            parsed.unpersist()


COUNTED = (
    "records_read",
    "records_parsed",
    "records_quarantined",
    "objects_corrupt",
    "bytes_corrupt",
    *writes.BYTE_COUNTS,
)


def _zero_counts() -> dict:
    return {**dict.fromkeys(COUNTED, 0), "quarantined_by_reason": writes.empty_reason_counts(), "event_days": []}


def _add_counts(record: dict, counts: dict) -> None:
    """Add one hour batch's counts to the run record (a run reads its hour and its stragglers)."""
    for name in COUNTED:
        record[name] += counts[name]
    reasons = record["quarantined_by_reason"]
    for reason, n in counts["quarantined_by_reason"].items():
        reasons[reason] = reasons.get(reason, 0) + n
    record["event_days"] = sorted({*record.get("event_days", []), *counts["event_days"]})


def _reconcile(spark, t: IngestTables, batch: HourBatch, counts: dict) -> None:
    """Read back what the batch now holds: read = bronze + quarantined, or the run fails here.

    The run's own hour is counted whole (it was replaced); an earlier hour's stragglers by their
    objects (they were added beside the hour's other rows).
    """
    held = F.col("arrival_hour") == F.lit(batch.hour).cast("timestamp")
    if batch.straggler:
        held = held & F.col("source_object").isin([o["uri"] for o in batch.objects])
    bronze = spark.table(t.bronze).where(held).count()
    quarantined = spark.table(t.quarantine).where(held).count()
    if (bronze, quarantined) != (counts["records_parsed"], counts["records_quarantined"]) or (
        bronze + quarantined != counts["records_read"]
    ):
        raise RuntimeError(
            f"reconciliation failed for {iso(batch.hour)}{' (stragglers)' if batch.straggler else ''}: "
            f"read {counts['records_read']}, bronze holds {bronze} (expected {counts['records_parsed']}), "
            f"quarantine holds {quarantined} (expected {counts['records_quarantined']})"
        )


def _count(parsed, record: dict) -> list[datetime]:
    """One pass over the cached hour: counts and bytes by reason, and the event hours of valid records.

    Bytes: every row brings its span's bytes and the whitespace after it, and each object's
    first row the object's decoded size, so `bytes_decoded` can be checked against
    `bytes_parsed + bytes_quarantined + bytes_whitespace` (see `writes.unaccounted_bytes`).
    `bytes_corrupt` is the raw size of the objects not read whole (damaged, too large): the
    gate weighs it against `bytes_read`, since one such row may stand for many lost events.

    Hours travel as UTC text (the session time zone), never as Python datetimes, which
    PySpark would convert to the driver's local time zone.
    """
    return tally(count_rows(parsed).collect(), record)


def count_rows(parsed, *keys: str):
    """The aggregation `_count` collects: per reason code and event hour (and `keys`), rows and bytes."""
    hour = F.date_format(F.date_trunc("hour", "event_ts"), "yyyy-MM-dd HH:00:00").alias("hour")
    return parsed.groupBy(*keys, "reason_code", hour).agg(
        F.count(F.lit(1)).alias("n"),
        F.sum("record_bytes").alias("span_bytes"),
        F.sum("whitespace_bytes").alias("whitespace_bytes"),
        F.sum("object_bytes").alias("object_bytes"),
    )


def tally(rows, record: dict) -> list[datetime]:
    """Fill `record`'s counts and bytes from `count_rows`'s rows of one hour batch; its event hours."""
    by_reason = writes.empty_reason_counts()
    hours: set[datetime] = set()
    for row in rows:
        record["bytes_decoded"] += row["object_bytes"] or 0
        record["bytes_whitespace"] += row["whitespace_bytes"] or 0
        if row["reason_code"] is None:
            record["records_parsed"] += row["n"]
            record["bytes_parsed"] += row["span_bytes"] or 0
            hours.add(datetime.strptime(row["hour"], "%Y-%m-%d %H:%M:%S"))
        else:
            by_reason[row["reason_code"]] = by_reason.get(row["reason_code"], 0) + row["n"]
            record["bytes_quarantined"] += row["span_bytes"] or 0
            if row["reason_code"] in OBJECT_REASONS:  # objects not read whole: their raw bytes, for the gate
                record["bytes_corrupt"] += row["span_bytes"] or 0
    record["quarantined_by_reason"] = by_reason
    record["records_quarantined"] = sum(by_reason.values())
    record["records_read"] = record["records_parsed"] + record["records_quarantined"]
    record["objects_corrupt"] = sum(by_reason[reason] for reason in OBJECT_REASONS)
    record["event_days"] = sorted({h.date().isoformat() for h in hours})
    return sorted(hours)


def merge_changes(
    spark, silver: str, to_apply, found, n_update: int, prune: str, run_id: str, branch: str | None
) -> None:
    """MERGE the batch's changes into silver, telling the MERGE which ids can match.

    `found` holds the silver rows that may share an id with the batch (`matching_target`: by
    id hash, so joined here on the id itself). Up to MAX_IDS_IN_CONDITION
    newer versions are named in the condition; beyond that the MERGE probes the touched hours
    in full. One rule for an hour's run and a bulk range's.
    """
    updated: list[str] | None = []
    if 0 < n_update <= transforms.MAX_IDS_IN_CONDITION:
        newer = to_apply.join(found, "event_id", "left_semi").select("event_id").collect()
        updated = [r["event_id"] for r in newer]
    elif n_update:
        updated = None  # too many for the SQL text: the MERGE probes the touched hours in full
    condition = f"{prune} AND {transforms.ids_condition(updated)}"
    view = "ingest_batch_" + re.sub(r"\W", "_", run_id)
    writes.merge_silver(spark, to_apply, silver, condition, view, branch, updates=n_update > 0)


def _silver(spark, args: IngestArgs, t: IngestTables, bronze, hours: list[datetime], record: dict, log) -> None:
    """Dedupe the hour, classify it against silver's touched days, MERGE what changes.

    Classification is exact and cheap: the target, pruned to the batch's event days and
    hours, is checked for a first row; when it has one, only the target rows that may share an
    event_id with the batch are fetched (`transforms.matching_target`: a broadcast semi-join
    on 64-bit id hashes, no shuffle of silver), and `classify` joins them on the ids. So the
    MERGE is told exactly which ids can match (`false` when none), and silver is not joined
    in full a second time.
    """
    branch = args.audit_branch or None
    branch_cut = bool(branch) and writes.prepare_branch(spark, t.silver, branch, args.audit_branch_retain_hours)
    repeated = transforms.duplicate_ids(bronze).collect()  # small: the re-sent events of the hour
    duplicates = spark.createDataFrame([(r["event_id"], r["copies"]) for r in repeated], "event_id string, copies long")
    latest = transforms.silver_rows(transforms.latest_per_event(bronze, duplicates))
    batch_events = record["records_parsed"] - sum(r["copies"] - 1 for r in repeated)
    days = sorted({h.date() for h in hours})
    prune = f"{transforms.days_condition(days)} AND {transforms.hours_condition(hours)}"
    target = spark.table(t.silver).alias("t").where(prune)
    # the silver rows sharing an event_id with the batch: few (re-sends, updates) except on a re-run
    found = transforms.matching_target(target, bronze).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        to_apply, changes = latest, {"insert": batch_events}
        if hours and not target.isEmpty() and not found.isEmpty():  # an empty target: no probe to build
            classified = transforms.classify(latest, found)
            by_change = classified.groupBy("change").agg(F.count(F.lit(1)).alias("n")).collect()
            changes = {r["change"]: r["n"] for r in by_change}
            to_apply = classified.where("change != 'unchanged'").drop("change")
        n_update = changes.get("update", 0)
        record["silver_updated"] = n_update
        record["silver_inserted"] = changes.get("insert", 0)
        record["duplicates_dropped"] = record["records_parsed"] - record["silver_inserted"] - n_update
        if record["silver_inserted"] or n_update:
            log(
                f"merging into {t.silver}{f' (branch {branch})' if branch else ''}: "
                f"{record['silver_inserted']:,} new, {n_update:,} newer versions, "
                f"days {', '.join(record['event_days'])}"
            )
            merge_changes(spark, t.silver, to_apply, found, n_update, prune, args.run_id, branch)
            log(f"committed {t.silver}")
        else:
            log(f"{t.silver}: nothing new in this hour")
    finally:
        found.unpersist()
    if branch and not branch_cut:  # the write made the branch (silver had no snapshot to cut from)
        writes.retain_branch(spark, t.silver, branch, args.audit_branch_retain_hours)
    record["silver_snapshot_id"] = writes.current_snapshot_id(spark, t.silver, branch or "main")


def _bytes_summary(record: dict) -> str:
    return ", ".join(f"{name} {record[name]:,}" for name in writes.BYTE_COUNTS)


def _nonzero(counts: dict[str, int]) -> str:
    shown = {k: v for k, v in counts.items() if v}
    return f"({', '.join(f'{k} {v}' for k, v in shown.items())})" if shown else ""


def counts_json(record: dict) -> str:
    """The run record as one JSON line (what the job prints on stdout)."""
    return json.dumps(record, sort_keys=False, default=str, separators=(",", ":"))
