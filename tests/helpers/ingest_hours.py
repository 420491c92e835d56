"""Hours written by hand, record by record, and ingested in-process (real Spark and Iceberg) into
tables of their own: the no-loss and straggler proofs."""

from __future__ import annotations

import dataclasses
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

from lakehouse_core import landing
from spark_jobs.ingest.job import IngestArgs, run_ingest
from tests.helpers.ingest_tables import make_tables

HOUR = datetime(2026, 11, 7, 10, tzinfo=UTC)


def event(event_id: str, *, emitted: str = "2026-11-07T09:58:00Z", quantity: int = 1, ts: str = "") -> bytes:
    record = {
        "event_id": event_id,
        "invoice_no": "536365",
        "invoice_line": 1,
        "stock_code": "85123A",
        "description": "WHITE HANGING HEART T-LIGHT HOLDER",
        "quantity": quantity,
        "unit_price": 2.55,
        "currency": "GBP",
        "customer_id": "17850",
        "country": "United Kingdom",
        "event_ts": ts or "2026-11-07T09:55:00Z",
        "emitted_at": emitted,
        "schema_version": 1,
    }
    return json.dumps(record, separators=(",", ":")).encode()


class Hours:
    """A raw zone and its own tables; objects are written per arrival hour, then ingested."""

    def __init__(self, spark, session_lake, root: Path, namespace: str) -> None:
        self.spark = spark
        self.settings = dataclasses.replace(session_lake, home=root / "home", raw_root=str(root / "raw"))
        self.tables = make_tables(spark, session_lake.catalog_name, namespace)
        self.qualified = self.tables.qualified(session_lake.catalog_name)
        self.namespace = namespace

    def write(self, hour: datetime, minute: int, body: bytes, compress: bool = True) -> str:
        return self.write_raw(hour, minute, gzip.compress(body) if compress else body)

    def write_raw(self, hour: datetime, minute: int, raw: bytes) -> str:
        folder = Path(self.settings.raw_root, landing.hour_prefix(hour))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"orders-stream-1-{hour:%Y-%m-%d-%H}-{minute:02d}-00-{self.namespace}.gz"
        path.write_bytes(raw)
        return path.as_uri()

    def ingest(self, hour: datetime, **options) -> dict:
        manifest = landing.write_manifest(self.settings, landing.build_manifest(self.settings, hour))
        args = IngestArgs(
            platform="local",
            catalog_name=self.settings.catalog_name,
            warehouse=self.settings.warehouse,
            manifest=manifest,
            arrival_hour=hour,
            run_id=f"{self.namespace}-{hour:%H}",
            **options,
        )
        return run_ingest(self.spark, args, self.tables, log=lambda _: None)

    def table(self, role: str):
        return self.spark.table(getattr(self.qualified, role))
