"""A bulk backfill: a range of arrival hours in one Spark job, with the hourly runs' results.

Why: backfilling a month hour by hour is 720 DAG runs, each paying Airflow's and Spark's
start-up three times (ingest, gate, publish). Here the range's objects are read, framed and
parsed as one DataFrame, and each table is written once: the per-hour work is only arithmetic.

Same semantics as the hourly runs over the same objects (`tests/spark/test_bulk_backfill.py`
compares every table row for row):

- every row keeps its arrival hour and object. An object's hour comes from the range manifest
  (`lakehouse_core.backfill`), and each record is judged against *its* hour's event-time window (the
  lateness and clock-skew bounds are columns here, `transforms.parse_records` with Column
  bounds), so late and future events are quarantined exactly as their hour's run would;
- bronze and quarantine: the range's hours are replaced in one commit each
  (`writes.replace_hours`); stragglers of hours before the range (objects that landed after
  those hours ran) are added to their own hour by object, as the range's first hourly run would;
- silver: one dedupe over the whole range in the one newest-wins order (`transforms.version_key`)
  and one MERGE, which leaves silver as the hourly runs would: each event's newest version;
- `audit.ingest_runs`: one row per arrival hour (run id = the bulk run's), with that hour's
  counts and bytes, so `lakehouse reconcile` and the dashboards see the hours as ingested. Silver
  changes are attributed to the hour of the version that won; `duplicates_dropped` is the hour's
  rows that changed nothing (re-sends, or versions a later hour of the range superseded). The
  first hour's row also counts the stragglers, as that hour's hourly run would;
- the gate validates the range once (the run's rows on its one audit branch; the ingest-run
  suite on the sum of the run's hour rows, `spark_jobs.quality.batches.ingest_run_row`), and one
  publish fast-forwards `main`.

`run_range_ingest(spark, args)` is `job.run_ingest` for a range (`args.to_hour` set); it returns
the range's summary (what the entry script prints as one JSON line).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from pyspark import StorageLevel
from pyspark.sql import functions as F

from spark_jobs.ingest import job, reader, transforms, writes
from spark_jobs.ingest.contract import IngestTables
from spark_jobs.jobargs import parse_hour
from spark_jobs.session import UNCOMPRESSED_CACHE, runtime_conf

HOUR = timedelta(hours=1)
CHANGE_COUNTS = {"insert": "silver_inserted", "update": "silver_updated"}
HOUR_TEXT = "yyyy-MM-dd'T'HH:mm:ss'Z'"  # hours travel to the driver as UTC text (see job._count)
_SUMMED = (
    "objects",
    "objects_corrupt",
    "bytes_read",
    "records_read",
    "records_parsed",
    "records_quarantined",
    "duplicates_dropped",
    "silver_inserted",
    "silver_updated",
    "straggler_objects",
    "straggler_records",
    "firehose_error_objects",
    "bytes_corrupt",
    *writes.BYTE_COUNTS,
)


def range_batches(manifest: Mapping, start: datetime, end: datetime) -> list[job.HourBatch]:
    """One batch per arrival hour of [start, end) that has objects, oldest first; then the
    stragglers of hours before the range (each its own batch, added to its hour by object)."""
    by_hour: dict[datetime, list] = {}
    for obj in manifest["objects"]:
        hour = parse_hour(obj["arrival_hour"])
        if not start <= hour < end:
            raise ValueError(f"range manifest names {obj['uri']} of {obj['arrival_hour']}, outside the range")
        by_hour.setdefault(hour, []).append(obj)
    batches = [job.HourBatch(h, by_hour[h]) for h in sorted(by_hour)]
    for late in manifest.get("stragglers") or []:
        earlier = parse_hour(late["arrival_hour"])
        if earlier >= start:
            raise ValueError(f"range manifest names stragglers of {late['arrival_hour']}: not before the range")
        batches.append(job.HourBatch(earlier, list(late["objects"]), straggler=True))
    return batches


def _new_record(args, hour: datetime, started: datetime) -> dict:
    return {
        "run_id": args.run_id,
        "arrival_hour": job.iso(hour),
        "started_at": started.isoformat(),
        "status": "failed",
        "audit_branch": args.audit_branch or None,
        **dict.fromkeys(_SUMMED, 0),
        "quarantined_by_reason": writes.empty_reason_counts(),
        "event_days": [],
        "silver_snapshot_id": None,
    }


def _stderr(message: str) -> None:
    job._stderr(message)


def run_range_ingest(
    spark, args, tables: IngestTables = job.DEFAULT_TABLES, log: Callable[[str], None] = _stderr
) -> dict:
    """Ingest arrival hours [args.arrival_hour, args.to_hour) from the range manifest in one job.

    Appends one `audit.ingest_runs` row per hour with objects (status failed if the job fails)
    and returns the range's summary: the sums of those rows, the range and the hours' count.
    """
    if args.to_hour is None:
        raise ValueError("a bulk run needs --to_hour (the end of its range, exclusive)")
    started = datetime.now(UTC)
    t = tables.qualified(args.catalog_name, args.namespace_prefix)
    start, end = args.arrival_hour, args.to_hour
    manifest = reader.read_manifest(spark, args.manifest)
    if manifest.get("from") and (parse_hour(manifest["from"]), parse_hour(manifest["to"])) != (start, end):
        raise ValueError(
            f"range manifest {args.manifest} is for [{manifest['from']}, {manifest['to']}), "
            f"not [{job.iso(start)}, {job.iso(end)})"
        )
    batches = range_batches(manifest, start, end)
    own = [b for b in batches if not b.straggler]
    stragglers = [b for b in batches if b.straggler]
    # one run record per hour with objects; the first hour's also counts the stragglers (as its hourly run would)
    record_hours = sorted({b.hour for b in own} | ({start} if stragglers else set()))
    records = {h: _new_record(args, h, started) for h in record_hours}
    errors = {
        parse_hour(h["arrival_hour"]): int(h.get("firehose_error_objects") or 0) for h in manifest.get("hours", [])
    }
    for hour, record in records.items():
        record["firehose_error_objects"] = errors.get(hour, 0)
    try:
        _run(spark, args, t, started, own, stragglers, records, log)
        for record in records.values():
            record["status"] = "succeeded"
    finally:
        finished = datetime.now(UTC).isoformat()
        for record in records.values():
            record["finished_at"] = finished
        if records:
            try:
                writes.append_runs(spark, t.runs, list(records.values()))
            except Exception as exc:  # the run's own error matters more; say why the records are missing
                log(f"could not append the run records to {t.runs}: {exc}")
                if all(r["status"] == "succeeded" for r in records.values()):
                    raise
    return summary(args, records, started, len(own))


def summary(args, records: Mapping[datetime, dict], started: datetime, hours_with_objects: int) -> dict:
    """The range as one record: the sums of its hour records (what the job prints)."""
    out: dict = {
        "run_id": args.run_id,
        "from": job.iso(args.arrival_hour),
        "to": job.iso(args.to_hour),
        "hours": int((args.to_hour - args.arrival_hour) / HOUR),
        "hours_with_objects": hours_with_objects,
        "status": "succeeded" if all(r["status"] == "succeeded" for r in records.values()) else "failed",
        "audit_branch": args.audit_branch or None,
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        **{name: sum(r[name] for r in records.values()) for name in _SUMMED},
    }
    reasons = writes.empty_reason_counts()
    for record in records.values():
        for reason, n in record["quarantined_by_reason"].items():
            reasons[reason] = reasons.get(reason, 0) + n
    out["quarantined_by_reason"] = reasons
    out["event_days"] = sorted({d for r in records.values() for d in r.get("event_days", [])})
    snapshots = [r["silver_snapshot_id"] for r in records.values() if r["silver_snapshot_id"] is not None]
    out["silver_snapshot_id"] = snapshots[0] if snapshots else None
    if not records:  # nothing to read: no hour record to carry the status
        out["status"] = "succeeded"
    return out


def _objects_frame(spark, batches: list[job.HourBatch]):
    """(source_object, arrival_hour, straggler): which hour each object of the run belongs to (small)."""
    rows = [(o["uri"], b.hour, b.straggler) for b in batches for o in b.objects]
    return spark.createDataFrame(rows, "source_object string, arrival_hour timestamp, straggler boolean")


def _run(spark, args, t: IngestTables, started: datetime, own, stragglers, records: dict, log) -> None:
    batches = [*own, *stragglers]
    every = [o for b in batches for o in b.objects]
    first = args.arrival_hour
    for batch in batches:
        record = records[first if batch.straggler else batch.hour]
        record["objects"] += len(batch.objects)
        record["bytes_read"] += sum(int(o["size"]) for o in batch.objects)
        if batch.straggler:
            record["straggler_objects"] += len(batch.objects)
    log(
        f"[{job.iso(args.arrival_hour)}, {job.iso(args.to_hour)}): {len(own)} hour(s) with objects, "
        f"{len(every)} objects, {sum(int(o['size']) for o in every):,} bytes (manifest {args.manifest})"
    )
    if not batches:
        log("nothing to read in the range")
        return
    objects = F.broadcast(_objects_frame(spark, batches))
    framed = reader.framed_records(spark, every, args.max_record_bytes, args.max_object_bytes)
    # each record is judged against its own arrival hour's window (the gate's event_ts_min/max)
    oldest = F.expr(f"arrival_hour - INTERVAL {int(args.lateness_hours)} HOURS")
    newest = F.expr(f"arrival_hour + INTERVAL 1 HOURS + INTERVAL {int(args.clock_skew_minutes)} MINUTES")
    with runtime_conf(spark, UNCOMPRESSED_CACHE):
        parsed = transforms.parse_records(framed.join(objects, "source_object"), oldest, newest, args.max_record_bytes)
        parsed = parsed.join(objects, "source_object").persist(StorageLevel.MEMORY_AND_DISK)
    try:
        event_hours, counted = _count(parsed, first, records)
        n = {k: sum(r[k] for r in records.values()) for k in ("records_read", "records_parsed", "records_quarantined")}
        log(
            f"read {n['records_read']:,} records: {n['records_parsed']:,} valid, "
            f"{n['records_quarantined']:,} quarantined"
        )
        own_rows = parsed.where(~F.col("straggler"))
        own_hours = [b.hour for b in own]
        lineage = (F.col("arrival_hour"), args.run_id, started)
        writes.replace_hours(transforms.quarantine_rows(own_rows, *lineage), t.quarantine, own_hours)
        log(f"committed {t.quarantine} for {len(own_hours)} hour(s)")
        writes.replace_hours(transforms.bronze_rows(own_rows, *lineage), t.bronze, own_hours)
        log(f"committed {t.bronze} for {len(own_hours)} hour(s)")
        bronzes = [transforms.bronze_rows(own_rows, *lineage)]
        for batch in stragglers:  # added to their earlier hour, keyed on the object (as the hourly run does)
            uris = [o["uri"] for o in batch.objects]
            mine = parsed.where(F.col("straggler") & F.col("source_object").isin(uris))
            writes.replace_objects(
                spark,
                transforms.quarantine_rows(mine, batch.hour, args.run_id, started),
                t.quarantine,
                batch.hour,
                uris,
            )
            bronze = transforms.bronze_rows(mine, batch.hour, args.run_id, started)
            writes.replace_objects(spark, bronze, t.bronze, batch.hour, uris)
            log(f"committed {t.bronze} for {job.iso(batch.hour)} (stragglers)")
            bronzes.append(bronze)
        _reconcile(spark, t, own, stragglers, counted)
        bronze = functools.reduce(lambda a, b: a.unionByName(b), bronzes)
        _silver(spark, args, t, bronze, sorted(event_hours), records, first, log)
    finally:
        parsed.unpersist()


def _count(parsed, first: datetime, records: dict) -> tuple[set[datetime], dict]:
    """One aggregation over the cached range: each hour batch's counts and bytes (`job.tally`),
    added to its hour's record; returns the event hours and the counts per (hour, straggler)."""
    rows = job.count_rows(parsed.withColumn("_hour", F.date_format("arrival_hour", HOUR_TEXT)), "_hour", "straggler")
    by_batch: dict[tuple[datetime, bool], list] = {}
    for row in rows.collect():
        by_batch.setdefault((parse_hour(row["_hour"]), bool(row["straggler"])), []).append(row)
    event_hours: set[datetime] = set()
    counted: dict[tuple[datetime, bool], dict] = {}
    for (hour, straggler), batch_rows in sorted(by_batch.items()):
        counts = counted[(hour, straggler)] = job._zero_counts()
        event_hours.update(job.tally(batch_rows, counts))
        record = records[first if straggler else hour]
        job._add_counts(record, counts)
        if straggler:
            record["straggler_records"] += counts["records_read"]
    return event_hours, counted


def _reconcile(spark, t: IngestTables, own, stragglers, counted: dict) -> None:
    """Read back what the range's hours now hold: per hour, read = bronze + quarantined, or fail here.

    One grouped count per table over the range's own hours; stragglers by their objects
    (`job._reconcile`, a few).
    """
    hours = [b.hour for b in own]
    held = F.col("arrival_hour").isin([F.lit(h).cast("timestamp") for h in hours]) if hours else F.lit(False)
    found = {}
    for name, table in (("bronze", t.bronze), ("quarantine", t.quarantine)):
        rows = spark.table(table).where(held).groupBy(F.date_format("arrival_hour", HOUR_TEXT).alias("h")).count()
        found[name] = {parse_hour(r["h"]): r["count"] for r in rows.collect()}
    for hour in hours:
        counts = counted.get((hour, False)) or job._zero_counts()
        bronze, quarantined = found["bronze"].get(hour, 0), found["quarantine"].get(hour, 0)
        if (bronze, quarantined) != (counts["records_parsed"], counts["records_quarantined"]) or (
            bronze + quarantined != counts["records_read"]
        ):
            raise RuntimeError(
                f"reconciliation failed for {job.iso(hour)}: read {counts['records_read']}, bronze holds {bronze} "
                f"(expected {counts['records_parsed']}), quarantine holds {quarantined} "
                f"(expected {counts['records_quarantined']})"
            )
    for batch in stragglers:
        job._reconcile(spark, t, batch, counted.get((batch.hour, True)) or job._zero_counts())


def _silver(spark, args, t: IngestTables, bronze, hours: list[datetime], records: dict, first: datetime, log) -> None:
    """One dedupe over the range (newest wins), classified against silver's touched days, one MERGE.

    As `job._silver`, plus the changes attributed to the arrival hour of the winning version
    (a straggler hour's to the first hour's record, which counts them).
    """
    branch = args.audit_branch or None
    branch_cut = bool(branch) and writes.prepare_branch(spark, t.silver, branch, args.audit_branch_retain_hours)
    repeated = transforms.duplicate_ids(bronze).collect()
    duplicates = spark.createDataFrame([(r["event_id"], r["copies"]) for r in repeated], "event_id string, copies long")
    latest = transforms.silver_rows(transforms.latest_per_event(bronze, duplicates))
    days = sorted({h.date() for h in hours})
    prune = f"{transforms.days_condition(days)} AND {transforms.hours_condition(hours)}"
    target = spark.table(t.silver).alias("t").where(prune)
    found = transforms.matching_target(target, bronze).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        matched = bool(hours) and not found.isEmpty()
        classified = transforms.classify(latest, found) if matched else latest.withColumn("change", F.lit("insert"))
        by_hour = (
            classified.groupBy(F.date_format("arrival_hour", HOUR_TEXT).alias("h"), "change")
            .agg(F.count(F.lit(1)).alias("n"))
            .collect()
        )
        for row in by_hour:
            hour = parse_hour(row["h"])
            record = records.get(hour) or records[first]  # a straggler hour's: the first hour counts them
            if row["change"] in CHANGE_COUNTS:
                record[CHANGE_COUNTS[row["change"]]] += row["n"]
        for record in records.values():
            record["duplicates_dropped"] = (
                record["records_parsed"] - record["silver_inserted"] - record["silver_updated"]
            )
        n_insert = sum(r["silver_inserted"] for r in records.values())
        n_update = sum(r["silver_updated"] for r in records.values())
        if n_insert or n_update:
            log(
                f"merging into {t.silver}{f' (branch {branch})' if branch else ''}: {n_insert:,} new, "
                f"{n_update:,} newer versions, {len(days)} event day(s)"
            )
            to_apply = classified.where("change != 'unchanged'").drop("change")
            job.merge_changes(spark, t.silver, to_apply, found, n_update, prune, args.run_id, branch)
            log(f"committed {t.silver}")
        else:
            log(f"{t.silver}: nothing new in the range")
    finally:
        found.unpersist()
    if branch and not branch_cut:
        writes.retain_branch(spark, t.silver, branch, args.audit_branch_retain_hours)
    snapshot = writes.current_snapshot_id(spark, t.silver, branch or "main")
    for record in records.values():
        record["silver_snapshot_id"] = snapshot
