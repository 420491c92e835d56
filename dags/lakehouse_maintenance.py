"""
### lakehouse_maintenance: keep the Iceberg tables (and the Redshift marts) fast and small

Daily, one Spark job (`spark_jobs/maintain_tables.py`, on the same backend as the hourly
pipeline: local, Glue or EMR Serverless) does, per table except silver (which
`orders_lakehouse` maintains after its 03:00 publish, so a compaction never moves silver's
`main` under a publish; see `pipeline/maintenance.py`):

1. `rewrite_data_files` (bin-pack the hourly small files);
2. `rewrite_manifests`;
3. `expire_snapshots` (7 days of time travel, at least 10 snapshots; also removes refs past
   their own ref age, such as a failed run's audit branch, created with `RETAIN 72 HOURS`);
4. `remove_orphan_files` (files older than 3 days that no metadata references).

When the warehouse is Redshift, `ANALYZE` then refreshes the planner statistics of every mart
(the list comes from the dbt manifest, so new marts are covered without a code change).

Idempotent and safe to re-run; catch-up is off (yesterday's maintenance is subsumed by today's).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG

from lakehouse_core.settings import load_settings
from pipeline import maintenance, waits
from pipeline.callbacks import FailureNotifier, default_args
from pipeline.spark_tasks import spark_task
from pipeline.warehouse import warehouse_for

DAG_ID = "lakehouse_maintenance"
SETTINGS = load_settings()
with DAG(
    dag_id=DAG_ID,
    description="Iceberg compaction, manifest rewrite, snapshot expiry, orphan cleanup; Redshift ANALYZE",
    doc_md=__doc__,
    # 03:30 UTC: after the night's hourly runs settle, before the business day in Europe.
    schedule="30 3 * * *",
    start_date=waits.schedule_start(SETTINGS),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=4),
    default_args=default_args(SETTINGS),
    on_failure_callback=FailureNotifier(SETTINGS),
    tags=["lakehouse", "maintenance", "daily", f"spark:{SETTINGS.spark_backend}", f"dbt:{SETTINGS.dbt_target}"],
) as dag:
    maintain = spark_task(
        SETTINGS,
        "maintain_tables",
        "maintain_tables.py",
        # silver is maintained by orders_lakehouse after a publish (pipeline.maintenance)
        maintenance.maintenance_args(maintenance.daily_tables()),
    )

    upkeep = warehouse_for(SETTINGS).upkeep_task()  # Redshift: ANALYZE every mart; the others need none
    if upkeep is not None:
        maintain >> upkeep
