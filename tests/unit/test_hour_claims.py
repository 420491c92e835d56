"""One writer per arrival hour (lakehouse_core.hour_claims), on a local lakehouse home: a second run of
an hour is refused naming the holder, `lakehouse ingest` refuses before writing anything, an
earlier hour another run holds keeps its stragglers for later. The same on S3 (moto's server):
tests/integration/test_hour_claims_s3.py.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lakehouse.commands import ingest as ingest_cmd
from lakehouse.commands import unlock as unlock_cmd
from lakehouse_core import hour_claims, landing

pytestmark = pytest.mark.unit

HOUR = datetime(2026, 11, 1, 8, tzinfo=UTC)
SCHEDULED = "orders_lakehouse/scheduled__2026-11-01T08:00:00+00:00"
BACKFILL = "orders_lakehouse/backfill__2026-11-01T08:00:00+00:00"


def test_a_second_writer_of_the_hour_is_refused_naming_the_first(tmp_path: Path, settings_for) -> None:
    settings = settings_for(tmp_path / "lake")
    hour_claims.acquire(settings, HOUR, SCHEDULED)
    with pytest.raises(hour_claims.HourBusy, match="being written by orders_lakehouse/scheduled__") as refused:
        hour_claims.acquire(settings, HOUR, BACKFILL)
    assert "lakehouse unlock --hour 2026-11-01T08" in str(refused.value)
    assert hour_claims.acquire(settings, HOUR, SCHEDULED).owner == SCHEDULED, "a retry of the same run re-enters"
    hour_claims.acquire(settings, HOUR + timedelta(hours=1), BACKFILL)  # another hour is free

    assert hour_claims.release(settings, [HOUR], BACKFILL) == [], "only the owner releases"
    assert hour_claims.release_window(settings, HOUR, 24, SCHEDULED) == [HOUR]
    assert hour_claims.acquire(settings, HOUR, BACKFILL).owner == BACKFILL


def test_an_expired_claim_is_taken_over_and_unlock_removes_any(
    tmp_path: Path, settings_for, monkeypatch, capsys
) -> None:
    settings = settings_for(tmp_path / "lake")
    monkeypatch.setenv("LAKEHOUSE_ENV", "local")
    monkeypatch.setenv("LAKEHOUSE_HOME", str(settings.home))
    hour_claims.acquire(settings, HOUR, "dead run", ttl=timedelta(0))
    assert hour_claims.acquire(settings, HOUR, SCHEDULED).owner == SCHEDULED

    assert unlock_cmd.run(argparse.Namespace(hour=HOUR)) == 0
    assert f"removed the claim of {SCHEDULED}" in capsys.readouterr().err
    assert hour_claims.holder(settings, HOUR) is None


def test_lakehouse_ingest_is_refused_while_a_dag_run_holds_the_hour(
    tmp_path: Path, settings_for, monkeypatch, capsys
) -> None:
    settings = settings_for(tmp_path / "lake")
    monkeypatch.setenv("LAKEHOUSE_ENV", "local")
    monkeypatch.setenv("LAKEHOUSE_HOME", str(settings.home))
    raw = Path(settings.raw_root, landing.hour_prefix(HOUR))
    raw.mkdir(parents=True)
    (raw / "s-1-a.gz").write_bytes(b"{}")
    # the scheduled run's plan task: claims the hour, writes its manifest (and would now ingest)
    landing.land_hour(settings, HOUR, "orders_2026110108_aaaa", SCHEDULED)

    code = ingest_cmd.run(argparse.Namespace(hour=HOUR, run_id="by-hand", branch="", manifest=""))

    assert code == 1
    err = capsys.readouterr().err
    assert "refused" in err and SCHEDULED in err
    assert [m["run_id"] for m in landing.hour_manifests(settings, HOUR)] == ["orders_2026110108_aaaa"]
    assert hour_claims.holder(settings, HOUR).owner == SCHEDULED, "the refused run left the claim alone"
    assert not (settings.home / "catalog.db").exists(), "nothing was written: no Spark job, no table"


def test_stragglers_of_an_hour_another_run_holds_wait_for_a_later_run(tmp_path: Path, settings_for) -> None:
    settings = settings_for(tmp_path / "lake")
    before = HOUR - timedelta(hours=1)
    landing.land_hour(settings, before, "run-07")
    late = Path(settings.raw_root, landing.hour_prefix(before), "s-1-late.gz")
    late.parent.mkdir(parents=True)
    late.write_bytes(b"{}")
    hour_claims.acquire(settings, before, BACKFILL)  # a re-run of 07 is writing it

    _, manifest = landing.land_hour(settings, HOUR, "run-08", SCHEDULED)
    assert manifest["stragglers"] == [] and manifest["stragglers_deferred"] == ["2026-11-01T07:00:00Z"]

    hour_claims.release(settings, [before], BACKFILL)
    _, later = landing.land_hour(settings, HOUR, "run-08-retry", SCHEDULED)
    assert [o["uri"] for s in later["stragglers"] for o in s["objects"]] == [late.as_uri()]
    assert json.loads(Path(hour_claims.claim_uri(settings, before)).read_text())["owner"] == SCHEDULED
