"""The expectation suites as files: load them, split them by batch, and fill in the run's parameters.

Why suites are plain JSON files rather than Python: they are reviewed like code (one file per
table in `expectations/`, readable diffs), they are the same on every backend (the job reads
them from a folder locally and from S3 on AWS), and GX Core 1.x loads them unchanged
(`ExpectationSuite(**data)`).

Two conventions of ours sit on top of GX's format, both inside `meta` so GX ignores them:

- `meta.batch` on an expectation names the rows it runs on (default: the suite's first batch,
  see `meta.batches`). `silver.order_lines` checks most things on the rows the run wrote, but
  event-id uniqueness on every row of the event days the run touched.
- `meta.parameters` on the suite declares the run parameters (`{"$PARAMETER": name}` in kwargs),
  such as the event-time window, which depends on the arrival hour. Declaring them lets the job
  fail fast, by name, when one is missing, instead of deep inside GX.

No Spark and no GX import here: the unit tests and the CLI use this module without a JVM.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from spark_jobs import objectstore

SUITE_SUFFIX = ".json"
PARAMETER_KEY = "$PARAMETER"
POSITION_KEY = "position"


class SuiteError(ValueError):
    """A suite file is missing, unreadable or breaks one of our conventions."""


@dataclass(frozen=True)
class Suite:
    """One suite file: the table it guards and its JSON as loaded."""

    table: str
    data: dict[str, Any]
    source: str

    @property
    def name(self) -> str:
        return str(self.data.get("name") or self.table)

    @property
    def batches(self) -> list[str]:
        """Batch names in declaration order; the first is the default of an expectation."""
        declared = list((self.data.get("meta") or {}).get("batches") or {})
        return declared or ["rows"]

    @property
    def declared_parameters(self) -> set[str]:
        return set((self.data.get("meta") or {}).get("parameters") or {})

    @property
    def derived_columns(self) -> dict[str, str]:
        return dict((self.data.get("meta") or {}).get("derived_columns") or {})

    def batch_of(self, expectation: Mapping[str, Any]) -> str:
        return str((expectation.get("meta") or {}).get("batch") or self.batches[0])

    def for_batch(self, batch: str) -> dict[str, Any]:
        """A GX suite dict holding only the expectations that run on `batch` (same name, same meta).

        Each expectation is marked with its position in the file (`meta.position`): GX returns
        results in its own order, and results are shown in the order the file reads.
        """
        data = copy.deepcopy(self.data)
        chosen = []
        for position, expectation in enumerate(data.get("expectations", [])):
            if self.batch_of(expectation) == batch:
                expectation["meta"] = {**(expectation.get("meta") or {}), POSITION_KEY: position}
                chosen.append(expectation)
        data["expectations"] = chosen
        return data

    def referenced_columns(self, batch: str) -> set[str]:
        """Columns the expectations of `batch` read (their column kwargs and row conditions)."""
        columns: set[str] = set()
        for expectation in self.data.get("expectations", []):
            if self.batch_of(expectation) != batch:
                continue
            kwargs = expectation.get("kwargs") or {}
            columns |= {str(kwargs[k]) for k in ("column", "column_A", "column_B") if kwargs.get(k)}
            columns |= {str(c) for c in kwargs.get("column_list") or []}
            condition = kwargs.get("row_condition")
            if isinstance(condition, dict) and isinstance(condition.get("column"), dict):
                columns.add(str(condition["column"].get("name")))
        return columns

    def referenced_parameters(self) -> set[str]:
        return set(_parameters_in(self.data.get("expectations", [])))

    def check(self) -> None:
        """Our conventions: known batches, declared parameters, an explanation on every expectation."""
        problems: list[str] = []
        expectations = self.data.get("expectations")
        if not isinstance(expectations, list) or not expectations:
            problems.append("has no expectations")
            expectations = []
        known = set(self.batches)
        for index, expectation in enumerate(expectations):
            where = f"expectation {index} ({expectation.get('type')})"
            if self.batch_of(expectation) not in known:
                problems.append(f"{where}: batch {self.batch_of(expectation)!r} is not in meta.batches {sorted(known)}")
            if not expectation.get("notes"):
                problems.append(f"{where}: no notes (say why the expectation exists)")
        undeclared = self.referenced_parameters() - self.declared_parameters
        if undeclared:
            problems.append(f"parameters used but not declared in meta.parameters: {', '.join(sorted(undeclared))}")
        if problems:
            raise SuiteError(f"suite {self.source}: " + "; ".join(problems))


def _parameters_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if PARAMETER_KEY in value:
            yield str(value[PARAMETER_KEY])
        for item in value.values():
            yield from _parameters_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _parameters_in(item)


def default_expectations_dir() -> str:
    """`<repo>/expectations` next to the `spark_jobs` package (a local checkout or an installed tree)."""
    return str(Path(__file__).resolve().parents[2] / "expectations")


def load_suites(expectations_dir: str, tables: list[str] | tuple[str, ...]) -> dict[str, Suite]:
    """Read `<table>.json` for every table from a folder or an `s3://` prefix, and check each."""
    suites: dict[str, Suite] = {}
    for table in tables:
        source = f"{expectations_dir.rstrip('/')}/{table}{SUITE_SUFFIX}"
        try:
            text = objectstore.read_text(source)
        except FileNotFoundError:
            raise SuiteError(f"no suite for table {table}: {source} does not exist") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SuiteError(f"suite {source} is not valid JSON: {exc}") from None
        suite = Suite(table=table, data=data, source=source)
        suite.check()
        suites[table] = suite
    return suites


@dataclass(frozen=True)
class RunWindow:
    """The event-time window an arrival hour accepts: [hour - lateness, hour + 1h + clock skew]."""

    arrival_hour: datetime
    lateness_hours: int
    clock_skew_minutes: int

    @property
    def event_ts_min(self) -> datetime:
        return self.arrival_hour - timedelta(hours=self.lateness_hours)

    @property
    def event_ts_max(self) -> datetime:
        return self.arrival_hour + timedelta(hours=1, minutes=self.clock_skew_minutes)


def suite_parameters(window: RunWindow, quarantine_max_share: float) -> dict[str, Any]:
    """Values for every `{"$PARAMETER": ...}` the suites use, for one run.

    Timestamps go to GX as ISO strings with an offset: Spark compares them with `event_ts`
    exactly (session time zone UTC), and Data Docs render them as people write them.
    """
    return {
        "event_ts_min": window.event_ts_min.isoformat(),
        "event_ts_max": window.event_ts_max.isoformat(),
        "quarantine_max_share": float(quarantine_max_share),
    }


def missing_parameters(suites: Mapping[str, Suite], parameters: Mapping[str, Any]) -> list[str]:
    """Parameters some suite uses that `parameters` does not provide (sorted)."""
    needed: set[str] = set()
    for suite in suites.values():
        needed |= suite.referenced_parameters()
    return sorted(needed - set(parameters))
