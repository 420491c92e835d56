"""The Firehose simulator writes what Firehose writes, and its ground truth is exact.

Every check reads the real objects back with a reader written here, independently of the
generator (gzip + `json.JSONDecoder.raw_decode`, with a string-aware brace scan to step over
malformed records), and recomputes the counts the ingest job will reconcile to.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import uuid
import zlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lakehouse import generate as gen
from lakehouse.generate import GenerateConfig, generate

pytestmark = pytest.mark.unit

START = datetime(2026, 11, 1, 1, tzinfo=UTC)  # late events (1-6 h early) reach back into 2026-10-31
HOURS = 3
EVENTS = 500
MAX_RECORD = 1_024_000
REQUIRED = (
    "event_id",
    "invoice_no",
    "invoice_line",
    "stock_code",
    "quantity",
    "unit_price",
    "currency",
    "country",
    "event_ts",
)
KNOWN = {*REQUIRED, "description", "customer_id", "emitted_at", "schema_version"}
REASONS = (
    "malformed_json",
    "missing_required_field",
    "wrong_type",
    "oversize_record",
    "corrupt_object",
    "not_an_object",
    "late_beyond_window",
    "invalid_utf8",
    "future_event",
    "object_too_large",
    "nesting_too_deep",
)
LATENESS = timedelta(hours=48)  # the pipeline's default window, the generator's default
KEY_RE = re.compile(
    r"^orders/(\d{4})/(\d{2})/(\d{2})/(\d{2})/"
    r"orders-stream-1-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.gz$"
)
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


# --------------------------------------------------------------------------- independent reader


def _record_end(text: str, start: int) -> int:
    """End of the record starting at `start` by brace depth, ignoring braces inside strings."""
    depth, in_string, escaped = 0, False, False
    for i in range(start, len(text)):
        c = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    raise AssertionError(f"unbalanced record at {start}")


MALFORMED = object()


def frame(data: bytes) -> list[tuple[str, Any]]:
    """Split decompressed object bytes into (raw text, parsed value, or MALFORMED)."""
    text = data.decode("utf-8")
    decoder = json.JSONDecoder()
    out: list[tuple[str, Any]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            return out
        try:
            obj, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            assert text[i] == "{", f"a malformed record does not start with a brace at {i}: {text[i : i + 40]!r}"
            obj, end = MALFORMED, _record_end(text, i)
        out.append((text[i:end], obj))
        i = end


def _hour_of(key: str) -> datetime:
    """The arrival hour of an object, from its prefix (orders/YYYY/MM/DD/HH/...)."""
    year, month, day, hour = map(int, key.split("/")[1:5])
    return datetime(year, month, day, hour, tzinfo=UTC)


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str) or not TS_RE.match(value):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def classify(raw: str, obj: Any, arrival_hour: datetime) -> str:
    """What the ingest job must decide for one record: a quarantine reason or 'valid'."""
    if obj is MALFORMED:
        return "malformed_json"
    if not isinstance(obj, dict):
        return "not_an_object"
    if len(raw.encode("utf-8")) > MAX_RECORD:
        return "oversize_record"
    if any(name not in obj for name in REQUIRED):
        return "missing_required_field"
    strings_ok = all(isinstance(obj[k], str) for k in ("event_id", "invoice_no", "stock_code", "currency", "country"))
    numbers_ok = _is_int(obj["invoice_line"]) and _is_int(obj["quantity"])
    price_ok = isinstance(obj["unit_price"], int | float) and not isinstance(obj["unit_price"], bool)
    if not (strings_ok and numbers_ok and price_ok and _timestamp(obj["event_ts"])):
        return "wrong_type"
    if _timestamp(obj["event_ts"]) < arrival_hour - LATENESS:
        return "late_beyond_window"
    return "valid"


def read_objects(root: Path) -> dict[str, bytes | None]:
    """Every object under orders/: key -> decompressed bytes, or None when the gzip is unreadable."""
    out: dict[str, bytes | None] = {}
    for path in sorted((root / "orders").rglob("*")):
        if not path.is_file():
            continue
        raw = path.read_bytes()
        assert raw[:2] == b"\x1f\x8b", f"{path} is not gzip by magic bytes"
        try:
            out[path.relative_to(root).as_posix()] = gzip.decompress(raw)
        except (EOFError, gzip.BadGzipFile, zlib.error):
            out[path.relative_to(root).as_posix()] = None
    return out


def recount(root: Path, truth: dict[str, Any]) -> dict[str, Any]:
    """Recompute the per-hour ground truth from the bytes on disk."""
    objects = read_objects(root)
    seen: set[str] = set()
    first_day: dict[str, str] = {}
    hours = []
    injected: dict[str, list[Any]] = {"duplicates": [], "late_events": [], "extra_field_records": [], "quarantined": []}
    for hour in truth["hours"]:
        start = datetime.fromisoformat(hour["arrival_hour"].replace("Z", "+00:00"))
        keys = sorted(k for k in objects if k.startswith(hour["prefix"]))
        quarantine = dict.fromkeys(REASONS, 0)
        records = bronze = extra = 0
        valid_ids: list[str] = []
        per_object = {}
        for key in keys:
            data = objects[key]
            if data is None:
                quarantine["corrupt_object"] += 1
                injected["quarantined"].append((key, None, "corrupt_object"))
                continue
            framed = frame(data)
            per_object[key] = len(framed)
            records += len(framed)
            for index, (raw, obj) in enumerate(framed):
                verdict = classify(raw, obj, start)
                if verdict != "valid":
                    quarantine[verdict] += 1
                    injected["quarantined"].append((key, index, verdict))
                    continue
                assert obj is not None
                bronze += 1
                valid_ids.append(obj["event_id"])
                if set(obj) - KNOWN:
                    extra += 1
                    injected["extra_field_records"].append(obj["event_id"])
        duplicates = late = 0
        for raw_id, count in Counter(valid_ids).items():
            copies = count if raw_id in seen else count - 1
            duplicates += copies
            injected["duplicates"].extend([raw_id] * copies)
        new_ids = set(valid_ids) - seen
        for key in keys:
            if objects[key] is None:
                continue
            for raw, obj in frame(objects[key]):  # the first delivery of each new id decides lateness
                if classify(raw, obj, start) != "valid" or obj["event_id"] not in new_ids:
                    continue
                if obj["event_id"] in first_day:
                    continue
                ts = _timestamp(obj["event_ts"])
                assert ts is not None
                first_day[obj["event_id"]] = obj["event_ts"][:10]
                if ts < start:
                    late += 1
                    injected["late_events"].append(obj["event_id"])
        seen |= new_ids
        quarantined = sum(quarantine.values())
        hours.append(
            {
                "records": records,
                "records_read": records + quarantine["corrupt_object"],
                "bronze_rows": bronze,
                "quarantine": quarantine,
                "quarantine_rows": quarantined,
                "duplicates": duplicates,
                "late_events": late,
                "extra_field_records": extra,
                "new_unique_events": len(new_ids),
                "per_object": per_object,
            }
        )
    return {
        "hours": hours,
        "silver_rows": len(seen),
        "silver_rows_by_event_day": dict(sorted(Counter(first_day.values()).items())),
        "injected": injected,
        "objects": objects,
    }


# --------------------------------------------------------------------------- fixtures


def _config(**overrides: Any) -> GenerateConfig:
    values: dict[str, Any] = {
        "start": START,
        "hours": HOURS,
        "events_per_hour": EVENTS,
        "seed": 7,
        "faults": "all",
        "framing": "concatenated",
    }
    values.update(overrides)
    return GenerateConfig(**values)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """One generated corpus with every fault, its ground truth, and the independent recount."""
    root = tmp_path_factory.mktemp("raw")
    truth = generate(_config(), str(root))
    return root, truth, recount(root, truth)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- layout


def test_keys_follow_the_firehose_layout(faulty) -> None:
    root, truth, found = faulty
    assert set(found["objects"]) == {o["key"] for hour in truth["hours"] for o in hour["objects"]}
    for hour in truth["hours"]:
        start = datetime.fromisoformat(hour["arrival_hour"].replace("Z", "+00:00"))
        assert hour["prefix"] == f"orders/{start:%Y/%m/%d/%H}/"
        assert len(hour["objects"]) >= 10, "a 300 s buffer over an hour makes about 12 objects"
        for obj in hour["objects"]:
            m = KEY_RE.match(obj["key"])
            assert m, obj["key"]
            prefix_hour = datetime(*map(int, m.groups()[:4]), tzinfo=UTC)
            flushed = datetime(*map(int, m.groups()[4:]), tzinfo=UTC)
            assert prefix_hour == start
            assert start <= flushed < start + timedelta(hours=1)
            assert uuid.UUID(obj["key"][-39:-3]).version == 4
            assert (root / obj["key"]).stat().st_size == obj["bytes"]
    truth_file = root / "_ground_truth" / "orders-2026110101-3h.json"
    assert truth["ground_truth_key"] == "_ground_truth/orders-2026110101-3h.json"
    assert json.loads(truth_file.read_text()) == truth
    assert not any("_ground_truth" in k for k in found["objects"])


def test_every_object_is_gzip_except_the_one_truncated(faulty) -> None:
    _, truth, found = faulty
    unreadable = [k for k, data in found["objects"].items() if data is None]
    assert len(unreadable) == 1
    middle = truth["hours"][HOURS // 2]
    assert unreadable[0].startswith(middle["prefix"])
    flagged = [o["key"] for hour in truth["hours"] for o in hour["objects"] if o["corrupt"]]
    assert flagged == unreadable
    assert truth["totals"]["objects_corrupt"] == 1
    assert middle["records_in_corrupt_objects"] == 5
    # The lost events appear in no readable object.
    lost = set(truth["expected"]["injected"]["events_in_corrupt_objects"])
    assert len(lost) == 5
    readable_text = b"".join(d for d in found["objects"].values() if d is not None).decode()
    assert not any(event_id in readable_text for event_id in lost)


def test_objects_hold_the_records_the_truth_says(faulty) -> None:
    _, truth, found = faulty
    for hour, counted in zip(truth["hours"], found["hours"], strict=True):
        readable = {o["key"]: o["records"] for o in hour["objects"] if not o["corrupt"]}
        assert readable == counted["per_object"]
        assert hour["records"] == sum(o["records"] for o in hour["objects"])
        assert all(o["records"] == 0 for o in hour["objects"] if o["corrupt"])


# --------------------------------------------------------------------------- counts


def test_counts_per_hour_match_the_ground_truth(faulty) -> None:
    _, truth, found = faulty
    names = (
        "records",
        "records_read",
        "bronze_rows",
        "quarantine",
        "quarantine_rows",
        "duplicates",
        "late_events",
        "extra_field_records",
        "new_unique_events",
    )
    for hour, counted in zip(truth["hours"], found["hours"], strict=True):
        assert {n: hour[n] for n in names} == {n: counted[n] for n in names}, hour["arrival_hour"]
        # Reconciliation: every record read is either a bronze row or a quarantine row.
        assert hour["records_read"] == hour["bronze_rows"] + sum(hour["quarantine"].values())
        assert hour["bronze_rows"] - hour["duplicates"] == hour["new_unique_events"] == EVENTS


def test_fault_rates_are_as_specified(faulty) -> None:
    _, truth, _ = faulty
    for h, hour in enumerate(truth["hours"]):
        q = hour["quarantine"]
        assert (q["malformed_json"], q["missing_required_field"], q["wrong_type"], q["oversize_record"]) == (2, 2, 2, 1)
        assert (q["not_an_object"], q["late_beyond_window"]) == (1, 1)
        assert q["corrupt_object"] == (1 if h == HOURS // 2 else 0)
        assert hour["extra_field_records"] == 3
        assert hour["late_events"] == round(EVENTS * 0.02)
        assert hour["duplicates"] == round(EVENTS * 0.01)
    assert set(truth["expected"]["quarantine_by_reason"]) == set(REASONS)


def test_duplicates_cross_hours_and_are_verbatim(faulty) -> None:
    _, truth, found = faulty
    by_id: dict[str, list[tuple[int, str]]] = {}
    for h, hour in enumerate(truth["hours"]):
        for key, data in found["objects"].items():
            if data is None or not key.startswith(hour["prefix"]):
                continue
            for raw, obj in frame(data):
                if classify(raw, obj, _hour_of(key)) == "valid":
                    by_id.setdefault(obj["event_id"], []).append((h, raw))
    copies = {k: v for k, v in by_id.items() if len(v) > 1}
    assert len(copies) == truth["totals"]["duplicates"]
    assert all(len({raw for _, raw in v}) == 1 for v in copies.values()), "a duplicate is a verbatim copy"
    assert any(v[0][0] != v[1][0] for v in copies.values()), "some duplicates arrive in the next hour"
    assert any(v[0][0] == v[1][0] for v in copies.values()), "some duplicates arrive in the same hour"


def test_injected_lists_name_the_rows(faulty) -> None:
    _, truth, found = faulty
    injected = truth["expected"]["injected"]
    assert sorted(injected["duplicates"]) == sorted(found["injected"]["duplicates"])
    assert sorted(injected["late_events"]) == sorted(found["injected"]["late_events"])
    assert sorted(injected["extra_field_records"]) == sorted(found["injected"]["extra_field_records"])
    quarantined = sorted(
        (q["key"], q["record_index"] if q["record_index"] is not None else -1, q["reason"])
        for q in injected["quarantined"]
    )
    assert quarantined == sorted((k, -1 if i is None else i, r) for k, i, r in found["injected"]["quarantined"])
    missing = [q["detail"] for q in injected["quarantined"] if q["reason"] == "missing_required_field"]
    assert set(missing) <= {"event_id", "invoice_no", "quantity", "unit_price", "event_ts", "country", "stock_code"}


def test_silver_expectations(faulty) -> None:
    _, truth, found = faulty
    expected = truth["expected"]
    assert expected["silver_rows"] == found["silver_rows"] == HOURS * EVENTS
    assert expected["silver_rows_by_event_day"] == found["silver_rows_by_event_day"]
    assert "2026-10-31" in expected["silver_rows_by_event_day"], "late events land in their own (earlier) day"
    assert expected["bronze_rows"] == sum(h["bronze_rows"] for h in found["hours"])
    assert expected["quarantine_rows"] == sum(h["quarantine_rows"] for h in found["hours"])
    assert expected["records_read"] == expected["bronze_rows"] + expected["quarantine_rows"]


def test_specific_faults_look_as_described(faulty) -> None:
    _, _, found = faulty
    oversize = extra_keys = 0
    not_objects = late = 0
    for key, data in found["objects"].items():
        if data is None:
            continue
        for raw, obj in frame(data):
            verdict = classify(raw, obj, _hour_of(key))
            if verdict == "malformed_json":
                with pytest.raises(json.JSONDecodeError):
                    json.loads(raw)
                assert raw.count("{") == raw.count("}") == 1, "braces stay balanced, none inside strings"
            elif verdict == "oversize_record":
                oversize += 1
                assert len(raw.encode()) > MAX_RECORD
                short = raw.replace(obj["description"], "SHORT")
                assert classify(short, json.loads(short), _hour_of(key)) == "valid"
            elif verdict == "not_an_object":
                not_objects += 1
                assert raw in gen.NOT_AN_OBJECT_VALUES
            elif verdict == "late_beyond_window":
                late += 1
                event_ts = _timestamp(obj["event_ts"])
                hour = _hour_of(key)
                assert hour - LATENESS - timedelta(hours=24) <= event_ts < hour - LATENESS - timedelta(hours=1)
            elif verdict == "valid" and set(obj) - KNOWN:
                extra_keys += 1
                assert set(obj) - KNOWN <= {"promo_code", "gift_wrap", "loyalty_tier"}
    assert oversize == not_objects == late == HOURS
    assert extra_keys == 3 * HOURS


# --------------------------------------------------------------------------- domain shape


def test_records_look_like_online_retail(faulty) -> None:
    _, truth, found = faulty
    valid = []
    for hour in truth["hours"]:
        start = datetime.fromisoformat(hour["arrival_hour"].replace("Z", "+00:00"))
        for key, data in found["objects"].items():
            if data is None or not key.startswith(hour["prefix"]):
                continue
            for raw, obj in frame(data):
                if classify(raw, obj, start) == "valid":
                    valid.append((start, raw, obj))
    invoices: dict[str, set[tuple[Any, ...]]] = {}
    descriptions: dict[str, set[str]] = {}
    countries: Counter[str] = Counter()
    late_ids = set(truth["expected"]["injected"]["late_events"])
    dup_ids = set(truth["expected"]["injected"]["duplicates"])
    for start, raw, obj in valid:
        assert list(obj)[:13] == list(gen.EVENT_FIELDS)
        assert uuid.UUID(obj["event_id"]).version == 4
        assert re.fullmatch(r"C?\d{6}", obj["invoice_no"])
        assert obj["invoice_line"] >= 1
        if obj["invoice_no"].startswith("C"):
            assert obj["quantity"] < 0
        else:
            assert obj["quantity"] > 0
        assert obj["unit_price"] >= 0
        assert round(obj["unit_price"], 3) == obj["unit_price"]
        assert obj["currency"] == "GBP"
        assert obj["schema_version"] == 1
        assert obj["customer_id"] is None or re.fullmatch(r"\d{5}", obj["customer_id"])
        assert (
            obj["description"] is None
            or obj["description"].upper() == obj["description"]
            or obj["stock_code"]
            in {
                "M",
                "D",
                "BANK CHARGES",
            }
        )
        event_ts, emitted = _timestamp(obj["event_ts"]), _timestamp(obj["emitted_at"])
        assert event_ts and emitted and event_ts <= emitted <= event_ts + timedelta(seconds=2)
        if obj["event_id"] in late_ids:
            assert start - timedelta(hours=6) <= event_ts <= start - timedelta(hours=1)
        elif obj["event_id"] not in dup_ids:
            assert start <= event_ts < start + timedelta(hours=1)
        if set(obj) <= KNOWN and len(raw) < MAX_RECORD:
            assert json.dumps(obj, separators=(",", ":")) == raw, "compact JSON, as json.dumps writes it"
        invoices.setdefault(obj["invoice_no"], set()).add(
            (obj["event_ts"], obj["customer_id"], obj["country"], obj["emitted_at"])
        )
        if obj["description"] is not None:
            descriptions.setdefault(obj["stock_code"], set()).add(obj["description"])
        countries[obj["country"]] += 1
    assert all(len(v) == 1 for v in invoices.values()), "lines of an invoice share time, customer and country"
    assert all(len(v) == 1 for v in descriptions.values()), "a stock code keeps its description"
    assert 0.8 < countries["United Kingdom"] / sum(countries.values()) < 0.97
    assert len(countries) >= 4
    guests = [customer is None for ((_, customer, _, _),) in invoices.values()]
    assert 0.15 < sum(guests) / len(guests) < 0.35, "about a quarter of invoices have no customer"
    assert any(no.startswith("C") for no in invoices), "some invoices are cancellations"
    lines = Counter(obj["invoice_no"] for _, _, obj in valid if obj["event_id"] not in dup_ids)
    assert max(lines.values()) <= 30 and sorted(lines.values())[len(lines) // 2] <= 5, "skewed small"


def test_catalogue_has_a_few_hundred_products_and_the_non_product_codes() -> None:
    cat = gen.catalogue()
    codes = {p.stock_code for p in cat.products}
    assert 250 <= len(codes) <= 400
    assert {"POST", "M", "D", "DOT", "BANK CHARGES", "C2", "AMAZONFEE", "85123A", "22423", "84029G"} <= codes
    assert not any(ch in p.description for p in cat.products for ch in '{}"\\'), "framers rely on no braces"


# --------------------------------------------------------------------------- buffering, framing, determinism


def test_buffer_flushes_on_size(tmp_path: Path) -> None:
    mib = 0.05
    truth = generate(_config(hours=1, events_per_hour=3000, buffer_mib=mib), str(tmp_path))
    limit = int(mib * 1024 * 1024)
    flushed_on_size = 0
    for key, data in read_objects(tmp_path).items():
        if data is None:
            continue
        framed = frame(data)
        if len(data) >= limit:
            flushed_on_size += 1
            assert len(data) - len(framed[-1][0]) < limit, f"{key} kept filling after it reached the size hint"
    assert flushed_on_size >= 10, "about 1 MB an hour through a 50 KiB buffer"
    assert len(truth["hours"][0]["objects"]) > flushed_on_size


def test_newline_framing_round_trips_to_the_same_records(faulty, tmp_path: Path) -> None:
    _, truth, found = faulty
    newline = generate(_config(framing="newline"), str(tmp_path))
    newline_objects = read_objects(tmp_path)

    def raw_records(objects: dict[str, bytes | None]) -> Counter[str]:
        return Counter(raw for data in objects.values() if data is not None for raw, _ in frame(data))

    assert raw_records(found["objects"]) == raw_records(newline_objects)
    for data in newline_objects.values():
        if data is not None:
            assert data.endswith(b"\n") and len(data.split(b"\n")) - 1 == len(frame(data))
    for data in found["objects"].values():
        if data is not None:
            assert b"\n" not in data, "concatenated framing has no delimiter"
    assert newline["expected"]["silver_rows"] == truth["expected"]["silver_rows"]
    assert [h["quarantine"] for h in newline["hours"]] == [h["quarantine"] for h in truth["hours"]]


def test_same_seed_same_bytes_and_rerun_is_idempotent(faulty, tmp_path: Path) -> None:
    root, truth, _ = faulty
    again = generate(_config(), str(tmp_path))
    first, second = _files(root), _files(tmp_path)
    assert first.keys() == second.keys()
    assert {k: v for k, v in first.items() if k.startswith("orders/")} == {
        k: v for k, v in second.items() if k.startswith("orders/")
    }, "the same seed writes byte-identical objects at the same keys"
    assert {k: v for k, v in again.items() if k != "out"} == {k: v for k, v in truth.items() if k != "out"}
    generate(_config(), str(tmp_path))  # the same command again: same keys, same bytes, nothing added
    assert _files(tmp_path) == second


def test_another_seed_gives_other_events(tmp_path: Path) -> None:
    a = generate(_config(hours=1, seed=1), str(tmp_path / "a"))
    b = generate(_config(hours=1, seed=2), str(tmp_path / "b"))
    keys_a = {o["key"] for o in a["hours"][0]["objects"]}
    keys_b = {o["key"] for o in b["hours"][0]["objects"]}
    assert not keys_a & keys_b
    assert not set(a["expected"]["injected"]["late_events"]) & set(b["expected"]["injected"]["late_events"])


def test_without_faults_every_record_is_valid(tmp_path: Path) -> None:
    truth = generate(_config(hours=2, faults="none", events_per_hour=300), str(tmp_path))
    found = recount(tmp_path, truth)
    for hour in found["hours"]:
        assert hour["records"] == hour["bronze_rows"] == hour["new_unique_events"] == 300
        assert hour["quarantine_rows"] == hour["duplicates"] == hour["late_events"] == 0
    assert truth["expected"]["quarantine_rows"] == 0
    assert truth["expected"]["silver_rows"] == 600


def test_scaled_faults_keep_every_hour_of_a_low_volume_history_under_the_gates_share(tmp_path: Path) -> None:
    """--faults scaled (the demo's history: days at a few hundred events an hour, shaped like a
    retail day): every hour quarantines under the gate's 1% of what it read, recounted from the
    bytes; over the days every record-level reason appears; one corrupt object in all."""
    truth = generate(
        _config(start=START, hours=72, events_per_hour=200, faults="scaled", shape="retail"), str(tmp_path)
    )
    found = recount(tmp_path, truth)
    for hour in found["hours"]:
        assert hour["quarantine_rows"] < 0.01 * hour["records_read"], hour["arrival_hour"]
    assert [h["quarantine_rows"] for h in found["hours"]] == [h["quarantine_rows"] for h in truth["hours"]]
    reasons = {r for r, n in truth["totals"]["quarantine"].items() if n}
    assert {"malformed_json", "missing_required_field", "wrong_type", "not_an_object", "late_beyond_window"} <= reasons
    assert truth["totals"]["quarantine"]["corrupt_object"] == 1
    assert sum(1 for h in truth["hours"] if h["quarantine_rows"]) >= 24  # spread over the days, not bunched
    assert truth["totals"]["duplicates"] > 0 and truth["totals"]["late_events"] > 0


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="events_per_hour"):
        _config(events_per_hour=5)
    with pytest.raises(ValueError, match="framing"):
        _config(framing="csv")
    with pytest.raises(ValueError, match="on the hour"):
        _config(start=START + timedelta(minutes=30))


# --------------------------------------------------------------------------- CLI


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lakehouse")
    gen.register(parser.add_subparsers(dest="command", required=True))
    return parser


@pytest.fixture
def lake_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("LAKEHOUSE_RAW_ROOT", "LAKEHOUSE_STREAM_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LAKEHOUSE_ENV", "local")
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "home"))
    return tmp_path


def test_cli_generates_and_summarises(lake_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = lake_env / "raw-cli"
    args = _parser().parse_args(
        [
            *("generate", "--start", "2026-11-01T08", "--hours", "2", "--events-per-hour", "50"),
            *("--faults", "all", "--framing", "newline", "--out", str(out)),
        ]
    )
    assert args.func(args) == 0
    captured = capsys.readouterr()
    assert captured.err.count("hour 2026-11-01T0") == 2, "one progress line per hour on stderr"
    assert "ground truth:" in captured.out and "faults injected:" in captured.out
    truth = json.loads((out / "_ground_truth" / "orders-2026110108-2h.json").read_text())
    assert truth["config"]["framing"] == "newline"
    assert truth["config"]["stream"] == "orders-stream"
    assert str(out / "_ground_truth" / "orders-2026110108-2h.json") in captured.out


def test_cli_defaults_come_from_settings(lake_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_STREAM_NAME", "shop-orders")
    args = _parser().parse_args(["generate", "--hours", "1", "--events-per-hour", "20"])
    assert args.func(args) == 0
    truths = list((lake_env / "home" / "raw" / "_ground_truth").glob("*.json"))
    assert len(truths) == 1
    truth = json.loads(truths[0].read_text())
    expected_start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    assert abs(datetime.fromisoformat(truth["config"]["start"].replace("Z", "+00:00")) - expected_start) <= timedelta(
        hours=1
    )
    assert truth["config"]["stream"] == "shop-orders"
    assert all("/shop-orders-1-" in o["key"] for o in truth["hours"][0]["objects"])


def test_cli_rejects_bad_arguments(lake_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = _parser()
    for bad in (["--framing", "csv"], ["--faults", "some"], ["--start", "yesterday"], ["--hours", "0"]):
        with pytest.raises(SystemExit) as exc:
            parser.parse_args(["generate", *bad])
        assert exc.value.code == 2, bad
    args = parser.parse_args(["generate", "--faults", "all", "--events-per-hour", "5", "--out", str(lake_env / "x")])
    assert args.func(args) == 2, "too few events to carry every fault"
    assert "events_per_hour" in capsys.readouterr().err


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(["generate", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for option in ("--start", "--hours", "--events-per-hour", "--seed", "--framing", "--faults", "--out"):
        assert option in text
    assert "--buffer-mib" in text and "--buffer-seconds" in text


def test_warns_when_an_hour_already_holds_other_objects(tmp_path: Path) -> None:
    generate(_config(hours=1, seed=1), str(tmp_path))
    lines: list[str] = []
    generate(_config(hours=1, seed=1), str(tmp_path), progress=lines.append)
    assert not any("warning" in line for line in lines), "an identical re-run is not foreign"
    generate(_config(hours=1, seed=2), str(tmp_path), progress=lines.append)
    assert any("warning" in line and "orders/2026/11/01/01/" in line for line in lines)
