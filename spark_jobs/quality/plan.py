"""What one validation works on, resolved before any data is read: suites, hour, branch, parameters.

Why first and apart: every reason the gate cannot run at all (no suites, a suite asking for a
batch or parameter the gate cannot give, no arrival hour, no branch) surfaces here as a
`GateError`, before a Spark job starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from spark_jobs.jobargs import parse_hour
from spark_jobs.quality import batches, branches, suites
from spark_jobs.quality.gate import GateError, ValidationRequest

SUITE_TABLES = (batches.SILVER, batches.INGEST_RUNS)
# The batches the gate can build, per suite (`meta.batches` of a suite must be among these).
BATCHES = {
    batches.SILVER: (batches.RUN_ROWS, batches.EVENT_DAYS),
    batches.INGEST_RUNS: (batches.INGEST_RUN,),
}


@dataclass(frozen=True)
class GatePlan:
    """What one validation works on."""

    suites: dict[str, suites.Suite]
    arrival_hour: datetime
    parameters: dict[str, Any]
    state: batches.BranchState


def plan_gate(spark, request: ValidationRequest) -> GatePlan:
    """Suites, arrival hour, branch and parameters; every reason the gate cannot run surfaces here."""
    loaded = load_suites(request)
    run_info = _run_info(spark, request)
    hour = request.arrival_hour.isoformat() if request.arrival_hour else run_info.get("arrival_hour")
    if not hour:
        raise GateError(f"no arrival hour for run {request.run_id}: pass --arrival_hour")
    arrival_hour = parse_hour(hour)
    branch = branches.check_branch_name(request.audit_branch or run_info.get("audit_branch") or "")
    window = suites.RunWindow(arrival_hour, request.lateness_hours, request.clock_skew_minutes)
    parameters = suites.suite_parameters(window, request.quarantine_max_share)
    missing = suites.missing_parameters(loaded, parameters)
    if missing:
        raise GateError(f"the suites use parameters the gate does not provide: {', '.join(missing)}")
    try:
        state = batches.branch_state(spark, request.tables, branch)
    except LookupError as exc:
        raise GateError(str(exc)) from None
    return GatePlan(loaded, arrival_hour, parameters, state)


def load_suites(request: ValidationRequest) -> dict[str, suites.Suite]:
    try:
        loaded = suites.load_suites(request.expectations_dir, SUITE_TABLES)
    except suites.SuiteError as exc:
        raise GateError(str(exc)) from None
    for table, suite in loaded.items():
        unknown = set(suite.batches) - set(BATCHES[table])
        if unknown:
            raise GateError(
                f"suite {suite.source} declares batches the gate cannot build: {', '.join(sorted(unknown))} "
                f"(known for {table}: {', '.join(BATCHES[table])})"
            )
    return loaded


def _run_info(spark, request: ValidationRequest) -> dict[str, Any]:
    """arrival_hour and audit_branch from the run's latest ingest row, when the arguments lack them."""
    if request.arrival_hour is not None and request.audit_branch:
        return {}
    from pyspark.sql import functions as F

    row = (
        spark.table(request.tables.qualified(batches.INGEST_RUNS))
        .where(F.col("run_id") == F.lit(request.run_id))
        .orderBy(F.col("finished_at").desc_nulls_last())
        # As text in the session time zone (UTC): collected timestamps would be in the driver's zone.
        .select(F.date_format("arrival_hour", "yyyy-MM-dd'T'HH:mm:ssXXX").alias("arrival_hour"), "audit_branch")
        .first()
    )
    if row is None:
        raise GateError(
            f"run {request.run_id} has no row in audit.ingest_runs; pass --arrival_hour and --audit_branch "
            "to validate its branch anyway"
        )
    return {"arrival_hour": row["arrival_hour"], "audit_branch": row["audit_branch"]}
