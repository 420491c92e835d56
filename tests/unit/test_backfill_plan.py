"""A bulk backfill's plan (lakehouse_core.backfill), on a local lakehouse home: it claims the whole
range or nothing (refused while an hourly run holds one of its hours, and an hourly run of a
claimed hour is refused naming the backfill), writes one manifest per hour where reconcile and
later hourly runs look, and one range manifest the job reads; stragglers of earlier hours are
taken as the range's first hourly run would take them.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lakehouse_core import backfill, hour_claims, landing
from spark_jobs.ingest.bulk import range_batches

pytestmark = pytest.mark.unit

START = datetime(2026, 11, 1, 8, tzinfo=UTC)
END = START + timedelta(hours=3)
HOURLY = "orders_lakehouse/scheduled__2026-11-01T09:00:00+00:00"
BULK = "orders_backfill/manual__2026-12-07T00:00:00+00:00"


def _land(settings, hour: datetime, name: str, body: bytes = b'{"a":1}\n') -> str:
    folder = Path(settings.raw_root, landing.hour_prefix(hour))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"orders-stream-1-{name}.gz"
    path.write_bytes(body)
    return path.as_uri()


def test_the_range_is_refused_while_an_hourly_run_holds_an_hour_of_it(tmp_path: Path, settings_for) -> None:
    settings = settings_for(tmp_path / "lake")
    busy = START + timedelta(hours=1)
    hour_claims.acquire(settings, busy, HOURLY)
    run_id = backfill.range_run_id(START, END, "attempt-1")

    with pytest.raises(hour_claims.HourBusy, match="being written by orders_lakehouse/scheduled__"):
        backfill.plan_range(settings, START, END, run_id, BULK)

    assert hour_claims.holder(settings, START) is None, "the hours claimed before the busy one were dropped"
    assert hour_claims.holder(settings, busy).owner == HOURLY
    assert not Path(backfill.range_manifest_uri(settings, START, run_id)).exists(), "nothing written"

    hour_claims.release(settings, [busy], HOURLY)
    backfill.plan_range(settings, START, END, run_id, BULK)
    with pytest.raises(hour_claims.HourBusy, match=re.escape(f"being written by {BULK}")):  # and the other way round
        hour_claims.acquire(settings, busy, HOURLY)
    assert backfill.release_range(settings, START, END, BULK) == backfill.hours_in(START, END)
    assert hour_claims.acquire(settings, busy, HOURLY).owner == HOURLY


def test_the_plan_writes_hour_manifests_and_a_range_manifest(tmp_path: Path, settings_for) -> None:
    settings = settings_for(tmp_path / "lake")
    earlier = START - timedelta(hours=2)
    landing.land_hour(settings, earlier, "hourly-earlier")  # that hour ran (empty); then an object lands late
    straggler = _land(settings, earlier, "late")
    first = _land(settings, START, "a")
    third = [_land(settings, START + timedelta(hours=2), n) for n in ("b", "c")]
    run_id = backfill.range_run_id(START, END, "attempt-1")
    assert run_id.startswith("backfill_2026110108_2026110111_")

    uri, plan = backfill.plan_range(settings, START, END, run_id, BULK)

    assert json.loads(Path(uri).read_text()) == plan
    assert [(o["uri"], o["arrival_hour"]) for o in plan["objects"]] == [
        (first, "2026-11-01T08:00:00Z"),
        *((u, "2026-11-01T10:00:00Z") for u in sorted(third)),
    ]
    assert [h["object_count"] for h in plan["hours"]] == [1, 0, 1 + 1]
    assert [[o["uri"] for o in s["objects"]] for s in plan["stragglers"]] == [[straggler]]
    assert hour_claims.holder(settings, earlier).owner == BULK, "the straggler's hour is claimed too"
    assert backfill.objects_to_read(plan) == 4
    # every hour has a manifest of the run, where reconcile and the hourly runs' straggler search look
    for hour in backfill.hours_in(START, END):
        (stored,) = [m for m in landing.hour_manifests(settings, hour) if m["run_id"] == run_id]
        assert stored["arrival_hour"] == landing.iso_hour(hour)
    assert landing.named_objects(landing.hour_manifests(settings, START), earlier) == {straggler}
    assert landing.find_stragglers(settings, END, 24) == [], "a later hourly run finds nothing new"
    # the gate's window reaches from the earliest straggler hour to the range's last hour
    assert backfill.gate_lateness_hours(settings, plan) == settings.lateness_hours + 4
    # and the job reads it as one batch per hour with objects, then the stragglers
    batches = range_batches(plan, START, END)
    assert [(b.hour, len(b.objects), b.straggler) for b in batches] == [
        (START, 1, False),
        (START + timedelta(hours=2), 2, False),
        (earlier, 1, True),
    ]


def test_a_range_must_be_whole_hours_and_not_empty() -> None:
    with pytest.raises(ValueError, match="empty"):
        backfill.check_range(START, START)
    with pytest.raises(ValueError, match="whole hour"):
        backfill.check_range(START + timedelta(minutes=5), END)
    assert backfill.range_run_id(START, END, "a") != backfill.range_run_id(START, END, "b")


def test_bulk_and_scheduler_do_not_go_together(capsys) -> None:
    import argparse

    from lakehouse.commands import airflow as airflow_cmd

    args = argparse.Namespace(
        start="2026-11-01T08", end="2026-11-01T11", bulk=True, scheduler=True, verbose=False, cold_spark=False
    )
    assert airflow_cmd.backfill_cli(args) == 2
    assert "--bulk and --scheduler" in capsys.readouterr().err
