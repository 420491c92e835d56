"""Stragglers, Firehose error output, `lakehouse reconcile` and the one-writer-per-hour claim with
the raw zone on S3 (moto's server): the listing, the manifests per run, and S3's conditional
writes (`If-None-Match: *` to create a claim, `If-Match: <ETag>` to take over an expired one).
"""

from __future__ import annotations

import argparse
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lakehouse.commands import reconcile as reconcile_cmd
from lakehouse_core import hour_claims, landing
from lakehouse_core.settings import load_settings

pytestmark = pytest.mark.integration

HOUR = datetime(2026, 11, 1, 8, tzinfo=UTC)
BEFORE = HOUR - timedelta(hours=1)


def _settings(tmp_path: Path, bucket: str, endpoint: str):
    local = load_settings({"LAKEHOUSE_ENV": "local", "LAKEHOUSE_HOME": str(tmp_path / "lake")})
    return dataclasses.replace(local, raw_root=f"s3://{bucket}/zone", s3_endpoint=endpoint, aws_region="us-east-1")


def test_claims_on_s3_are_conditional_writes(s3, moto_endpoint: str, tmp_path: Path) -> None:
    client, bucket = s3
    settings = _settings(tmp_path, bucket, moto_endpoint)
    hour_claims.acquire(settings, HOUR, "run A")
    assert hour_claims.claim_uri(settings, HOUR) == f"s3://{bucket}/zone/_locks/orders/2026110108.json"
    with pytest.raises(hour_claims.HourBusy, match="being written by run A"):
        hour_claims.acquire(settings, HOUR, "run B")
    assert hour_claims.acquire(settings, HOUR, "run A").owner == "run A"
    hour_claims.release(settings, [HOUR], "run A")
    assert "Contents" not in client.list_objects_v2(Bucket=bucket, Prefix="zone/_locks/")

    hour_claims.acquire(settings, HOUR, "dead run", ttl=timedelta(0))
    store = hour_claims._store(settings, HOUR)
    _, stale_tag = store.read()
    assert hour_claims.acquire(settings, HOUR, "run B").owner == "run B", "an expired claim is taken over"
    assert store.replace(b"{}", stale_tag) is False, "a second taker with the stale ETag loses"
    assert hour_claims.holder(settings, HOUR).owner == "run B"


def test_stragglers_errors_and_reconcile_on_s3(s3, moto_endpoint: str, tmp_path: Path, monkeypatch, capsys) -> None:
    client, bucket = s3
    settings = _settings(tmp_path, bucket, moto_endpoint)
    client.put_object(Bucket=bucket, Key="zone/orders/2026/11/01/07/s-1-a.gz", Body=b"a")
    landing.land_hour(settings, BEFORE, "run-07")
    client.put_object(Bucket=bucket, Key="zone/orders/2026/11/01/07/s-1-late.gz", Body=b"late")
    client.put_object(Bucket=bucket, Key="zone/orders/2026/11/01/08/s-1-b.gz", Body=b"b")
    client.put_object(Bucket=bucket, Key="zone/firehose-errors/processing-failed/2026/11/01/08/s-1-err", Body=b"{}")

    uri, manifest = landing.land_hour(settings, HOUR, "run-08", "orders_lakehouse/scheduled__08")

    assert uri == f"s3://{bucket}/zone/_manifests/orders/2026110108/run-08.json"
    assert manifest["stragglers"] == [
        {
            "arrival_hour": "2026-11-01T07:00:00Z",
            "object_count": 1,
            "objects": [{"uri": f"s3://{bucket}/zone/orders/2026/11/01/07/s-1-late.gz", "size": 4}],
        }
    ]
    assert manifest["firehose_error_objects"] == 1
    assert [m["run_id"] for m in landing.hour_manifests(settings, BEFORE)] == ["run-07"]

    # no run has ingested anything (no run record, no table rows): reconcile says so, per hour
    for name, value in {
        "LAKEHOUSE_ENV": "local",
        "LAKEHOUSE_HOME": str(tmp_path / "lake"),
        "LAKEHOUSE_RAW_ROOT": settings.raw_root,
        "LAKEHOUSE_S3_ENDPOINT": moto_endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    assert reconcile_cmd.run(argparse.Namespace(start=BEFORE, end=HOUR + timedelta(hours=1))) == 1
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("2026-11-01")]
    # hour, raw, in manifests, ingested, never ingested, firehose errors
    assert rows == [["2026-11-01", "07:00", "2", "2", "0", "2", "0"], ["2026-11-01", "08:00", "1", "1", "0", "1", "1"]]
    assert f"never ingested: 2026-11-01T07 s3://{bucket}/zone/orders/2026/11/01/07/s-1-late.gz" in out
