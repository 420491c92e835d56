"""What the simulator produces: the record contract, the fault rates and `GenerateConfig`.

Why one module: every other part of the simulator reads these numbers, and the tests
compare the contract (required fields, quarantine reasons, record limit) with the ingest
job's own copy, so they live in one place that imports nothing else of the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lakehouse.generate.volume import SHAPES, Anomaly
from lakehouse_core.settings import FRAMINGS
from spark_jobs.limits import LATENESS_HOURS  # the pipeline's default lateness window (LAKEHOUSE_LATENESS_HOURS)

FAULT_MODES = ("none", "all", "scaled")
# Quarantine reason codes: a contract shared with the ingest job (bronze.orders_quarantine.reason_code).
QUARANTINE_REASONS = (
    "malformed_json",
    "missing_required_field",
    "wrong_type",
    "oversize_record",
    "corrupt_object",
    "not_an_object",
    "late_beyond_window",
    "invalid_utf8",
    "future_event",
    "object_too_large",
    "nesting_too_deep",
)
# Written out here rather than imported from spark_jobs.ingest.contract on purpose: the
# simulator is the tests' independent oracle, so a drift between producer and consumer shows
# up as a failing reconciliation instead of changing both sides at once.
REQUIRED_FIELDS = (
    "event_id",
    "invoice_no",
    "invoice_line",
    "stock_code",
    "quantity",
    "unit_price",
    "currency",
    "country",
    "event_ts",
)
EVENT_FIELDS = (
    "event_id",
    "invoice_no",
    "invoice_line",
    "stock_code",
    "description",
    "quantity",
    "unit_price",
    "currency",
    "customer_id",
    "country",
    "event_ts",
    "emitted_at",
    "schema_version",
)
# The event's fields as DuckDB reads them from the raw JSON (the benchmarks' DuckDB baselines:
# one list, so the ingest's and the rate alarm's comparisons read the same contract).
EVENT_DUCKDB_TYPES = {
    "event_id": "VARCHAR",
    "invoice_no": "VARCHAR",
    "invoice_line": "INTEGER",
    "stock_code": "VARCHAR",
    "description": "VARCHAR",
    "quantity": "INTEGER",
    "unit_price": "DECIMAL(12,3)",
    "currency": "VARCHAR",
    "customer_id": "VARCHAR",
    "country": "VARCHAR",
    "event_ts": "TIMESTAMPTZ",
    "emitted_at": "TIMESTAMPTZ",
}
MAX_RECORD_BYTES = 1_024_000  # Firehose's record limit, 1,000 KiB
TABLE_PREFIX = "orders"
DELIVERY_STREAM_VERSION = 1
GROUND_TRUTH_DIR = "_ground_truth"
GZIP_LEVEL = 5  # 1-6 keep 1M events well under a minute; 5 is close to 6's ratio at less cost
GROUND_TRUTH_VERSION = 1

# Fault rates and per-hour counts with --faults all.
DUPLICATE_SHARE = 0.01
LATE_SHARE = 0.02
MALFORMED_PER_HOUR = 2
MISSING_PER_HOUR = 2
WRONG_TYPE_PER_HOUR = 2
OVERSIZE_PER_HOUR = 1
NOT_AN_OBJECT_PER_HOUR = 1
LATE_BEYOND_WINDOW_PER_HOUR = 1
# With --faults scaled (a long history at a low volume, e.g. the demo's weeks): the broken
# records of an hour are events x SCALED_BAD_SHARE (rounded at random, so the mean is the share)
# but fewer than SCALED_BAD_CAP of the events, instead of the fixed counts above, each of a kind
# drawn by these weights; the one corrupt object goes to the first hour from the middle on that
# has room for a broken record. The fixed counts (about 9 an hour) are over the gate's 1%
# quarantine share in any hour under about 1,000 events; this keeps every hour under it (a
# quiet night hour of under 112 events gets none). Duplicates, late and extra-field records
# are as with `all`.
SCALED_BAD_SHARE = 0.005
SCALED_BAD_CAP = 0.009
SCALED_BAD_WEIGHTS = {
    "malformed_json": 3.0,
    "missing_required_field": 3.0,
    "wrong_type": 3.0,
    "not_an_object": 1.0,
    "late_beyond_window": 2.0,
    "oversize_record": 0.3,  # 1 MB each: rare, as in a real stream
}
NOT_AN_OBJECT_VALUES = ("[1, 2, 3]", "42", '"ORDER"', "null", "true")  # the hour picks one
EXTRA_FIELD_PER_HOUR = 3
CORRUPT_OBJECT_EVENTS = 5
MIN_EVENTS_WITH_FAULTS = 10

# Domain rates (UCI Online Retail).
CANCELLATION_SHARE = 0.02  # of invoices
GUEST_SHARE = 0.25  # invoices without customer_id
NULL_DESCRIPTION_SHARE = 0.003  # of lines

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class GenerateConfig:
    """What to generate. `start` is the first UTC arrival hour; validated on construction."""

    start: datetime
    hours: int = 3
    events_per_hour: int = 2000
    seed: int = 7
    stream_name: str = "orders-stream"
    framing: str = "concatenated"
    faults: str = "none"
    buffer_mib: float = 5.0
    buffer_seconds: int = 300
    gzip_level: int = GZIP_LEVEL
    lateness_hours: int = LATENESS_HOURS  # the pipeline's window: one event per hour is made older
    shape: str = "flat"  # flat: every hour events_per_hour; retail: daily/weekly rhythm with noise (volume.py)
    anomalies: tuple[Anomaly, ...] = ()  # rate anomalies (outage, spike, silent) with ground truth

    def __post_init__(self) -> None:
        start = self.start if self.start.tzinfo else self.start.replace(tzinfo=UTC)
        start = start.astimezone(UTC)
        if (start.minute, start.second, start.microsecond) != (0, 0, 0):
            raise ValueError(f"start {start.isoformat()} is not on the hour (arrival hours start at :00)")
        object.__setattr__(self, "start", start)
        if self.hours < 1:
            raise ValueError("hours must be >= 1")
        if self.framing not in FRAMINGS:
            raise ValueError(f"framing must be one of {', '.join(FRAMINGS)}")
        if self.faults not in FAULT_MODES:
            raise ValueError(f"faults must be one of {', '.join(FAULT_MODES)}")
        minimum = MIN_EVENTS_WITH_FAULTS if self.faults != "none" else 1
        if self.events_per_hour < minimum:
            raise ValueError(f"events_per_hour must be >= {minimum} with faults={self.faults}")
        if not 0 < self.buffer_mib <= 128:
            raise ValueError("buffer_mib must be > 0 and <= 128 (Firehose's range)")
        if not 1 <= self.buffer_seconds <= 900:
            raise ValueError("buffer_seconds must be between 1 and 900 (Firehose's range)")
        if not 1 <= self.gzip_level <= 9:
            raise ValueError("gzip_level must be between 1 and 9")
        if self.lateness_hours < 0:
            raise ValueError("lateness_hours must be >= 0")
        if self.shape not in SHAPES:
            raise ValueError(f"shape must be one of {', '.join(SHAPES)}")
        end = start + timedelta(hours=self.hours)
        object.__setattr__(self, "anomalies", tuple(sorted(self.anomalies, key=lambda a: a.hour)))
        if len({a.hour for a in self.anomalies}) != len(self.anomalies):
            raise ValueError("two anomalies in one hour")
        for anomaly in self.anomalies:
            if not start <= anomaly.hour < end:
                raise ValueError(f"anomaly {anomaly.kind}@{anomaly.hour:%Y-%m-%dT%H} is outside the generated hours")
        if not self.stream_name or "/" in self.stream_name:
            raise ValueError("stream_name must be a non-empty name without '/'")

    @property
    def ground_truth_key(self) -> str:
        """Where the ground truth goes, relative to the output root (outside `orders/`)."""
        return f"{GROUND_TRUTH_DIR}/{TABLE_PREFIX}-{self.start:%Y%m%d%H}-{self.hours}h.json"
