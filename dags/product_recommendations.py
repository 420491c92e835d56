"""
### product_recommendations: daily ALS recommendations, measured against baselines before publishing

Runs once a day at 02:30 UTC, after the day has closed and the hourly pipeline has published
its last hour (the Firehose buffer, the gate and late events need minutes, not hours). Each run
owns the day that just ended: the job trains on silver's purchases strictly before
`data_interval_end`'s date (`--as_of`).

1. **ensure_tables**: creates or evolves the Iceberg tables (idempotent; adds the gold tables
   and `audit.recommendation_runs` to a deployment that predates them).
2. **recommend** (Spark: `spark_jobs/recommend_products.py`, on the same backend as the hourly
   pipeline: local, Glue or EMR Serverless): evaluates implicit ALS, a popularity baseline and
   the co-purchase affinity baseline on a time-based holdout (the last 7 days), refits ALS on
   everything, checks the output (no empty lists, finite scores, real products, ALS beats
   popularity) and only then replaces `gold.product_recommendations` and
   `gold.similar_products` (one commit each). A refused run fails this task at once (a
   verdict: not retried) and the previous tables stay; every run writes its metrics to
   `audit.recommendation_runs`. Emits the gold assets when it publishes.

The `agg_customer_recommendations` mart is rebuilt by the hourly DAG's dbt group, so the
warehouse follows a new model within the hour. Re-running a day writes the same rows (fixed
seed, data cut by date); see docs/operations.md for re-runs and backfills.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, task
from airflow.timetables.interval import CronDataIntervalTimetable

from lakehouse_core import spark_args
from lakehouse_core.settings import load_settings
from pipeline import assets, waits
from pipeline.callbacks import FailureNotifier, default_args
from pipeline.spark_tasks import spark_task

DAG_ID = "product_recommendations"
SETTINGS = load_settings()

with DAG(
    dag_id=DAG_ID,
    description="Daily implicit-ALS recommendations on silver, gated on beating popularity -> gold Iceberg tables",
    doc_md=__doc__,
    schedule=CronDataIntervalTimetable("30 2 * * *", timezone="UTC"),
    start_date=waits.schedule_start(SETTINGS),
    # Yesterday's lists are superseded by today's: a missed day is not worth a catch-up run.
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=3),
    default_args=default_args(SETTINGS),
    on_failure_callback=FailureNotifier(SETTINGS),
    tags=["lakehouse", "recommendations", "daily", f"spark:{SETTINGS.spark_backend}"],
) as dag:

    @task(task_id="ensure_tables")
    def ensure_tables() -> dict[str, Any]:
        """Create or evolve the Iceberg tables (idempotent), so a new deployment needs no manual init."""
        from lakehouse_core.catalog import init_catalog

        report = init_catalog(load_settings())
        return {"created": report.created_tables, "evolved": report.evolved}

    recommend = spark_task(
        SETTINGS,
        "recommend",
        "recommend_products.py",
        spark_args.recommend_args(as_of="{{ data_interval_end | ds }}"),
        # exit 1 is the quality check's verdict: retrying cannot change it, so fail at once
        verdict_exit_codes=(1,),
        outlets=assets.gold_assets(SETTINGS.catalog_name),
    )

    ensure_tables() >> recommend
