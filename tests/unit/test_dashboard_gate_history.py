"""The dashboard's gate panel on a history that came in two ways: a bulk run and hourly runs.

Real Iceberg tables (pyiceberg on the SQLite catalog, no JVM), rows shaped as the jobs write
them: a bulk run (`orders_backfill`) records one `audit.ingest_runs` row per arrival hour of its
range under one run id and is validated once; an hourly run has one row and one validation.
The panel must count the bulk run's verdict on every day of its range, not on one of them.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from lakehouse.dashboard.data import gate_pass_rate
from lakehouse_core.catalog import init_catalog, open_catalog
from lakehouse_core.settings import Settings, load_settings

pytestmark = pytest.mark.unit

DAY0 = datetime(2026, 10, 29, 0, tzinfo=UTC)
COUNTS = (
    "objects",
    "objects_corrupt",
    "bytes_read",
    "records_read",
    "records_parsed",
    "records_quarantined",
    "duplicates_dropped",
    "silver_inserted",
    "silver_updated",
)


@pytest.fixture()
def gate_history_home(tmp_path: Path) -> Settings:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "DBT_"))}
    settings = load_settings({**env, "LAKEHOUSE_ENV": "local", "LAKEHOUSE_HOME": str(tmp_path / "lake")})
    init_catalog(settings)
    return settings


def _append(settings: Settings, identifier: str, rows: list[dict]) -> None:
    table = open_catalog(settings).load_table(identifier)
    table.append(pa.Table.from_pylist(rows, schema=table.schema().as_arrow()))


def run_rows(run_id: str, hours: list[datetime]) -> list[dict]:
    done = hours[-1] + timedelta(hours=2)
    return [
        {"run_id": run_id, "arrival_hour": h, "started_at": done, "finished_at": done, "status": "succeeded"}
        | dict.fromkeys(COUNTS, 1)
        for h in hours
    ]


def validation(run_id: str, at: datetime, success: bool) -> dict:
    return {
        "run_id": run_id,
        "validated_at": at,
        "table_name": "silver.order_lines",
        "suite_name": "silver.order_lines",
        "expectation": "expect_column_values_to_not_be_null",
        "success": success,
        "details": '{"severity": "critical"}',
    }


def test_a_bulk_runs_one_verdict_counts_on_every_day_of_its_range(gate_history_home: Settings) -> None:
    bulk_hours = [DAY0 + timedelta(hours=h) for h in range(0, 72, 6)]  # 2026-10-29 .. 2026-10-31
    hourly = DAY0 + timedelta(days=3, hours=8)  # 2026-11-01 08:00
    _append(gate_history_home, "audit.ingest_runs", run_rows("backfill_2026102900_2026110100_abc", bulk_hours))
    _append(gate_history_home, "audit.ingest_runs", run_rows("orders_2026110108_def", [hourly]))
    _append(
        gate_history_home,
        "audit.dq_results",
        [
            validation("backfill_2026102900_2026110100_abc", DAY0 + timedelta(days=3), True),
            validation("orders_2026110108_def", hourly + timedelta(hours=1), False),
        ],
    )

    panel = gate_pass_rate(gate_history_home)

    assert panel["x"] == ["2026-10-29", "2026-10-30", "2026-10-31", "2026-11-01"]
    assert panel["series"]["pass rate %"] == [100.0, 100.0, 100.0, 0.0]
    assert (panel["validations"], panel["failed"]) == (2, 1)  # validations, not days
