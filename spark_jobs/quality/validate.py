"""The gate: validate one ingest run's audit branch with the suites, record and report the outcome.

`run_validation(spark, request)` is the whole step, callable in-process (tests, benchmark) and
from the `validate_orders.py` entry point. It never publishes: the DAG runs publish as its own
task after this one succeeds, so a failed gate shows as a failed task with the reason in its log.

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

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from spark_jobs.jobargs import parse_hour
from spark_jobs.quality import batches, branches, gx_runner, results, suites
from spark_jobs.quality.reports import docs_target, publish_docs
from spark_jobs.session import UNCOMPRESSED_CACHE, runtime_conf

SUITE_TABLES = (batches.SILVER, batches.INGEST_RUNS)
# The batches the gate can build, per suite (`meta.batches` of a suite must be among these).
BATCHES = {
    batches.SILVER: (batches.RUN_ROWS, batches.EVENT_DAYS),
    batches.INGEST_RUNS: (batches.INGEST_RUN,),
}
# Counts only: on Spark each unexpected-values list costs one more job per expectation.
QUICK_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}
# A failing batch is validated again with values, their counts and the keys of offending rows.
DETAIL_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": results.SAMPLE_VALUES}
# Columns that identify a row of each batch in a summary (GX returns them for unexpected rows).
ROW_KEYS = {batches.RUN_ROWS: ["event_id"], batches.EVENT_DAYS: ["event_id"]}
SAMPLE_CONTEXT_COLUMNS = batches.IDENTIFYING_COLUMNS


class GateError(RuntimeError):
    """The gate cannot run at all (no branch, no suites, no arrival hour): not a data failure."""


@dataclass(frozen=True)
class ValidationRequest:
    """Everything the gate needs, as the job's arguments give it."""

    catalog: str
    run_id: str
    arrival_hour: datetime | None = None  # None: from the run's audit.ingest_runs row
    audit_branch: str = ""  # "": from the run's audit.ingest_runs row
    expectations_dir: str = field(default_factory=suites.default_expectations_dir)
    reports_uri: str = ""  # "": no Data Docs
    quarantine_max_share: float = 0.01
    lateness_hours: int = 48
    clock_skew_minutes: int = 5
    branch_retention_hours: int = 72
    sample_rows: int = 3
    write_results: bool = True


@dataclass
class GateResult:
    """The outcome of one validation run; `success` is False when any critical expectation failed."""

    request: ValidationRequest
    arrival_hour: datetime
    branch: str
    branch_snapshot_id: int
    main_snapshot_id: int | None
    event_days: list[date]
    run_rows: int
    parameters: dict[str, Any]
    outcomes: list[results.Outcome]
    validated_at: datetime
    docs_uri: str = ""
    main_is_ancestor: bool = True
    results_written: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> list[results.Outcome]:
        return [o for o in self.outcomes if o.blocking]

    @property
    def warnings(self) -> list[results.Outcome]:
        return [o for o in self.outcomes if not o.success and not o.blocking]

    def summary(self) -> str:
        """The text a person reads in the task log: verdict, what failed and how, where to look next."""
        req = self.request
        verdict = "PASSED" if self.success else "FAILED"
        days = ", ".join(d.isoformat() for d in self.event_days) or "none"
        passed = sum(o.success for o in self.outcomes)
        lines = [
            f"quality gate {verdict}: run {req.run_id}, arrival hour {self.arrival_hour.isoformat()}",
            f"  branch {self.branch} at snapshot {self.branch_snapshot_id}; "
            + (f"main at snapshot {self.main_snapshot_id}" if self.main_snapshot_id else "main has no snapshot yet"),
            f"  {self.run_rows} rows of the run in event days: {days}",
            f"  {passed} of {len(self.outcomes)} expectations passed"
            + (f"; {len(self.warnings)} warnings (not blocking)" if self.warnings else ""),
        ]
        for outcome in [*self.failures, *self.warnings]:
            lines += ["  " + line for line in results.describe_failure(outcome)]
        if not self.main_is_ancestor:
            lines.append(
                "  warning: main moved since this branch was cut (another run published); publish will refuse "
                "to fast-forward: re-run the hour to cut a fresh branch"
            )
        if self.docs_uri:
            lines.append(f"  Data Docs: {self.docs_uri}")
        if self.success:
            lines.append(f"  next: publish fast-forwards main to {self.branch}")
        else:
            table = batches.qualified(req.catalog, batches.SILVER)
            lines += [
                f"  main is unchanged; branch {self.branch} is kept for {req.branch_retention_hours} h for inspection:",
                f"    SELECT * FROM {table} VERSION AS OF '{self.branch}' WHERE run_id = '{req.run_id}'",
                f"  results: lakehouse dq --run-id {req.run_id}",
                "  then fix the input (or the suite, by review) and re-run the hour, "
                f"or drop the branch: lakehouse discard --run-id {req.run_id}",
            ]
        return "\n".join(lines)


def run_validation(spark, request: ValidationRequest) -> GateResult:
    """Validate the run's audit branch with every suite; write `audit.dq_results` and Data Docs.

    Raises `GateError` when the gate cannot run at all; a data failure is a result
    (`GateResult.success` False), never an exception.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    gx_runner.preload()  # imports GX on a thread while this one waits on the JVM
    with branches.without_wap(spark), runtime_conf(spark, UNCOMPRESSED_CACHE):
        plan = _plan(spark, request)
        timings["resolve_branch"] = time.perf_counter() - started

        mark = time.perf_counter()
        silver = plan.suites[batches.SILVER]
        # The columns of both silver batches: the event_days batch is built from these rows too.
        columns = silver.referenced_columns(batches.RUN_ROWS) | silver.referenced_columns(batches.EVENT_DAYS)
        run_df = batches.run_rows(spark, plan.state, request.run_id, columns)
        run_df = run_df.cache()
        others_df = None
        try:
            row_count = run_df.count()
            timings["read_run_rows"] = time.perf_counter() - mark
            mark = time.perf_counter()
            day_columns = list(dict.fromkeys(["event_id", *sorted(silver.referenced_columns(batches.EVENT_DAYS))]))
            days_df = run_df.select(*day_columns)
            others_df = batches.other_runs_sharing_ids(spark, plan.state, request.run_id, run_df, day_columns)
            if others_df is not None:
                others_df = others_df.select(*day_columns).cache()
                others_df.count()
                days_df = days_df.unionByName(others_df)
            timings["read_event_days"] = time.perf_counter() - mark
            # What is left of the GX import (preloaded); before any pandas use on this thread.
            mark = time.perf_counter()
            target = docs_target(request.reports_uri, request.run_id) if request.reports_uri else None
            runner = gx_runner.GxRunner(target.local_dir if target else None)
            timings["gx_context"] = time.perf_counter() - mark
            mark = time.perf_counter()
            frames = {
                batches.RUN_ROWS: run_df,
                batches.EVENT_DAYS: days_df,
                # One row: validated with GX's pandas engine, which costs no Spark job per expectation.
                batches.INGEST_RUN: batches.ingest_run_row(
                    spark, request.catalog, request.run_id, plan.suites[batches.INGEST_RUNS].derived_columns, row_count
                ).toPandas(),
            }
            # Where offending rows are looked up for the summary (only when something failed).
            samples_from = {batches.EVENT_DAYS: batches.event_day_rows(spark, plan.state, batches.IDENTIFYING_COLUMNS)}
            timings["read_ingest_run"] = time.perf_counter() - mark

            validated_at = datetime.now(UTC)
            outcomes: list[results.Outcome] = []
            for table in SUITE_TABLES:
                suite = plan.suites[table]
                for batch in suite.batches:
                    mark = time.perf_counter()
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
                    timings[f"validate:{table}:{batch}"] = time.perf_counter() - mark

            docs_uri = ""
            if target is not None:
                mark = time.perf_counter()
                runner.build_docs()
                docs_uri = publish_docs(target)
                timings["data_docs"] = time.perf_counter() - mark
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
            timings=timings,
        )
        if request.write_results:
            mark = time.perf_counter()
            gate.results_written = _write_results(spark, gate)
            timings["write_results"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    return gate


@dataclass(frozen=True)
class _Plan:
    """What one validation works on, resolved before any data is read."""

    suites: dict[str, suites.Suite]
    arrival_hour: datetime
    parameters: dict[str, Any]
    state: batches.BranchState


def _plan(spark, request: ValidationRequest) -> _Plan:
    """Suites, arrival hour, branch and parameters; every reason the gate cannot run surfaces here."""
    loaded = _load_suites(request)
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
        state = batches.branch_state(spark, request.catalog, branch)
    except LookupError as exc:
        raise GateError(str(exc)) from None
    return _Plan(loaded, arrival_hour, parameters, state)


def _load_suites(request: ValidationRequest) -> dict[str, suites.Suite]:
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
        spark.table(batches.qualified(request.catalog, batches.INGEST_RUNS))
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
        _attach_samples(raw, failed, source, batch, keys, request.sample_rows, suite.derived_columns)
    return outcomes


def _position(item) -> int:
    return int((item.expectation_config.meta or {}).get(suites.POSITION_KEY, -1))


def _attach_samples(
    raw: dict[str, Any],
    failed: Sequence[results.Outcome],
    dataframe,
    batch: str,
    keys: list[str],
    limit: int,
    derived: dict[str, str],
) -> None:
    """A few offending rows per failed expectation: GX named their keys, Spark fetches the rows."""
    from pyspark.sql import functions as F

    if batch == batches.INGEST_RUN:
        # One row per run: the row itself is the sample, cut to the counts the check reads.
        rows = [_plain(r) for r in dataframe.head(1).to_dict("records")]
        for outcome in failed:
            wanted = _ingest_sample_columns(outcome, derived, dataframe.columns)
            outcome.samples = [{k: v for k, v in row.items() if k in wanted} for row in rows]
        return
    if not keys:
        return
    by_position = {
        int(((item.get("expectation_config") or {}).get("meta") or {}).get(suites.POSITION_KEY, -1)): item
        for item in raw.get("results", [])
    }
    for outcome in failed:
        item = by_position.get(outcome.position) or {}
        index = (item.get("result") or {}).get("partial_unexpected_index_list") or []
        ids = [entry.get(keys[0]) for entry in index if isinstance(entry, dict) and entry.get(keys[0]) is not None]
        if not ids:
            continue
        columns = _sample_columns(outcome, dataframe.columns)
        picked = dataframe.where(F.col(keys[0]).isin(list(dict.fromkeys(ids))[:limit])).select(*columns)
        outcome.samples = [_plain(r.asDict()) for r in picked.limit(limit).collect()]


def _ingest_sample_columns(outcome: results.Outcome, derived: dict[str, str], available: Sequence[str]) -> set[str]:
    """The run row's columns behind a failed check: its own, and those its derived columns read."""
    kw = outcome.kwargs
    wanted = {"run_id", *(kw[k] for k in ("column", "column_A", "column_B") if kw.get(k))}
    for name in list(wanted):
        wanted |= set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", derived.get(name, ""))) & set(available)
    if "records_quarantined" in wanted:
        wanted.add("quarantined_by_reason")
    return wanted


def _sample_columns(outcome: results.Outcome, available: Sequence[str]) -> list[str]:
    wanted = list(SAMPLE_CONTEXT_COLUMNS)
    kw = outcome.kwargs
    wanted += [kw[k] for k in ("column", "column_A", "column_B") if kw.get(k)]
    condition = kw.get("row_condition")
    if isinstance(condition, dict) and isinstance(condition.get("column"), dict):
        wanted.append(condition["column"].get("name"))
    return [c for c in dict.fromkeys(wanted) if c in available]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """Row values as JSON-friendly scalars (timestamps as ISO text, decimals as text)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, float | datetime) and value != value:  # NaN / NaT: how pandas writes null
            out[key] = None
        elif isinstance(value, datetime | date):
            out[key] = value.isoformat()
        elif isinstance(value, dict):
            out[key] = _plain(value)
        elif hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
            out[key] = value.item()
        elif value is not None and not isinstance(value, bool | int | float | str):
            out[key] = str(value)
        else:
            out[key] = value
    return out


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
    return results.write_rows(spark, batches.qualified(gate.request.catalog, batches.DQ_RESULTS), rows)
