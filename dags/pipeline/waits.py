"""The Firehose hour: when it is complete, and what a run over it is called.

A DAG run of `orders_lakehouse` owns one data interval `[start, end)`, and that interval *is*
the Firehose arrival hour (`<raw root>/orders/YYYY/MM/DD/HH/` for `HH = start`). Firehose
flushes a buffer when it is full or when its buffering interval expires, so the last objects of
hour `H` can be written up to `buffer` seconds after `H + 1h`; we wait that long plus a margin
before listing the prefix. The wait is on the clock only, so it behaves the same whether the
raw root is a local folder or `s3://`, and it needs no AWS call.

`FirehoseHourSensor` is deferrable: when the hour is not complete yet it hands the wait to the
triggerer (`DateTimeTrigger`) and frees its worker slot; the trigger then ends the task itself
(`end_from_trigger`), so no worker is taken again just to say "done". For a past hour (catch-up,
backfill, a re-run) it returns at once without a trip through the triggerer.

Run ids: the ingest run id starts with the hour (`orders_YYYYMMDDHH_`), so every row's lineage
and every audit branch says which hour it came from; the suffix is a hash of the Airflow run id
and the attempt, so a re-run of the same hour gets a fresh audit branch and never trips over
a branch a failed attempt left behind. Re-runs are idempotent because of how the data is
written (bronze replaces the hour's partition, silver MERGEs on event id), not because of the id.

Standard library and the Airflow SDK only: this module is imported when DAG files are parsed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

if TYPE_CHECKING:
    from lakehouse_core.settings import Settings

RUN_ID_PREFIX = "orders"
AUDIT_BRANCH_PREFIX = "audit"
# The schedule's start when no stream start is configured: fixed (a moving start_date confuses
# the scheduler) and, because catch-up is then off, harmless.
DEFAULT_SCHEDULE_START = datetime(2024, 1, 1, tzinfo=UTC)


def schedule_start(settings: Settings) -> datetime:
    """The DAG's start_date: the configured stream start, else DEFAULT_SCHEDULE_START."""
    return settings.schedule_start or DEFAULT_SCHEDULE_START


def catchup(settings: Settings) -> bool:
    """Catch up missed hours only from a declared stream start.

    With a start configured the scheduler fills every hour since then (each run is idempotent,
    so that is safe); without one, enabling the DAG runs from the latest hour on, instead of
    replaying hours since an arbitrary default. Backfills work either way (docs/operations.md).
    """
    return settings.schedule_start is not None


def to_utc(moment: datetime) -> datetime:
    """A plain `datetime` in UTC from any aware datetime (Airflow hands out pendulum ones).

    Not `moment.astimezone(UTC)`: pendulum's override returns a *naive* value for the
    standard library's UTC, which then fails every comparison with an aware one.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} must be timezone-aware")
    return datetime(*moment.utctimetuple()[:6], moment.microsecond, tzinfo=UTC)


def arrival_hour(data_interval_start: datetime) -> datetime:
    """The Firehose arrival hour a run owns: its interval start, truncated to the hour, in UTC."""
    return to_utc(data_interval_start).replace(minute=0, second=0, microsecond=0)


def landing_ready_at(data_interval_end: datetime, buffer_seconds: int, margin_seconds: int) -> datetime:
    """When every object of the hour that ends at `data_interval_end` has landed (UTC).

    Firehose writes the last buffer of the hour at most `buffer_seconds` after the hour ends;
    the margin covers S3's write-to-list delay and clock skew between producers and us.
    """
    if buffer_seconds < 0 or margin_seconds < 0:
        raise ValueError("buffer_seconds and margin_seconds must be >= 0")
    return to_utc(data_interval_end) + timedelta(seconds=buffer_seconds + margin_seconds)


def ingest_run_id(hour: datetime, airflow_run_id: str, attempt: int) -> str:
    """`orders_<YYYYMMDDHH>_<8 hex>`: the hour, then a hash of (Airflow run id, attempt).

    Same inputs, same id (so a retry of a downstream task finds the branch ingest wrote);
    another Airflow run or a cleared-and-rerun plan step gets another id.
    """
    digest = hashlib.sha1(f"{airflow_run_id}#{attempt}".encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{RUN_ID_PREFIX}_{arrival_hour(hour):%Y%m%d%H}_{digest}"


def audit_branch(run_id: str) -> str:
    """The Iceberg branch the ingest run writes silver changes to (write-audit-publish)."""
    return f"{AUDIT_BRANCH_PREFIX}_{run_id}"


def hour_plan(context: Mapping[str, Any]) -> dict[str, str]:
    """What a run works on, from its Airflow context: the hour, the run id, the audit branch.

    Called by the plan task; its result travels to the Spark tasks as XCom, so every task of the
    run agrees on the id even when one of them is retried.
    """
    hour = arrival_hour(context["data_interval_start"])
    ti = context["ti"]
    run_id = ingest_run_id(hour, str(context["run_id"]), int(getattr(ti, "try_number", 1) or 1))
    return {
        "arrival_hour": hour.isoformat(),
        "run_id": run_id,
        "audit_branch": audit_branch(run_id),
    }


class FirehoseHourSensor(BaseOperator):
    """Wait, deferred, until the run's Firehose hour is complete (interval end + buffer + margin).

    Not a poke sensor: the target is a fixed instant, so one `DateTimeTrigger` is all it takes.
    """

    ui_color = "#e8f4fd"

    def __init__(self, *, buffer_seconds: int, margin_seconds: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.buffer_seconds = buffer_seconds
        self.margin_seconds = margin_seconds

    def execute(self, context: Any) -> None:
        ready_at = landing_ready_at(context["data_interval_end"], self.buffer_seconds, self.margin_seconds)
        now = datetime.now(UTC)
        if now >= ready_at:
            self.log.info("hour complete since %s; not deferring", ready_at.isoformat())
            return
        # Imported here: the trigger class is only needed when we actually wait.
        from airflow.providers.standard.triggers.temporal import DateTimeTrigger

        self.log.info("hour complete at %s (in %s); deferring", ready_at.isoformat(), ready_at - now)
        self.defer(
            trigger=DateTimeTrigger(moment=ready_at, end_from_trigger=True),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Any, event: Any = None) -> None:
        """Reached only if the trigger hands control back instead of ending the task itself."""
        return None
