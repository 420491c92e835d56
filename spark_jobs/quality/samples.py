"""A few offending rows per failed expectation, for the summary and `audit.dq_results`.

Why: "12 values out of range" is actionable only with the rows beside it. GX names the keys
of offending rows (counts-first validation keeps that cheap); Spark fetches those rows, cut
to the columns that explain the failure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from spark_jobs.quality import batches, results, suites

SAMPLE_CONTEXT_COLUMNS = batches.IDENTIFYING_COLUMNS


def attach_samples(
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
        rows = [plain(r) for r in dataframe.head(1).to_dict("records")]
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
        outcome.samples = [plain(r.asDict()) for r in picked.limit(limit).collect()]


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


def plain(row: dict[str, Any]) -> dict[str, Any]:
    """Row values as JSON-friendly scalars (timestamps as ISO text, decimals as text)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, float | datetime) and value != value:  # NaN / NaT: how pandas writes null
            out[key] = None
        elif isinstance(value, datetime | date):
            out[key] = value.isoformat()
        elif isinstance(value, dict):
            out[key] = plain(value)
        elif hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
            out[key] = value.item()
        elif value is not None and not isinstance(value, bool | int | float | str):
            out[key] = str(value)
        else:
            out[key] = value
    return out
