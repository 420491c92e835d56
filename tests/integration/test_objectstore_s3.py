"""The one "local folder or s3://" layer (`spark_jobs.objectstore`, pyarrow.fs) against moto's server.

Every user of the layer on S3: the landing manifest (listing, storing and reading it beside the
raw zone, with the settings' `s3_endpoint`), the GX suites read from an `s3://` prefix, and the
Data Docs uploaded with a content type browsers render. The test reads the bucket back with
its own boto3 client.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lakehouse_core import landing
from lakehouse_core.settings import load_settings
from spark_jobs import objectstore
from spark_jobs.quality import reports, suites

pytestmark = pytest.mark.integration

HOUR = datetime(2026, 11, 1, 8, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def test_s3_manifest_lists_and_is_stored_beside_the_raw_zone(s3, moto_endpoint: str, tmp_path: Path) -> None:
    client, bucket = s3
    for key, body in {
        "zone/orders/2026/11/01/08/s-1-2026-11-01-08-40-00-b.gz": b"bb",
        "zone/orders/2026/11/01/08/s-1-2026-11-01-08-10-00-a.gz": b"a",
        "zone/orders/2026/11/01/08/": b"",  # a console "folder"
        "zone/orders/2026/11/01/07/s-1-2026-11-01-07-10-00-z.gz": b"previous hour",
    }.items():
        client.put_object(Bucket=bucket, Key=key, Body=body)
    local = load_settings({"LAKEHOUSE_ENV": "local", "LAKEHOUSE_HOME": str(tmp_path / "lake")})
    settings = dataclasses.replace(local, raw_root=f"s3://{bucket}/zone", s3_endpoint=moto_endpoint)

    manifest = landing.build_manifest(settings, HOUR)
    assert [(o["uri"], o["size"]) for o in manifest["objects"]] == [
        (f"s3://{bucket}/zone/orders/2026/11/01/08/s-1-2026-11-01-08-10-00-a.gz", 1),
        (f"s3://{bucket}/zone/orders/2026/11/01/08/s-1-2026-11-01-08-40-00-b.gz", 2),
    ]
    uri = landing.write_manifest(settings, {**manifest, "run_id": "run-1"})
    assert uri == f"s3://{bucket}/zone/_manifests/orders/2026110108/run-1.json"
    assert landing.read_manifest(uri) == {**manifest, "run_id": "run-1"}
    stored = client.get_object(Bucket=bucket, Key="zone/_manifests/orders/2026110108/run-1.json")
    assert json.loads(stored["Body"].read()) == {**manifest, "run_id": "run-1"}
    assert stored["ContentType"] == "application/json"
    assert landing.build_manifest(settings, HOUR.replace(hour=9))["objects"] == [], "an empty hour lists nothing"


def test_suites_are_read_from_an_s3_prefix(s3) -> None:
    client, bucket = s3
    for path in (REPO / "expectations").glob("*.json"):
        client.put_object(Bucket=bucket, Key=f"suites/{path.name}", Body=path.read_bytes())
    loaded = suites.load_suites(f"s3://{bucket}/suites", ("silver.order_lines", "audit.ingest_runs"))
    local = suites.load_suites(str(REPO / "expectations"), ("silver.order_lines", "audit.ingest_runs"))
    assert {t: s.data for t, s in loaded.items()} == {t: s.data for t, s in local.items()}
    with pytest.raises(suites.SuiteError, match=r"no suite for table bronze\.orders_raw"):
        suites.load_suites(f"s3://{bucket}/suites", ("bronze.orders_raw",))


def test_s3_docs_are_built_locally_then_uploaded(s3) -> None:
    client, bucket = s3
    target = reports.docs_target(f"s3://{bucket}/gx/", "r1")
    (target.local_dir / "validations").mkdir()
    (target.local_dir / "index.html").write_text("<html>index</html>")
    (target.local_dir / "validations" / "page.html").write_text("<html>page</html>")
    assert reports.publish_docs(target) == f"s3://{bucket}/gx/r1/index.html"
    assert not target.local_dir.exists(), "the temporary folder is removed after upload"
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {"gx/r1/index.html", "gx/r1/validations/page.html"}
    head = client.head_object(Bucket=bucket, Key="gx/r1/index.html")
    assert head["ContentType"] == "text/html", "browsers render it instead of downloading"


def test_bytes_are_stored_as_given_even_under_a_gz_name(s3) -> None:
    """pyarrow.fs would gzip (and un-gzip) `.gz` names by itself; Firehose objects are already gzip."""
    client, bucket = s3
    data = b"\x1f\x8b not really gzip"
    objectstore.write_bytes(f"s3://{bucket}/x/y.gz", data)
    assert client.get_object(Bucket=bucket, Key="x/y.gz")["Body"].read() == data
    assert objectstore.read_bytes(f"s3://{bucket}/x/y.gz") == data
