"""`lakehouse generate` writes the same Firehose layout to S3 (moto's real HTTP server) as to disk.

The generator talks to the endpoint through pyarrow.fs (`spark_jobs.objectstore`), which takes the
endpoint from the standard AWS_ENDPOINT_URL variable as boto3 does,
exactly as it would to MinIO or to AWS; the test reads the bucket back with its own client.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest

from lakehouse.cli import main
from lakehouse.generate import GenerateConfig, generate

pytestmark = pytest.mark.integration

KEY_RE = re.compile(
    r"^raw/orders/\d{4}/\d{2}/\d{2}/\d{2}/orders-stream-1-\d{4}(-\d{2}){5}-"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.gz$"
)


def _count_records(data: bytes) -> int:
    """Framed records in one object: raw_decode, stepping over malformed ones by brace depth."""
    text, decoder, i, count = data.decode(), json.JSONDecoder(), 0, 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return count
        try:
            _, i = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            depth, in_string, escaped = 0, False, False
            for j in range(i, len(text)):
                c = text[j]
                if in_string:
                    escaped, in_string = (False, in_string) if escaped else (c == "\\", c != '"')
                elif c == '"':
                    in_string = True
                elif c in "{}":
                    depth += 1 if c == "{" else -1
                    if depth == 0:
                        i = j + 1
                        break
        count += 1


def _objects(client: Any, bucket: str, prefix: str) -> dict[str, bytes]:
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
    return out


def test_generate_to_s3_matches_the_ground_truth(s3: tuple[Any, str]) -> None:
    client, bucket = s3
    config = GenerateConfig(
        start=datetime(2026, 11, 1, 8, tzinfo=UTC), hours=3, events_per_hour=400, seed=11, faults="all"
    )
    truth = generate(config, f"s3://{bucket}/raw")
    assert truth["out"] == f"s3://{bucket}/raw"

    stored = _objects(client, bucket, "raw/orders/")
    expected = {f"raw/{o['key']}": o for hour in truth["hours"] for o in hour["objects"]}
    assert stored.keys() == expected.keys()
    assert all(KEY_RE.match(key) for key in stored)

    corrupt = []
    for key, body in stored.items():
        entry = expected[key]
        assert body[:2] == b"\x1f\x8b"
        assert len(body) == entry["bytes"]
        try:
            data = gzip.decompress(body)
        except (EOFError, gzip.BadGzipFile, zlib.error):
            corrupt.append(key)
            continue
        assert _count_records(data) == entry["records"], key
    assert corrupt == [k for k, o in expected.items() if o["corrupt"]]
    assert len(corrupt) == 1

    for hour in truth["hours"]:
        in_hour = [k for k in stored if k.startswith(f"raw/{hour['prefix']}")]
        readable = sum(expected[k]["records"] for k in in_hour if not expected[k]["corrupt"])
        assert hour["records"] == readable
        assert hour["records_read"] == hour["bronze_rows"] + hour["quarantine_rows"]

    body = client.get_object(Bucket=bucket, Key=f"raw/{truth['ground_truth_key']}")["Body"].read()
    assert json.loads(body) == truth


def test_rerun_on_s3_rewrites_identical_objects(s3: tuple[Any, str]) -> None:
    client, bucket = s3
    config = GenerateConfig(start=datetime(2026, 11, 1, 8, tzinfo=UTC), hours=1, events_per_hour=200, seed=3)
    generate(config, f"s3://{bucket}/raw")
    first = _objects(client, bucket, "raw/orders/")
    generate(config, f"s3://{bucket}/raw")
    assert _objects(client, bucket, "raw/orders/") == first


def test_cli_writes_to_s3_and_fails_cleanly_without_a_bucket(
    s3: tuple[Any, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client, bucket = s3
    monkeypatch.setenv("LAKEHOUSE_ENV", "local")
    args = ["generate", "--start", "2026-11-01T08", "--hours", "1", "--events-per-hour", "100"]
    assert main([*args, "--out", f"s3://{bucket}/landing"]) == 0
    out = capsys.readouterr().out
    assert f"s3://{bucket}/landing/_ground_truth/orders-2026110108-1h.json" in out
    assert _objects(client, bucket, "landing/orders/2026/11/01/08/")

    assert main([*args, "--out", "s3://no-such-bucket/raw"]) == 1
    assert "no-such-bucket" in capsys.readouterr().err
