"""The ground truth: the exact counts and record positions the ingest must reconcile to.

Why: tests check numbers, not impressions. Invariants per hour: records_read == bronze_rows +
quarantine_rows and bronze_rows - duplicates == new_unique_events.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from lakehouse.generate.config import CORRUPT_OBJECT_EVENTS, GROUND_TRUTH_VERSION, QUARANTINE_REASONS, GenerateConfig
from lakehouse.generate.firehose import HourBuffer
from lakehouse.generate.records import iso_z


def new_injected() -> dict[str, list[Any]]:
    """The run's list of injected records, filled hour by hour."""
    return {
        "duplicates": [],
        "late_events": [],
        "extra_field_records": [],
        "quarantined": [],
        "events_in_corrupt_objects": [],
    }


def hour_truth(
    hour_start: datetime,
    buf: HourBuffer,
    corrupt_entries: list[dict[str, Any]],
    n: int,
    injected: dict[str, list[Any]],
) -> dict[str, Any]:
    """One arrival hour's counts; appends the hour's labelled records to `injected`."""
    quarantine = dict.fromkeys(QUARANTINE_REASONS, 0)
    counts = {"duplicate": 0, "late": 0, "extra_field": 0}
    for key, index, label in sorted(buf.injected, key=lambda item: (item[0], item[1])):
        if label.kind in quarantine:
            quarantine[label.kind] += 1
            injected["quarantined"].append(
                {
                    "arrival_hour": iso_z(hour_start),
                    "key": key,
                    "record_index": index,
                    "reason": label.kind,
                    "event_id": label.event_id,
                    "detail": label.detail,
                }
            )
        else:
            counts[label.kind] += 1
            listing = {"duplicate": "duplicates", "late": "late_events", "extra_field": "extra_field_records"}
            injected[listing[label.kind]].append(label.event_id)
    for entry in corrupt_entries:
        quarantine["corrupt_object"] += 1
        injected["quarantined"].append(
            {
                "arrival_hour": iso_z(hour_start),
                "key": entry["key"],
                "record_index": None,
                "reason": "corrupt_object",
                "event_id": None,
                "detail": f"gzip stream truncated to {entry['bytes']} bytes",
            }
        )
    objects = sorted(buf.objects + corrupt_entries, key=lambda o: o["key"])
    records = sum(o["records"] for o in buf.objects)
    quarantined = sum(quarantine.values())
    truth = {
        "arrival_hour": iso_z(hour_start),
        "prefix": buf.prefix,
        "objects": objects,
        "records": records,
        "records_read": records + len(corrupt_entries),
        "bronze_rows": records - (quarantined - len(corrupt_entries)),
        "quarantine": quarantine,
        "quarantine_rows": quarantined,
        "duplicates": counts["duplicate"],
        "late_events": counts["late"],
        "extra_field_records": counts["extra_field"],
        "new_unique_events": n,
        "records_in_corrupt_objects": CORRUPT_OBJECT_EVENTS * len(corrupt_entries),
    }
    assert truth["bronze_rows"] == n + counts["duplicate"], "generator bookkeeping is off"
    return truth


def warn_foreign_objects(
    existing: set[str] | None, truth: dict[str, Any], progress: Callable[[str], None] | None
) -> None:
    """Say so when the hour's prefix already held objects this run did not write."""
    if not existing or not progress:
        return
    foreign = existing - {o["key"] for o in truth["objects"]}
    if foreign:
        progress(
            f"warning: {truth['prefix']} already held {len(foreign)} other object(s) (another seed or "
            "config?); the ground truth counts only this run's objects"
        )


def run_truth(
    cfg: GenerateConfig,
    location: str,
    hours: list[dict[str, Any]],
    silver_by_day: dict[str, int],
    injected: dict[str, list[Any]],
    volumes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The whole run: config, hours, totals and what the ingest must produce.

    With a traffic shape or rate anomalies (lakehouse.generate.volume) it also holds
    `config.shape`, `config.anomalies` and `rate`: each hour's planned events and its anomaly
    (null when normal), the truth the rate alarm is measured against. Without them the file is
    what it always was (byte for byte).
    """
    summed = (
        "records",
        "records_read",
        "bronze_rows",
        "quarantine_rows",
        "duplicates",
        "late_events",
        "extra_field_records",
        "new_unique_events",
        "records_in_corrupt_objects",
    )
    totals: dict[str, Any] = {"objects": sum(len(hr["objects"]) for hr in hours)}
    totals["objects_corrupt"] = sum(o["corrupt"] for hr in hours for o in hr["objects"])
    totals["bytes"] = sum(o["bytes"] for hr in hours for o in hr["objects"])
    totals.update({name: sum(hr[name] for hr in hours) for name in summed})
    totals["quarantine"] = {r: sum(hr["quarantine"][r] for hr in hours) for r in QUARANTINE_REASONS}
    truth = {
        "ground_truth_version": GROUND_TRUTH_VERSION,
        "out": location,
        "ground_truth_key": cfg.ground_truth_key,
        "config": {
            "seed": cfg.seed,
            "stream": cfg.stream_name,
            "framing": cfg.framing,
            "faults": cfg.faults,
            "start": iso_z(cfg.start),
            "hours": cfg.hours,
            "events_per_hour": cfg.events_per_hour,
            "buffer_mib": cfg.buffer_mib,
            "buffer_seconds": cfg.buffer_seconds,
            "compression": "GZIP",
            "gzip_level": cfg.gzip_level,
        },
        "hours": hours,
        "totals": totals,
        "expected": {
            "records_read": totals["records_read"],
            "bronze_rows": totals["bronze_rows"],
            "quarantine_rows": totals["quarantine_rows"],
            "quarantine_by_reason": totals["quarantine"],
            "duplicates": totals["duplicates"],
            "silver_rows": totals["new_unique_events"],
            "silver_rows_by_event_day": dict(sorted(silver_by_day.items())),
            "injected": injected,
        },
    }
    if cfg.shape != "flat" or cfg.anomalies:
        truth["config"]["shape"] = cfg.shape
        truth["config"]["anomalies"] = [f"{a.kind}@{a.hour:%Y-%m-%dT%H}" for a in cfg.anomalies]
        truth["rate"] = {
            "hours": volumes or [],
            "anomalies": [{"arrival_hour": iso_z(a.hour), "kind": a.kind} for a in cfg.anomalies],
        }
    return truth
