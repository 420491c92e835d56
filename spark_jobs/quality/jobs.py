"""The arguments the gate's two entry points (validate_orders, publish_orders) add to the
catalog ones every job takes.

The conventions are the ingest's (`spark_jobs.jobargs`: the same `--snake_case` names on Glue,
EMR Serverless and local spark-submit; unknown platform extras ignored); the catalog arguments
become Spark conf in the one entry harness, `spark_jobs.entry`.
"""

from __future__ import annotations

from spark_jobs.jobargs import JobArg

__all__ = ["RUN_ARGS"]

RUN_ARGS = (
    JobArg("run_id", "ingest run id whose audit branch is gated"),
    JobArg("audit_branch", "the run's audit branch (default: from audit.ingest_runs / audit.dq_results)", ""),
)
