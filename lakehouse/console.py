"""Small helpers for the `lakehouse` CLI: progress lines on stderr, tables on stdout, hour arguments."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import datetime

from spark_jobs.jobargs import parse_hour  # the one arrival-hour parser (re-exported for the CLI)


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


def arg_hour(text: str) -> datetime:
    """`parse_hour` as an argparse `type=`: a bad hour is a usage error (exit 2)."""
    try:
        return parse_hour(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
