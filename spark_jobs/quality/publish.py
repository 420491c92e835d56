"""Publish or discard a run's audit branch: the "publish" of write-audit-publish, and its undo.

publish: only after the gate passed. The evidence is the run's latest validation in
`audit.dq_results` (not the DAG's word for it), so a manual `lakehouse publish` cannot skip the
gate either. It then checks the branch still points at the snapshot that was validated (nothing
was written after the gate looked), fast-forwards `main` with Iceberg's `fast_forward`
procedure (atomic: readers see all of the run or none of it) and drops the branch. Publishing
twice is harmless: a run whose validated snapshot is already on `main` is reported as published.

discard: drops the branch; `main` never saw it. Also idempotent.

Neither sweeps other branches: a failed gate's branch, kept for inspection, carries a ref age
(`RETAIN n HOURS`, set by the ingest when it cuts the branch), and Iceberg's daily
`expire_snapshots` removes the ref once it is older (its `dq_results` rows and Data Docs stay).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from spark_jobs.naming import TableNames
from spark_jobs.quality import batches, branches, results

PUBLISHED = "published"
ALREADY_PUBLISHED = "already_published"
DISCARDED = "discarded"
NOTHING_TO_DISCARD = "nothing_to_discard"
REFUSED = "refused"


@dataclass
class PublishResult:
    action: str
    outcome: str
    run_id: str
    branch: str
    table: str
    main_before: int | None = None
    main_after: int | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome != REFUSED

    def summary(self) -> str:
        lines = [f"{self.action} {self.outcome}: run {self.run_id}, branch {self.branch or '-'} of {self.table}"]
        before = self.main_before or "no snapshot"
        if self.main_before != self.main_after:
            lines.append(f"  main moved {before} -> {self.main_after}")
        else:
            lines.append(f"  main stays at {before if self.main_before is None else f'snapshot {before}'}")
        if self.message:
            lines += [f"  {line}" for line in self.message.splitlines()]
        return "\n".join(lines)


def _gate_record(spark, tables: TableNames, run_id: str) -> tuple[list[dict], dict]:
    rows = results.latest_attempt(spark, tables.qualified(batches.DQ_RESULTS), run_id)
    context = json.loads(rows[0]["details"] or "{}") if rows else {}
    return rows, context


def _refused(spark, action: str, run_id: str, branch: str, table: str) -> tuple[PublishResult, dict]:
    """The starting point of publish and discard: refused until proven otherwise, main's snapshot noted."""
    result = PublishResult(action, REFUSED, run_id, branch, table)
    all_refs = branches.refs(spark, table)
    main_ref = all_refs.get(branches.MAIN)
    result.main_before = result.main_after = main_ref.snapshot_id if main_ref else None
    return result, all_refs


def publish(spark, tables: TableNames, run_id: str, branch: str = "") -> PublishResult:
    """Fast-forward `main` of silver to the run's validated audit branch; refuse without a passed gate."""
    table = tables.qualified(batches.SILVER)
    with branches.without_wap(spark):
        rows, context = _gate_record(spark, tables, run_id)
        branch = branch or context.get("branch", "")
        result, all_refs = _refused(spark, "publish", run_id, branch, table)
        if not rows:
            result.message = f"run {run_id} has no validation in audit.dq_results: run the gate first (validate)"
            return result
        failed = results.blocking_rows(rows)
        if failed:
            names = ", ".join(sorted({f"{r['expectation']}({r['column_name'] or ''})" for r in failed}))
            plural = "s" if len(failed) != 1 else ""
            result.message = (
                f"the latest validation ({rows[0]['validated_at']}) failed {len(failed)} expectation{plural}: {names}\n"
                f"see: lakehouse dq --run-id {run_id}; fix and re-run the hour, or discard the branch"
            )
            return result
        branches.check_branch_name(branch)
        validated = context.get("branch_snapshot_id")
        parents = branches.snapshot_parents(spark, table)
        if branch not in all_refs:
            if validated is not None and branches.is_ancestor(parents, int(validated), result.main_before):
                result.outcome = ALREADY_PUBLISHED
                result.message = f"snapshot {validated} is already on main"
            else:
                result.message = f"branch {branch} does not exist and its validated snapshot is not on main"
            return result
        head = all_refs[branch].snapshot_id
        if validated is not None and int(validated) != head:
            result.message = (
                f"branch {branch} moved after validation (validated {validated}, now {head}): validate it again"
            )
            return result
        if not branches.is_ancestor(parents, result.main_before, head):
            result.message = (
                f"main ({result.main_before}) is not an ancestor of {branch} ({head}): main moved since the branch "
                "was cut (another run published). Re-run the hour: the ingest cuts a fresh branch from main."
            )
            return result
        silver = tables.physical(batches.SILVER)
        spark.sql(f"CALL {tables.catalog}.system.fast_forward('{silver}', '{branches.MAIN}', '{branch}')")
        spark.sql(f"ALTER TABLE {table} DROP BRANCH IF EXISTS `{branch}`")
        result.main_after = branches.refs(spark, table)[branches.MAIN].snapshot_id
        result.outcome = PUBLISHED
        days = ", ".join(context.get("event_days", [])) or "no"
        result.message = f"readers now see the run's rows (event days: {days}) as validated"
        return result


def discard(spark, tables: TableNames, run_id: str, branch: str = "") -> PublishResult:
    """Drop the run's audit branch (main untouched)."""
    table = tables.qualified(batches.SILVER)
    with branches.without_wap(spark):
        if not branch:
            _rows, context = _gate_record(spark, tables, run_id)
            branch = context.get("branch") or _branch_from_ingest(spark, tables, run_id)
        result, all_refs = _refused(spark, "discard", run_id, branch, table)
        if not branch:
            result.message = f"no audit branch known for run {run_id}: pass --audit_branch"
            return result
        branches.check_branch_name(branch)
        if branch in all_refs:
            spark.sql(f"ALTER TABLE {table} DROP BRANCH IF EXISTS `{branch}`")
            result.outcome = DISCARDED
            result.message = f"dropped {branch} (head {all_refs[branch].snapshot_id}); main never saw it"
        else:
            result.outcome = NOTHING_TO_DISCARD
            result.message = f"branch {branch} does not exist"
        return result


def _branch_from_ingest(spark, tables: TableNames, run_id: str) -> str:
    from pyspark.sql import functions as F

    row = (
        spark.table(tables.qualified(batches.INGEST_RUNS))
        .where(F.col("run_id") == F.lit(run_id))
        .orderBy(F.col("finished_at").desc_nulls_last())
        .select("audit_branch")
        .first()
    )
    return (row["audit_branch"] or "") if row else ""
