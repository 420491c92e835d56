"""Framing of raw-zone objects, without a JVM: gzip by magic bytes, both framings, BOM, CRLF,
braces inside strings, corrupt gzip, and the Arrow batches handed to Spark."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from spark_jobs.ingest import framing
from spark_jobs.ingest.contract import FRAMED_SCHEMA
from spark_jobs.ingest.reader import extra_fields_json, object_batches, object_key

pytestmark = pytest.mark.unit

A = b'{"event_id":"a","quantity":1}'
B = b'{"event_id":"b","description":"curly }{ braces } {","quantity":2}'
C = b'{"event_id":"c","description":"say \\"}{\\" twice\\\\","quantity":3}'


def test_gzip_is_detected_by_magic_bytes_not_name() -> None:
    body = A + B
    assert framing.is_gzip(gzip.compress(body))
    assert not framing.is_gzip(body)
    assert framing.decode_object(gzip.compress(body)) == body
    assert framing.decode_object(body) == body  # uncompressed objects are accepted as they are


def test_concatenated_and_newline_framings_give_the_same_records() -> None:
    records = [A, B, C]
    concatenated = framing.records(gzip.compress(b"".join(records)))
    newline = framing.records(gzip.compress(b"\n".join(records) + b"\n"))
    crlf = framing.records(b"\r\n".join(records) + b"\r\n")
    assert concatenated == newline == crlf == records


def test_bom_at_object_start_and_before_records_is_skipped() -> None:
    bom = framing.UTF8_BOM
    assert framing.records(bom + A + B) == [A, B]
    assert framing.records(bom + A + b"\r\n" + bom + B + b"\r\n") == [A, B]


def test_brace_pairs_inside_strings_do_not_split_a_record() -> None:
    found = framing.frame(A + B + C)
    assert found.records(A + B + C) == [A, B, C]
    assert found.glued == 3  # B held two false cuts ("}{" and "} {"), C one


def test_malformed_record_with_odd_quotes_stays_alone() -> None:
    broken = b'{"event_id":"x,"quantity":1}'  # a quote missing: odd quote count
    assert framing.records(A + broken + B + C) == [A, broken, B, C]


def test_pretty_printed_records_are_framed() -> None:
    pretty = json.dumps({"event_id": "p", "nested": {"k": 1}}, indent=2).encode()
    assert framing.records(pretty + b"\n" + A) == [pretty, A]


def test_empty_and_blank_objects_have_no_records() -> None:
    assert framing.records(b"") == []
    assert framing.records(b" \r\n\t") == []
    assert framing.records(gzip.compress(b"")) == []


def test_multi_member_gzip_is_read_whole() -> None:
    assert framing.records(gzip.compress(A) + gzip.compress(B)) == [A, B]


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupt_gzip_raises_corrupt_object(damage: str) -> None:
    data = gzip.compress(b"".join([A, B, C] * 200))
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data = data[:20] + bytes(b ^ 0xFF for b in data[20:60]) + data[60:]
    with pytest.raises(framing.CorruptObject):
        framing.decode_object(data)


def test_sizes_are_trimmed_bytes_and_key_counts_count_top_level_keys() -> None:
    text = A + b"\n  " + '{"event_id":"é"}'.encode() + b"\r\n"
    found = framing.frame(text)
    assert found.sizes.tolist() == [len(A), len('{"event_id":"é"}'.encode())]
    assert found.key_counts.tolist() == [2, 1]


def test_extra_fields_keep_unknown_keys_with_their_json_types() -> None:
    known_only = {"event_id": "e", "quantity": 1, "schema_version": 1}
    assert extra_fields_json(json.dumps(known_only).encode()) is None
    assert json.loads(extra_fields_json(json.dumps({**known_only, "gift_wrap": True, "n": [1]}).encode())) == {
        "gift_wrap": True,
        "n": [1],
    }
    assert extra_fields_json(b"{not json") is None


def test_object_batches_mark_oversize_and_keep_text_zero_copy() -> None:
    big = b'{"event_id":"big","description":"' + b"x" * 500 + b'"}'
    batches = list(object_batches("s3://b/k.gz", gzip.compress(A + b"\n" + big + b"\n" + B), max_record_bytes=400))
    rows = [row for batch in batches for row in batch.to_pylist()]
    assert all(batch.schema.names == FRAMED_SCHEMA.fieldNames() for batch in batches)
    assert [r["record_index"] for r in rows] == [0, 1, 2]
    assert [r["frame_reason"] for r in rows] == [None, "oversize_record", None]
    assert rows[1]["record_bytes"] == len(big)
    assert rows[0]["record"].strip() == A.decode()  # trailing separator may ride along
    assert rows[2]["record"] == B.decode()


def test_a_corrupt_object_is_one_object_level_row() -> None:
    data = gzip.compress(A * 1000)[:100]
    (batch,) = object_batches("file:///raw/x.gz", data, max_record_bytes=1000)
    (row,) = batch.to_pylist()
    assert row["frame_reason"] == "corrupt_object"
    assert row["record_index"] is None and row["record"] is None
    assert row["record_bytes"] == 100


def test_object_keys_match_across_uri_spellings() -> None:
    assert object_key("file:/tmp/a.gz") == object_key("file:///tmp/a.gz") == object_key("/tmp/a.gz")
    assert object_key("s3a://bucket/k") == object_key("s3://bucket/k")


@pytest.mark.parametrize("framing_name", ["concatenated", "newline"])
def test_simulator_objects_frame_to_the_ground_truth_record_counts(tmp_path: Path, framing_name: str) -> None:
    from lakehouse.generate import GenerateConfig, generate

    config = GenerateConfig(
        start=datetime(2026, 11, 1, 1, tzinfo=UTC), hours=3, events_per_hour=150, framing=framing_name, faults="all"
    )
    truth = generate(config, str(tmp_path))
    corrupt = 0
    for hour in truth["hours"]:
        for obj in hour["objects"]:
            raw = (tmp_path / obj["key"]).read_bytes()
            if obj["corrupt"]:
                with pytest.raises(framing.CorruptObject):
                    framing.decode_object(raw)
                corrupt += 1
                continue
            assert len(framing.records(raw)) == obj["records"], obj["key"]
    assert corrupt == truth["totals"]["objects_corrupt"] == 1
