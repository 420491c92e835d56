"""One `generate` call: plans each arrival hour and streams its records through the buffer.

Determinism: every random choice of an hour comes from `random.Random` seeded from the seed
and the arrival hour, so an hour's own events depend only on (seed, arrival hour, config),
not on the run's start. The only state carried between hours is the cross-hour duplicates.
"""

from __future__ import annotations

import heapq
import json
import random
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from lakehouse.generate.catalogue import catalogue
from lakehouse.generate.config import (
    CANCELLATION_SHARE,
    DUPLICATE_SHARE,
    EXTRA_FIELD_PER_HOUR,
    HOUR_MS,
    LATE_SHARE,
    MIN_EVENTS_WITH_FAULTS,
    GenerateConfig,
)
from lakehouse.generate.draws import LINES_TABLE
from lakehouse.generate.faults import corrupt_object, fault_records, scaled_counts
from lakehouse.generate.firehose import HourBuffer, Special
from lakehouse.generate.output import Sink, open_sink
from lakehouse.generate.records import event_id_of, fmt_ms, iso_z
from lakehouse.generate.sampling import invoice_lines
from lakehouse.generate.truth import hour_truth, new_injected, run_truth, warn_foreign_objects
from lakehouse.generate.volume import planned_events
from lakehouse.generate.writer import ObjectWriter


class Run:
    """Plans each hour, streams it through the buffer, returns the ground truth."""

    def __init__(self, config: GenerateConfig, sink: Sink, progress: Callable[[str], None] | None) -> None:
        self.config = config
        self.sink = sink
        self.progress = progress
        self.cat = catalogue()
        self.writer = ObjectWriter(sink, config.gzip_level)
        self.carry: list[str] = []  # records to re-send in the next hour (cross-hour duplicates)
        self.silver_by_day: dict[str, int] = {}
        self.injected = new_injected()
        self.anomalies = {a.hour: a for a in config.anomalies}
        self.volumes: list[dict[str, Any]] = []  # per-hour planned events, when shaped or anomalous
        self.corrupt_done = False  # faults scaled: the run's one corrupt object is written

    def _invoice_numbers(self, hour_index: int) -> Callable[[bool], str]:
        """Sequential 6-digit invoice numbers; each arrival hour gets its own block of the range."""
        per_hour = max(1000, -(-self.config.events_per_hour // 2000) * 1000)
        counter = iter(range(hour_index * per_hour, hour_index * per_hour + 10**9))

        def next_number(cancel: bool) -> str:
            number = 100000 + next(counter) % 900000
            return f"C{number}" if cancel else str(number)

        return next_number

    def generate(self) -> dict[str, Any]:
        cfg = self.config
        hours = []
        try:
            for h in range(cfg.hours):
                began = time.perf_counter()
                hour = self._hour(h)
                hours.append(hour)
                if self.progress:
                    gz = sum(o["bytes"] for o in hour["objects"])
                    self.progress(
                        f"hour {hour['arrival_hour']}: {len(hour['objects'])} objects, {hour['records']:,} records, "
                        f"{gz / 1e6:,.1f} MB gzip ({time.perf_counter() - began:.1f} s)"
                    )
        finally:
            self.writer.close()
        return run_truth(cfg, self.sink.location, hours, self.silver_by_day, self.injected, self.volumes)

    def _hour(self, h: int) -> dict[str, Any]:
        cfg = self.config
        faults = cfg.faults != "none"
        hour_start = cfg.start + timedelta(hours=h)
        hour_iso = iso_z(hour_start)
        base_ms = int(hour_start.timestamp()) * 1000
        rng = random.Random(f"{cfg.seed}:{hour_iso}:events")
        buf = HourBuffer(cfg, self.writer, hour_start, random.Random(f"{cfg.seed}:{hour_iso}:keys"))
        existing = self.sink.list_keys(buf.prefix)
        next_invoice = self._invoice_numbers(int(hour_start.timestamp()) // 3600)
        cat = self.cat

        anomaly = self.anomalies.get(hour_start)
        n = planned_events(cfg.events_per_hour, cfg.shape, hour_start, cfg.seed, anomaly)
        if faults and n > 0:
            n = max(n, MIN_EVENTS_WITH_FAULTS)
        if cfg.shape != "flat" or cfg.anomalies:
            self.volumes.append({"arrival_hour": hour_iso, "events": n, "anomaly": anomaly.kind if anomaly else None})
        if n == 0:  # a silent hour: nothing delivered, no object at all (re-sends wait for the next hour)
            buf.close()
            self.writer.settle()
            return hour_truth(hour_start, buf, [], 0, self.injected)
        n_late = round(n * LATE_SHARE) if faults else 0
        n_extra = EXTRA_FIELD_PER_HOUR if faults else 0
        n_main = n - n_late - n_extra
        # About 1% of each hour's records are re-sent copies: half of them (when a next hour
        # exists) are re-sent in the next hour, the rest in this one; copies arriving from the
        # previous hour count towards this hour's share.
        n_dup = max(1, round(n * DUPLICATE_SHARE)) if faults else 0
        n_carry = 0 if h == cfg.hours - 1 else n_dup // 2
        n_same = max(0, n_dup - len(self.carry)) if faults else 0
        dup_sources = rng.sample(range(n_main), min(n_main, n_same + n_carry))
        same_hour = set(dup_sources[:n_same])
        carry_next = set(dup_sources[n_same:])

        def on_time(n_lines: int = 1) -> tuple[int, list[str]]:
            arrival = rng.randrange(HOUR_MS)
            delay = min(arrival, 1000 + int(rng.expovariate(1 / 20000)))
            lines = invoice_lines(
                cat, rng, next_invoice(rng.random() < CANCELLATION_SHARE), n_lines, base_ms + arrival - delay, delay
            )
            return arrival, lines

        # Specials are merged into the plain stream in arrival order (a heap keyed by arrival).
        specials: list[tuple[int, int, str, Special]] = []
        seq = iter(range(1 << 62))
        for text in self.carry:  # Firehose retries from the previous hour: verbatim copies
            specials.append((rng.randrange(900_000), next(seq), text, Special("duplicate", event_id_of(text))))
        self.carry = []
        day = hour_start.strftime("%Y-%m-%d")
        self.silver_by_day[day] = self.silver_by_day.get(day, 0) + n - n_late
        late_left = n_late
        while late_left > 0:
            k = min(late_left, rng.choice((1, 1, 2, 3)))
            event_ms = base_ms - rng.randrange(HOUR_MS, 6 * HOUR_MS + 1)
            event_day = fmt_ms(event_ms)[:10]
            self.silver_by_day[event_day] = self.silver_by_day.get(event_day, 0) + k
            for text in invoice_lines(cat, rng, next_invoice(False), k, event_ms, 2000):
                specials.append((rng.randrange(HOUR_MS), next(seq), text, Special("late", event_id_of(text))))
            late_left -= k
        corrupt_here = faults and h == cfg.hours // 2
        counts = None  # faults all: the fixed counts of every hour
        if cfg.faults == "scaled":
            counts, corrupt_here = scaled_counts(rng, n, not self.corrupt_done and h >= cfg.hours // 2)
        if faults:
            for at, text, label in fault_records(cat, rng, on_time, base_ms, next_invoice, cfg.lateness_hours, counts):
                specials.append((at, next(seq), text, label))
        heapq.heapify(specials)

        # The plain stream: invoices sorted by arrival; event_ts a few seconds to minutes earlier.
        counts: list[int] = []
        total = 0
        while total < n_main:
            for _ in range(max(16, (n_main - total) // 4)):
                c = LINES_TABLE[rng.getrandbits(12)]
                counts.append(c)
                total += c
                if total >= n_main:
                    break
        if counts:
            counts[-1] -= total - n_main
        rand = rng.random
        arrivals = sorted(int(rand() * HOUR_MS) for _ in counts)
        index = 0
        add_lines = buf.add_lines
        for arrival, n_lines in zip(arrivals, counts, strict=True):
            while specials and specials[0][0] <= arrival:
                at, _, text, label = heapq.heappop(specials)
                buf.add_special(at, text, label)
            delay = 1000 + int(rng.expovariate(1 / 20000))
            if delay > arrival:
                delay = int(arrival * rand())
            lines = invoice_lines(
                cat, rng, next_invoice(rand() < CANCELLATION_SHARE), n_lines, base_ms + arrival - delay, delay
            )
            add_lines(arrival, lines)
            for i in range(index, index + n_lines):
                if i in same_hour:  # re-sent verbatim a little later in the same hour
                    text = lines[i - index]
                    again = min(HOUR_MS - 1, arrival + rng.randrange(1000, 900_000))
                    heapq.heappush(specials, (again, next(seq), text, Special("duplicate", event_id_of(text))))
                elif i in carry_next:
                    self.carry.append(lines[i - index])
            index += n_lines
        while specials:
            at, _, text, label = heapq.heappop(specials)
            buf.add_special(at, text, label)
        buf.close()

        corrupt_entries = []
        if corrupt_here:
            self.corrupt_done = True
            entry, lost = corrupt_object(rng, buf, on_time)
            corrupt_entries.append(entry)
            self.injected["events_in_corrupt_objects"].extend(lost)
        self.writer.settle()
        truth = hour_truth(hour_start, buf, corrupt_entries, n, self.injected)
        warn_foreign_objects(existing, truth, self.progress)
        return truth


def generate(config: GenerateConfig, out: str, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write `config.hours` arrival hours of Firehose objects under `out`; return the ground truth.

    `out` is a local folder or `s3://bucket/prefix` (endpoint from AWS_ENDPOINT_URL). The ground
    truth is also written to `<out>/<config.ground_truth_key>`. `progress` gets one line per hour.

    Ground truth, per arrival hour (`hours[]`): `objects` [{key (relative to `out`), bytes
    (gzip), records (framed records; 0 for the corrupt object), corrupt}], `records`,
    `records_read` (records + one per corrupt object), `bronze_rows` (valid records, duplicates
    included), `quarantine` {reason: rows}, `quarantine_rows`, `duplicates` (valid copies of an
    event id delivered earlier in the run), `late_events`, `extra_field_records`,
    `new_unique_events`, `records_in_corrupt_objects`. Invariants: records_read == bronze_rows +
    quarantine_rows; bronze_rows - duplicates == new_unique_events. `totals` sums the hours;
    `expected` holds what the ingest must produce (bronze, quarantine and silver rows, silver
    rows by event day) and `injected`: the event ids of duplicates, late events, extra-field
    records and lost events, and each quarantined record as {arrival_hour, key, record_index
    (0-based position in its object; null for an object-level row), reason, event_id, detail}.
    """
    sink = open_sink(out)
    truth = Run(config, sink, progress).generate()
    sink.put(config.ground_truth_key, (json.dumps(truth, indent=1) + "\n").encode(), "application/json")
    return truth
