"""
### orders_backfill: a range of arrival hours in one Spark job (bulk backfill)

Triggered by hand only (no schedule), with params **from** and **to**: UTC arrival hours,
`to` exclusive (`2026-11-01T00` to `2026-11-08T00` is 168 hours). For history that is already in
the raw zone (months of Firehose output before the pipeline existed, or after an outage): one
run instead of one `orders_lakehouse` run per hour, each paying Airflow's and Spark's start-up
three times. The tables end as the hourly runs would leave them (docs/operations.md, "Bulk
backfill"; `tests/spark/test_bulk_backfill.py` compares them row for row).

1. **plan_range**: claims every hour of the range (`lakehouse_core.hour_claims`, the hourly runs'
   claims): if an hourly run or another backfill holds one of them, the run is refused at once,
   naming the holder, and an hourly run of a claimed hour waits, then fails naming this run.
   Writes one manifest per hour (so `lakehouse reconcile` and later hourly runs see the hours as
   read) and one range manifest for the job; names the run `backfill_<from>_<to>_<hash>`, audit
   branch `audit_<run id>`. Stragglers of the hours before the range are taken as the range's
   first hourly run would. **firehose_errors** fails (and alerts) when Firehose wrote error
   output for any hour of the range.
2. **has_objects**: nothing in the range: the rest is skipped, the run stays green.
3. **ingest** (Spark, `ingest_orders.py --to_hour`): bronze and quarantine rows per arrival hour,
   one newest-wins dedupe over the range, one silver MERGE on the audit branch, one
   `audit.ingest_runs` row per hour.
4. **quality_gate**: one validation of the range (the run's silver rows with the range's
   event-time window; the ingest-run suite on the sum of the hour rows). **publish**: one
   fast-forward of `main`. **release_range** (teardown) drops the claims.
5. **export_silver** (local and compose), **dbt** and **marts_published**: the marts, once for the
   whole range (no rate alarm: history is not news).

Spark runs where `orders_lakehouse`'s does (`LAKEHOUSE_SPARK_BACKEND`: local, Glue, EMR
Serverless). From the CLI: `lakehouse backfill --from H1 --to H2 --bulk`.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, Param, task

from lakehouse_core import backfill, hour_claims, spark_args
from lakehouse_core.settings import load_settings
from pipeline import assets, skip_reasons
from pipeline.callbacks import FailureNotifier, default_args
from pipeline.dbt_cosmos import build_marts
from pipeline.spark_tasks import spark_task
from pipeline.warehouse import warehouse_for

DAG_ID = "orders_backfill"
SETTINGS = load_settings()
PLAN = "plan_range"
HOUR_FORMAT = "UTC arrival hour, e.g. 2026-11-01T00 (ISO; on the hour)"


def _plan(key: str) -> str:
    """Jinja that renders one field of the plan task's result (the same on every Spark backend)."""
    return f"{{{{ ti.xcom_pull(task_ids='{PLAN}', key='{key}') }}}}"


def _range(context: Any) -> tuple[Any, Any]:
    from spark_jobs.jobargs import parse_hour

    params = context["params"]
    return backfill.check_range(parse_hour(str(params["from"])), parse_hour(str(params["to"])))


with DAG(
    dag_id=DAG_ID,
    description="A range of Firehose arrival hours -> bronze/silver in one Spark job -> one GX gate -> dbt marts",
    doc_md=__doc__,
    schedule=None,  # by hand: `lakehouse backfill --bulk`, the UI's trigger form, or the API
    params={
        "from": Param("", type="string", minLength=13, description=f"first {HOUR_FORMAT}"),
        "to": Param("", type="string", minLength=13, description=f"end {HOUR_FORMAT}, exclusive"),
    },
    max_active_runs=1,  # publish fast-forwards main: one writer of silver's main at a time
    max_active_tasks=warehouse_for(SETTINGS).dbt_parallel_tasks,
    dagrun_timeout=backfill.CLAIM_TTL,  # the claims outlive no run
    default_args=default_args(SETTINGS),
    on_failure_callback=FailureNotifier(SETTINGS),
    tags=["lakehouse", "orders", "backfill", f"spark:{SETTINGS.spark_backend}", f"dbt:{SETTINGS.dbt_target}"],
) as dag:

    @task(task_id=PLAN, multiple_outputs=True, retries=0)
    def plan_range(**context: Any) -> dict[str, Any]:
        """Claim the range (refused at once if any hour is held), write the manifests, name the run."""
        from pipeline.waits import audit_branch

        settings = load_settings()
        start, end = _range(context)
        attempt = int(getattr(context["ti"], "try_number", 1) or 1)
        run_id = backfill.range_run_id(start, end, f"{context['run_id']}#{attempt}")
        uri, plan = backfill.plan_range(settings, start, end, run_id, hour_claims.run_owner(context))
        last = end - backfill.HOUR
        return {
            "run_id": run_id,
            "audit_branch": audit_branch(run_id),
            "arrival_hour": start.isoformat(),
            "to_hour": end.isoformat(),
            "gate_hour": last.isoformat(),
            "gate_lateness_hours": backfill.gate_lateness_hours(settings, plan),
            "manifest": uri,
            "objects": backfill.objects_to_read(plan),
            "firehose_errors": plan["firehose_error_objects"],
        }

    @task(task_id="release_range")
    def release_range(**context: Any) -> int:
        """Teardown: drop the run's claims (the range, and earlier hours whose stragglers it read)."""
        start, end = _range(context)
        return len(backfill.release_range(load_settings(), start, end, hour_claims.run_owner(context)))

    @task.short_circuit(
        task_id="has_objects", ignore_downstream_trigger_rules=False, doc_md=skip_reasons.GATE_DOCS["has_objects"]
    )
    def has_objects(objects: int) -> bool:
        """False (skip ingest to marts, run stays green) when the range has no objects."""
        return int(objects) > 0

    @task(task_id="firehose_errors", retries=0)
    def firehose_errors(count: int) -> None:
        """Fails (the failure notifier alerts) when Firehose wrote error output for hours of the range."""
        if int(count):
            from airflow.exceptions import AirflowFailException

            raise AirflowFailException(
                f"Firehose wrote {count} error object(s) in the range: records it could not deliver, which no "
                "table holds; `lakehouse reconcile` lists them per hour (docs/operations.md, 'Firehose error output')"
            )

    @task(task_id="ensure_tables")
    def ensure_tables() -> dict[str, Any]:
        """Create or evolve the Iceberg tables (idempotent)."""
        from lakehouse_core.catalog import init_catalog

        report = init_catalog(load_settings())
        return {"created": report.created_tables, "evolved": report.evolved}

    plan = plan_range()
    run = {key: _plan(key) for key in ("run_id", "arrival_hour", "audit_branch")}
    ingest = spark_task(
        SETTINGS,
        "ingest",
        "ingest_orders.py",
        spark_args.ingest_args(SETTINGS, **run, manifest=_plan("manifest"), to_hour=_plan("to_hour")),
    )
    quality_gate = spark_task(
        SETTINGS,
        "quality_gate",
        "validate_orders.py",
        # one window for the range: from its first hour (and stragglers) to its last hour's end
        spark_args.gate_args(
            SETTINGS,
            run_id=run["run_id"],
            audit_branch=run["audit_branch"],
            arrival_hour=_plan("gate_hour"),
            lateness_hours=_plan("gate_lateness_hours"),
        ),
        verdict_exit_codes=(1,),
    )
    publish = spark_task(
        SETTINGS,
        "publish",
        "publish_orders.py",
        spark_args.publish_args(SETTINGS, run_id=run["run_id"], audit_branch=run["audit_branch"], action="publish"),
        verdict_exit_codes=(1,),
        outlets=assets.silver_assets(SETTINGS.catalog_name),
    )
    firehose_errors(plan["firehose_errors"])
    has_objects(plan["objects"]) >> ensure_tables() >> ingest >> quality_gate >> publish
    publish >> release_range().as_teardown(setups=plan)
    build_marts(SETTINGS, after=publish)
