"""What each Spark program is given, from settings: one builder per program.

The DAG (with Jinja templates for a run's values) and the CLI (`lakehouse ingest`, `validate`,
`publish`, `discard`, `recommend --train`, with plain strings) call the same builders, so a job run by hand gets the
arguments the scheduled task gives it. The catalog arguments every job takes are not here: the
backend adds them (`lakehouse_core.spark_backends.SparkBackend.catalog_args`). Empty values are left
out (a job gives an unset optional argument its default, and Glue rejects empty values).
`pipeline.maintenance.maintenance_args` is the builder of `maintain_tables.py`.

Standard library only: imported when the DAG files are parsed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from lakehouse_core.settings import Settings
from lakehouse_core.spark_backends import backend_for


def ingest_args(
    settings: Settings,
    *,
    arrival_hour: datetime | str,
    manifest: str,
    run_id: str,
    audit_branch: str = "",
    max_record_bytes: int | None = None,
    to_hour: datetime | str = "",
) -> dict[str, str]:
    """The arguments of `spark_jobs/ingest_orders.py` for one arrival hour (an aware datetime or ISO text),
    or with `to_hour` for the range [arrival_hour, to_hour) of a bulk backfill (`manifest`: the range's)."""
    if isinstance(arrival_hour, datetime):
        arrival_hour = arrival_hour.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(to_hour, datetime):
        to_hour = to_hour.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return _given(
        {
            "manifest": manifest,
            "arrival_hour": arrival_hour,
            "to_hour": to_hour,
            "run_id": run_id,
            "audit_branch": audit_branch,
            # the gate's window: ingest quarantines what the gate's range check would fail
            "lateness_hours": str(settings.lateness_hours),
            "clock_skew_minutes": str(settings.clock_skew_minutes),
            "max_object_bytes": str(settings.max_object_bytes),
            "max_record_bytes": "" if max_record_bytes is None else str(max_record_bytes),
        }
    )


def gate_args(
    settings: Settings,
    *,
    run_id: str,
    arrival_hour: str = "",
    audit_branch: str = "",
    lateness_hours: int | str | None = None,
) -> dict[str, str]:
    """The arguments of `spark_jobs/validate_orders.py`: the run, where the suites and the Data
    Docs are for this backend, and the thresholds from settings.

    `lateness_hours`: the event-time window before the run's hour, when the run also wrote
    earlier hours' stragglers (`lakehouse_core.landing.gate_lateness_hours`); default the setting.
    """
    backend = backend_for(settings)
    return _given(
        {
            "run_id": run_id,
            "arrival_hour": arrival_hour,
            "audit_branch": audit_branch,
            "expectations_dir": backend.expectations_uri(),
            "reports_uri": backend.data_docs_uri(),
            "quarantine_max_share": str(settings.quarantine_max_share),
            "lateness_hours": str(settings.lateness_hours if lateness_hours is None else lateness_hours),
            "clock_skew_minutes": str(settings.clock_skew_minutes),
        }
    )


def publish_args(settings: Settings, *, run_id: str, action: str, audit_branch: str = "") -> dict[str, str]:
    """The arguments of `spark_jobs/publish_orders.py`: publish or discard the run's branch."""
    return _given(
        {
            "run_id": run_id,
            "action": action,
            "audit_branch": audit_branch,
        }
    )


def recommend_args(*, as_of: str, seed: int | str = 42) -> dict[str, str]:
    """The arguments of `spark_jobs/recommend_products.py` for the day `as_of` (YYYY-MM-DD or a template).

    The run id (`recommend_<yyyymmdd>`), the holdout, k and the ALS parameters are the job's
    defaults, so a scheduled run and `lakehouse recommend --train` are the same run.
    """
    return _given({"as_of": as_of, "seed": str(seed)})


def _given(args: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in args.items() if value}
