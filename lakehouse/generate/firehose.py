"""Firehose's buffer for one arrival hour: flush on size (uncompressed) or on time.

Why it matters: the object layout (several objects an hour, names carrying the flush time,
records concatenated or newline-framed) is what the landing manifest and the framer must
cope with, so the simulator reproduces Firehose's buffering rules, not just its prefixes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lakehouse.generate.config import DELIVERY_STREAM_VERSION, HOUR_MS, TABLE_PREFIX, GenerateConfig
from lakehouse.generate.records import uuid4_text
from lakehouse.generate.writer import ObjectWriter


@dataclass(frozen=True)
class Special:
    """A record outside the plain stream: a fault, a late event or a duplicate, with its label."""

    kind: str  # duplicate | late | extra_field | one of QUARANTINE_REASONS
    event_id: str | None
    detail: str | None = None


class HourBuffer:
    """The buffer opens with its first record; it is flushed when it reaches the size hint
    (including the record that crossed it) or when `buffer_seconds` have passed since it
    opened. The object's name carries the flush time; the hour's last buffer is flushed
    before the hour ends, so every object of an hour lies under that hour's prefix.
    """

    def __init__(
        self, config: GenerateConfig, writer: ObjectWriter, hour_start: datetime, key_rng: random.Random
    ) -> None:
        self.config = config
        self.writer = writer
        self.hour_start = hour_start
        self.prefix = f"{TABLE_PREFIX}/{hour_start:%Y/%m/%d/%H}/"
        self.key_rng = key_rng
        self.limit = int(config.buffer_mib * 1024 * 1024)
        self.interval_ms = config.buffer_seconds * 1000
        self.newline = config.framing == "newline"
        self.records: list[str] = []
        self.size = 0
        self.opened_ms = 0
        self.labels: list[tuple[int, Special]] = []
        self.objects: list[dict[str, Any]] = []
        self.injected: list[tuple[str, int, Special]] = []  # (key, record_index, label)

    def object_key(self, at_ms: int) -> str:
        at = self.hour_start + timedelta(milliseconds=min(at_ms, HOUR_MS - 1))
        name = f"{self.config.stream_name}-{DELIVERY_STREAM_VERSION}-{at:%Y-%m-%d-%H-%M-%S}"
        return f"{self.prefix}{name}-{uuid4_text(self.key_rng.getrandbits)}.gz"

    def body(self, records: list[str]) -> str:
        """The object's text: records back to back, or each ending in a newline."""
        return "\n".join(records) + "\n" if self.newline else "".join(records)

    def add_lines(self, at_ms: int, lines: list[str]) -> None:
        """Plain records arriving together (one producer batch); the hot path."""
        if self.records and at_ms >= self.opened_ms + self.interval_ms:
            self.flush(self.opened_ms + self.interval_ms)
        if not self.records:
            self.opened_ms = at_ms
        records, extra, limit = self.records, 1 if self.newline else 0, self.limit
        size = self.size
        for line in lines:
            records.append(line)
            size += len(line) + extra
            if size >= limit:
                self.size = size
                self.flush(at_ms)
                records, size = self.records, 0
                self.opened_ms = at_ms
        self.size = size

    def add_special(self, at_ms: int, text: str, label: Special) -> None:
        if self.records and at_ms >= self.opened_ms + self.interval_ms:
            self.flush(self.opened_ms + self.interval_ms)
        if not self.records:
            self.opened_ms = at_ms
        self.labels.append((len(self.records), label))
        self.add_lines(at_ms, [text])

    def close(self) -> None:
        if self.records:
            self.flush(min(self.opened_ms + self.interval_ms, HOUR_MS - 1))

    def flush(self, at_ms: int) -> None:
        key = self.object_key(at_ms)
        entry = {"key": key, "bytes": 0, "records": len(self.records), "corrupt": False}
        self.objects.append(entry)
        self.injected.extend((key, index, label) for index, label in self.labels)
        self.writer.submit(entry, key, self.body(self.records))
        self.records, self.size, self.labels = [], 0, []
