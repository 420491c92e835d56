"""The Python workers' columnar parse (`reader.typed_records`, Arrow's JSON reader), no JVM.

What Arrow types must be what Spark's `from_json` would give; what it cannot type exactly as
Spark would (a number where a string is expected, a price Spark rounds, a timestamp not in the
strict ISO form) must stay untyped, so the JVM parses it as before. The Spark side of the same
records is tests/spark/test_ingest_transforms.py (both paths, the same outcomes).
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from spark_jobs.ingest.reader import object_batches, typed_records

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
    "event_ts": "2026-11-01T08:26:13.123Z",
    "emitted_at": "2026-11-01T08:26:14Z",
    "schema_version": 1,
}


def order(**changes) -> bytes:
    return json.dumps({**ORDER, **changes}, separators=(",", ":")).encode()


def typed(records: list[bytes]) -> tuple[list[dict], list[bool]]:
    text = b"\n".join(records)
    lengths = np.array([len(r) for r in records], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1])).astype(np.int64)
    columns, parsed = typed_records(text, starts, starts + lengths, np.ones(len(records), dtype=bool))
    names = list(ORDER)[:-1]
    rows = [dict(zip(names, values, strict=True)) for values in zip(*(c.to_pylist() for c in columns), strict=True)]
    return rows, parsed.tolist()


def test_arrow_types_a_valid_record_to_the_values_spark_gives() -> None:
    (row,), (parsed,) = typed([order()])
    assert parsed
    assert row["event_id"] == "e1" and row["quantity"] == 6 and row["invoice_line"] == 1
    assert row["unit_price"] == Decimal("2.550")
    assert row["event_ts"] == datetime(2026, 11, 1, 8, 26, 13, 123000, tzinfo=UTC)
    assert row["emitted_at"] == datetime(2026, 11, 1, 8, 26, 14, tzinfo=UTC)


def test_what_arrow_cannot_type_as_spark_would_is_left_to_spark() -> None:
    """Each of these is either valid in Spark with a value Arrow would not give (a number as a
    string field, a price rounded to 3 places, an epoch or offset timestamp), or invalid: Spark
    decides and says why. The valid records around them are still typed."""
    left = [
        order(customer_id=17850),  # Spark reads a number into a string field as its text
        order(unit_price=2.5555),  # Spark rounds to the scale; Arrow refuses
        order(quantity="six"),
        order(quantity=1.5),
        order(quantity=2**31),
        order(event_ts="2026-11-01T09:26:13+01:00"),  # an offset: Spark's reading, not ours
        order(event_ts="2026-11-01 08:26:13"),
        order(event_ts=1_793_000_000),  # epoch seconds: Spark accepts them
        order(event_ts="2026-02-30T00:00:00Z"),  # strict form, no such day
        order(emitted_at="yesterday"),
        order().replace(b'"currency":"GBP"', b"'currency':'GBP'"),
        order().replace(b'"quantity":6', b'"quantity":6,"quantity":7'),  # a key twice
    ]
    records = [order(event_id="first"), *left, order(event_id="last")]
    rows, parsed = typed(records)
    assert parsed == [True] + [False] * len(left) + [True]
    assert [rows[0]["event_id"], rows[-1]["event_id"]] == ["first", "last"]
    assert all(value is None for row in rows[1:-1] for value in row.values())  # untyped: nothing half-typed


def test_accepted_variants_keep_their_values() -> None:
    rows, parsed = typed(
        [
            order(unit_price="2.50"),  # Spark reads a numeric string into a decimal too
            order(description=None, customer_id=None, emitted_at=None),  # optional fields null
            order(promo_code={"nested": [1, {"x": None}]}),  # an unknown field of any shape
            order(description="tab\\tand \u00e9 \u2603"),
        ]
    )
    assert parsed == [True] * 4
    assert rows[0]["unit_price"] == Decimal("2.500")
    assert rows[1]["description"] is None and rows[1]["emitted_at"] is None
    assert rows[3]["description"] == "tab\\tand \u00e9 \u2603"


def test_many_rejected_records_each_stand_alone_and_the_rest_is_typed() -> None:
    records = [order(event_id=f"e{i}", quantity="bad" if i % 7 == 3 else i) for i in range(500)]
    rows, parsed = typed(records)
    assert parsed == [i % 7 != 3 for i in range(500)]
    assert [r["quantity"] for r, p in zip(rows, parsed, strict=True) if p] == [i for i in range(500) if i % 7 != 3]


def test_a_typed_record_goes_without_its_text_only_when_it_can_only_be_valid() -> None:
    """With the event_ts bounds, the JVM needs the text of every record it may quarantine."""
    bounds = (datetime(2026, 10, 30, 8, tzinfo=UTC), datetime(2026, 11, 1, 9, 5, tzinfo=UTC))
    body = b"\n".join(
        [
            order(),
            order(event_id="late", event_ts="2026-10-01T00:00:00Z"),
            order(event_id="future", event_ts="2026-11-03T00:00:00Z"),
            order(event_id="no country", country=None),
            order(event_id="spark's", quantity="six"),
        ]
    )
    rows = [
        r
        for b in object_batches("s3://b/k.gz", gzip.compress(body), 10_000, event_ts_bounds=bounds)
        for r in b.to_pylist()
    ]
    assert [r["parsed"] for r in rows] == [True, True, True, True, False]
    assert rows[0]["record"] is None
    assert [r["record"].strip().encode() for r in rows[1:]] == body.split(b"\n")[1:]
    unbounded = [r for b in object_batches("s3://b/k.gz", gzip.compress(body), 10_000) for r in b.to_pylist()]
    assert all(r["record"] for r in unbounded)  # no bounds: every span keeps its text
