"""Content checksums of tables: what a re-run must leave unchanged (e2e and compose lanes)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

# Per-run lineage: which run wrote a row, and when. Everything else is content.
RUN_COLUMNS = {"run_id", "ingested_at"}
ICEBERG_TABLES = {
    "bronze.orders_raw": ("source_object", "record_index"),
    "bronze.orders_quarantine": ("source_object", "record_index", "reason_code"),
    "silver.order_lines": ("event_id",),
}


def content_checksum(rows: list[dict[str, Any]], key: tuple[str, ...] | None = None) -> str:
    """Order-independent digest of rows, run lineage left out."""
    cleaned = [{k: v for k, v in row.items() if k not in RUN_COLUMNS} for row in rows]
    text = sorted(json.dumps(row, sort_keys=True, default=str) for row in cleaned)
    return hashlib.sha256("\n".join(text).encode()).hexdigest()
