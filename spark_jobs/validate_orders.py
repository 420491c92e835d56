"""Spark job: the data-quality gate of one ingest run (Great Expectations on its audit branch).

Runs the suites in `expectations/` on the rows the run wrote to its audit branch of
`silver.order_lines` and on its `audit.ingest_runs` row, writes one `audit.dq_results` row per
expectation (on main) and Data Docs under `--reports_uri/<run_id>/`, prints a summary, and exits:

- 0: every critical expectation passed; the publish job may fast-forward main.
- 1: the gate failed; main is unchanged, the branch is kept, the summary says what and where.
- 2: the gate could not run (no such branch, bad suite file, bad arguments, an engine error).

It never publishes itself: the DAG's publish task (`publish_orders.py`) does, after this one.
Same arguments on Glue, EMR Serverless and local spark-submit (see `spark_jobs.jobargs`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from spark_jobs.entry import Answer, CatalogArgs, run_job
from spark_jobs.jobargs import CATALOG_ARGS, JobArg, parse_hour
from spark_jobs.limits import CLOCK_SKEW_MINUTES, LATENESS_HOURS, QUARANTINE_MAX_SHARE
from spark_jobs.quality.jobs import RUN_ARGS
from spark_jobs.quality.suites import default_expectations_dir
from spark_jobs.quality.summary import gate_summary

APP_NAME = "lakehouse-validate-orders"
SPECS = (
    *CATALOG_ARGS,
    *RUN_ARGS,
    JobArg("arrival_hour", "the run's arrival hour, ISO (default: from audit.ingest_runs)", ""),
    JobArg("expectations_dir", "folder or s3:// prefix holding <table>.json suites", ""),
    JobArg("reports_uri", "Data Docs go to <reports_uri>/<run_id>/ (folder or s3://); empty: none", ""),
    JobArg("quarantine_max_share", "highest quarantined/read share that passes", str(QUARANTINE_MAX_SHARE)),
    JobArg("lateness_hours", "how long before its arrival hour an event may be", str(LATENESS_HOURS)),
    JobArg("clock_skew_minutes", "how far after its arrival hour's end an event may be", str(CLOCK_SKEW_MINUTES)),
    JobArg("sample_rows", "offending rows shown per failed expectation", "3"),
)


def request_from_args(args: dict[str, str]):
    from spark_jobs.quality.gate import ValidationRequest

    return ValidationRequest(
        catalog=args["catalog_name"],
        run_id=args["run_id"],
        arrival_hour=parse_hour(args["arrival_hour"]) if args["arrival_hour"] else None,
        audit_branch=args["audit_branch"],
        expectations_dir=args["expectations_dir"] or default_expectations_dir(),
        reports_uri=args["reports_uri"],
        quarantine_max_share=float(args["quarantine_max_share"]),
        lateness_hours=int(args["lateness_hours"]),
        clock_skew_minutes=int(args["clock_skew_minutes"]),
        sample_rows=int(args["sample_rows"]),
        namespace_prefix=(args.get("namespace_prefix") or "").strip(),
    )


def validate(spark, request, _catalog: CatalogArgs) -> Answer:
    from spark_jobs.quality.validate import run_validation

    gate = run_validation(spark, request)
    summary = gate_summary(gate)
    timing = ", ".join(f"{k} {v:.2f}s" for k, v in gate.timings.items())
    first_line = (summary.splitlines() or ["the gate failed"])[0]
    return Answer(
        ok=gate.success,
        text=summary,
        reason=f"quality gate failed for run {request.run_id}: {first_line}",
        log=f"validate_orders: {gate.results_written} results written; {timing}",
    )


def main(argv: Sequence[str] | None = None, spark=None) -> int:
    """Parse, validate, report. `spark`: an existing session (tests); else one is built from the arguments."""
    from spark_jobs.quality.gate import GateError

    return run_job(
        "validate_orders", SPECS, argv, request_from_args, validate, app_name=APP_NAME, spark=spark,
        failure="the gate could not run", known_errors=(GateError, ValueError),
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
