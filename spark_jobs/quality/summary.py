"""The gate's verdict as the text a person reads in the task log: what failed, how, where next."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spark_jobs.quality import batches, results

if TYPE_CHECKING:
    from spark_jobs.quality.gate import GateResult


def gate_summary(gate: GateResult) -> str:
    """Verdict, branch and main, the run's rows, each failure and warning, the next step."""
    req = gate.request
    verdict = "PASSED" if gate.success else "FAILED"
    days = ", ".join(d.isoformat() for d in gate.event_days) or "none"
    passed = sum(o.success for o in gate.outcomes)
    lines = [
        f"quality gate {verdict}: run {req.run_id}, arrival hour {gate.arrival_hour.isoformat()}",
        f"  branch {gate.branch} at snapshot {gate.branch_snapshot_id}; "
        + (f"main at snapshot {gate.main_snapshot_id}" if gate.main_snapshot_id else "main has no snapshot yet"),
        f"  {gate.run_rows} rows of the run in event days: {days}",
        f"  {passed} of {len(gate.outcomes)} expectations passed"
        + (f"; {len(gate.warnings)} warnings (not blocking)" if gate.warnings else ""),
    ]
    for outcome in [*gate.failures, *gate.warnings]:
        lines += ["  " + line for line in results.describe_failure(outcome)]
    if not gate.main_is_ancestor:
        lines.append(
            "  warning: main moved since this branch was cut (another run published); publish will refuse "
            "to fast-forward: re-run the hour to cut a fresh branch"
        )
    if gate.docs_uri:
        lines.append(f"  Data Docs: {gate.docs_uri}")
    if gate.success:
        lines.append(f"  next: publish fast-forwards main to {gate.branch}")
    else:
        table = req.tables.qualified(batches.SILVER)
        kept = (
            f"until snapshot expiry drops it ({gate.branch_max_age_ms / 3_600_000:g} h after its last commit)"
            if gate.branch_max_age_ms
            else "until it is dropped"
        )
        lines += [
            f"  main is unchanged; branch {gate.branch} is kept {kept} for inspection:",
            f"    SELECT * FROM {table} VERSION AS OF '{gate.branch}' WHERE run_id = '{req.run_id}'",  # nosec B608  # text for a human, never run
            f"  results: lakehouse dq --run-id {req.run_id}",
            "  then fix the input (or the suite, by review) and re-run the hour, "
            f"or drop the branch: lakehouse discard --run-id {req.run_id}",
        ]
    return "\n".join(lines)
