"""Stragglers: an object Firehose delivers into an hour's prefix after that hour was read is found
by a later hourly run and ingested into its own arrival hour, through the code the DAG runs (the
plan task's `landing.land_hour`, then the ingest job), on real Spark and Iceberg.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from datetime import timedelta

import pytest

from lakehouse.commands.reconcile import reconcile
from lakehouse.runtime.demo import late_objects
from lakehouse_core import landing
from spark_jobs.ingest.job import IngestArgs, run_ingest
from tests.helpers.ingest_hours import HOUR, Hours, event

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Python workers need this venv (pyarrow)
pytestmark = pytest.mark.spark

EMPTY = HOUR - timedelta(hours=1)  # an hour that had no object when it ran
NEXT = HOUR + timedelta(hours=1)


def _run_hour(lake: Hours, hour, run_id: str) -> tuple[dict, dict]:
    """What one DAG run does for `hour`: the plan task's manifest, then the ingest of it."""
    uri, manifest = landing.land_hour(lake.settings, hour, run_id)
    args = IngestArgs(
        platform="local",
        catalog_name=lake.settings.catalog_name,
        warehouse=lake.settings.warehouse,
        manifest=uri,
        arrival_hour=hour,
        run_id=run_id,
    )
    return manifest, run_ingest(lake.spark, args, lake.tables, log=lambda _: None)


def _never_ingested(lake: Hours, end) -> set[tuple]:
    """`lakehouse reconcile` over the hours from EMPTY to `end`, on this test's tables."""
    t = lake.tables
    report = reconcile(lake.settings, EMPTY, end, (t.bronze, t.quarantine), t.runs)
    return {(r.hour, uri) for r in report for uri in r.missing}


def _hour_rows(lake: Hours, role: str, hour) -> list[tuple]:
    rows = lake.table(role).where(f"arrival_hour = CAST('{landing.iso_hour(hour)}' AS TIMESTAMP)")
    return sorted((r["source_object"], r["record_index"]) for r in rows.collect())


def test_an_object_landing_after_its_hour_ran_is_ingested_into_its_hour_by_the_next_run(
    spark, session_lake, tmp_path
) -> None:
    lake = Hours(spark, session_lake, tmp_path, "stragglers")
    lake.settings = dataclasses.replace(lake.settings, straggler_hours=3)
    lake.write(HOUR, 5, b"\n".join([event("a", quantity=1), event("b")]))
    # nothing there yet: the plan task writes an empty manifest and has_objects skips the ingest
    _, empty = landing.land_hour(lake.settings, EMPTY, "run-empty")
    assert landing.objects_to_read(empty) == 0
    _, own = _run_hour(lake, HOUR, "run-hour")
    assert (own["objects"], own["straggler_objects"]) == (1, 0)
    before = _hour_rows(lake, "bronze", HOUR)

    # Firehose retries: objects land in the prefixes of hours that already ran
    late = lake.write(HOUR, 20, b"\n".join([event("c"), event("a", emitted="2026-11-07T09:59:00Z", quantity=5), b"{"]))
    lost = lake.write(EMPTY, 50, event("d", ts="2026-11-07T08:55:00Z"))
    lake.write(NEXT, 5, event("e"))

    assert _never_ingested(lake, NEXT) == {(EMPTY, lost), (HOUR, late)}, "reconcile sees them before the next run"

    manifest, record = _run_hour(lake, NEXT, "run-next")

    assert [(s["arrival_hour"], [o["uri"] for o in s["objects"]]) for s in manifest["stragglers"]] == [
        (landing.iso_hour(EMPTY), [lost]),
        (landing.iso_hour(HOUR), [late]),
    ]
    assert record["status"] == "succeeded"
    assert (record["objects"], record["straggler_objects"], record["straggler_records"]) == (3, 2, 4)
    assert record["records_read"] == 5 == record["records_parsed"] + record["records_quarantined"]
    silver = {r["event_id"]: r["quantity"] for r in lake.table("silver").collect()}
    assert silver == {"a": 5, "b": 1, "c": 1, "d": 1, "e": 1}, "the straggler's records reached silver"
    # added to their own arrival hour, beside the hour's earlier rows
    assert _hour_rows(lake, "bronze", HOUR) == sorted([*before, (late, 0), (late, 1)])
    assert _hour_rows(lake, "quarantine", HOUR) == [(late, 2)]
    assert _hour_rows(lake, "bronze", EMPTY) == [(lost, 0)]
    stored = lake.table("runs").where("run_id = 'run-next'").first()
    assert (stored["straggler_objects"], stored["straggler_records"]) == (2, 4)
    assert _never_ingested(lake, NEXT + timedelta(hours=1)) == set()

    # a re-run of the same hour claims them again (its own claims do not count) and converges
    _, again = _run_hour(lake, NEXT, "run-next-again")
    assert again["straggler_objects"] == 2 and again["silver_inserted"] == again["silver_updated"] == 0
    assert _hour_rows(lake, "bronze", HOUR) == sorted([*before, (late, 0), (late, 1)])
    # a later hour finds nothing new: the manifests of NEXT named them
    _, later = landing.land_hour(lake.settings, NEXT + timedelta(hours=1), "run-later")
    assert later["stragglers"] == []
    # what `make demo`'s summary shows: the latest run of each hour, so the re-run counts once
    late = late_objects(lake.settings, lake.tables.runs)
    assert late == {"straggler_objects": 2, "straggler_records": 4, "firehose_error_objects": 0}
