"""Spark job: publish (or discard) one ingest run's audit branch of `silver.order_lines`.

`--action publish` (the DAG's publish task, after the gate): fast-forwards main to the branch
when the run's latest validation in `audit.dq_results` passed, and drops the branch; refuses
otherwise. `--action discard` (manual recovery): drops the branch; main is untouched.
Idempotent: publishing a published run, or discarding a dropped branch, succeeds and changes
nothing. Other runs' branches are not swept here: they carry a ref age and Iceberg's snapshot
expiry removes them.

Exit codes: 0 done (or already done), 1 refused (gate not passed, branch moved, main moved),
2 bad arguments or an engine error. Same arguments on Glue, EMR Serverless and local spark-submit.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

from spark_jobs.entry import Answer, CatalogArgs, run_job
from spark_jobs.jobargs import CATALOG_ARGS, JobArg
from spark_jobs.quality.jobs import RUN_ARGS

APP_NAME = "lakehouse-publish-orders"
ACTIONS = ("publish", "discard")
SPECS = (
    *CATALOG_ARGS,
    *RUN_ARGS,
    JobArg("action", "publish (fast-forward main to the validated branch) or discard (drop the branch)", "publish"),
)


@dataclass(frozen=True)
class Request:
    action: str
    run_id: str
    branch: str


def request_from_args(args: dict[str, str]) -> Request:
    action = args["action"].strip().lower()
    if action not in ACTIONS:
        raise ValueError(f"--action {action!r} is not one of {', '.join(ACTIONS)}")
    return Request(action, args["run_id"], args["audit_branch"])


def publish_or_discard(spark, request: Request, catalog: CatalogArgs) -> Answer:
    from spark_jobs.quality import publish as wap

    step = wap.publish if request.action == "publish" else wap.discard
    result = step(spark, catalog.tables, request.run_id, request.branch)
    reason = f"{request.action} refused for run {request.run_id}: {(result.summary().splitlines() or [''])[0]}"
    return Answer(ok=result.ok, text=result.summary(), reason=reason)


def main(argv: Sequence[str] | None = None, spark=None) -> int:
    """Parse, publish or discard, report. `spark`: an existing session (tests); else one is built."""
    return run_job(
        "publish_orders", SPECS, argv, request_from_args, publish_or_discard, app_name=APP_NAME, spark=spark,
        failure=lambda request: f"{request.action} could not run", known_errors=(ValueError,),
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
