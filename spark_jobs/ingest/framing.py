"""Turn one raw-zone object into record boundaries, in plain Python (no Spark, no JVM).

Why here and not in Spark's JSON reader: Firehose concatenates records with no delimiter
unless the newline processor is on, Spark's line reader only knows newlines, and GZIP must be
recognised by its magic bytes rather than the `.gz` suffix. So each object is decoded here,
inside a Python worker, and cut into records; the JVM then parses the records with an
explicit schema (see `transforms.parse_records`).

How records are found, fast enough for 300 MB an hour (about 1.5 s of CPU per 1M records):

1. Decode: GZIP when the object starts with `1f 8b` (multi-member streams are fine), else
   the bytes as they are. BOMs and whitespace around the content are skipped.
2. Cut at every `}` followed by optional whitespace (CR/LF included, and stray BOMs) and `{`,
   with one C-level regex scan. That is exact for both framings unless a *string* contains
   `}{`, which valid JSON allows.
3. Repair those rare false cuts: a piece cut inside a string holds an odd number of
   unescaped quotes (one vectorised pass finds every quote). Only such pieces are looked at
   again, and glued to the following pieces when the glued text parses as a JSON object.
   A malformed record with an odd quote count stays alone (gluing it would not parse), so it
   is quarantined on its own instead of swallowing its neighbours.
4. Count, per record, the `":` pairs (its keys in compact JSON, unless a string holds `":`).
   A record whose count differs from the number of known fields *may* carry unknown ones;
   only those few are parsed in Python to keep their extra fields (see `reader`).

Records keep their trailing separator in the zero-copy text handed to the JVM (JSON ignores
trailing whitespace); `ends` gives each record's trimmed end, for sizes and quarantine text.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from dataclasses import dataclass

import numpy as np

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
_SPACE = rb"[ \t\r\n\f\v]|\xef\xbb\xbf"
_BOUNDARY = re.compile(rb"\}(?:" + _SPACE + rb")*\{")  # cut after '}'; the next record starts at '{'
_LEADING = re.compile(rb"(?:" + _SPACE + rb")*")
_TRAILING_BYTES = frozenset(b" \t\r\n\f\v\xef\xbb\xbf")
_OPEN, _QUOTE, _BACKSLASH, _COLON = (ord(c) for c in '{"\\:')
MAX_GLUED_PIECES = 16  # a string would need 15 '}{' in it to defeat the repair


class CorruptObject(ValueError):
    """The object cannot be decoded (truncated or damaged GZIP stream)."""


def is_gzip(data: bytes) -> bool:
    """GZIP is recognised by its magic bytes, never by the object's name."""
    return data[:2] == GZIP_MAGIC


def decode_object(data: bytes) -> bytes:
    """The object's text bytes: decompressed when GZIP, as-is otherwise."""
    if not is_gzip(data):
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as exc:  # truncated -> EOFError; damaged -> BadGzipFile/zlib.error
        raise CorruptObject(f"unreadable gzip stream ({type(exc).__name__}: {exc})") from exc


@dataclass(frozen=True)
class Framing:
    """Record boundaries inside one decoded object.

    Record i is `data[starts[i]:ends[i]]`. In the zero-copy text it runs on to the next start
    (the last one to `text_end`), so its trailing separator whitespace comes along.
    """

    starts: np.ndarray  # int64
    ends: np.ndarray  # int64
    text_end: int
    key_counts: np.ndarray  # int64: '":' pairs per record (see _key_counts)
    glued: int = 0  # false cuts ('}{' inside a string) that were repaired

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def sizes(self) -> np.ndarray:
        return self.ends - self.starts

    def records(self, data: bytes) -> list[bytes]:
        """The trimmed record texts (for tests and small inputs; the job stays zero-copy)."""
        return [data[s:e] for s, e in zip(self.starts.tolist(), self.ends.tolist(), strict=True)]


def frame(data: bytes) -> Framing:
    """Find the records in a decoded object (both framings, BOMs and CRLF tolerated)."""
    first, end = _content_span(data)
    if first >= end:
        empty = np.zeros(0, dtype=np.int64)
        return Framing(empty, empty, end, empty)
    cuts = np.fromiter((m.start() for m in _BOUNDARY.finditer(data, first, end)), dtype=np.int64)
    starts = np.empty(len(cuts) + 1, dtype=np.int64)
    ends = np.empty(len(cuts) + 1, dtype=np.int64)
    starts[0], ends[-1] = first, end
    if len(cuts):
        ends[:-1] = cuts + 1
        starts[1:] = _next_open_brace(data, cuts + 1)
    quotes = _unescaped_quotes(data, end)
    odd = np.diff(np.searchsorted(quotes, np.append(starts, end))) % 2 == 1
    glued = 0
    if odd.any():
        starts, ends, glued = _repair(data, starts, ends, odd)
    return Framing(starts, ends, end, _key_counts(data, starts, end), glued)


def records(data: bytes) -> list[bytes]:
    """Decode and frame in one call: the trimmed records of a raw object."""
    text = decode_object(data)
    return frame(text).records(text)


def _content_span(data: bytes) -> tuple[int, int]:
    first = _LEADING.match(data).end()
    end = len(data)
    while end > first and data[end - 1] in _TRAILING_BYTES:
        end -= 1
    return first, end


def _next_open_brace(data: bytes, after: np.ndarray) -> np.ndarray:
    """Position of the '{' that follows each cut (separators are short: usually 0-2 bytes)."""
    view = np.frombuffer(data, dtype=np.uint8)
    pos = after.copy()
    pending = np.flatnonzero(view[pos] != _OPEN)
    while len(pending):
        pos[pending] += 1
        pending = pending[view[pos[pending]] != _OPEN]
    return pos


def _unescaped_quotes(data: bytes, end: int) -> np.ndarray:
    """Positions of the quotes that open or close a string (escaped ones left out)."""
    view = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(view[:end] == _QUOTE)
    if len(quotes) and data.find(b"\\", 0, end) != -1:
        keep = np.ones(len(quotes), dtype=bool)
        for k in np.flatnonzero(view[np.maximum(quotes - 1, 0)] == _BACKSLASH).tolist():
            p, run = int(quotes[k]) - 1, 0
            while p >= 0 and data[p] == _BACKSLASH:
                run, p = run + 1, p - 1
            keep[k] = run % 2 == 0  # an odd run of backslashes escapes the quote
        quotes = quotes[keep]
    return quotes


def _key_counts(data: bytes, starts: np.ndarray, end: int) -> np.ndarray:
    """Per record, how many `":` pairs it holds: its keys in compact JSON (`"k" : v` counts 0)."""
    view = np.frombuffer(data, dtype=np.uint8)
    pairs = view[1:end] == _COLON
    pairs &= view[: end - 1] == _QUOTE
    return np.diff(np.searchsorted(np.flatnonzero(pairs), np.append(starts, end)))


def _parses_as_object(text: bytes) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return False


def _repair(data: bytes, starts: np.ndarray, ends: np.ndarray, odd: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Glue pieces cut inside a string back together (only where the glued text parses)."""
    start_list, end_list, odd_list = starts.tolist(), ends.tolist(), odd.tolist()
    keep_start, keep_end = [], []
    glued, i, n = 0, 0, len(start_list)
    while i < n:
        j = i
        if odd_list[i]:
            parity = True
            for k in range(i + 1, min(n, i + MAX_GLUED_PIECES)):
                parity ^= odd_list[k]
                if not parity:
                    if _parses_as_object(data[start_list[i] : end_list[k]]):
                        j = k
                    break
        keep_start.append(start_list[i])
        keep_end.append(end_list[j])
        glued += j - i
        i = j + 1
    if not glued:
        return starts, ends, 0
    return np.asarray(keep_start, np.int64), np.asarray(keep_end, np.int64), glued
