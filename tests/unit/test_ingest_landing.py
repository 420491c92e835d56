"""Landing manifests: the exact objects of one arrival hour, in a local raw zone.

The same on S3 (moto's server): tests/integration/test_objectstore_s3.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline import landing

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

    path = landing.write_manifest(settings, manifest)
    assert path == str(settings.home / "manifests" / "orders" / "2026110108.json")
    assert landing.read_manifest(path) == manifest


def test_an_empty_hour_is_a_manifest_with_no_objects(tmp_path: Path, settings_for) -> None:
    settings = settings_for(tmp_path / "lake")
    manifest = landing.build_manifest(settings, HOUR)
    assert manifest["objects"] == [] and manifest["total_bytes"] == 0
    assert json.loads(Path(landing.write_manifest(settings, manifest)).read_text())["object_count"] == 0


def test_naive_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        landing.hour_prefix(datetime(2026, 11, 1, 8))
