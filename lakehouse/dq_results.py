"""The quality gate's recorded results (`audit.dq_results`), read back: the service `lakehouse dq`
and the dashboard's gate panel share, so the dashboard does not import a command for them.

One row per expectation per validation, as the gate job writes them; a validation fails on any
failed critical expectation (`blocking`). Read through pyiceberg: no JVM.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from lakehouse.console import table
from lakehouse_core.settings import Settings


def read_results(settings: Settings, run_id: str | None = None) -> list[dict[str, Any]]:
    """`audit.dq_results` rows (all runs, or one run's), via pyiceberg."""
    from lakehouse_core.catalog import load_table

    results = load_table(settings, "audit.dq_results")
    scan = results.scan(row_filter=f"run_id == '{run_id}'") if run_id else results.scan()
    return scan.to_arrow().to_pylist()


def attempts(rows: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """A run's rows grouped by validation (`validated_at`), oldest first, each in suite order."""
    by_time: dict[Any, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_time.setdefault(row["validated_at"], []).append(row)
    return [sorted(by_time[t], key=suite_order) for t in sorted(by_time)]


def suite_order(row: Mapping[str, Any]) -> tuple:
    """Silver's suite first, then by table, each in the suite's order."""
    return (row["table_name"] != "silver.order_lines", row["table_name"], details(row).get("position", 0))


def details(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row's `details` JSON (severity, position, branch, samples, docs); {} when absent or unreadable."""
    try:
        return json.loads(row.get("details") or "{}") or {}
    except json.JSONDecodeError:
        return {}


def blocking(row: Mapping[str, Any]) -> bool:
    """A failed critical expectation: one fails the validation (a warning does not)."""
    return not row["success"] and details(row).get("severity", "critical") == "critical"


def format_runs(rows: Sequence[Mapping[str, Any]], last: int) -> str:
    """One line per run's latest validation, newest first."""
    latest: dict[str, Any] = {}
    for row in rows:
        if row["run_id"] not in latest or row["validated_at"] > latest[row["run_id"]]:
            latest[row["run_id"]] = row["validated_at"]
    failed = Counter(r["run_id"] for r in rows if r["validated_at"] == latest[r["run_id"]] and blocking(r))
    total = Counter(r["run_id"] for r in rows if r["validated_at"] == latest[r["run_id"]])
    order = sorted(latest, key=lambda run: latest[run], reverse=True)[:last]
    return table(
        ("validated at (UTC)", "run id", "gate", "failed"),
        [
            (
                f"{latest[run]:%Y-%m-%d %H:%M:%S}",
                run,
                "FAILED" if failed[run] else "passed",
                f"{failed[run]}/{total[run]}",
            )
            for run in order
        ],
    )
