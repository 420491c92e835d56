"""The `lakehouse generate` command: arguments, settings defaults, a summary table."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from lakehouse.console import arg_hour
from lakehouse.generate.config import FAULT_MODES, TABLE_PREFIX, GenerateConfig
from lakehouse.generate.volume import SHAPES, parse_anomalies
from lakehouse_core.settings import FRAMINGS, load_settings


def _arg_positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be >= 1")
    return value


def _arg_positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be > 0")
    return value


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "generate",
        help="write simulated Firehose objects (gzip JSON order events) to the raw zone",
        description=(
            "Simulate Kinesis Data Firehose delivering order-line events (UCI Online Retail shape) to the "
            "raw zone: orders/YYYY/MM/DD/HH/<stream>-1-<flush time>-<uuid>.gz under UTC arrival hours, "
            "several objects per hour (buffer size/interval), optionally with injected faults. Writes a "
            "ground-truth JSON under _ground_truth/ with the counts the ingest must reconcile to. "
            "Deterministic: the same command rewrites byte-identical objects."
        ),
    )
    p.add_argument(
        "--start",
        type=arg_hour,
        default=None,
        help="first UTC arrival hour, e.g. 2026-11-01T08 (default: the last HOURS complete hours)",
    )
    p.add_argument("--hours", type=_arg_positive_int, default=3, help="number of arrival hours (default: %(default)s)")
    p.add_argument(
        "--events-per-hour", type=_arg_positive_int, default=2000, help="new events per hour (default: %(default)s)"
    )
    p.add_argument("--seed", type=int, default=7, help="random seed; same seed, same bytes (default: %(default)s)")
    p.add_argument(
        "--framing",
        choices=FRAMINGS,
        default="concatenated",
        help="concatenated: JSON records back to back (Firehose's default); newline: each record ends "
        "with \\n (default: %(default)s)",
    )
    p.add_argument(
        "--faults",
        choices=FAULT_MODES,
        default="none",
        help="all: duplicates, late events (one per hour beyond LAKEHOUSE_LATENESS_HOURS), malformed/missing/"
        "wrong-type/oversize/extra-field records, a JSON value that is not an object, one truncated gzip object "
        "(default: %(default)s); scaled: the same kinds, the broken records in proportion to each hour's "
        "volume (0.5%%: a long low-volume history stays under the gate's quarantine share)",
    )
    p.add_argument(
        "--shape",
        choices=SHAPES,
        default="flat",
        help="flat: every hour EVENTS_PER_HOUR; retail: a daily and weekly rhythm with noise, averaging "
        "EVENTS_PER_HOUR (default: %(default)s)",
    )
    p.add_argument(
        "--anomalies",
        default="",
        metavar="KIND@HOUR,...",
        help="rate anomalies with ground truth (the rate alarm's test): outage (about 5%% of the hour's "
        "volume), spike (about 4x), silent (no object at all), e.g. outage@2026-11-08T14,silent@2026-11-09T03",
    )
    p.add_argument("--out", default=None, help="local folder or s3://bucket/prefix (default: LAKEHOUSE_RAW_ROOT)")
    p.add_argument(
        "--buffer-mib",
        type=_arg_positive_float,
        default=5.0,
        help="Firehose buffer size, uncompressed (default: %(default)s MiB)",
    )
    p.add_argument(
        "--buffer-seconds",
        type=_arg_positive_int,
        default=300,
        help="Firehose buffer interval (default: %(default)s s)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    start = args.start
    if start is None:
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        start = now - timedelta(hours=args.hours)
    try:
        anomalies = parse_anomalies(args.anomalies)
        config = GenerateConfig(
            start=start,
            hours=args.hours,
            events_per_hour=args.events_per_hour,
            seed=args.seed,
            stream_name=settings.stream_name,
            framing=args.framing,
            faults=args.faults,
            buffer_mib=args.buffer_mib,
            buffer_seconds=args.buffer_seconds,
            lateness_hours=settings.lateness_hours,  # the event made too late is late for this pipeline
            shape=args.shape,
            anomalies=anomalies,
        )
    except ValueError as exc:
        print(f"lakehouse generate: {exc}", file=sys.stderr)
        return 2
    out = args.out or settings.raw_root

    from lakehouse.console import progress, table
    from lakehouse.generate.hours import generate

    began = time.perf_counter()
    try:
        truth = generate(config, out, progress=progress)
    except ValueError as exc:  # e.g. an s3:// URI without a bucket
        print(f"lakehouse generate: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # I/O or S3 failure (pyarrow.fs raises OSError): say what failed, no traceback
        print(f"lakehouse generate: writing to {out} failed: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - began
    _print_summary(truth, elapsed, table)
    return 0


def _print_summary(truth: dict[str, Any], elapsed: float, table: Callable[..., str]) -> None:
    cfg, totals = truth["config"], truth["totals"]
    print(
        f"generated {cfg['hours']} arrival hour(s) from {cfg['start']} in {elapsed:.1f} s "
        f"(seed {cfg['seed']}, framing {cfg['framing']}, faults {cfg['faults']})"
    )
    rows = [
        (
            hr["arrival_hour"],
            len(hr["objects"]),
            hr["records"],
            hr["bronze_rows"],
            hr["quarantine_rows"],
            hr["duplicates"],
            hr["late_events"],
        )
        for hr in truth["hours"]
    ]
    rows.append(
        (
            "total",
            totals["objects"],
            totals["records"],
            totals["bronze_rows"],
            totals["quarantine_rows"],
            totals["duplicates"],
            totals["late_events"],
        )
    )
    print(table(("arrival hour", "objects", "records", "bronze", "quarantine", "duplicates", "late"), rows))
    if cfg["faults"] != "none":
        injected = {
            "duplicates": totals["duplicates"],
            "late": totals["late_events"],
            "extra_field": totals["extra_field_records"],
            **{reason: count for reason, count in totals["quarantine"].items() if count},
        }
        print("faults injected: " + ", ".join(f"{name} {count}" for name, count in injected.items()))
    if truth.get("rate", {}).get("anomalies"):
        print(
            "rate anomalies injected: "
            + ", ".join(f"{a['kind']} {a['arrival_hour']}" for a in truth["rate"]["anomalies"])
        )
    print(f"expected silver rows: {truth['expected']['silver_rows']:,}")
    print(f"objects:      {truth['out']}/{TABLE_PREFIX}/")
    print(f"ground truth: {truth['out']}/{truth['ground_truth_key']}")
