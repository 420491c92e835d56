"""Framing of raw-zone objects, without a JVM: gzip by magic bytes, both framings and any mix,
BOM, CRLF, braces inside strings, corrupt gzip, the cases an independent test once saw lose
records, property-based checks on random objects, and the Arrow batches handed to Spark."""

from __future__ import annotations

import gzip
import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spark_jobs.ingest import framing
from spark_jobs.ingest.contract import FRAMED_SCHEMA
from spark_jobs.ingest.framing import MALFORMED, NOT_AN_OBJECT, RECORD
from spark_jobs.ingest.reader import extra_fields_json, object_batches, object_key

pytestmark = pytest.mark.unit

A = b'{"event_id":"a","quantity":1}'
B = b'{"event_id":"b","description":"curly }{ braces } {","quantity":2}'
C = b'{"event_id":"c","description":"say \\"}{\\" twice\\\\","quantity":3}'
BLANKS = " \t\r\n\f\v\ufeff"


def spans(data: bytes) -> list[tuple[int, bytes]]:
    found = framing.frame(data)
    assert found.accounted_bytes() == len(data), "every byte is in a span or is whitespace"
    return found.spans(data)


# ---------------------------------------------------------------- the cases once seen losing records


def test_a_value_that_is_not_an_object_on_its_own_line_is_one_span_and_loses_no_neighbour() -> None:
    for value in (b"[1, 2, 3]", b"42"):
        data = A + b"\n" + value + b"\n" + B + b"\n"
        assert spans(data) == [(RECORD, A), (NOT_AN_OBJECT, value), (RECORD, B)]


def test_a_truncated_record_is_one_malformed_span_and_the_next_record_survives() -> None:
    fragment = b'{"event_id": "x", "unterminated":'
    newline = A + b"\n" + fragment + b" \n" + B + b"\n" + C + b"\n"
    concatenated = A + fragment + b" " + B + C
    for data in (newline, concatenated):
        assert spans(data) == [(RECORD, A), (MALFORMED, fragment), (RECORD, B), (RECORD, C)]


def test_text_after_a_complete_value_is_its_own_span_never_part_of_the_record() -> None:
    newline = A + b" trailing-garbage\n" + B + b"\n"
    concatenated = A + b"trailing-garbage" + B
    for data in (newline, concatenated):
        assert spans(data) == [(RECORD, A), (MALFORMED, b"trailing-garbage"), (RECORD, B)]


def test_a_record_truncated_inside_a_string_does_not_swallow_the_next_ones() -> None:
    fragment = b'{"event_id":"x","description":"WHITE HANG'
    assert spans(fragment + A + B + C) == [(MALFORMED, fragment), (RECORD, A), (RECORD, B), (RECORD, C)]


def test_a_record_with_a_syntax_error_is_one_span_even_after_junk() -> None:
    broken = b'{"event_id":"m","quantity":1 "unit_price":2}'
    assert spans(A + broken + B) == [(RECORD, A), (RECORD, broken), (RECORD, B)]  # Spark rejects it whole
    assert spans(A + b"junk" + broken + B) == [(RECORD, A), (MALFORMED, b"junk"), (MALFORMED, broken), (RECORD, B)]


def test_nan_and_infinity_are_not_json() -> None:
    assert spans(A + b"\nNaN\n-Infinity\n" + B) == [
        (RECORD, A),
        (MALFORMED, b"NaN"),
        (MALFORMED, b"-Infinity"),
        (RECORD, B),
    ]


def test_invalid_utf8_makes_only_its_own_span_unparsable() -> None:
    data = A + b"\xff\xfe junk\n" + '{"event_id":"é"}'.encode() + b"\n"
    assert spans(data) == [(RECORD, A), (MALFORMED, b"\xff\xfe junk"), (RECORD, '{"event_id":"é"}'.encode())]


# ---------------------------------------------------------------- framings, BOM, CRLF, gzip


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


def test_bom_at_object_start_and_before_records_is_whitespace() -> None:
    bom = framing.UTF8_BOM
    assert framing.records(bom + A + B) == [A, B]
    found = framing.frame(bom + A + b"\r\n" + bom + B + b"\r\n")
    assert found.records(bom + A + b"\r\n" + bom + B + b"\r\n") == [A, B]
    assert found.whitespace.tolist() == [3 + 2 + 3, 2] and found.whitespace_bytes == 10


def test_brace_pairs_inside_strings_do_not_split_a_record() -> None:
    found = framing.frame(A + B + C)
    assert found.records(A + B + C) == [A, B, C]
    assert found.scanned_bytes == len(B + C)  # only the pieces cut inside a string were scanned again


def test_well_formed_input_never_reaches_the_scanner() -> None:
    data = b"\n".join([A] * 50) + b"\n"
    assert framing.frame(data).scanned_bytes == 0
    assert framing.frame(data.replace(b"\n", b"")).scanned_bytes == 0


def test_pretty_printed_records_are_framed() -> None:
    pretty = json.dumps({"event_id": "p", "nested": {"k": 1}}, indent=2).encode()
    assert framing.records(pretty + b"\n" + A) == [pretty, A]


def test_empty_and_blank_objects_have_no_spans_and_reconcile() -> None:
    assert framing.records(b"") == []
    assert framing.records(gzip.compress(b"")) == []
    blank = framing.frame(b" \r\n\t")
    assert len(blank) == 0 and blank.whitespace_bytes == 4 == blank.accounted_bytes()


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
    assert found.whitespace.tolist() == [3, 2]


# ---------------------------------------------------------------- property-based: random objects

# JSON values without lone surrogates (they cannot be encoded as UTF-8, so no producer sends them).
_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT
)
_VALUES = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3), max_leaves=6
)
_OBJECTS = st.dictionaries(_TEXT, _VALUES, max_size=4)
_NON_OBJECTS = _SCALARS | st.lists(_VALUES, max_size=3)
# Flat objects whose strings hold no '{': what a truncated record is cut from (a '{' inside the
# unterminated string that opened a complete object would rightly be taken for a record).
_FLAT_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="{"), max_size=12)
_FLAT = st.dictionaries(_FLAT_TEXT, st.none() | st.booleans() | st.integers() | _FLAT_TEXT, min_size=1, max_size=4)
# Junk: starts and ends with a character no JSON value starts or continues with; no braces, quotes
# or line breaks (so where it ends is unambiguous).
_JUNK_CHARS = "xyzXYZ@#$%^&*()<>?/|~!=+_;"
_JUNK = st.builds(
    lambda a, middle, b: a + middle + b,
    st.sampled_from(_JUNK_CHARS),
    st.text(st.sampled_from(_JUNK_CHARS + " "), max_size=10),
    st.sampled_from(_JUNK_CHARS),
)
_DUMP_STYLES = [
    {"separators": (",", ":"), "ensure_ascii": False},
    {"separators": (", ", ": "), "ensure_ascii": True},
    {"indent": 2, "ensure_ascii": False},
]


@st.composite
def _dumped(draw, values) -> str:
    return json.dumps(draw(values), **draw(st.sampled_from(_DUMP_STYLES)))


@st.composite
def _segment(draw) -> tuple[str, str, str]:
    """(kind, text as written, text the span must have): kind record | not_an_object | bad."""
    kind = draw(st.sampled_from(["record", "record", "record", "not_an_object", "truncated", "junk", "broken"]))
    if kind == "record":
        text = draw(_dumped(_OBJECTS))
        return "record", text, text
    if kind == "not_an_object":
        text = draw(_dumped(_NON_OBJECTS))
        return "not_an_object", text, text
    if kind == "truncated":
        whole = json.dumps(draw(_FLAT), **draw(st.sampled_from(_DUMP_STYLES[:2])))
        text = whole[: draw(st.integers(1, len(whole) - 1))]
        return "bad", text, text.rstrip(BLANKS)
    if kind == "junk":
        text = draw(_JUNK)
        return "bad", text, text
    flat = draw(st.dictionaries(_FLAT_TEXT, st.integers(), min_size=1, max_size=4))
    text = json.dumps(flat, separators=(",", ":"))[:-1] + ",}"  # a trailing comma: balanced, not JSON
    return "bad", text, text


_SEPARATORS = {
    "newline": ["\n", "\r\n", " \n", "\n\ufeff", "\r\n\r\n"],
    "concatenated": ["", "", "", " ", "\t", "\ufeff"],
    "mixed": ["", "", "\n", "\r\n", " ", "\ufeff\n", "\t"],
}


def _risky(before: tuple[str, str, str], after: tuple[str, str, str]) -> bool:
    """Could two segments, with nothing between them, be read as something else?"""
    # junk or a fragment before anything but an object: no record start to find
    junk_first = before[0] == "bad" and after[0] != "record"
    # 42 then 7 is 427
    number_then_digit = before[1][-1:].isdigit() and before[0] == "not_an_object" and after[1][:1] in "0123456789"
    return junk_first or number_then_digit


@st.composite
def _objects(draw) -> tuple[str, list[tuple[str, str, str]], str]:
    style = draw(st.sampled_from(list(_SEPARATORS)))
    segments = draw(st.lists(_segment(), max_size=10))
    parts = [draw(st.sampled_from(["", "\ufeff", " \r\n", "\ufeff\n"]))]
    for i, segment in enumerate(segments):
        parts.append(segment[1])
        separator = draw(st.sampled_from(_SEPARATORS[style]))
        if i + 1 < len(segments) and "\n" not in separator and _risky(segment, segments[i + 1]):
            separator += "\n"
        parts.append(separator)
    parts.append(draw(st.sampled_from(["", "\n", "\r\n", " "])))
    return style, segments, "".join(parts)


def _outcome(kind: int, text: bytes) -> str:
    """What the pipeline makes of a span: Spark parses record spans (emulated here with `json`)."""
    if kind == NOT_AN_OBJECT:
        return "not_an_object"
    if kind == MALFORMED:
        return "bad"
    try:
        value = json.loads(text, parse_constant=lambda name: 1 / 0)
    except (ValueError, ZeroDivisionError):
        return "bad"
    return "record" if isinstance(value, dict) else "bad"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_objects(), st.integers(1, 4))
@example(
    ("concatenated", [("bad", '{"d":"a}', '{"d":"a}'), ("record", '{"e":"}{"}', '{"e":"}{"}')], '{"d":"a}{"e":"}{"}'), 1
)
@example(
    ("concatenated", [("bad", '{"', '{"'), ("record", '{"":"}"}', '{"":"}"}'), ("bad", "xx", "xx")], '{"{"":"}"}xx'), 1
)
@example(("newline", [("bad", '{"', '{"'), ("bad", '{"\\"":0,}', '{"\\"":0,}')], '{"\n{"\\"":0,}\n'), 1)
@example(("newline", [("bad", '{"', '{"'), ("record", '{"}{":null}', '{"}{":null}')], '{"\n{"}{":null}\n'), 1)
def test_every_value_is_one_span_and_every_byte_is_accounted_for(case, members: int) -> None:
    """Random objects of records, non-object values, truncated records, junk and broken records,
    in both framings and mixed, with BOMs and CRLF, compressed as one or several gzip members:
    every record comes out once with its exact bytes, every bad span is quarantined once,
    nothing else appears, and span bytes + whitespace bytes = the decoded size."""
    _style, segments, text = case
    data = text.encode("utf-8")
    cut = [len(data) * k // members for k in range(members + 1)]
    compressed = b"".join(gzip.compress(data[a:b]) for a, b in itertools.pairwise(cut))
    decoded = framing.decode_object(compressed)
    assert decoded == data
    found = framing.frame(decoded)
    got = [(_outcome(kind, span), span) for kind, span in found.spans(decoded)]
    assert got == [(kind, span.encode("utf-8")) for kind, _, span in segments]
    assert found.accounted_bytes() == len(data)
    assert int(found.whitespace.sum()) == found.whitespace_bytes or len(found) == 0


@settings(max_examples=100, deadline=None)
@given(_objects())
def test_arrow_rows_carry_every_span_and_add_up_to_the_object(case) -> None:
    """The rows handed to Spark: one per span, in order, reasons on the spans framing rejects,
    and record bytes + whitespace bytes = the object's decoded size (on its first row)."""
    _style, segments, text = case
    data = text.encode("utf-8")
    rows = [row for batch in object_batches("s3://b/k.gz", gzip.compress(data), 10**6) for row in batch.to_pylist()]
    assert [r["record_index"] for r in rows] == list(range(len(segments)))
    assert sum(r["record_bytes"] + r["whitespace_bytes"] for r in rows) == (len(data) if rows else 0)
    assert [r["object_bytes"] for r in rows] == ([len(data)] + [None] * (len(rows) - 1) if rows else [])
    expected = {"not_an_object": "not_an_object"}
    for row, (kind, _, span) in zip(rows, segments, strict=True):
        assert row["record_bytes"] == len(span.encode("utf-8"))
        if kind in expected:
            assert row["frame_reason"] == expected[kind]
        elif kind == "record":
            assert row["frame_reason"] is None


# ---------------------------------------------------------------- the rows handed to Spark


def test_extra_fields_keep_unknown_keys_with_their_json_types() -> None:
    known_only = {"event_id": "e", "quantity": 1, "schema_version": 1}
    assert extra_fields_json(json.dumps(known_only).encode()) is None
    assert json.loads(extra_fields_json(json.dumps({**known_only, "gift_wrap": True, "n": [1]}).encode())) == {
        "gift_wrap": True,
        "n": [1],
    }
    assert extra_fields_json(b"{not json") is None


def test_object_batches_mark_rejected_spans_and_keep_text_zero_copy() -> None:
    big = b'{"event_id":"big","description":"' + b"x" * 500 + b'"}'
    body = A + b"\n" + big + b"\n[1, 2]\n" + B + b" junk\n"
    batches = list(object_batches("s3://b/k.gz", gzip.compress(body), max_record_bytes=400))
    rows = [row for batch in batches for row in batch.to_pylist()]
    assert all(batch.schema.names == FRAMED_SCHEMA.fieldNames() for batch in batches)
    assert [r["record_index"] for r in rows] == [0, 1, 2, 3, 4]
    assert [r["frame_reason"] for r in rows] == [None, "oversize_record", "not_an_object", None, "malformed_json"]
    assert rows[1]["record_bytes"] == len(big)
    assert rows[0]["record"].strip() == A.decode()  # trailing separator may ride along
    assert rows[3]["record"].strip() == B.decode()
    assert rows[4]["record"].strip() == "junk"
    assert [r["whitespace_bytes"] for r in rows] == [1, 1, 1, 1, 1]
    assert rows[0]["object_bytes"] == len(body) and all(r["object_bytes"] is None for r in rows[1:])


def test_a_corrupt_object_salvages_what_decoded_and_adds_one_object_level_row() -> None:
    data = gzip.compress(A * 1000)[:100]
    rows = [
        row for batch in object_batches("file:///raw/x.gz", data, max_record_bytes=1000) for row in batch.to_pylist()
    ]
    *salvaged, damage = rows
    assert salvaged and all(r["frame_reason"] is None for r in salvaged[:-1])  # the last may be cut short
    assert damage["frame_reason"] == "corrupt_object" and "truncated" in damage["frame_detail"]
    assert damage["record_index"] is None and damage["record"] is None
    assert damage["record_bytes"] == 100 and damage["object_bytes"] is None and damage["whitespace_bytes"] == 0
    decoded = sum(r["record_bytes"] + r["whitespace_bytes"] for r in salvaged)
    assert rows[0]["object_bytes"] == decoded + 100  # what decoded before the damage, plus the raw object


def test_a_corrupt_object_with_nothing_before_the_damage_is_one_object_level_row() -> None:
    data = gzip.compress(A * 1000)[:12]  # the header and a byte or two: nothing decodes
    (batch,) = object_batches("file:///raw/x.gz", data, max_record_bytes=1000)
    (row,) = batch.to_pylist()
    assert row["frame_reason"] == "corrupt_object"
    assert row["record_index"] is None and row["record"] is None
    assert row["record_bytes"] == row["object_bytes"] == 12 and row["whitespace_bytes"] == 0


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
            text = framing.decode_object(raw)
            found = framing.frame(text)
            assert len(found) == obj["records"], obj["key"]
            assert found.accounted_bytes() == len(text)
    assert corrupt == truth["totals"]["objects_corrupt"] == 1
