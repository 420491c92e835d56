"""Landing manifests: the exact list of objects an ingest run reads, and the objects it must not miss.

Why a manifest instead of letting Spark list the prefix: Firehose keeps writing, S3 listings
are paginated and a retry must read what the first attempt read. The DAG's plan task writes one
manifest per *run* (after the hour is complete), and the Spark job reads only the objects it
names, checking each object's size against it. Per run, not per hour: two runs of one hour (a
backfill beside the schedule, a re-run) never overwrite each other's manifest, and the folder of
an hour is the history of what each of its runs read.

What one manifest holds (`land_hour`):

- `objects`: every object under the run's own arrival-hour prefix, `orders/YYYY/MM/DD/HH/`;
- `stragglers`: objects that appeared in an *earlier* hour's prefix after that hour was read.
  Firehose keeps the original arrival-hour prefix when it retries a delivery (S3 or KMS
  throttling, for up to its 24-hour retry duration), so an object can land in hour H's prefix
  after H's manifest was written. Each run re-lists the `straggler_hours` hours before its own
  (setting, default 24) and names every object that no manifest of those hours named, grouped by
  arrival hour; the ingest adds them to *their own* hour (bronze/quarantine keyed on the object,
  silver through the same audit branch and gate). Only hours that have a manifest (that ran) are
  re-listed: an hour that never ran is not late, its own run reads it. A run's own hour never
  counts its own earlier claims, so a re-run of a run that claimed stragglers claims them again
  (the ingest's add is idempotent per object);
- `firehose_errors`: objects under Firehose's error output for the hour
  (`firehose-errors/<error-output-type>/YYYY/MM/DD/HH/`, infra/terraform/envs/dev/main.tf):
  records Firehose could not deliver. The DAG's `firehose_errors` task alerts when there are any.

Where manifests live: locally under `<home>/manifests/orders/<YYYYMMDDHH>/<run id>.json`; when the
raw zone is on S3 (compose/MinIO, AWS), beside it under `<raw_root>/_manifests/orders/...`,
outside the `orders/` prefix so Firehose's layout stays untouched.

Storage goes through `spark_jobs.objectstore` (pyarrow.fs; pyarrow is on MWAA through
`pyiceberg[pyarrow]`), with the settings' S3 endpoint (moto, MinIO).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lakehouse_core.settings import Settings
from spark_jobs import objectstore

TABLE_PREFIX = "orders"
ERRORS_PREFIX = "firehose-errors"  # Terraform's error_output_prefix, under the raw root
MANIFEST_VERSION = 2
HOUR = timedelta(hours=1)


def utc_hour(moment: datetime) -> datetime:
    """The UTC hour a moment falls in (aware input required: an arrival hour is an instant)."""
    if moment.tzinfo is None:
        raise ValueError(f"arrival hour {moment!r} must be timezone-aware (UTC)")
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def iso_hour(hour: datetime) -> str:
    return utc_hour(hour).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso_hour(text: str) -> datetime:
    return utc_hour(datetime.fromisoformat(text.replace("Z", "+00:00")))


def hour_prefix(arrival_hour: datetime) -> str:
    """`orders/YYYY/MM/DD/HH/`, Firehose's prefix for objects delivered in that hour."""
    return f"{TABLE_PREFIX}/{utc_hour(arrival_hour):%Y/%m/%d/%H}/"


def _uri(listed_uri: str) -> str:
    """The form manifests and lineage use: s3://bucket/key, or a file:/// URI."""
    return listed_uri if objectstore.is_s3(listed_uri) else Path(listed_uri).as_uri()


def list_hour(settings: Settings, arrival_hour: datetime) -> list[dict[str, Any]]:
    """The objects under an arrival hour's prefix now: `{"uri", "size"}`, sorted by uri."""
    root = settings.raw_root.rstrip("/")
    listed = objectstore.list_files(objectstore.join(root, hour_prefix(arrival_hour)), settings.s3_endpoint)
    return sorted(({"uri": _uri(f.uri), "size": f.size} for f in listed), key=lambda o: o["uri"])


def list_firehose_errors(settings: Settings, arrival_hour: datetime) -> list[dict[str, Any]]:
    """Objects Firehose wrote to its error output for the hour, under every error-output type."""
    from pyarrow import fs

    root = objectstore.join(settings.raw_root, ERRORS_PREFIX)
    filesystem, path = objectstore.resolve(root, settings.s3_endpoint)
    types = filesystem.get_file_info(fs.FileSelector(path, recursive=False, allow_not_found=True))
    found: list[dict[str, Any]] = []
    for kind in sorted(info.base_name for info in types if info.type == fs.FileType.Directory):
        folder = objectstore.join(root, kind, f"{utc_hour(arrival_hour):%Y/%m/%d/%H}")
        found += [{"uri": _uri(f.uri), "size": f.size} for f in objectstore.list_files(folder, settings.s3_endpoint)]
    return sorted(found, key=lambda o: o["uri"])


def build_manifest(settings: Settings, arrival_hour: datetime) -> dict[str, Any]:
    """The hour's own objects (uri + size, sorted by uri); zero objects is a valid manifest."""
    hour = utc_hour(arrival_hour)
    objects = list_hour(settings, hour)
    return {
        "manifest_version": MANIFEST_VERSION,
        "table_prefix": TABLE_PREFIX,
        "stream": settings.stream_name,
        "arrival_hour": iso_hour(hour),
        "prefix": objectstore.join(settings.raw_root, hour_prefix(hour)) + "/",
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "object_count": len(objects),
        "total_bytes": sum(o["size"] for o in objects),
        "objects": objects,
    }


def manifests_folder(settings: Settings, arrival_hour: datetime) -> str:
    """The folder holding the manifests of every run of an arrival hour (see the module docstring)."""
    name = f"{utc_hour(arrival_hour):%Y%m%d%H}"
    root = settings.raw_root.rstrip("/")
    if objectstore.is_s3(root):
        return f"{root}/_manifests/{TABLE_PREFIX}/{name}"
    return str(settings.home / "manifests" / TABLE_PREFIX / name)


def manifest_uri(settings: Settings, arrival_hour: datetime, run_id: str) -> str:
    """Where the manifest of one run of an arrival hour is stored."""
    safe = re.sub(r"[^A-Za-z0-9_.=-]", "_", run_id)
    return f"{manifests_folder(settings, arrival_hour)}/{safe}.json"


def write_manifest(settings: Settings, manifest: dict[str, Any]) -> str:
    """Store the manifest under its run id (a timestamp when it has none) and return its uri or path."""
    run_id = manifest.get("run_id") or "manifest-" + re.sub(r"\D", "", manifest["created_at"])
    uri = manifest_uri(settings, parse_iso_hour(manifest["arrival_hour"]), run_id)
    body = (json.dumps(manifest, indent=1) + "\n").encode()
    objectstore.write_bytes(uri, body, "application/json", settings.s3_endpoint)  # locally: write, then rename
    return uri


def read_manifest(uri: str, endpoint: str = "") -> dict[str, Any]:
    """Load a stored manifest (local path or s3://)."""
    return json.loads(objectstore.read_bytes(uri, endpoint))


def hour_manifests(settings: Settings, arrival_hour: datetime) -> list[dict[str, Any]]:
    """Every stored manifest of the hour's runs (oldest first by name), each with its `uri`."""
    listed = objectstore.list_files(manifests_folder(settings, arrival_hour), settings.s3_endpoint)
    found = []
    for stored in listed:
        if stored.uri.endswith(".json"):
            found.append({**read_manifest(stored.uri, settings.s3_endpoint), "uri": stored.uri})
    return found


def named_objects(manifests: Iterable[dict[str, Any]], arrival_hour: datetime) -> set[str]:
    """Uris the manifests name for `arrival_hour`: as the run's own objects or as its stragglers."""
    wanted = iso_hour(arrival_hour)
    named: set[str] = set()
    for manifest in manifests:
        if manifest.get("arrival_hour") == wanted:
            named.update(o["uri"] for o in manifest.get("objects", []))
        for late in manifest.get("stragglers", []):
            if late["arrival_hour"] == wanted:
                named.update(o["uri"] for o in late["objects"])
    return named


def find_stragglers(settings: Settings, arrival_hour: datetime, window_hours: int) -> list[dict[str, Any]]:
    """Objects of the `window_hours` hours before `arrival_hour` that no manifest named yet.

    Only hours with at least one manifest of their own are looked at (see the module docstring);
    claims made by other hours' runs inside the window count as named. Oldest hour first.
    """
    hour = utc_hour(arrival_hour)
    window = [hour - HOUR * n for n in range(window_hours, 0, -1)]
    manifests = {h: hour_manifests(settings, h) for h in window}
    every = [m for found in manifests.values() for m in found]
    late: list[dict[str, Any]] = []
    for earlier in window:
        if not manifests[earlier]:
            continue  # never ran: not late, its own run reads it
        named = named_objects(every, earlier)
        new = [o for o in list_hour(settings, earlier) if o["uri"] not in named]
        if new:
            late.append({"arrival_hour": iso_hour(earlier), "object_count": len(new), "objects": new})
    return late


def land_hour(settings: Settings, arrival_hour: datetime, run_id: str, owner: str = "") -> tuple[str, dict[str, Any]]:
    """What a run reads, written as its manifest: the hour's objects, stragglers, Firehose errors.

    The one function behind the DAG's plan task and `lakehouse ingest`. Returns (uri, manifest).
    With an `owner` (lakehouse_core.hour_claims) the run claims its hour first (`HourBusy` if another run
    holds it) and each earlier hour whose stragglers it reads; an earlier hour another run holds
    keeps its stragglers for the next run (`stragglers_deferred`), so two writers never meet there.
    """
    from lakehouse_core import hour_claims

    if owner:
        hour_claims.acquire(settings, utc_hour(arrival_hour), owner)
    manifest = build_manifest(settings, arrival_hour)
    stragglers = find_stragglers(settings, arrival_hour, settings.straggler_hours)
    deferred = []
    if owner:
        claimed = [hour_claims.try_acquire(settings, parse_iso_hour(s["arrival_hour"]), owner) for s in stragglers]
        deferred = [s for s, ok in zip(stragglers, claimed, strict=True) if not ok]
        stragglers = [s for s in stragglers if s not in deferred]
    errors = list_firehose_errors(settings, arrival_hour)
    manifest.update(
        {
            "run_id": run_id,
            "stragglers": stragglers,
            "straggler_objects": sum(s["object_count"] for s in stragglers),
            "stragglers_deferred": [s["arrival_hour"] for s in deferred],
            "firehose_errors": errors,
            "firehose_error_objects": len(errors),
        }
    )
    return write_manifest(settings, manifest), manifest


def objects_to_read(manifest: dict[str, Any]) -> int:
    """The objects an ingest of this manifest reads: its hour's and its stragglers."""
    return len(manifest.get("objects", [])) + sum(len(s["objects"]) for s in manifest.get("stragglers", []))


def firehose_errors_alarm(manifest: dict[str, Any]) -> str:
    """The alert text for an hour with Firehose error output ("" when it has none)."""
    errors = manifest.get("firehose_errors") or []
    if not errors:
        return ""
    shown = "\n".join(f"  {o['uri']} ({o['size']:,} bytes)" for o in errors[:20])
    more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
    return (
        f"Firehose wrote {len(errors)} error object(s) for arrival hour {manifest['arrival_hour']}: records it "
        f"could not deliver, which no table holds. Re-drive them, then move them out of "
        f"{ERRORS_PREFIX}/ (docs/operations.md, 'Firehose error output').\n{shown}{more}"
    )


def gate_lateness_hours(settings: Settings, manifest: dict[str, Any]) -> int:
    """The gate's event-time window before the run's hour: the lateness setting, widened by how
    far back the run's earliest straggler hour is.

    The ingest judges a straggler's events against *their* arrival hour (an event may be
    `lateness_hours` older than that), and the gate validates every row the run wrote against
    the run's own hour; without the widening a valid straggler would fail the run's gate.
    """
    own = parse_iso_hour(manifest["arrival_hour"])
    earliest = min((parse_iso_hour(s["arrival_hour"]) for s in manifest.get("stragglers") or []), default=own)
    return settings.lateness_hours + int((own - earliest) / HOUR)
