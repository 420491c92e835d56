"""The orders DAG's guards, called as the scheduler calls them (the parsed DAG's task callables,
on a local lakehouse, with the values Airflow hands them):

- `claim_hour`: a second run of an hour that another run is writing fails naming it (Airflow's
  retries make that a wait), a retry of the same run re-enters, the teardown releases;
- `firehose_errors`: fails when Firehose wrote error output for the hour (the task's failure
  callback then logs and publishes the alert), passes when there is none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from lakehouse_core import hour_claims, landing
from lakehouse_core.settings import load_settings
from tests.helpers.dagbag import parse

pytestmark = pytest.mark.integration

HOUR = datetime(2026, 11, 1, 8, tzinfo=UTC)


@pytest.fixture
def dag(dbt_manifest, lake_env, monkeypatch):
    return parse({}, monkeypatch).dags["orders_lakehouse"]


def _context(run_id: str) -> dict:
    """What Airflow passes a task of run `run_id` of the hour (the fields these tasks read)."""
    return {"data_interval_start": HOUR, "run_id": run_id, "ti": SimpleNamespace(dag_id="orders_lakehouse")}


def test_a_second_run_of_the_hour_is_refused_by_claim_hour_until_the_first_releases(dag) -> None:
    claim = dag.get_task("claim_hour").python_callable
    release = dag.get_task("release_hour").python_callable
    scheduled, backfill = _context("scheduled__2026-11-01T08"), _context("backfill__2026-11-01T08")

    assert claim(**scheduled) == "orders_lakehouse/scheduled__2026-11-01T08"
    # the DagBag re-imported the pipeline modules: the class is the DAG's own HourBusy
    with pytest.raises(RuntimeError, match="being written by orders_lakehouse/scheduled__2026-11-01T08") as refused:
        claim(**backfill)
    assert type(refused.value).__name__ == hour_claims.HourBusy.__name__
    assert claim(**scheduled), "a retry of the same run re-enters its claim"
    assert release(**backfill) == 0, "a run releases only its own claims"
    assert release(**scheduled) == 1
    assert claim(**backfill) == "orders_lakehouse/backfill__2026-11-01T08"


def test_firehose_error_output_fails_its_task(dag) -> None:
    settings = load_settings()
    check = dag.get_task("firehose_errors").python_callable
    error = Path(settings.raw_root, "firehose-errors/processing-failed/2026/11/01/08/orders-stream-1-x")
    uri, manifest = landing.land_hour(settings, HOUR, "run-clean")
    assert check(count=manifest["firehose_error_objects"], manifest=uri) is None
    error.parent.mkdir(parents=True)
    error.write_bytes(b'{"errorCode":"Lambda.FunctionError","rawData":"e30="}\n')
    uri, manifest = landing.land_hour(settings, HOUR, "run-with-errors")

    from airflow.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException, match=r"Firehose wrote 1 error object\(s\) for arrival hour 2026-11-01"):
        check(count=manifest["firehose_error_objects"], manifest=uri)
