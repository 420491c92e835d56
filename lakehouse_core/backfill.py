"""A bulk backfill's plan: claim a range of arrival hours, list them, write their manifests.

What the `orders_backfill` DAG's plan task and `lakehouse backfill --bulk` call before the one
Spark job (`spark_jobs.ingest.bulk`) ingests the range [start, end):

- **claims**: every hour of the range, with the hourly runs' claims (`lakehouse_core.hour_claims`), so
  a bulk run and an hourly run never write one hour at once. A range with any hour held by
  another run is refused (`HourBusy`, naming the holder; the claims taken so far are dropped),
  and an hourly run of a claimed hour waits, then fails naming the bulk run. The claims last
  `CLAIM_TTL` (the DAG's `dagrun_timeout`, longer than an hourly run's: a range takes longer);
- **manifests**: one per hour, as an hourly run's plan task writes it (`landing.build_manifest`,
  stored under the hour with the bulk run's id), so `lakehouse reconcile` and later hourly runs
  (which look for stragglers only in hours that have a manifest) see the hours as read; and one
  **range manifest** (every object with its hour, the stragglers, Firehose error counts per hour)
  that the job reads. The stragglers are those of the hours before the range, found and claimed
  as the range's first hourly run would (`landing.find_stragglers`), and named in the first
  hour's manifest, where reconcile reads straggler claims.

Standard library and the pipeline modules only (imported at DAG parse time).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from lakehouse_core import hour_claims, landing
from lakehouse_core.settings import Settings
from spark_jobs import objectstore

HOUR = timedelta(hours=1)
RUN_ID_PREFIX = "backfill"
CLAIM_TTL = timedelta(hours=6)  # = orders_backfill's dagrun_timeout
RANGE_FOLDER = "_ranges"  # beside the hour folders of the manifests


def hours_in(start: datetime, end: datetime) -> list[datetime]:
    """The arrival hours of [start, end), oldest first."""
    start, end = landing.utc_hour(start), landing.utc_hour(end)
    return [start + HOUR * n for n in range(int((end - start) / HOUR))]


def check_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """(start, end) on whole UTC hours; ValueError for an empty or inverted range."""
    for moment in (start, end):
        if moment.tzinfo is None:
            raise ValueError(f"{moment!r} must be timezone-aware (UTC)")
        if (moment.minute, moment.second, moment.microsecond) != (0, 0, 0):
            raise ValueError(f"{moment.isoformat()} is not on a whole hour")
    if end <= start:
        raise ValueError(f"the range [{start.isoformat()}, {end.isoformat()}) is empty: `to` must be after `from`")
    return landing.utc_hour(start), landing.utc_hour(end)


def range_run_id(start: datetime, end: datetime, salt: str) -> str:
    """`backfill_<YYYYMMDDHH>_<YYYYMMDDHH>_<8 hex>`: the range (end exclusive), then a hash of `salt`
    (the Airflow run id and attempt, or the CLI's start time), so each attempt gets its own branch."""
    digest = hashlib.sha1(salt.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{RUN_ID_PREFIX}_{start.astimezone(UTC):%Y%m%d%H}_{end.astimezone(UTC):%Y%m%d%H}_{digest}"


def range_manifest_uri(settings: Settings, start: datetime, run_id: str) -> str:
    """`<manifests root>/orders/_ranges/<run id>.json`: beside the hour folders, in none of them
    (an hour's folder holds only that hour's manifests, which reconcile reads)."""
    root = landing.manifests_folder(settings, start).rsplit("/", 1)[0]
    return f"{root}/{RANGE_FOLDER}/{run_id}.json"


def claim_range(settings: Settings, start: datetime, end: datetime, owner: str) -> None:
    """Claim every hour of [start, end) for `owner`, or none: `HourBusy` names the first busy hour."""
    taken: list[datetime] = []
    try:
        for hour in hours_in(start, end):
            hour_claims.acquire(settings, hour, owner, ttl=CLAIM_TTL)
            taken.append(hour)
    except hour_claims.HourBusy:
        hour_claims.release(settings, taken, owner)
        raise


def release_range(settings: Settings, start: datetime, end: datetime, owner: str) -> list[datetime]:
    """Drop the owner's claims of the range and of the straggler window before it."""
    before = [start - HOUR * n for n in range(settings.straggler_hours, 0, -1)]
    return hour_claims.release(settings, [*before, *hours_in(start, end)], owner)


def plan_range(
    settings: Settings, start: datetime, end: datetime, run_id: str, owner: str
) -> tuple[str, dict[str, Any]]:
    """Claim the range, write its hour manifests and its range manifest; returns (uri, range manifest).

    Refused with `HourBusy` (nothing claimed, nothing written) when another run holds an hour of it.
    """
    start, end = check_range(start, end)
    claim_range(settings, start, end, owner)
    try:
        return _plan(settings, start, end, run_id, owner)
    except BaseException:  # nothing half-planned keeps the hours from their hourly runs
        release_range(settings, start, end, owner)
        raise


def _plan(settings: Settings, start: datetime, end: datetime, run_id: str, owner: str) -> tuple[str, dict[str, Any]]:
    stragglers = landing.find_stragglers(settings, start, settings.straggler_hours)
    claimed = [hour_claims.try_acquire(settings, landing.parse_iso_hour(s["arrival_hour"]), owner) for s in stragglers]
    deferred = [s["arrival_hour"] for s, ok in zip(stragglers, claimed, strict=True) if not ok]
    stragglers = [s for s, ok in zip(stragglers, claimed, strict=True) if ok]
    objects: list[dict[str, Any]] = []
    hours: list[dict[str, Any]] = []
    for hour in hours_in(start, end):
        manifest = landing.build_manifest(settings, hour)
        errors = landing.list_firehose_errors(settings, hour)
        first = hour == start
        manifest.update(
            {
                "run_id": run_id,
                "bulk_range": [landing.iso_hour(start), landing.iso_hour(end)],
                "stragglers": stragglers if first else [],
                "straggler_objects": sum(s["object_count"] for s in stragglers) if first else 0,
                "stragglers_deferred": deferred if first else [],
                "firehose_errors": errors,
                "firehose_error_objects": len(errors),
            }
        )
        uri = landing.write_manifest(settings, manifest)
        objects += [{**o, "arrival_hour": manifest["arrival_hour"]} for o in manifest["objects"]]
        hours.append(
            {
                "arrival_hour": manifest["arrival_hour"],
                "object_count": manifest["object_count"],
                "firehose_error_objects": len(errors),
                "manifest": uri,
            }
        )
    plan = {
        "manifest_version": landing.MANIFEST_VERSION,
        "kind": "range",
        "run_id": run_id,
        "from": landing.iso_hour(start),
        "to": landing.iso_hour(end),
        "arrival_hour": landing.iso_hour(start),
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "object_count": len(objects),
        "total_bytes": sum(o["size"] for o in objects),
        "objects": objects,
        "hours": hours,
        "stragglers": stragglers,
        "straggler_objects": sum(s["object_count"] for s in stragglers),
        "stragglers_deferred": deferred,
        "firehose_error_objects": sum(h["firehose_error_objects"] for h in hours),
    }
    uri = range_manifest_uri(settings, start, run_id)
    objectstore.write_bytes(uri, (json.dumps(plan, indent=1) + "\n").encode(), "application/json", settings.s3_endpoint)
    return uri, plan


def gate_lateness_hours(settings: Settings, plan: dict[str, Any]) -> int:
    """The gate's event-time window before the range's *last* hour (the gate checks the range
    against one window): the lateness setting, widened by the range and by its earliest straggler
    hour. The ingest already judged each record against its own hour's window; this is the net."""
    last = landing.parse_iso_hour(plan["to"]) - HOUR
    earliest = min(
        (landing.parse_iso_hour(s["arrival_hour"]) for s in plan.get("stragglers") or []),
        default=landing.parse_iso_hour(plan["from"]),
    )
    return settings.lateness_hours + int((last - earliest) / HOUR)


def objects_to_read(plan: dict[str, Any]) -> int:
    return len(plan.get("objects", [])) + sum(len(s["objects"]) for s in plan.get("stragglers", []))
