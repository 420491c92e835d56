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
import traceback
from collections.abc import Sequence

from spark_jobs.jobargs import JobArg, parse_job_args, verdict_exit
from spark_jobs.quality.jobs import CATALOG_ARGS, RUN_ARGS, get_spark

APP_NAME = "lakehouse-publish-orders"
ACTIONS = ("publish", "discard")
SPECS = (
    *CATALOG_ARGS,
    *RUN_ARGS,
    JobArg("action", "publish (fast-forward main to the validated branch) or discard (drop the branch)", "publish"),
)


def main(argv: Sequence[str] | None = None, spark=None) -> int:
    """Parse, publish or discard, report. `spark`: an existing session (tests); else one is built."""
    args = parse_job_args(SPECS, argv, prog="publish_orders")
    action = args["action"].strip().lower()
    if action not in ACTIONS:
        print(f"publish_orders: --action {action!r} is not one of {', '.join(ACTIONS)}", file=sys.stderr)
        return 2
    from spark_jobs.quality import publish as wap

    spark = spark or get_spark(APP_NAME, args)
    step = wap.publish if action == "publish" else wap.discard
    try:
        result = step(spark, args["catalog_name"], args["run_id"], args["audit_branch"])
    except ValueError as exc:
        print(f"publish_orders: {exc}", file=sys.stderr)
        return 2
    except Exception:  # Spark or catalog errors: exit 2, not 1 (a refusal with a reason)
        traceback.print_exc()
        print(f"publish_orders: {action} could not run (error above)", file=sys.stderr)
        return 2
    print(result.summary(), flush=True)
    reason = f"{action} refused for run {args['run_id']}: {(result.summary().splitlines() or [''])[0]}"
    return verdict_exit(0 if result.ok else 1, args, reason)


if __name__ == "__main__":
    sys.exit(main())
