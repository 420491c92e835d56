"""
### orders_lakehouse: one Firehose arrival hour from the raw zone to the marts

Each run owns one data interval, `[data_interval_start, data_interval_end)`: the Firehose
**arrival hour** whose objects sit under `<raw root>/orders/YYYY/MM/DD/HH/`.

1. **wait_for_hour**: deferred (no worker slot held) until the hour is complete: interval end
   + Firehose buffering interval + a margin. Past hours (catch-up, backfill) pass at once.
2. **claim_hour** / **landing_manifest**: the run claims its hour (one writer per hour, also
   against a backfill or the CLI: a second run of the hour waits, then fails naming the holder;
   **release_hour**, a teardown after publish, drops the claim). Then it lists the hour's
   objects into a manifest (a file the Spark jobs read) and names the run:
   `orders_YYYYMMDDHH_<hash>`, audit branch `audit_<run id>`. The manifest also names the
   **stragglers**: objects that landed in one of the previous 24 hours' prefixes after that
   hour was read (Firehose retries keep the arrival-hour prefix); the ingest adds them to their
   own hour. **firehose_errors** fails (and alerts) when Firehose wrote error output for the
   hour; the rest of the run goes on.
3. **has_objects**: an hour with no objects (and no stragglers) is a normal, green run: the
   Spark steps and dbt are skipped
   (only **rate_alarm** still runs). **ensure_tables** then creates or evolves the Iceberg
   tables (idempotent).
4. **ingest** (Spark): bronze + quarantine for the hour, silver MERGE on the audit branch.
5. **quality_gate** (Spark + Great Expectations): validates the audit branch. A failed gate
   fails this task; publish and dbt do not run; `main` is unchanged.
6. **publish** (Spark): fast-forwards `main` to the audit branch; emits the silver assets.
7. **export_silver** (local and compose dbt targets): copies silver into the DuckDB or
   PostgreSQL warehouse.
8. **dbt** (Cosmos, from the dbt manifest): staging, intermediate and marts, tests after each
   model; then **marts_published** emits one asset per mart.
9. **quicksight_refresh** (Redshift, when `LAKEHOUSE_QUICKSIGHT_DATASET_IDS` is set): one SPICE
   ingestion per QuickSight dataset after the marts are published; a failed ingestion fails
   its task with QuickSight's reason.
10. **rate_alarm**: the hour's orders against their baseline (dbt model
   `agg_hourly_order_rate`): a `zero`, `drop` or `spike` goes to SNS (or the log locally) and
   `audit.rate_alarms`, once per hour and kind. It runs for an hour with no objects too.
11. **maintain_silver** (03:00 UTC runs only): silver's compaction and snapshot expiry, here and
   not in the maintenance DAG, so it can never move silver's `main` under a publish.

Re-running an interval is safe: bronze replaces the hour's partition, silver MERGEs on the
event id, and the gate and publish work on the run's own branch. Spark runs locally, on Glue
or on EMR Serverless (`LAKEHOUSE_SPARK_BACKEND`); see docs/operations.md for backfills.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, task
from airflow.timetables.interval import CronDataIntervalTimetable

from lakehouse_core import hour_claims, spark_args
from lakehouse_core.settings import load_settings
from pipeline import assets, maintenance, skip_reasons, waits
from pipeline.callbacks import FailureNotifier, default_args
from pipeline.dbt_cosmos import build_marts
from pipeline.spark_tasks import spark_task
from pipeline.warehouse import warehouse_for

DAG_ID = "orders_lakehouse"
SETTINGS = load_settings()
PLAN = "landing_manifest"


def _plan(key: str) -> str:
    """Jinja that renders one field of the plan task's result (the same on every Spark backend)."""
    return f"{{{{ ti.xcom_pull(task_ids='{PLAN}', key='{key}') }}}}"


with DAG(
    dag_id=DAG_ID,
    description="Firehose hour -> bronze/silver (Iceberg, write-audit-publish) -> GX gate -> dbt marts",
    doc_md=__doc__,
    # Data intervals (not trigger times): a run owns exactly one arrival hour.
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=waits.schedule_start(SETTINGS),
    catchup=waits.catchup(SETTINGS),
    # One run at a time: publish fast-forwards `main` to the run's branch, which only works if
    # no other run moved `main` since the branch was cut.
    max_active_runs=1,
    # dbt models in parallel where the warehouse and the worker allow it (DuckDB: one writer; MWAA:
    # what an mw1.small worker holds; see Warehouse.dbt_parallel_tasks).
    max_active_tasks=warehouse_for(SETTINGS).dbt_parallel_tasks,
    dagrun_timeout=hour_claims.CLAIM_TTL,  # a claim outlives no run of its hour
    default_args=default_args(SETTINGS),
    on_failure_callback=FailureNotifier(SETTINGS),
    tags=["lakehouse", "orders", "hourly", f"spark:{SETTINGS.spark_backend}", f"dbt:{SETTINGS.dbt_target}"],
) as dag:
    wait_for_hour = waits.FirehoseHourSensor(
        task_id="wait_for_hour",
        buffer_seconds=SETTINGS.firehose_buffer_seconds,
        margin_seconds=SETTINGS.landing_margin_seconds,
        retries=0,
    )

    @task(task_id="claim_hour")
    def claim_hour(**context: Any) -> str:
        """One writer per hour (lakehouse_core.hour_claims): a second run of the hour waits here (retries),
        then fails naming the run that holds it."""
        hour = waits.arrival_hour(context["data_interval_start"])
        return hour_claims.acquire(load_settings(), hour, hour_claims.run_owner(context)).owner

    @task(task_id="release_hour")
    def release_hour(**context: Any) -> int:
        """Teardown: drop the run's claims (its hour, and earlier hours whose stragglers it read)."""
        settings, hour = load_settings(), waits.arrival_hour(context["data_interval_start"])
        return len(hour_claims.release_window(settings, hour, settings.straggler_hours, hour_claims.run_owner(context)))

    @task(task_id=PLAN, multiple_outputs=True)
    def landing_manifest(**context: Any) -> dict[str, Any]:
        """List the hour's objects into a manifest and name the run (see pipeline.waits)."""
        from lakehouse_core import landing

        settings = load_settings()
        plan = waits.hour_plan(context)
        hour, owner = waits.arrival_hour(context["data_interval_start"]), hour_claims.run_owner(context)
        uri, manifest = landing.land_hour(settings, hour, plan["run_id"], owner)
        return {
            **plan,
            "manifest": uri,
            "objects": landing.objects_to_read(manifest),  # the hour's and earlier hours' stragglers
            "stragglers": manifest["straggler_objects"],
            "firehose_errors": manifest["firehose_error_objects"],
            "gate_lateness_hours": landing.gate_lateness_hours(settings, manifest),
        }

    # ignore_downstream_trigger_rules=False: the skip flows down by trigger rules, so rate_alarm
    # (none_failed) still judges an empty hour.
    @task.short_circuit(
        task_id="has_objects", ignore_downstream_trigger_rules=False, doc_md=skip_reasons.GATE_DOCS["has_objects"]
    )
    def has_objects(objects: int) -> bool:
        """False (skip ingest to marts, run stays green) when the hour has no objects."""
        return int(objects) > 0

    @task(task_id="firehose_errors", retries=0)
    def firehose_errors(count: int, manifest: str) -> None:
        """Fails (the failure notifier logs it and publishes to SNS) when Firehose wrote error output
        for the hour: records it could not deliver; the rest of the run goes on."""
        if int(count):
            from airflow.exceptions import AirflowFailException

            from lakehouse_core import landing

            stored = landing.read_manifest(manifest, load_settings().s3_endpoint)
            raise AirflowFailException(landing.firehose_errors_alarm(stored))

    @task(task_id="ensure_tables")
    def ensure_tables() -> dict[str, Any]:
        """Create or evolve the Iceberg tables (idempotent), so a new deployment needs no manual init."""
        from lakehouse_core.catalog import init_catalog

        report = init_catalog(load_settings())
        return {"created": report.created_tables, "evolved": report.evolved}

    plan = landing_manifest()
    # The jobs' arguments come from the builders the CLI uses too (lakehouse_core.spark_args).
    run = {key: _plan(key) for key in ("run_id", "arrival_hour", "audit_branch")}
    ingest = spark_task(
        SETTINGS, "ingest", "ingest_orders.py", spark_args.ingest_args(SETTINGS, **run, manifest=_plan("manifest"))
    )
    quality_gate = spark_task(
        SETTINGS,
        "quality_gate",
        "validate_orders.py",
        # the event-time window reaches back to the run's earliest straggler hour
        spark_args.gate_args(SETTINGS, **run, lateness_hours=_plan("gate_lateness_hours")),
        # exit 1 is the gate's verdict: retrying cannot change it, so fail at once
        verdict_exit_codes=(1,),
    )
    publish = spark_task(
        SETTINGS,
        "publish",
        "publish_orders.py",
        spark_args.publish_args(SETTINGS, run_id=run["run_id"], audit_branch=run["audit_branch"], action="publish"),
        verdict_exit_codes=(1,),  # refused: the gate did not pass, or main moved
        outlets=assets.silver_assets(SETTINGS.catalog_name),
    )

    @task.short_circuit(
        task_id="is_silver_maintenance_hour",
        ignore_downstream_trigger_rules=False,
        doc_md=skip_reasons.GATE_DOCS["is_silver_maintenance_hour"],
    )
    def is_silver_maintenance_hour(**context: Any) -> bool:
        """Once a day, after publish: silver's compaction must never run beside a publish."""
        return context["data_interval_start"].hour == maintenance.SILVER_MAINTENANCE_HOUR

    maintain_silver = spark_task(
        SETTINGS, "maintain_silver", "maintain_tables.py", maintenance.maintenance_args((maintenance.SILVER,))
    )

    claim = claim_hour()
    wait_for_hour >> claim >> plan
    firehose_errors(plan["firehose_errors"], plan["manifest"])
    has_objects(plan["objects"]) >> ensure_tables() >> ingest >> quality_gate >> publish
    publish >> is_silver_maintenance_hour() >> maintain_silver
    publish >> release_hour().as_teardown(setups=claim)  # runs whatever the run's outcome
    published = build_marts(SETTINGS, after=publish)

    @task(task_id="rate_alarm", trigger_rule="none_failed")
    def rate_alarm(**context: Any) -> dict[str, Any]:
        """Judge the hour's order rate (dbt's agg_hourly_order_rate); notify once per hour and kind."""
        from pipeline.rate_alarm import check_hour

        return check_hour(load_settings(), context["data_interval_start"], context["run_id"])

    published >> rate_alarm()

    if SETTINGS.quicksight_dataset_ids:  # Redshift only (settings): local and compose have no QuickSight
        from pipeline.quicksight import refresh_task_group

        published >> refresh_task_group(SETTINGS)
