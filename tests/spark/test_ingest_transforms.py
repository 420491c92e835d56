"""The ingest's DataFrame functions on hand-made records (real Spark, no tables)."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime

import numpy as np
import pytest

from spark_jobs.ingest.contract import EVENT_COLUMNS, FRAMED_SCHEMA
from spark_jobs.ingest.reader import typed_records
from spark_jobs.ingest.transforms import classify, latest_per_event, matching_target, parse_records, silver_rows

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Python workers need this venv (pyarrow)
pytestmark = pytest.mark.spark

GOOD = {
    "event_id": "e1",
    "invoice_no": "C536365",
    "invoice_line": 1,
    "stock_code": "85123A",
    "description": "WHITE HANGING HEART T-LIGHT HOLDER",
    "quantity": -6,
    "unit_price": 2.55,
    "currency": "GBP",
    "customer_id": "17850",
    "country": "United Kingdom",
    "event_ts": "2026-11-01T08:26:13.123Z",
    "emitted_at": "2026-11-01T08:26:14.000Z",
    "schema_version": 1,
}


def _framed(spark, records: list[str | None], reasons: list[str | None] | None = None, typed: bool = False):
    """Framed rows of `records`; with `typed`, the record spans typed as the Python worker types them
    (`reader.typed_records`: what Arrow accepts arrives typed, the rest as text for Spark)."""
    reasons = reasons or [None] * len(records)
    values = [(None,) * (1 + len(EVENT_COLUMNS))] * len(records)
    if typed:
        text = b"\n".join((r or "").encode() for r in records)
        lengths = np.array([len((r or "").encode()) for r in records], dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
        candidates = np.array([r is not None and reason is None for r, reason in zip(records, reasons, strict=True)])
        columns, parsed = typed_records(text, starts, starts + lengths, candidates)
        per_row = zip(*(c.to_pylist() for c in columns), strict=True)
        values = [(bool(p), *row) for p, row in zip(parsed, per_row, strict=True)]
    rows = [
        ("s3://raw/o.gz", i, text, len((text or "").encode()), reason, None, None, 1, None, None, *typed_values)
        for i, (text, reason, typed_values) in enumerate(zip(records, reasons, values, strict=True))
    ]
    return spark.createDataFrame(rows, FRAMED_SCHEMA)


def _with(**changes) -> str:
    record = {**GOOD, **changes}
    return json.dumps({k: v for k, v in record.items() if v is not _DROP})


_DROP = object()


@pytest.mark.parametrize("typed", [False, True], ids=["parsed_by_spark", "typed_by_arrow"])
def test_parse_classifies_each_record_with_one_reason(spark, typed: bool) -> None:
    records = [
        _with(),
        _with(event_id="e2", quantity="six"),
        _with(event_id="e3", unit_price="abc"),
        _with(event_id="e4", event_ts="yesterday"),
        _with(event_id="e5", quantity=1.5),
        _with(event_id="e6", country=_DROP),
        _with(event_id="e7", invoice_no=None),
        _with(event_id="e8").replace('"currency": "GBP"', "'currency': 'GBP'"),  # single quotes are not JSON
        _with(event_id="e9").replace(', "unit_price"', ' "unit_price"'),  # missing comma
        "[1, 2]",
        _with(event_id="e10", promo_code="X", unit_price="2.50"),  # numeric string: still a price
        None,
    ]
    reasons = [None] * 11 + ["corrupt_object"]
    rows = {r["record_index"]: r for r in parse_records(_framed(spark, records, reasons, typed)).collect()}
    got = {i: rows[i]["reason_code"] for i in rows}
    assert got == {
        0: None,
        1: "wrong_type",
        2: "wrong_type",
        3: "wrong_type",
        4: "wrong_type",
        5: "missing_required_field",
        6: "missing_required_field",
        7: "malformed_json",
        8: "malformed_json",
        9: "malformed_json",
        10: None,
        11: "corrupt_object",
    }
    assert rows[1]["reason_detail"] == "wrong type: quantity=six"
    assert rows[5]["reason_detail"] == "missing or null: country"
    assert rows[6]["reason_detail"] == "missing or null: invoice_no"
    good = rows[0]
    assert (good["quantity"], str(good["unit_price"]), good["raw_record"]) == (-6, "2.550", None)
    assert good["event_ts"].replace(tzinfo=UTC) == datetime(2026, 11, 1, 8, 26, 13, 123000, tzinfo=UTC)
    assert rows[7]["raw_record"] == records[7]  # rejected records keep their text
    assert str(rows[10]["unit_price"]) == "2.500"


def test_late_beyond_window_is_quarantined_and_the_rest_keeps_its_reason(spark) -> None:
    records = [
        _with(event_ts="2026-10-30T08:00:00Z"),  # 48 h + 26 min before 2026-11-01T08:26 -> older than the window
        _with(event_id="e2", event_ts="2026-10-30T08:26:13Z"),  # inside a 48 h window of 2026-11-01T08:00
        _with(event_id="e3", event_ts="2026-10-29T00:00:00Z", quantity="six"),  # wrong type wins over lateness
    ]
    oldest = datetime(2026, 10, 30, 8, 0, 1, tzinfo=UTC)
    rows = {r["record_index"]: r for r in parse_records(_framed(spark, records), oldest).collect()}
    assert [rows[i]["reason_code"] for i in range(3)] == ["late_beyond_window", None, "wrong_type"]
    assert rows[0]["reason_detail"] == (
        "event_ts 2026-10-30T08:00:00Z is before the lateness window, which starts at 2026-10-30T08:00:01Z"
    )
    assert rows[0]["raw_record"] == records[0]  # kept whole, to be replayed if wanted
    everything = {r["record_index"]: r["reason_code"] for r in parse_records(_framed(spark, records)).collect()}
    assert everything == {0: None, 1: None, 2: "wrong_type"}  # without a window nothing is late


def test_a_future_event_is_quarantined_with_its_full_text(spark) -> None:
    """A producer clock ahead of the arrival hour's end plus the skew: once a gate failure of the
    whole hour (the event_ts range check), now one quarantine row beside the hour's valid records."""
    records = [
        _with(event_ts="2026-11-03T08:00:00Z"),  # two days ahead
        _with(event_id="e2", event_ts="2026-11-01T09:05:00Z"),  # exactly the hour's end + 5 min: accepted
        _with(event_id="e3", event_ts="2026-11-03T08:00:00Z", quantity="six"),  # wrong type wins over the clock
    ]
    oldest, newest = datetime(2026, 10, 30, 8, tzinfo=UTC), datetime(2026, 11, 1, 9, 5, tzinfo=UTC)
    rows = {r["record_index"]: r for r in parse_records(_framed(spark, records), oldest, newest).collect()}
    assert [rows[i]["reason_code"] for i in range(3)] == ["future_event", None, "wrong_type"]
    assert rows[0]["reason_detail"] == (
        "event_ts 2026-11-03T08:00:00Z is after its arrival hour's end plus the clock skew: 2026-11-01T09:05:00Z"
    )
    assert rows[0]["raw_record"] == records[0]


def test_quarantine_text_is_whole_up_to_the_record_limit_and_trimmed(spark) -> None:
    long_text = '{"event_id": "' + "x" * 10_000 + '"'
    rows = parse_records(_framed(spark, [long_text + "  \r\n", "{oops}\r\n"])).collect()
    assert rows[0]["raw_record"] == long_text  # once cut at 4,096 characters
    assert rows[1]["raw_record"] == "{oops}"
    bounded = parse_records(_framed(spark, [long_text]), raw_max_chars=4096).collect()
    assert bounded[0]["raw_record"] == long_text[:4096]


def test_latest_version_wins_then_latest_arrival(spark) -> None:
    def row(event_id, emitted, obj, index, qty):
        return (event_id, emitted and datetime.fromisoformat(emitted), obj, index, qty, datetime(2026, 11, 1, 8))

    df = spark.createDataFrame(
        [
            row("a", "2026-11-01T08:00:01", "o1", 0, 1),
            row("a", "2026-11-01T08:00:05", "o1", 1, 2),  # newest emitted_at wins
            row("a", "2026-11-01T08:00:02", "o2", 0, 3),
            row("b", "2026-11-01T08:00:01", "o1", 5, 4),
            row("b", "2026-11-01T08:00:01", "o2", 0, 5),  # same version: the later object wins
            row("c", None, "o9", 0, 6),
            row("c", "2026-11-01T07:00:00", "o1", 0, 7),  # a known emitted_at beats null
        ],
        "event_id string, emitted_at timestamp, source_object string, record_index long, quantity int, "
        "arrival_hour timestamp",
    )
    latest = {r["event_id"]: r["quantity"] for r in latest_per_event(df).collect()}
    assert latest == {"a": 2, "b": 5, "c": 7}


def test_classify_against_silver_by_the_one_version_order(spark) -> None:
    """emitted_at first; on a tie the later arrival (hour, then object, then position) is newer."""
    columns = "event_id string, emitted_at string, arrival_hour string, source_object string, record_index long"

    def frame(rows):
        return spark.createDataFrame(rows, columns).selectExpr(
            "event_id",
            "cast(emitted_at as timestamp) emitted_at",
            "cast(arrival_hour as timestamp) arrival_hour",
            "source_object",
            "record_index",
        )

    t0, h8, h9 = "2026-11-01 08:00:00", "2026-11-01 08:00:00", "2026-11-01 09:00:00"
    batch_ids = ["new", "newer", "older", "resent_later_hour", "resent_later_object", "resent_later_position"]
    batch_ids += ["same", "resent_earlier", "over_null_index"]
    target_ids = [*batch_ids[1:], "other"]
    batch = frame(
        [
            ("new", t0, h9, "o-09-a", 0),
            ("newer", "2026-11-01 08:00:09", h8, "o-08-a", 0),  # later emitted_at, even from an earlier hour
            ("older", t0, h9, "o-09-a", 5),  # earlier emitted_at, even from a later hour
            ("resent_later_hour", t0, h9, "o-09-a", 1),
            ("resent_later_object", t0, h8, "o-08-b", 0),
            ("resent_later_position", t0, h8, "o-08-a", 7),
            ("same", t0, h8, "o-08-a", 3),  # the very copy silver holds: a re-run
            ("resent_earlier", t0, h8, "o-08-a", 2),
            ("over_null_index", t0, h8, "o-08-a", 0),
        ]
    )
    target = frame(
        [
            ("newer", t0, h9, "o-09-z", 9),
            ("older", "2026-11-01 08:00:09", h8, "o-08-a", 0),
            ("resent_later_hour", t0, h8, "o-08-z", 9),
            ("resent_later_object", t0, h8, "o-08-a", 9),
            ("resent_later_position", t0, h8, "o-08-a", 6),
            ("same", t0, h8, "o-08-a", 3),
            ("resent_earlier", t0, h8, "o-08-a", 3),
            ("over_null_index", t0, h8, "o-08-a", None),  # written before silver kept record_index
            ("other", t0, h8, "o-08-a", 0),
        ]
    )
    changes = {r["event_id"]: r["change"] for r in classify(batch, target).collect()}
    # the probe of silver (`matching_target`, by id hash) loses no match and changes no verdict
    found = matching_target(target, batch)
    assert sorted(r["event_id"] for r in found.collect()) == sorted(set(batch_ids) & set(target_ids))
    assert {r["event_id"]: r["change"] for r in classify(batch, found).collect()} == changes
    assert changes == {
        "new": "insert",
        "newer": "update",
        "older": "unchanged",
        "resent_later_hour": "update",
        "resent_later_object": "update",
        "resent_later_position": "update",
        "same": "unchanged",
        "resent_earlier": "unchanged",
        "over_null_index": "update",
    }


def test_silver_rows_flag_cancellations(spark) -> None:
    parsed = parse_records(_framed(spark, [_with(), _with(event_id="e2", invoice_no="536365")]))
    lineage = parsed.selectExpr(
        "*", "timestamp'2026-11-01 08:00:00' arrival_hour", "'r' run_id", "current_timestamp() ingested_at"
    )
    flags = {r["event_id"]: r["is_cancellation"] for r in silver_rows(lineage).collect()}
    assert flags == {"e1": True, "e2": False}


def test_probe_of_silver_broadcasts_64_bit_id_hashes(spark) -> None:
    """The batch's ids go to the probe as longs: the build side of a 1M-id batch is 8 MB of
    longs, not its id strings (hour 24 of bench-ingest: the probe's time halves)."""
    columns = "event_id string, emitted_at timestamp, arrival_hour timestamp, source_object string, record_index long"
    batch = spark.createDataFrame([("a", None, None, "o", 0)], columns)
    target = spark.createDataFrame([("a", None, None, "o", 1), ("b", None, None, "o", 2)], columns)
    found = matching_target(target, batch)
    plan = found._jdf.queryExecution().executedPlan().toString()
    built = [line for line in plan.splitlines() if "BroadcastExchange" in line]
    assert built and all("bigint" in line and "string" not in line for line in built), plan
    assert [r["event_id"] for r in found.collect()] == ["a"]
