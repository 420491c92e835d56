"""The transaction-rate alarm's delivery: one arrival hour's verdict, to the on-call, once.

The detector is SQL, the dbt model `agg_hourly_order_rate` (one row per arrival hour: observed,
expected, band, score, `alarm_kind`), so it runs the same on DuckDB, PostgreSQL and Redshift.
This module is what the hourly DAG's `rate_alarm` task does after the marts:

1. read its hour's row from the warehouse (`read_hour`). An hour with no objects skipped ingest
   and dbt, but still has a row: the model keeps *pending* hours (zeros) after the newest data,
   built by the last run that had data, so the empty hour is judged without a dbt run;
2. if the row carries an alarm and `audit.rate_alarms` has no row for (hour, kind) yet: notify
   (SNS through the Amazon provider's `SnsHook` when a topic is set, else the log), then
   record it. A re-run or a backfill of the hour finds the row and stays quiet: one page per
   hour and kind. Notify-then-record is at-least-once: if the record fails after the publish,
   the task's retry pages again (better twice than never). Runs of the DAG are serial
   (`max_active_runs=1`), so two checks of one hour never race.

Settings reach the model as dbt vars (`dbt_vars`), so the thresholds are tuned in one place.
Imports of duckdb, pyiceberg, pyarrow and the provider happen inside the functions: the DAG
file imports this module at parse time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from lakehouse_core.settings import Settings
from pipeline.warehouse import WarehouseMissingError, warehouse_for

log = logging.getLogger(__name__)

MODEL = "marts.agg_hourly_order_rate"
TABLE = "audit.rate_alarms"
KINDS = ("zero", "drop", "spike")
COLUMNS = (
    "arrival_hour",
    "is_closed",
    "order_count",
    "expected_order_count",
    "lower_order_count",
    "upper_order_count",
    "order_score",
    "net_revenue",
    "expected_net_revenue",
    "baseline",
    "history_points",
    "baseline_points",
    "alarm_kind",
)
SUBJECT_LIMIT = 100  # SNS rejects longer subjects


VAR_SETTINGS = (
    "rate_alarm_window_days",
    "rate_alarm_min_points",
    "rate_alarm_week_min_points",
    "rate_alarm_drop_score",
    "rate_alarm_spike_score",
    "rate_alarm_zero_min_expected",
    "rate_alarm_drop_fraction",
)


def dbt_vars(settings: Settings) -> dict[str, Any]:
    """The model's thresholds that differ from their defaults, as dbt vars (the names of dbt_project.yml).

    Only the overrides: dbt_project.yml holds the same defaults (a unit test keeps them equal),
    and any `--vars` that differ from the saved manifest's make dbt re-parse the whole project
    (seconds on every hourly run).
    """
    from dataclasses import fields

    defaults = {f.name: f.default for f in fields(Settings)}
    return {name: getattr(settings, name) for name in VAR_SETTINGS if getattr(settings, name) != defaults[name]}


@dataclass(frozen=True)
class RateAlarm:
    """One hour's alarm, as the model computed it."""

    arrival_hour: datetime  # UTC, aware
    alarm_kind: str
    order_count: int
    expected_order_count: float | None
    lower_order_count: float | None
    upper_order_count: float | None
    order_score: float | None
    net_revenue: float | None
    expected_net_revenue: float | None
    baseline: str
    baseline_points: int

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RateAlarm | None:
        """The alarm a model row carries; None when the hour is normal (or not judged yet)."""
        kind = row.get("alarm_kind")
        if not kind:
            return None
        if kind not in KINDS:
            raise ValueError(f"{MODEL} returned alarm_kind={kind!r}; expected one of {', '.join(KINDS)}")
        return cls(
            arrival_hour=_utc(row["arrival_hour"]),
            alarm_kind=kind,
            order_count=int(row["order_count"]),
            **{name: _float(row.get(name)) for name in _FLOATS},
            baseline=str(row.get("baseline") or ""),
            baseline_points=int(row.get("baseline_points") or 0),
        )

    def message(self, dashboard: str) -> tuple[str, str]:
        """(subject, body): the hour, the kind, observed against expected, and where to look."""
        hour = f"{self.arrival_hour:%Y-%m-%d %H}:00 UTC"
        subject = f"[lakehouse] order rate {self.alarm_kind}: {hour}"[:SUBJECT_LIMIT]
        lines = [
            f"arrival hour: {hour}",
            f"alarm: {self.alarm_kind} ({_WHAT[self.alarm_kind]})",
            f"orders: {self.order_count} observed, {_fmt(self.expected_order_count)} expected "
            f"(normal band {_fmt(self.lower_order_count)} .. {_fmt(self.upper_order_count)}, "
            f"score {_fmt(self.order_score, 1)})",
            f"net revenue: {_fmt(self.net_revenue, 2)} observed, {_fmt(self.expected_net_revenue, 2)} expected",
            f"baseline: {self.baseline}, {self.baseline_points} past hours ({MODEL})",
            f"dashboard: {dashboard}",
        ]
        return subject, "\n".join(lines)


_FLOATS = (
    "expected_order_count",
    "lower_order_count",
    "upper_order_count",
    "order_score",
    "net_revenue",
    "expected_net_revenue",
)
_WHAT = {
    "zero": "no orders in an hour that normally has them",
    "drop": "far fewer orders than this hour normally has",
    "spike": "far more orders than this hour normally has",
}


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _fmt(value: float | None, digits: int = 0) -> str:
    return "?" if value is None else f"{value:,.{digits}f}"


def _utc(value: Any) -> datetime:
    """Warehouse timestamps are UTC wall-clock without a zone (dbt's to_utc_timestamp)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def hour_query(hour: datetime) -> str:
    """The model's row for one arrival hour. The literal comes from a datetime, never from text."""
    wall = _utc(hour).strftime("%Y-%m-%d %H:%M:%S")
    return f"select {', '.join(COLUMNS)} from {MODEL} where arrival_hour = cast('{wall}' as timestamp)"


def read_hour(settings: Settings, hour: datetime) -> dict[str, Any] | None:
    """The model's row for `hour`, or None (no marts yet, or the hour is beyond the pending window).

    Read from the dbt target's warehouse (`pipeline.warehouse`: DuckDB, PostgreSQL, or Redshift
    through the Data API)."""
    try:
        rows = warehouse_for(settings).query(hour_query(hour)).dicts()
    except WarehouseMissingError:  # the marts were never built here
        return None
    return rows[0] if rows else None


# --- the idempotence mark and the notification -----------------------------------------------------


def _alarm_table(settings: Settings):  # -> pyiceberg.table.Table
    from pyiceberg.exceptions import NoSuchTableError

    from lakehouse_core.catalog import init_catalog, load_table, open_catalog
    from lakehouse_core.tables import table

    catalog = open_catalog(settings)
    try:
        return load_table(settings, TABLE, catalog)
    except NoSuchTableError:  # a lake made before the alarm existed: create it (what `lakehouse init` does)
        init_catalog(settings, (table(TABLE),))
        return load_table(settings, TABLE, catalog)


def already_raised(iceberg_table, alarm: RateAlarm) -> bool:
    from pyiceberg.expressions import And, EqualTo

    hour = alarm.arrival_hour.isoformat()
    found = iceberg_table.scan(
        row_filter=And(EqualTo("arrival_hour", hour), EqualTo("alarm_kind", alarm.alarm_kind)),
        selected_fields=("alarm_kind",),
    )
    return found.to_arrow().num_rows > 0


def record(iceberg_table, alarm: RateAlarm, dag_run_id: str, notified: str) -> None:
    """Append the alarm's row (one commit)."""
    import pyarrow as pa

    row = {
        **asdict(alarm),
        "dag_run_id": dag_run_id,
        "detected_at": datetime.now(UTC),
        "notified": notified,
    }
    schema = iceberg_table.schema().as_arrow()
    iceberg_table.append(pa.Table.from_pylist([row], schema=schema))


def notify(settings: Settings, alarm: RateAlarm) -> str:
    """SNS when a topic is configured (the Amazon provider's hook, the worker's role), else the log."""
    subject, body = alarm.message(dashboard_link(settings))
    log.warning("%s\n%s", subject, body)
    if not settings.alerts_sns_topic_arn:
        return "log"
    from airflow.providers.amazon.aws.hooks.sns import SnsHook

    response = SnsHook(aws_conn_id=None, region_name=settings.aws_region).publish_to_target(
        target_arn=settings.alerts_sns_topic_arn,
        message=body,
        subject=subject,
        message_attributes={"alarm_kind": alarm.alarm_kind, "source": "lakehouse-rate-alarm"},
    )
    return f"sns:{response['MessageId']}"


def dashboard_link(settings: Settings) -> str:
    """The dashboard an on-call opens: the QuickSight URL on AWS (setting), else the local page."""
    if settings.dashboard_url:
        return settings.dashboard_url
    if settings.environment == "aws":  # a worker's file means nothing to the reader of a page
        return "the QuickSight orders dashboard (set LAKEHOUSE_DASHBOARD_URL to link it here)"
    return (settings.reports_dir / "dashboard.html").as_uri()


def check_hour(
    settings: Settings,
    hour: datetime,
    dag_run_id: str,
    read: Callable[[Settings, datetime], dict[str, Any] | None] = read_hour,
) -> dict[str, Any]:
    """Judge one arrival hour and notify at most once per kind; returns what happened (the task's XCom)."""
    row = read(settings, hour)
    outcome: dict[str, Any] = {"arrival_hour": _utc(hour).isoformat(), "alarm_kind": None, "notified": None}
    if row is None:
        log.info("no %s row for %s: no marts yet, or beyond the pending hours; nothing to judge", MODEL, hour)
        return outcome
    outcome.update(
        order_count=int(row["order_count"]),
        expected_order_count=_float(row.get("expected_order_count")),
        baseline_points=int(row.get("baseline_points") or 0),
    )
    alarm = RateAlarm.from_row(row)
    if alarm is None:
        log.info("order rate normal for %s: %s", hour, outcome)
        return outcome
    outcome["alarm_kind"] = alarm.alarm_kind
    alarms = _alarm_table(settings)
    if already_raised(alarms, alarm):
        log.info("%s alarm for %s was raised before (%s): not notifying again", alarm.alarm_kind, hour, TABLE)
        outcome["notified"] = "before"
        return outcome
    outcome["notified"] = notify(settings, alarm)
    record(alarms, alarm, dag_run_id, outcome["notified"])
    return outcome


def raised_alarms(settings: Settings, since: datetime | None = None) -> list[dict[str, Any]]:
    """Rows of audit.rate_alarms (oldest hour first), for the demo's summary and the dashboard."""
    from pyiceberg.exceptions import NoSuchTableError

    from lakehouse_core.catalog import load_table

    try:
        iceberg_table = load_table(settings, TABLE)
    except NoSuchTableError:
        return []
    rows = iceberg_table.scan().to_arrow().to_pylist()
    if since is not None:
        rows = [r for r in rows if r["arrival_hour"] >= since]
    return sorted(rows, key=lambda r: (r["arrival_hour"], r["alarm_kind"]))
