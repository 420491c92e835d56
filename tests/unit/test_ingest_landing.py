"""Landing manifests: the exact objects of one arrival hour, in a local raw zone.

The same on S3 (moto's server): tests/integration/test_objectstore_s3.py.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from lakehouse_core import landing

pytestmark = pytest.mark.unit

HOUR = datetime(2026, 11, 1, 8, tzinfo=UTC)


def _put(root: Path, key: str, data: bytes) -> None:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_local_manifest_lists_the_hour_sorted_with_sizes(tmp_path: Path, settings_for) -> None:
    settings = settings_for(tmp_path / "lake")
    raw = Path(settings.raw_root)
    _put(raw, "orders/2026/11/01/08/s-1-2026-11-01-08-30-00-b.gz", b"xx")
    _put(raw, "orders/2026/11/01/08/s-1-2026-11-01-08-05-00-a.gz", b"x")
    _put(raw, "orders/2026/11/01/08/.s-1-2026-11-01-08-59-00-c.gz.tmp-1", b"half written")
    _put(raw, "orders/2026/11/01/09/s-1-2026-11-01-09-00-00-d.gz", b"next hour")

    # any aware moment inside the hour names the hour
    manifest = landing.build_manifest(settings, HOUR.astimezone(timezone(timedelta(hours=2))) + timedelta(minutes=7))
    assert manifest["arrival_hour"] == "2026-11-01T08:00:00Z"
    assert [Path(o["uri"]).name for o in manifest["objects"]] == [
        "s-1-2026-11-01-08-05-00-a.gz",
        "s-1-2026-11-01-08-30-00-b.gz",
    ]
    assert [o["size"] for o in manifest["objects"]] == [1, 2]
    assert manifest["objects"][0]["uri"].startswith("file:///")
    assert manifest["total_bytes"] == 3 and manifest["object_count"] == 2

    path = landing.write_manifest(settings, {**manifest, "run_id": "run-1"})
    assert path == str(settings.home / "manifests" / "orders" / "2026110108" / "run-1.json")
    assert landing.read_manifest(path) == {**manifest, "run_id": "run-1"}


def test_an_empty_hour_is_a_manifest_with_no_objects(tmp_path: Path, settings_for) -> None:
    settings = settings_for(tmp_path / "lake")
    manifest = landing.build_manifest(settings, HOUR)
    assert manifest["objects"] == [] and manifest["total_bytes"] == 0
    assert json.loads(Path(landing.write_manifest(settings, manifest)).read_text())["object_count"] == 0


def test_naive_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        landing.hour_prefix(datetime(2026, 11, 1, 8))


def _gz(root: Path, hour: datetime, name: str) -> str:
    path = root / landing.hour_prefix(hour) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"{}")
    return path.as_uri()


def test_two_runs_of_one_hour_keep_two_manifests(tmp_path: Path, settings_for) -> None:
    settings = settings_for(tmp_path / "lake")
    first, _ = landing.land_hour(settings, HOUR, "orders_2026110108_aaaa")
    second, _ = landing.land_hour(settings, HOUR, "orders_2026110108_bbbb")
    assert first != second
    assert [m["run_id"] for m in landing.hour_manifests(settings, HOUR)] == [
        "orders_2026110108_aaaa",
        "orders_2026110108_bbbb",
    ]


def test_stragglers_are_objects_of_earlier_read_hours_no_manifest_named(tmp_path: Path, settings_for) -> None:
    settings = settings_for(tmp_path / "lake")
    raw = Path(settings.raw_root)
    before = HOUR - timedelta(hours=1)
    read = _gz(raw, before, "s-1-read.gz")
    landing.land_hour(settings, before, "run-07")
    never_ran = HOUR - timedelta(hours=2)
    _gz(raw, never_ran, "s-1-not-late.gz")  # that hour never ran: its own run reads it
    late = _gz(raw, before, "s-1-late.gz")

    _, manifest = landing.land_hour(settings, HOUR, "run-08")

    assert manifest["stragglers"] == [
        {"arrival_hour": "2026-11-01T07:00:00Z", "object_count": 1, "objects": [{"uri": late, "size": 2}]}
    ]
    assert manifest["straggler_objects"] == 1 and landing.objects_to_read(manifest) == 1
    # the gate's window reaches back to the straggler's hour: its events are judged against that hour
    assert landing.gate_lateness_hours(settings, manifest) == settings.lateness_hours + 1
    assert read not in {o["uri"] for s in manifest["stragglers"] for o in s["objects"]}
    # claimed by run-08: the next hour does not claim it again; a re-run of 08 does
    assert landing.land_hour(settings, HOUR + timedelta(hours=1), "run-09")[1]["stragglers"] == []
    assert landing.land_hour(settings, HOUR, "run-08-again")[1]["straggler_objects"] == 1
    # outside the window: not looked at
    narrow = dataclasses.replace(settings, straggler_hours=0)
    alone = landing.land_hour(narrow, HOUR, "run-08-narrow")[1]
    assert alone["stragglers"] == [] and landing.gate_lateness_hours(settings, alone) == settings.lateness_hours


def test_firehose_error_output_of_the_hour_is_counted_and_alarms(tmp_path: Path, settings_for) -> None:
    settings = settings_for(tmp_path / "lake")
    raw = Path(settings.raw_root)
    _put(raw, "firehose-errors/processing-failed/2026/11/01/08/s-1-2026-11-01-08-10-00-x", b"{}")
    _put(raw, "firehose-errors/format-conversion-failed/2026/11/01/08/s-1-y", b"{}{}")
    _put(raw, "firehose-errors/processing-failed/2026/11/01/09/s-1-other-hour", b"{}")

    _, manifest = landing.land_hour(settings, HOUR, "run-08")

    assert manifest["firehose_error_objects"] == 2
    assert [Path(o["uri"]).name for o in manifest["firehose_errors"]] == ["s-1-y", "s-1-2026-11-01-08-10-00-x"]
    alarm = landing.firehose_errors_alarm(manifest)
    assert "2 error object(s) for arrival hour 2026-11-01T08:00:00Z" in alarm and "s-1-y" in alarm
    assert landing.firehose_errors_alarm(landing.land_hour(settings, HOUR + timedelta(hours=2), "r")[1]) == ""
