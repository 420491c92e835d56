"""The gate's types: what it is asked (`ValidationRequest`), what it answers (`GateResult`), and
the one error that means it could not run at all (`GateError`).

Why apart from the orchestration: the entry point, the benchmark and the summary text use
these without importing Spark or GX.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from spark_jobs.limits import CLOCK_SKEW_MINUTES, LATENESS_HOURS, QUARANTINE_MAX_SHARE
from spark_jobs.naming import TableNames
from spark_jobs.quality import results, suites


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
    quarantine_max_share: float = QUARANTINE_MAX_SHARE
    lateness_hours: int = LATENESS_HOURS
    clock_skew_minutes: int = CLOCK_SKEW_MINUTES
    sample_rows: int = 3
    write_results: bool = True
    namespace_prefix: str = ""  # the environment's (--namespace_prefix): its tables are `<prefix>audit...`

    @property
    def tables(self) -> TableNames:
        return TableNames(self.catalog, self.namespace_prefix)


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
    branch_max_age_ms: int | None = None  # the branch's ref age (`RETAIN n HOURS`), None: kept until dropped
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
