"""The faults a real stream produces, each built from a fresh valid record and labelled.

Why labelled: the ground truth must say, for every broken record, where it is (object key,
position) and which quarantine reason the ingest must give it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from lakehouse.generate.catalogue import Catalogue
from lakehouse.generate.config import (
    CORRUPT_OBJECT_EVENTS,
    EXTRA_FIELD_PER_HOUR,
    HOUR_MS,
    LATE_BEYOND_WINDOW_PER_HOUR,
    MALFORMED_PER_HOUR,
    MAX_RECORD_BYTES,
    MISSING_PER_HOUR,
    NOT_AN_OBJECT_PER_HOUR,
    NOT_AN_OBJECT_VALUES,
    OVERSIZE_PER_HOUR,
    SCALED_BAD_CAP,
    SCALED_BAD_SHARE,
    SCALED_BAD_WEIGHTS,
    WRONG_TYPE_PER_HOUR,
)
from lakehouse.generate.firehose import HourBuffer, Special
from lakehouse.generate.records import dumps, event_id_of, fmt_ms
from lakehouse.generate.sampling import invoice_lines

OnTime = Callable[..., tuple[int, list[str]]]  # (n_lines=1) -> (arrival ms in the hour, record texts)
# How many of each kind an hour gets with --faults all (fault_records' default).
PER_HOUR_ALL = {
    "extra_field": EXTRA_FIELD_PER_HOUR,
    "malformed_json": MALFORMED_PER_HOUR,
    "missing_required_field": MISSING_PER_HOUR,
    "wrong_type": WRONG_TYPE_PER_HOUR,
    "oversize_record": OVERSIZE_PER_HOUR,
    "not_an_object": NOT_AN_OBJECT_PER_HOUR,
    "late_beyond_window": LATE_BEYOND_WINDOW_PER_HOUR,
}


def scaled_counts(rng: random.Random, events: int, room_for_corrupt: bool) -> tuple[dict[str, int], bool]:
    """--faults scaled: the hour's broken records in proportion to its events (SCALED_BAD_SHARE,
    at most SCALED_BAD_CAP),
    kinds drawn by SCALED_BAD_WEIGHTS; and whether the corrupt object takes one of the places
    (when `room_for_corrupt` and the hour has a place at all)."""
    # rounded at random (the mean is exactly the share, so a low-volume stream still gets its
    # broken records), and never 1% of the hour's events or more (the gate's share)
    bad = min(int(events * SCALED_BAD_SHARE + rng.random()), int(events * SCALED_BAD_CAP))
    corrupt = room_for_corrupt and bad > 0
    kinds = rng.choices(tuple(SCALED_BAD_WEIGHTS), weights=tuple(SCALED_BAD_WEIGHTS.values()), k=bad - corrupt)
    counts = dict.fromkeys(PER_HOUR_ALL, 0)
    counts["extra_field"] = EXTRA_FIELD_PER_HOUR
    for kind in kinds:
        counts[kind] += 1
    return counts, corrupt


def _pick(rng: random.Random, options: tuple, k: int) -> list:
    """k of the options, distinct while there are enough (the `all` mode's draw), then repeated."""
    return rng.sample(options, k) if k <= len(options) else [rng.choice(options) for _ in range(k)]


def fault_records(
    cat: Catalogue,
    rng: random.Random,
    on_time: OnTime,
    base_ms: int,
    next_invoice: Callable[[bool], str],
    lateness_hours: int,
    counts: dict[str, int] | None = None,
) -> list[tuple[int, str, Special]]:
    """The hour's broken and unusual records as (arrival ms, text, label); `counts`: how many of
    each kind (default: `PER_HOUR_ALL`, the --faults all hour)."""
    counts = PER_HOUR_ALL if counts is None else counts
    out: list[tuple[int, str, Special]] = []

    def fresh() -> tuple[int, dict[str, Any], str]:
        at, lines = on_time()
        return at, json.loads(lines[0]), lines[0]

    extras = (("promo_code", "XMAS10"), ("gift_wrap", True), ("loyalty_tier", "gold"))
    for i in range(counts["extra_field"]):
        at, rec, _ = fresh()
        name, value = extras[i % len(extras)]
        rec[name] = value
        out.append((at, dumps(rec), Special("extra_field", rec["event_id"], name)))
    # Malformed, but braces stay balanced and no string holds a brace: a framer still finds the end.
    breakers = (
        ("missing_comma", ',"unit_price":', '"unit_price":'),
        ("unquoted_key", '"country":', "country:"),
        ("trailing_comma", ',"schema_version":1}', ',"schema_version":1,}'),
        ("single_quotes", '"currency":"GBP"', "'currency':'GBP'"),
        ("missing_value", ',"invoice_line":', ',"invoice_line":,"line":'),
    )
    for variant, old, new in _pick(rng, breakers, counts["malformed_json"]):
        at, rec, text = fresh()
        broken = text.replace(old, new, 1)
        assert_malformed(broken)
        out.append((at, broken, Special("malformed_json", rec["event_id"], variant)))
    droppable = ("event_id", "invoice_no", "quantity", "unit_price", "event_ts", "country", "stock_code")
    for name in _pick(rng, droppable, counts["missing_required_field"]):
        at, rec, _ = fresh()
        event_id = rec.pop(name) if name == "event_id" else rec["event_id"]
        rec.pop(name, None)
        out.append((at, dumps(rec), Special("missing_required_field", event_id, name)))
    wrong = (("quantity", "six"), ("unit_price", "abc"), ("event_ts", "yesterday"))
    for name, value in _pick(rng, wrong, counts["wrong_type"]):
        at, rec, _ = fresh()
        rec[name] = value
        out.append((at, dumps(rec), Special("wrong_type", rec["event_id"], f"{name}={value!r}")))
    for _ in range(counts["oversize_record"]):
        at, rec, text = fresh()
        filler = " ".join(["WHITE HANGING HEART T-LIGHT HOLDER"] * (MAX_RECORD_BYTES // 34 + 100))
        rec["description"] = filler
        big = dumps(rec)
        out.append((at, big, Special("oversize_record", rec["event_id"], f"{len(big)} bytes")))
    for _ in range(counts["not_an_object"]):  # a producer bug: a bare JSON value between records
        at, _ = on_time()
        value = rng.choice(NOT_AN_OBJECT_VALUES)
        out.append((at, value, Special("not_an_object", None, value)))
    for _ in range(counts["late_beyond_window"]):  # a replay of an old event: valid, but too late
        at = rng.randrange(HOUR_MS)
        event_ms = base_ms - (lateness_hours + 1) * HOUR_MS - rng.randrange(23 * HOUR_MS)
        (line,) = invoice_lines(cat, rng, next_invoice(False), 1, event_ms, 2000)
        out.append((at, line, Special("late_beyond_window", event_id_of(line), fmt_ms(event_ms))))
    return out


def corrupt_object(rng: random.Random, buf: HourBuffer, on_time: OnTime) -> tuple[dict[str, Any], list[str]]:
    """A separate small object of fresh events whose gzip stream is cut after its header.

    Returns its manifest entry and the event ids lost with it.
    """
    at, lines = on_time(CORRUPT_OBJECT_EVENTS)
    key = buf.object_key(min(HOUR_MS - 1, at + rng.randrange(1000, 60_000)))
    # records 0: nothing can be framed from it (one quarantine row for the object instead)
    entry = {"key": key, "bytes": 0, "records": 0, "corrupt": True}
    buf.writer.submit(entry, key, buf.body(lines), truncate=True)
    return entry, [event_id_of(t) for t in lines]


def assert_malformed(text: str) -> None:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return
    raise AssertionError(f"meant to be malformed but parses: {text[:120]}")
