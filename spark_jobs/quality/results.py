"""Expectation outcomes: from GX results to `audit.dq_results` rows and a summary people can act on.

One `Outcome` per expectation per validation run. They are written to `audit.dq_results` on
`main` (never on the audit branch: the evidence of a failed gate must survive the branch), in
one append, so a validation's rows appear together or not at all. Re-validating a run appends a
new set with a later `validated_at`; readers take the latest set (`latest_attempt`), and the
history of earlier attempts stays queryable.

The conversion from GX's result dicts is plain Python (no Spark, no GX import), so it is unit
tested on small dicts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

CRITICAL = "critical"
SAMPLE_VALUES = 5  # distinct unexpected values kept per expectation
# GX adds these to kwargs at run time; they say nothing about the expectation.
_RUNTIME_KWARGS = ("batch_id",)


def to_json(value: Any) -> str | None:
    """Compact, stable JSON for the string columns (None stays NULL)."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


@dataclass
class Outcome:
    """What one expectation found on one batch."""

    table: str
    suite: str
    batch: str
    position: int
    expectation: str
    kwargs: dict[str, Any]
    severity: str
    success: bool
    observed_value: Any = None
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    unexpected_values: list[Any] = field(default_factory=list)  # [{"value": v, "count": n}] or values
    exception: str | None = None
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def column(self) -> str | None:
        kw = self.kwargs
        if kw.get("column"):
            return str(kw["column"])
        if kw.get("column_A"):
            return f"{kw['column_A']}, {kw['column_B']}"
        if kw.get("column_list"):
            return ", ".join(map(str, kw["column_list"]))
        return None

    @property
    def blocking(self) -> bool:
        """A failed critical expectation blocks publish; warnings and infos are only recorded."""
        return not self.success and self.severity == CRITICAL

    @property
    def label(self) -> str:
        return f"{self.expectation}({self.column})" if self.column else self.expectation

    def criteria(self) -> dict[str, Any]:
        """The kwargs that define the check (bounds, sets, regexes), without the column names.

        A row condition is shown as people write it (`is_cancellation == False`), not as GX's dict.
        """
        skip = {"column", "column_A", "column_B", "column_list"}
        shown = {k: v for k, v in self.kwargs.items() if k not in skip}
        condition = shown.get("row_condition")
        if isinstance(condition, dict) and isinstance(condition.get("column"), dict):
            column, operator = condition["column"].get("name"), condition.get("operator")
            shown["row_condition"] = f"{column} {operator} {condition.get('parameter')!r}"
        return shown


def outcomes_from_result(
    result: Mapping[str, Any], *, table: str, suite: str, batch: str, position_key: str = "position"
) -> list[Outcome]:
    """Outcomes of one GX suite validation result (`ExpectationSuiteValidationResult.to_json_dict()`)."""
    outcomes: list[Outcome] = []
    for item in result.get("results", []):
        config = item.get("expectation_config") or {}
        kwargs = {k: v for k, v in (config.get("kwargs") or {}).items() if k not in _RUNTIME_KWARGS}
        res = item.get("result") or {}
        exception = item.get("exception_info") or {}
        if "raised_exception" not in exception:  # {metric id: {...}} when metrics raised: keep the first
            exception = next((e for e in exception.values() if isinstance(e, dict) and e.get("raised_exception")), {})
        message = exception.get("exception_message") if exception.get("raised_exception") else None
        unexpected = res.get("partial_unexpected_counts") or res.get("partial_unexpected_list") or []
        outcomes.append(
            Outcome(
                table=table,
                suite=suite,
                batch=batch,
                position=int((config.get("meta") or {}).get(position_key, len(outcomes))),
                expectation=str(config.get("type")),
                kwargs=kwargs,
                severity=str(config.get("severity") or CRITICAL),
                success=bool(item.get("success")),
                observed_value=res.get("observed_value"),
                element_count=_int(res.get("element_count")),
                unexpected_count=_int(res.get("unexpected_count")),
                unexpected_percent=_float(res.get("unexpected_percent")),
                unexpected_values=list(unexpected)[:SAMPLE_VALUES],
                exception=message,
            )
        )
    return sorted(outcomes, key=lambda o: o.position)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def observed(outcome: Outcome) -> Any:
    """What to show as the observed value: GX's own for aggregate checks, else the unexpected values."""
    if outcome.observed_value is not None:
        return outcome.observed_value
    if outcome.unexpected_values:
        return outcome.unexpected_values
    return None


def result_rows(
    outcomes: Sequence[Outcome],
    *,
    run_id: str,
    arrival_hour: datetime | None,
    validated_at: datetime,
    context: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """`audit.dq_results` rows (column -> value), one per outcome, with `context` in `details`."""
    rows = []
    for o in outcomes:
        details = {
            "batch": o.batch,
            "position": o.position,
            "kwargs": o.kwargs,
            "severity": o.severity,
            **({"exception": o.exception} if o.exception else {}),
            **({"unexpected_values": o.unexpected_values} if o.unexpected_values else {}),
            **({"sample_rows": o.samples} if o.samples else {}),
            **context,
        }
        rows.append(
            {
                "run_id": run_id,
                "arrival_hour": arrival_hour,
                "validated_at": validated_at,
                "table_name": o.table,
                "suite_name": o.suite,
                "expectation": o.expectation,
                "column_name": o.column,
                "success": o.success,
                "observed_value": to_json(observed(o)),
                "element_count": o.element_count,
                "unexpected_count": o.unexpected_count,
                "unexpected_percent": o.unexpected_percent,
                "details": to_json(details),
            }
        )
    return rows


def write_rows(spark, table: str, rows: Sequence[Mapping[str, Any]]) -> int:
    """Append rows to `table` (catalog-qualified) in one commit, shaped by the table's own schema."""
    if not rows:
        return 0
    schema = spark.table(table).schema
    data = [tuple(row.get(f.name) for f in schema.fields) for row in rows]
    spark.createDataFrame(data, schema=_nullable(schema)).writeTo(table).append()
    return len(rows)


def _nullable(schema):
    """The same columns, all nullable: createDataFrame checks nullability row by row in Python,
    while Iceberg checks it on write, with a clearer message."""
    from pyspark.sql import types as T

    return T.StructType([T.StructField(f.name, f.dataType, True) for f in schema.fields])


def latest_attempt(spark, table: str, run_id: str) -> list[dict[str, Any]]:
    """The rows of the run's latest validation (greatest `validated_at`), as dicts; [] if never validated."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    rows = spark.table(table).where(F.col("run_id") == F.lit(run_id))
    latest = F.max("validated_at").over(Window.partitionBy("run_id"))
    rows = rows.withColumn("_latest", latest).where(F.col("validated_at") == F.col("_latest")).drop("_latest")
    return [r.asDict() for r in rows.collect()]


def blocking_rows(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Failed rows whose severity (in `details`) is critical, or unknown."""
    failed = []
    for row in rows:
        if row.get("success"):
            continue
        severity = (json.loads(row.get("details") or "{}") or {}).get("severity", CRITICAL)
        if severity == CRITICAL:
            failed.append(row)
    return failed


def format_value(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else to_json(value) or ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_failure(o: Outcome, indent: str = "    ") -> list[str]:
    """Lines for one failed expectation: what was expected, what was seen, how many, examples."""
    lines = [f"FAILED  {o.table} [{o.batch}] {o.label}" + ("" if o.severity == CRITICAL else f" ({o.severity})")]
    criteria = o.criteria()
    if criteria:
        lines.append(f"{indent}expected: {format_value(criteria)}")
    if o.exception:
        lines.append(f"{indent}error: {format_value(o.exception, 400)}")
    if o.unexpected_count is not None:
        share = f" ({o.unexpected_percent:.4g}%)" if o.unexpected_percent is not None else ""
        lines.append(f"{indent}unexpected: {o.unexpected_count} of {o.element_count} rows{share}")
    seen = observed(o)
    if seen is not None:
        lines.append(f"{indent}observed: {format_value(seen)}")
    for sample in o.samples:
        lines.append(f"{indent}sample: {format_value(sample, 400)}")
    return lines
