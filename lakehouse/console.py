"""Small helpers for the `lakehouse` CLI: progress lines on stderr, tables on stdout, hour arguments."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime


def progress(message: str) -> None:
    """One progress line on stderr, so stdout stays parseable."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    rows = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def parse_hour(text: str) -> datetime:
    """'2026-11-01T08', '2026-11-01T08:00', '2026-11-01T08:00:00Z' or with an offset -> UTC hour."""
    raw = text.strip()
    if len(raw) == 13 and raw[10] in "T ":  # date + hour only
        raw += ":00"
    try:
        moment = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO hour such as 2026-11-01T08 or 2026-11-01T08:00:00Z") from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if (moment.minute, moment.second, moment.microsecond) != (0, 0, 0):
        raise ValueError(f"{text!r} is not on the hour; arrival hours start at :00 (e.g. {moment:%Y-%m-%dT%H})")
    return moment


def arg_hour(text: str) -> datetime:
    """`parse_hour` as an argparse `type=`: a bad hour is a usage error (exit 2)."""
    try:
        return parse_hour(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
