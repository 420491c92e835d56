"""Landing manifests: the exact list of objects an ingest run reads for one arrival hour.

Why a manifest instead of letting Spark list the prefix: Firehose keeps writing, S3 listings
are paginated and a retry must read what the first attempt read. The manifest is written
once per hour by the DAG (after the hour is complete), and the Spark job reads only the
objects it names, checking each object's size against it.

Where manifests live: locally under `<home>/manifests/orders/<YYYYMMDDHH>.json`; when the raw
zone is on S3 (compose/MinIO, AWS), beside it under `<raw_root>/_manifests/orders/`, outside
the `orders/` prefix so Firehose's layout stays untouched.

Airflow imports this module in a task, so it stays light: standard library only, boto3 is
imported when an s3:// raw root is actually listed or written.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.settings import Settings

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
    objects = _list_s3(root, prefix) if root.startswith("s3://") else _list_local(root, prefix)
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
    if uri.startswith("s3://"):
        bucket, key = _split_s3(uri)
        _s3_client().put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
        return uri
    path = Path(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(body)
    os.replace(tmp, path)  # readers never see half a manifest
    return str(path)


def read_manifest(uri: str) -> dict[str, Any]:
    """Load a stored manifest (local path or s3://)."""
    if uri.startswith("s3://"):
        bucket, key = _split_s3(uri)
        return json.loads(_s3_client().get_object(Bucket=bucket, Key=key)["Body"].read())
    return json.loads(Path(uri.removeprefix("file://")).read_text())


def _list_local(root: str, prefix: str) -> list[dict[str, Any]]:
    folder = Path(root.removeprefix("file://")).expanduser().resolve() / prefix
    if not folder.is_dir():
        return []
    # Dot-files are writers' temporary files (write-then-rename), never delivered objects.
    return [
        {"uri": p.as_uri(), "size": p.stat().st_size}
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".")
    ]


def _split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket:
        raise ValueError(f"{uri!r} names no bucket")
    return bucket, key


def _list_s3(root: str, prefix: str) -> list[dict[str, Any]]:
    bucket, base = _split_s3(root)
    key_prefix = f"{base.strip('/')}/{prefix}" if base.strip("/") else prefix
    objects = []
    for page in _s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key_prefix):
        for item in page.get("Contents", []):
            if item["Key"].endswith("/"):  # folder marker objects from consoles and tools
                continue
            objects.append({"uri": f"s3://{bucket}/{item['Key']}", "size": int(item["Size"])})
    return objects


def _s3_client():
    import boto3  # lazy: only s3:// raw roots pay for it
    from botocore.config import Config

    # Custom endpoints (moto, MinIO) do not resolve bucket subdomains: use path-style there.
    custom = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return boto3.client("s3", config=Config(s3={"addressing_style": "path"}) if custom else None)
