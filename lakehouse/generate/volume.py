"""How many events an arrival hour carries: the traffic shape and the injected rate anomalies.

Why: the transaction-rate alarm (dbt model agg_hourly_order_rate) must be measured against
known truth. With `shape="retail"` hours follow a daily and weekly rhythm with day-to-day and
hour-to-hour noise; `anomalies` then scale chosen hours: an `outage` (checkout down: about 5%
of the hour's normal volume), a `spike` (a bot or a promotion gone wrong: about 4x) or a
`silent` hour (nothing delivered: no object at all). The defaults (`flat`, no anomalies) give
every hour exactly `events_per_hour`, so default generation is byte-identical to before.

Deterministic: the noise comes from `random.Random` seeded by the seed and the day or hour.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

SHAPES = ("flat", "retail")
ANOMALY_FACTORS = {"outage": 0.05, "spike": 4.0, "silent": 0.0}
ANOMALY_KINDS = tuple(ANOMALY_FACTORS)
# Online retail in UTC: a night trough at about a tenth of the midday peak, an evening shoulder.
RETAIL_HOUR_WEIGHTS = (
    0.20, 0.14, 0.11, 0.10, 0.11, 0.16, 0.30, 0.55, 0.85, 1.10, 1.30, 1.45,
    1.50, 1.45, 1.40, 1.35, 1.35, 1.40, 1.50, 1.55, 1.40, 1.05, 0.65, 0.35,
)  # fmt: skip
# Monday .. Sunday: weekdays busy, Saturday quiet, Sunday evening browsing.
RETAIL_DAY_WEIGHTS = (1.05, 1.05, 1.05, 1.10, 1.00, 0.75, 1.00)
DAY_NOISE = 0.08  # relative sd of a whole day's volume (weather, marketing, news)


@dataclass(frozen=True)
class Anomaly:
    """One injected rate anomaly: an arrival hour and its kind."""

    hour: datetime
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in ANOMALY_FACTORS:
            raise ValueError(f"anomaly kind {self.kind!r}; allowed: {', '.join(ANOMALY_KINDS)}")
        hour = self.hour if self.hour.tzinfo else self.hour.replace(tzinfo=UTC)
        if (hour.minute, hour.second, hour.microsecond) != (0, 0, 0):
            raise ValueError(f"anomaly hour {hour.isoformat()} is not on the hour")
        object.__setattr__(self, "hour", hour.astimezone(UTC))


def parse_anomalies(text: str) -> tuple[Anomaly, ...]:
    """`outage@2026-11-08T14,spike@2026-11-09T11,silent@2026-11-10T03` -> anomalies (sorted by hour)."""
    anomalies = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        kind, sep, when = part.partition("@")
        if not sep:
            raise ValueError(f"{part!r}: expected KIND@HOUR, e.g. outage@2026-11-08T14")
        try:
            hour = datetime.fromisoformat(when.strip() + (":00" if len(when.strip()) == 13 else ""))
        except ValueError:
            raise ValueError(f"{part!r}: {when!r} is not an hour like 2026-11-08T14") from None
        anomalies.append(Anomaly(hour, kind.strip().lower()))
    hours = [a.hour for a in anomalies]
    if len(set(hours)) != len(hours):
        raise ValueError("two anomalies in one hour")
    return tuple(sorted(anomalies, key=lambda a: a.hour))


def shape_factor(shape: str, hour: datetime, seed: int) -> float:
    """Expected volume of `hour` relative to events_per_hour (a week's hours average about 1)."""
    if shape == "flat":
        return 1.0
    day_rng = random.Random(f"{seed}:{hour:%Y-%m-%d}:volume")
    day_noise = max(0.5, day_rng.gauss(1.0, DAY_NOISE))
    mean_hour = sum(RETAIL_HOUR_WEIGHTS) / 24
    mean_day = sum(RETAIL_DAY_WEIGHTS) / 7
    return RETAIL_HOUR_WEIGHTS[hour.hour] / mean_hour * RETAIL_DAY_WEIGHTS[hour.weekday()] / mean_day * day_noise


def planned_events(events_per_hour: int, shape: str, hour: datetime, seed: int, anomaly: Anomaly | None) -> int:
    """New events of one arrival hour: exactly `events_per_hour` when flat and normal; else the
    shape's expectation with Poisson-like noise (sd = sqrt(mean)), times the anomaly's factor."""
    if shape == "flat" and anomaly is None:
        return events_per_hour
    mean = events_per_hour * shape_factor(shape, hour, seed)
    if shape != "flat":
        rng = random.Random(f"{seed}:{hour.isoformat()}:volume")
        mean = max(0.0, rng.gauss(mean, mean**0.5))
    if anomaly is not None:
        mean *= ANOMALY_FACTORS[anomaly.kind]
        if anomaly.kind == "outage":
            return max(1, round(mean))  # a trickle still gets through
    return round(mean)
