"""Inputs real streams produce and nobody here wrote (issue 24), without a JVM: a record nested
20,000 deep, malformed records whose framing used to take quadratic time, bytes that are not
UTF-8, truncated and damaged gzip streams, a gzip bomb. Each becomes rows with a reason; none
raises, none costs more than linear work.

Work is measured by the scanner's own step count (`Framing.scan_work`: tokens of the extent
pass, characters each JSON parse reached, record starts looked at), never by wall time.
"""

from __future__ import annotations

import gzip
import json
import random
import tracemalloc
import zlib

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spark_jobs.ingest import framing, reader
from spark_jobs.ingest.contract import MAX_NESTING_DEPTH
from spark_jobs.ingest.framing import MALFORMED, RECORD
from spark_jobs.ingest.reader import object_batches

pytestmark = pytest.mark.unit

ORDER = {
    "event_id": "e1",
    "invoice_no": "536365",
    "invoice_line": 1,
    "stock_code": "85123A",
    "description": "WHITE HANGING HEART T-LIGHT HOLDER",
    "quantity": 6,
    "unit_price": 2.55,
    "currency": "GBP",
    "customer_id": "17850",
    "country": "United Kingdom",
    "event_ts": "2026-11-07T09:55:00Z",
    "emitted_at": "2026-11-07T09:58:00Z",
    "schema_version": 1,
}
VALID = json.dumps(ORDER, separators=(",", ":")).encode()


def order(**fields) -> bytes:
    return json.dumps({**ORDER, **fields}, separators=(",", ":")).encode()


def rows_of(raw: bytes, max_record_bytes: int = 1_024_000, max_object_bytes: int = framing.MAX_OBJECT_BYTES):
    """The rows handed to Spark, `record` as bytes (a span that is not UTF-8 goes to the JVM as its bytes)."""
    batches = object_batches("s3://b/k.gz", raw, max_record_bytes, max_object_bytes)
    rows = []
    for batch in batches:
        for row in batch.set_column(2, "record", batch.column(2).view(pa.binary())).to_pylist():
            row["record"] = None if row["record"] is None else row["record"].decode("utf-8", "replace")
            rows.append(row)
    return rows


def accounted(rows) -> int:
    return sum(r["record_bytes"] + r["whitespace_bytes"] for r in rows)


# ---------------------------------------------------------------- a poison record


def deep_order(depth: int = 20_000) -> bytes:
    """A valid order with a JSON array `depth` levels deep under a key the contract does not know."""
    return VALID[:-1] + b',"gift_note":' + b"[" * depth + b"]" * depth + b"}"


def test_a_record_nested_20000_deep_under_an_unknown_key_is_one_quarantine_row_not_an_exception() -> None:
    """Once, `extra_fields_json`'s json.loads raised RecursionError here and failed the hour on every retry."""
    body = VALID + b"\n" + deep_order() + b"\n" + order(event_id="e2") + b"\n"
    rows = rows_of(gzip.compress(body))
    assert [r["frame_reason"] for r in rows] == [None, "nesting_too_deep", None]
    assert rows[1]["record_bytes"] == len(deep_order()) and rows[1]["record"].strip() == deep_order().decode()
    assert accounted(rows) == len(body) == rows[0]["object_bytes"]


def test_a_deep_record_after_junk_is_framed_as_one_record_and_quarantined() -> None:
    """In a region the scanner parses value by value, the parser's RecursionError is caught too."""
    body = VALID + b"junk" + deep_order() + order(event_id="e2")
    found = framing.frame(body)
    assert [k for k, _ in found.spans(body)] == [RECORD, MALFORMED, RECORD, RECORD]
    rows = rows_of(body)
    assert [r["frame_reason"] for r in rows] == [None, "malformed_json", "nesting_too_deep", None]


def test_nesting_depth_counts_outside_strings_only() -> None:
    assert framing.nesting_depth(b'{"a":[[1]],"b":"[[[[{{{{"}', 0, 26) == 3
    assert framing.nesting_depth(deep_order(), 0, len(deep_order())) == 20_001
    shallow = VALID[:-1] + b',"n":' + b"[" * (MAX_NESTING_DEPTH - 1) + b"]" * (MAX_NESTING_DEPTH - 1) + b"}"
    assert [r["frame_reason"] for r in rows_of(shallow)] == [None]  # at the limit: parsed as usual


def test_anything_unexpected_while_reading_one_object_becomes_a_corrupt_object_row(monkeypatch) -> None:
    """The guard for errors nobody has found yet: an exception from any step of one object's
    framing is that object's quarantine row (all or nothing: no half of its rows), never the hour's failure."""
    body = b"\n".join(order(event_id=f"e{i}") for i in range(3))

    def broken(text: bytes) -> framing.Framing:
        raise MemoryError("no room for this object")

    monkeypatch.setattr(reader.framing, "frame", broken)
    (row,) = rows_of(gzip.compress(body))
    assert row["frame_reason"] == "corrupt_object" and "MemoryError: no room for this object" in row["frame_detail"]
    assert row["record_bytes"] == row["object_bytes"] == len(gzip.compress(body))


# ---------------------------------------------------------------- framing work is linear

SHAPES = {
    # the issue's shapes: each once took time quadratic in its size
    "open_braces": lambda n: b"{" * n,
    "open_keys": lambda n: b'{"a":' * (n // 5),
    # more: nested broken records, a string cut by many `}{`, brackets, a long unterminated string
    "nested_then_junk": lambda n: b'{"a":' * (n // 12) + b"{}" + b"x}" * (n // 12),
    "string_with_cuts": lambda n: b'{"d":"' + b"}{" * (n // 2),
    "open_brackets": lambda n: b"[" * n,
    "quotes_and_braces": lambda n: b'{"{' * (n // 3),
    "broken_in_broken": lambda n: b'{"a":1 ' * (n // 14) + b"x}" * (n // 14),
}


def bad_line(shape: str, n: int) -> bytes:
    """One malformed record of the shape, between valid records on one line (concatenated framing)."""
    return VALID + b"\n" + VALID + SHAPES[shape](n) + VALID + b"\n" + VALID + b"\n"


def work(data: bytes) -> int:
    found = framing.frame(data)
    assert found.accounted_bytes() == len(data)
    return found.scan_work


@pytest.mark.parametrize("shape", ["open_braces", "open_keys"])
def test_the_quadratic_shapes_of_the_issue_frame_in_linear_work(shape: str) -> None:
    """`{` x n and `{"a":` x n on one bad line: 2,000 / 4,000 / 8,000 `{` took 0.8 / 2.4 / 8.9 s
    (x4 per doubling); now the work doubles with the input, and the line is one malformed span."""
    small, large = work(bad_line(shape, 20_000)), work(bad_line(shape, 40_000))
    assert large <= 2 * small + 64
    data = bad_line(shape, 40_000)
    kinds = [k for k, _ in framing.frame(data).spans(data)]
    assert kinds == [RECORD, RECORD, MALFORMED, RECORD, RECORD]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(SHAPES)), st.integers(200, 4000))
def test_framing_twice_the_malformed_record_costs_at_most_twice_the_work(shape: str, n: int) -> None:
    assert work(bad_line(shape, 2 * n)) <= 2 * work(bad_line(shape, n)) + 64


_PART = st.one_of(
    st.builds(lambda shape, n: SHAPES[shape](n), st.sampled_from(sorted(SHAPES)), st.integers(1, 3000)),
    st.just(VALID),
    st.sampled_from([b"\n", b" ", b"", b"junk", b'"', b"}", b"]", b"{", b"\\"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_PART, max_size=12))
def test_framing_work_is_bounded_by_a_constant_per_byte_whatever_the_input(parts: list[bytes]) -> None:
    """Any mix of the shapes, valid records and stray characters: the work per byte has one
    bound, whatever the sizes (so it is linear: no input makes it grow faster than its size)."""
    data = b"".join(parts)
    assert work(data) <= 16 * len(data) + 4 * framing.WORK_BASE


def test_a_1000_kib_malformed_record_frames_with_bounded_work() -> None:
    data = bad_line("open_braces", 1_024_000)
    found = framing.frame(data)
    assert len(found) == 5 and found.scan_work <= 4 * len(data)


# ---------------------------------------------------------------- bytes that are not UTF-8


def test_a_record_whose_bytes_are_not_utf8_is_quarantined_with_its_exact_bytes() -> None:
    """Once replaced by U+FFFD on the way to bronze and silver; now the bytes are kept as they came."""
    bad = order(event_id="e2").replace(b"WHITE", b"WH\xff\xfeITE")
    body = VALID + b"\n" + bad + b"\n" + '{"event_id":"é"}'.encode() + b"\n" + b"\xc3 junk\n"
    rows = rows_of(gzip.compress(body))
    assert [r["frame_reason"] for r in rows] == [None, "invalid_utf8", None, "invalid_utf8"]
    assert rows[1]["raw_bytes"] == bad and rows[3]["raw_bytes"] == b"\xc3 junk"
    assert rows[0]["raw_bytes"] is None and rows[2]["raw_bytes"] is None  # valid UTF-8: the text is exact
    assert accounted(rows) == len(body)


def test_invalid_utf8_positions_are_found_in_one_pass() -> None:
    text = b"ok \xff ok \xe2\x82 ok \xe2\x82\xac \xc0\xaf"
    assert framing.invalid_utf8(text).tolist() == [3, 8, 18, 19]
    assert framing.invalid_utf8("é€".encode()).tolist() == []
    assert framing.invalid_utf8(b"plain ascii").tolist() == []


# ---------------------------------------------------------------- corrupt objects


def test_a_truncated_gzip_object_salvages_the_records_before_the_damage() -> None:
    """A truncated object of many events was one quarantine row, the events all lost; now the
    records decoded before the cut are framed as usual and the damage is one more row."""
    records = [order(event_id=f"e{i:05d}", description=f"item {i} " * (i % 7)) for i in range(20_000)]
    body = b"\n".join(records) + b"\n"
    raw = gzip.compress(body)[: len(gzip.compress(body)) // 2]
    decoded = framing.decode(raw)
    assert decoded.damage and "truncated" in decoded.damage and body.startswith(decoded.text)
    rows = rows_of(raw)
    *spans, damage = rows
    good = [r for r in spans if r["frame_reason"] is None]
    assert len(good) >= 9_000 and [r["record"].strip().encode() for r in good] == records[: len(good)]
    assert all(r["frame_reason"] == "malformed_json" for r in spans[len(good) :])  # at most the record cut in two
    assert len(spans) - len(good) <= 1
    assert damage["frame_reason"] == "corrupt_object" and damage["record_bytes"] == len(raw)
    assert rows[0]["object_bytes"] == len(decoded.text) + len(raw) == accounted(rows)


def test_a_damaged_gzip_stream_keeps_only_the_members_whose_checksum_held() -> None:
    """Damage inside a deflate stream is noticed late (at the latest by the member's CRC), after
    wrong bytes may have come out: the damaged member is dropped whole, earlier members kept."""
    rng = random.Random(24)
    first = b"\n".join(order(event_id=f"a{i:05d}") for i in range(1_000)) + b"\n"
    body = b"\n".join(order(event_id=f"e{i:05d}", description=rng.randbytes(48).hex()) for i in range(30_000))
    second = bytearray(gzip.compress(body, compresslevel=1))
    assert len(second) > 4 * 256 * 1024
    at = len(second) * 3 // 4
    second[at : at + 64] = bytes(b ^ 0xFF for b in second[at : at + 64])  # flipped bits inside the stream
    raw = gzip.compress(first) + bytes(second)
    decoded = framing.decode(raw)
    assert decoded.damage and "damaged" in decoded.damage and decoded.text == first
    with pytest.raises(framing.CorruptObject):
        framing.decode_object(raw)
    rows = rows_of(raw)
    assert [r["frame_reason"] for r in rows] == [None] * 1_000 + ["corrupt_object"]


def test_multi_member_and_trailing_junk() -> None:
    assert framing.decode(gzip.compress(VALID) + gzip.compress(VALID)).text == VALID + VALID
    junk = framing.decode(gzip.compress(VALID) + b"PADDING")
    assert junk.text == VALID and "not a gzip member" in junk.damage


def zero_bomb(members: int = 200, member_mib: int = 16) -> bytes:
    """A few MB of gzip that decode to members x member_mib MiB of zeros (one member, repeated)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    member = b"".join(packer.compress(zeros) for _ in range(member_mib)) + packer.flush()
    return member * members


def test_a_gzip_bomb_is_one_object_too_large_row_and_never_decoded_whole() -> None:
    bomb = zero_bomb()  # ~3 MB that would decode to 3.2 GB
    assert 1_000_000 < len(bomb) < 8_000_000
    cap = 4 * 1024 * 1024
    tracemalloc.start()
    try:
        decoded = framing.decode(bomb, max_bytes=cap)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert decoded.too_large and decoded.text == b""
    assert peak < 3 * cap  # what was held: about the cap, not the 3.2 GB
    (row,) = rows_of(bomb, max_object_bytes=cap)
    assert row["frame_reason"] == "object_too_large" and row["record_index"] is None
    assert row["record_bytes"] == row["object_bytes"] == len(bomb)


def test_an_uncompressed_object_over_the_cap_is_too_large_too() -> None:
    assert framing.decode(VALID * 10, max_bytes=len(VALID) * 10).text == VALID * 10
    assert framing.decode(VALID * 10, max_bytes=len(VALID) * 10 - 1).too_large


def test_a_large_region_is_scanned_in_windows_with_the_same_spans(monkeypatch) -> None:
    """Megabytes with no `}{` to cut at (bare values, junk) are one region; the scanner takes it in
    windows cut at line breaks, so what it holds per character stays bounded, and the spans are
    those of one pass."""
    lines = [b"[1, 2]", b"junk here", VALID, b'"text"', b"{", b"42"]
    data = b"\n".join(lines[i % len(lines)] for i in range(30_000)) + b"\n"
    whole = framing.frame(data)
    monkeypatch.setattr(framing, "SCAN_WINDOW_BYTES", 16 * 1024)
    windowed = framing.frame(data)
    assert len(framing._windows(data, 0, len(data))) > 10
    assert windowed.spans(data) == whole.spans(data) and windowed.accounted_bytes() == len(data)


def test_the_work_bound_is_not_spent_on_ordinary_bad_lines() -> None:
    """Hundreds of NaN lines (a value JSON does not have) cost their own length each, so the
    records after them are still framed value by value, not cut by lines."""
    data = b"junk\n" + b"NaN\n" * 500 + b"[1, 2]\n" + VALID + b"x" + VALID + b"\n"
    kinds = [k for k, _ in framing.frame(data).spans(data)]
    assert kinds[-4:] == [framing.NOT_AN_OBJECT, RECORD, MALFORMED, RECORD]
