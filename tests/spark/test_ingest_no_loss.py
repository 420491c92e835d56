"""No record silently lost, one "newest wins" order: the ingest job end to end (in-process, real
Spark and Iceberg) on hostile hours written by hand.

- A hostile hour in both framings and a mix (non-object values, truncated records, junk after a
  record, broken records, BOMs, CRLF, an event older than the lateness window): every valid
  record reaches bronze once with its exact bytes, every bad span is one quarantine row with
  its reason and text, and the run record's counts and bytes reconcile.
- The same deliveries split into arrival hours in different ways, and run in a different
  order, give the same silver content: a re-send with an equal `emitted_at` wins when it
  arrives later, whichever hour it lands in.
"""

from __future__ import annotations

import gzip
import os
import sys
import zlib
from datetime import timedelta

import pytest

from lakehouse_core import landing
from spark_jobs.ingest.contract import EVENT_COLUMNS
from spark_jobs.ingest.job import IngestArgs, run_ingest
from tests.helpers.ingest_hours import HOUR, Hours, event

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Python workers need this venv (pyarrow)
pytestmark = pytest.mark.spark

# ---------------------------------------------------------------- a hostile hour


def test_a_hostile_hour_loses_nothing_and_reconciles_by_bytes(spark, session_lake, tmp_path) -> None:
    lake = Hours(spark, session_lake, tmp_path, "no_loss_hostile")
    valid = [event(f"v{i:02d}") for i in range(45)]
    late = event("late", ts="2026-11-05T09:00:00Z")  # 49 h before the arrival hour: beyond the 48 h window
    truncated = b'{"event_id": "x", "unterminated":'
    broken = event("broken").replace(b',"unit_price"', b' "unit_price"')  # a missing comma
    wrong_type = event("wrong").replace(b'"quantity":1', b'"quantity":"six"')
    # newline framing: the three cases an independent test once saw lose records
    first = b"".join(
        [
            *(v + b"\n" for v in valid[:5]),
            b"[1, 2, 3]\n",  # a value that is not an object, on its own line
            valid[5] + b"\n",
            b"42\n",
            valid[6] + b"\n",
            truncated + b" \n",  # a truncated record
            valid[7] + b"\n",
            valid[8] + b" trailing-garbage\n",  # junk after a complete record
            *(v + b"\n" for v in valid[9:15]),
        ]
    )
    # concatenated framing: the same faults with no delimiter to resynchronise on
    second = b"".join(
        [*valid[15:20], b"null", valid[20], truncated, valid[21], b"<html>", valid[22], broken, *valid[23:30]]
    )
    # a mix, uncompressed, with a BOM, CRLF and blank lines
    third = b"".join(
        [
            b"\xef\xbb\xbf",
            *(v + b"\r\n" for v in valid[30:35]),
            late + b"\r\n\r\n",
            b"".join(valid[35:40]),
            b"\n" + wrong_type + b"\n",
            *(v + b"\n" for v in valid[40:45]),
        ]
    )
    uris = [lake.write(HOUR, 5, first), lake.write(HOUR, 10, second), lake.write(HOUR, 15, third, compress=False)]

    record = lake.ingest(HOUR)

    bad = {
        (uris[0], 5): ("not_an_object", b"[1, 2, 3]"),
        (uris[0], 7): ("not_an_object", b"42"),
        (uris[0], 9): ("malformed_json", truncated),
        (uris[0], 12): ("malformed_json", b"trailing-garbage"),
        (uris[1], 5): ("not_an_object", b"null"),
        (uris[1], 7): ("malformed_json", truncated),
        (uris[1], 9): ("malformed_json", b"<html>"),
        (uris[1], 11): ("malformed_json", broken),
        (uris[2], 5): ("late_beyond_window", late),
        (uris[2], 11): ("wrong_type", wrong_type),
    }
    quarantine = {
        (r["source_object"], r["record_index"]): (r["reason_code"], r["raw_record"].encode(), r["raw_size_bytes"])
        for r in lake.table("quarantine").collect()
    }
    assert {k: v[:2] for k, v in quarantine.items()} == bad
    assert all(size == len(text) for _, text, size in quarantine.values())

    bronze = lake.table("bronze").select("event_id", "source_object", "record_index").collect()
    assert sorted(r["event_id"] for r in bronze) == sorted(f"v{i:02d}" for i in range(45)), "each valid record once"
    assert lake.table("silver").count() == 45

    assert record["records_read"] == 55 == record["records_parsed"] + record["records_quarantined"]
    by_reason = {k: v for k, v in record["quarantined_by_reason"].items() if v}
    assert by_reason == {"malformed_json": 5, "not_an_object": 3, "late_beyond_window": 1, "wrong_type": 1}
    decoded = len(first) + len(second) + len(third)
    assert record["bytes_decoded"] == decoded
    assert record["bytes_parsed"] == sum(len(v) for v in valid)
    assert record["bytes_quarantined"] == sum(len(text) for _, text in bad.values())
    assert record["bytes_decoded"] == record["bytes_parsed"] + record["bytes_quarantined"] + record["bytes_whitespace"]
    stored = lake.table("runs").where(f"run_id = '{record['run_id']}'").first()
    assert (stored["bytes_decoded"], stored["bytes_whitespace"]) == (decoded, record["bytes_whitespace"])


def test_the_lateness_window_is_the_setting_the_gate_uses(spark, session_lake, tmp_path) -> None:
    lake = Hours(spark, session_lake, tmp_path, "no_loss_lateness")
    lake.write(HOUR, 5, event("five_h", ts="2026-11-07T05:00:00Z") + event("two_d", ts="2026-11-05T09:00:00Z"))
    manifest = landing.write_manifest(lake.settings, landing.build_manifest(lake.settings, HOUR))
    base = {
        "catalog_name": lake.settings.catalog_name,
        "warehouse": lake.settings.warehouse,
        "catalog_uri": lake.settings.catalog_uri,
        "manifest": manifest,
        "arrival_hour": HOUR.isoformat(),
    }
    for window, late in (("4", 2), ("", 1), ("100", 0)):  # "": the default, 48 h
        args = IngestArgs.from_mapping({**base, "run_id": f"lateness-{window or 'default'}", "lateness_hours": window})
        record = run_ingest(spark, args, lake.tables, log=lambda _: None)
        assert record["quarantined_by_reason"]["late_beyond_window"] == late
        assert record["records_parsed"] == 2 - late


def test_damaged_objects_keep_what_decoded_and_weigh_their_bytes(spark, session_lake, tmp_path) -> None:
    """A truncated gzip object of 3,000 events was one quarantine row, all of them lost; now the
    records before the cut reach bronze and silver and the cut is one row. A gzip bomb is one
    object_too_large row, decoded no further than the cap. Both weigh in `bytes_corrupt`."""
    lake = Hours(spark, session_lake, tmp_path, "no_loss_damaged")
    events = [event(f"t{i:04d}") for i in range(3_000)]
    whole = gzip.compress(b"\n".join(events) + b"\n")
    truncated = lake.write_raw(HOUR, 5, whole[: len(whole) // 2])
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = b"".join(packer.compress(bytes(1 << 20)) for _ in range(64)) + packer.flush()  # 64 MiB of zeros
    bombed = lake.write_raw(HOUR, 10, bomb)
    fine = lake.write(HOUR, 15, b"\n".join(event(f"ok{i}") for i in range(10)))

    record = lake.ingest(HOUR, max_object_bytes=8 * 1024 * 1024)

    assert record["status"] == "succeeded"
    quarantine = lake.table("quarantine").collect()
    by_source = {(r["source_object"], r["reason_code"]): r for r in quarantine}
    assert by_source[(truncated, "corrupt_object")]["raw_size_bytes"] == len(whole) // 2
    assert "truncated" in by_source[(truncated, "corrupt_object")]["reason_detail"]
    assert by_source[(bombed, "object_too_large")]["raw_size_bytes"] == len(bomb)
    cut_short = [r for r in quarantine if r["reason_code"] == "malformed_json"]
    assert len(cut_short) <= 1 and all(r["source_object"] == truncated for r in cut_short)
    salvaged = sorted(r["event_id"] for r in lake.table("bronze").where(f"source_object = '{truncated}'").collect())
    assert len(salvaged) > 1_000 and salvaged == [f"t{i:04d}" for i in range(len(salvaged))]
    assert lake.table("bronze").where(f"source_object = '{fine}'").count() == 10
    assert lake.table("silver").count() == len(salvaged) + 10
    assert record["objects_corrupt"] == 2 and record["bytes_corrupt"] == len(whole) // 2 + len(bomb)
    assert record["records_read"] == record["records_parsed"] + record["records_quarantined"]
    assert record["bytes_decoded"] == record["bytes_parsed"] + record["bytes_quarantined"] + record["bytes_whitespace"]


# ---------------------------------------------------------------- one "newest wins" order

# Deliveries in arrival order: (event, emitted_at, quantity). Re-sends with an equal emitted_at
# and another payload are corrections: the later arrival must win, in any split into hours.
DELIVERIES = [
    [("a", "09:58:00", 1), ("b", "09:58:30", 9), ("c", "09:58:00", 1), ("c", "09:58:00", 2)],
    [("a", "09:58:00", 2), ("b", "09:58:00", 3), ("d", "09:58:00", 1), ("c", "09:58:00", 3)],
    [("a", "09:58:00", 3), ("d", "09:57:00", 7), ("e", "09:58:00", 1), ("c", "09:58:00", 4), ("a", "09:58:00", 4)],
]
WINNERS = {"a": 4, "b": 9, "c": 4, "d": 1, "e": 1}
SPLITS = {  # arrival hour of each delivery (object); the run order of the hours
    "one_hour": ([0, 0, 0], [0]),
    "three_hours": ([0, 1, 2], [0, 1, 2]),
    "three_hours_run_backwards": ([0, 1, 2], [2, 1, 0]),
    "two_hours_run_backwards": ([0, 0, 1], [1, 0]),
}


def _silver_content(lake: Hours) -> list[tuple]:
    columns = [*EVENT_COLUMNS, "is_cancellation"]
    return sorted(tuple(r) for r in lake.table("silver").select(*columns).collect())


def test_the_same_deliveries_split_into_hours_differently_give_the_same_silver(
    spark, session_lake, tmp_path_factory
) -> None:
    contents = {}
    for split, (hours_of, run_order) in SPLITS.items():
        lake = Hours(spark, session_lake, tmp_path_factory.mktemp(split), f"no_loss_split_{split}")
        for index, (delivery, hour_index) in enumerate(zip(DELIVERIES, hours_of, strict=True)):
            body = b"\n".join(event(e, emitted=f"2026-11-07T{at}Z", quantity=q) for e, at, q in delivery)
            lake.write(HOUR + timedelta(hours=hour_index), 10 + index, body)  # a later delivery, a later key
        for hour_index in run_order:
            assert lake.ingest(HOUR + timedelta(hours=hour_index))["status"] == "succeeded"
        silver = lake.table("silver").select("event_id", "quantity").collect()
        assert {r["event_id"]: r["quantity"] for r in silver} == WINNERS, split
        contents[split] = _silver_content(lake)
    assert all(content == contents["one_hour"] for content in contents.values())
