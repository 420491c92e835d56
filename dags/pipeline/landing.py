"""Landing manifests: the exact list of objects an ingest run reads for one arrival hour.

Why a manifest instead of letting Spark list the prefix: Firehose keeps writing, S3 listings
are paginated and a retry must read what the first attempt read. The manifest is written
once per hour by the DAG (after the hour is complete), and the Spark job reads only the
objects it names, checking each object's size against it.

Where manifests live: locally under `<home>/manifests/orders/<YYYYMMDDHH>.json`; when the raw
zone is on S3 (compose/MinIO, AWS), beside it under `<raw_root>/_manifests/orders/`, outside
the `orders/` prefix so Firehose's layout stays untouched.

Storage goes through `spark_jobs.objectstore` (pyarrow.fs; pyarrow is on MWAA through
`pyiceberg[pyarrow]`), with the settings' S3 endpoint (moto, MinIO).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.settings import Settings
from spark_jobs import objectstore

TABLE_PREFIX = "orders"
MANIFEST_VERSION = 1


def utc_hour(moment: datetime) -> datetime:
    """The UTC hour a moment falls in (aware input required: an arrival hour is an instant)."""
    if moment.tzinfo is None:
        raise ValueError(f"arrival hour {moment!r} must be timezone-aware (UTC)")
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_prefix(arrival_hour: datetime) -> str:
    """`orders/YYYY/MM/DD/HH/`, Firehose's prefix for objects delivered in that hour."""
    return f"{TABLE_PREFIX}/{utc_hour(arrival_hour):%Y/%m/%d/%H}/"


def build_manifest(settings: Settings, arrival_hour: datetime) -> dict[str, Any]:
    """List the arrival hour's objects (uri + size, sorted by uri); zero objects is a valid manifest."""
    hour = utc_hour(arrival_hour)
    prefix = hour_prefix(hour)
    root = settings.raw_root.rstrip("/")
    listed = objectstore.list_files(objectstore.join(root, prefix), settings.s3_endpoint)
    objects = [{"uri": f.uri if objectstore.is_s3(f.uri) else Path(f.uri).as_uri(), "size": f.size} for f in listed]
    objects.sort(key=lambda o: o["uri"])
    return {
        "manifest_version": MANIFEST_VERSION,
        "table_prefix": TABLE_PREFIX,
        "stream": settings.stream_name,
        "arrival_hour": hour.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "prefix": f"{root}/{prefix}",
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "object_count": len(objects),
        "total_bytes": sum(o["size"] for o in objects),
        "objects": objects,
    }


def manifest_uri(settings: Settings, arrival_hour: datetime) -> str:
    """Where the manifest of an arrival hour is stored (see the module docstring)."""
    name = f"{utc_hour(arrival_hour):%Y%m%d%H}.json"
    root = settings.raw_root.rstrip("/")
    if root.startswith("s3://"):
        return f"{root}/_manifests/{TABLE_PREFIX}/{name}"
    return str(settings.home / "manifests" / TABLE_PREFIX / name)


def write_manifest(settings: Settings, manifest: dict[str, Any]) -> str:
    """Store the manifest (replacing the hour's previous one) and return its uri or path."""
    hour = datetime.fromisoformat(manifest["arrival_hour"].replace("Z", "+00:00"))
    uri = manifest_uri(settings, hour)
    body = (json.dumps(manifest, indent=1) + "\n").encode()
    objectstore.write_bytes(uri, body, "application/json", settings.s3_endpoint)  # locally: write, then rename
    return uri


def read_manifest(uri: str, endpoint: str = "") -> dict[str, Any]:
    """Load a stored manifest (local path or s3://)."""
    return json.loads(objectstore.read_bytes(uri, endpoint))
