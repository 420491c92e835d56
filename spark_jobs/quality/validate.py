"""The gate: validate one ingest run's audit branch with the suites, record and report the outcome.

`run_validation(spark, request)` is the whole step, callable in-process (tests, benchmark) and
from the `validate_orders.py` entry point. It never publishes: the DAG runs publish as its own
task after this one succeeds, so a failed gate shows as a failed task with the reason in its log.
This module is the orchestration only; the types are in `gate`, what is resolved before any
read in `plan`, the log text in `summary`, offending rows in `samples`.

Cost (why it is shaped this way; the target is at most half the ingest of the same hour):
GX on Spark runs one or more Spark jobs per expectation. The run's rows are read once from the
branch (only the event days its commits touched) and cached uncompressed (half the build time
of the compressed cache), so every expectation scans memory. The uniqueness check needs the
rows of those days that share an event id with the run: the run's own rows are already in the
cache, so only other runs' rows are read (none in an hour whose days hold no other run), which
keeps it proportional to the run and the other runs' ids, never a second read of the run.
Importing GX (about 2.5 s) starts on a thread before the reads and finishes beside them.
The first pass asks GX for counts only (each list of unexpected values is one more Spark job
per expectation). Only the expectations that failed are validated again in detail (unexpected
values, their counts, the event ids of offending rows); their detailed results replace the
quick ones in what Data Docs show, and a few offending rows are fetched for the summary. A
passing run pays for nothing it does not show.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from spark_jobs.quality import batches, branches, gx_runner, results, suites
from spark_jobs.quality.gate import GateError, GateResult, ValidationRequest
from spark_jobs.quality.plan import SUITE_TABLES, plan_gate
from spark_jobs.quality.reports import docs_target, publish_docs
from spark_jobs.quality.samples import attach_samples
from spark_jobs.session import UNCOMPRESSED_CACHE, runtime_conf
from spark_jobs.timing import timed

__all__ = ["GateError", "GateResult", "ValidationRequest", "run_validation"]

# Counts only: on Spark each unexpected-values list costs one more job per expectation.
QUICK_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}
# A failing batch is validated again with values, their counts and the keys of offending rows.
DETAIL_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": results.SAMPLE_VALUES}
# Columns that identify a row of each batch in a summary (GX returns them for unexpected rows).
ROW_KEYS = {batches.RUN_ROWS: ["event_id"], batches.EVENT_DAYS: ["event_id"]}


def run_validation(spark, request: ValidationRequest) -> GateResult:
    """Validate the run's audit branch with every suite; write `audit.dq_results` and Data Docs.

    Raises `GateError` when the gate cannot run at all; a data failure is a result
    (`GateResult.success` False), never an exception.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    gx_runner.preload()  # imports GX on a thread while this one waits on the JVM
    with branches.without_wap(spark), runtime_conf(spark, UNCOMPRESSED_CACHE):
        with timed(timings, "resolve_branch"):
            plan = plan_gate(spark, request)

        silver = plan.suites[batches.SILVER]
        # The columns of both silver batches: the event_days batch is built from these rows too.
        columns = silver.referenced_columns(batches.RUN_ROWS) | silver.referenced_columns(batches.EVENT_DAYS)
        others_df = None
        with timed(timings, "read_run_rows"):
            run_df = batches.run_rows(spark, plan.state, request.run_id, columns).cache()
        try:
            with timed(timings, "read_run_rows"):
                row_count = run_df.count()
            with timed(timings, "read_event_days"):
                day_columns = list(dict.fromkeys(["event_id", *sorted(silver.referenced_columns(batches.EVENT_DAYS))]))
                days_df = run_df.select(*day_columns)
                others_df = batches.other_runs_sharing_ids(spark, plan.state, request.run_id, run_df, day_columns)
                if others_df is not None:
                    others_df = others_df.select(*day_columns).cache()
                    others_df.count()
                    days_df = days_df.unionByName(others_df)
            # What is left of the GX import (preloaded); before any pandas use on this thread.
            with timed(timings, "gx_context"):
                target = docs_target(request.reports_uri, request.run_id) if request.reports_uri else None
                runner = gx_runner.GxRunner(target.local_dir if target else None)
            with timed(timings, "read_ingest_run"):
                frames = {
                    batches.RUN_ROWS: run_df,
                    batches.EVENT_DAYS: days_df,
                    # One row: validated with GX's pandas engine, which costs no Spark job per expectation.
                    batches.INGEST_RUN: batches.ingest_run_row(
                        spark,
                        request.tables,
                        request.run_id,
                        plan.suites[batches.INGEST_RUNS].derived_columns,
                        row_count,
                    ).toPandas(),
                }
                # Where offending rows are looked up for the summary (only when something failed).
                samples_from = {
                    batches.EVENT_DAYS: batches.event_day_rows(spark, plan.state, batches.IDENTIFYING_COLUMNS)
                }

            validated_at = datetime.now(UTC)
            outcomes: list[results.Outcome] = []
            for table in SUITE_TABLES:
                suite = plan.suites[table]
                for batch in suite.batches:
                    with timed(timings, f"validate:{table}:{batch}"):
                        outcomes += _validate_batch(
                            runner,
                            suite,
                            batch,
                            frames[batch],
                            plan.parameters,
                            request,
                            validated_at,
                            samples_from.get(batch),
                        )

            docs_uri = ""
            if target is not None:
                with timed(timings, "data_docs"):
                    runner.build_docs()
                    docs_uri = publish_docs(target)
        finally:
            run_df.unpersist()
            if others_df is not None:
                others_df.unpersist()

        gate = GateResult(
            request=request,
            arrival_hour=plan.arrival_hour,
            branch=plan.state.branch,
            branch_snapshot_id=plan.state.branch_snapshot_id,
            main_snapshot_id=plan.state.main_snapshot_id,
            event_days=plan.state.days,
            run_rows=row_count,
            parameters=plan.parameters,
            outcomes=outcomes,
            validated_at=validated_at,
            docs_uri=docs_uri,
            main_is_ancestor=plan.state.main_is_ancestor,
            branch_max_age_ms=plan.state.branch_max_age_ms,
            timings=timings,
        )
        if request.write_results:
            with timed(timings, "write_results"):
                gate.results_written = _write_results(spark, gate)
    timings["total"] = time.perf_counter() - started
    return gate


def _validate_batch(
    runner: gx_runner.GxRunner,
    suite: suites.Suite,
    batch: str,
    dataframe,
    parameters: dict[str, Any],
    request: ValidationRequest,
    validated_at: datetime,
    samples_from=None,
) -> list[results.Outcome]:
    """Outcomes of the suite's expectations for one batch; the result Data Docs show is stored.

    `samples_from`: a wider DataFrame of the same rows to show offending rows from (default:
    the batch itself).
    """
    data = suite.for_batch(batch)
    if not data["expectations"]:
        return []
    names = {
        "asset_name": suite.table if batch == suite.batches[0] else f"{suite.table}.{batch}",
        "suite_name": suite.name if batch == suite.batches[0] else f"{suite.name}.{batch}",
    }
    keys = [k for k in ROW_KEYS.get(batch, []) if k in dataframe.columns]
    result, batch_id = runner.validate(data, dataframe, parameters=parameters, result_format=QUICK_FORMAT, **names)
    failed = {_position(item) for item in result.results if not item.success}
    if failed:
        # Only the failed expectations again, in detail; their results replace the quick ones.
        detail = {**DETAIL_FORMAT, **({"unexpected_index_column_names": keys} if keys else {})}
        only_failed = {**data, "expectations": [e for e in data["expectations"] if e["meta"]["position"] in failed]}
        detailed, _ = runner.validate(
            only_failed, dataframe, parameters=parameters, result_format=detail, register=False, **names
        )
        by_position = {_position(item): item for item in detailed.results}
        result.results = [by_position.get(_position(item), item) for item in result.results]
    runner.store(result, batch_id=batch_id, run_name=request.run_id, run_time=validated_at)
    raw = result.to_json_dict()
    outcomes = results.outcomes_from_result(raw, table=suite.table, suite=suite.name, batch=batch)
    failed = [o for o in outcomes if not o.success]
    if failed and request.sample_rows > 0:
        source = dataframe if samples_from is None else samples_from
        attach_samples(raw, failed, source, batch, keys, request.sample_rows, suite.derived_columns)
    return outcomes


def _position(item) -> int:
    return int((item.expectation_config.meta or {}).get(suites.POSITION_KEY, -1))


def _write_results(spark, gate: GateResult) -> int:
    context = {
        "gate": "passed" if gate.success else "failed",
        "branch": gate.branch,
        "branch_snapshot_id": gate.branch_snapshot_id,
        "main_snapshot_id": gate.main_snapshot_id,
        "event_days": [d.isoformat() for d in gate.event_days],
        "parameters": gate.parameters,
        **({"docs": gate.docs_uri} if gate.docs_uri else {}),
    }
    rows = results.result_rows(
        gate.outcomes,
        run_id=gate.request.run_id,
        arrival_hour=gate.arrival_hour,
        validated_at=gate.validated_at,
        context=context,
    )
    return results.write_rows(spark, gate.request.tables.qualified(batches.DQ_RESULTS), rows)
