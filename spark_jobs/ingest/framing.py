"""Turn one raw-zone object into spans -- records, non-object values, unparsable text -- in plain
Python (no Spark, no JVM), accounting for every byte.

Why here and not in Spark's JSON reader: Firehose concatenates records with no delimiter
unless the newline processor is on, Spark's line reader only knows newlines, and GZIP must be
recognised by its magic bytes rather than the `.gz` suffix. So each object is decoded here,
inside a Python worker, and cut into spans; the JVM then parses the record spans with an
explicit schema (see `transforms.parse_records`). Spark's parser reads the first JSON value
of a text and ignores whatever follows it, so a span handed to it must be exactly one value:
this module guarantees that, or the text following a value would be lost without a trace.

What a span is (the contract; `tests/unit/test_ingest_framing.py` checks it on random input):

- Every JSON value in the object is one span, in both framings (newline-delimited,
  concatenated with no delimiter) and any mix of them: an object is a `RECORD`; any other
  value (`[1, 2]`, `42`, `"x"`, `null`) is `NOT_AN_OBJECT`.
- Where no JSON value parses, the text up to the next plausible record start is one
  `MALFORMED` span: the end of its line, or, within the line, the next `{` from which an
  object parses (or which opens a balanced `{...}` followed by whitespace, a line break, the
  end, or another value). An unparsable text that itself is a balanced `{...}` followed like
  that is one span of its own (a record with a syntax error). Text after a complete value that
  is not whitespace is never part of that value: it is the next span.
- Between spans there is only whitespace: space, tab, CR, LF, FF, VT and UTF-8 BOMs.
- Accounting: span bytes + whitespace bytes = decoded size. The whitespace is counted by what
  the bytes are (not as a remainder), so a span the framing failed to emit shows up as a
  difference that the run record stores and the quality gate checks.

How, fast enough for 300 MB an hour (the common case costs a few vectorised passes and no
per-record Python; see docs/benchmarks.md):

1. Decode: GZIP when the object starts with `1f 8b` (multi-member streams are fine), else
   the bytes as they are.
2. Cut into pieces at every `}` followed by optional whitespace and `{` (numpy: from every
   `}`, step over whitespace bytes): in well-formed input of either framing these are
   exactly the records.
3. Check every piece at once (numpy): it starts with `{`, ends with `}`, holds an even number
   of unescaped quotes, and its brace depth outside strings comes back to zero only at its
   last byte (when the object holds one `{` and one `}` per piece, that needs no brace
   positions at all). Such a piece is one balanced object, which Spark parses whole: it is
   a `RECORD` span, valid or not (Spark tells `malformed_json` from the rest).
4. The other pieces (a non-object value, junk between records, a truncated record, a `}{`
   inside a string that made a false cut) are grouped into regions -- a piece with an odd
   quote count takes the following pieces along until the count is even again, so a string
   is never split -- and each region is scanned value by value with Python's own JSON
   decoder (`json.JSONDecoder.raw_decode`), by the rules above. Regions are rare: the
   decoder runs on a few hundred bytes per bad record, not on the hour.
5. Count, per span, the `":` pairs (its keys in compact JSON, unless a string holds `":`).
   A record whose count differs from the number of known fields *may* carry unknown ones;
   only those few are parsed in Python to keep their extra fields (see `reader`).

Spans keep their trailing separator in the zero-copy text handed to the JVM (JSON ignores
trailing whitespace); `ends` gives each span's trimmed end, for sizes and quarantine text.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
_SPACE = rb"[ \t\r\n\f\v]|\xef\xbb\xbf"
_BOUNDARY = re.compile(rb"\}(?:" + _SPACE + rb")*\{")  # cut after '}'; the next record starts at '{'
_LEADING = re.compile(rb"(?:" + _SPACE + rb")*")
_TRAILING_BYTES = frozenset(b" \t\r\n\f\v")
_OPEN, _CLOSE, _QUOTE, _BACKSLASH, _COLON = (ord(c) for c in '{}"\\:')
# Whitespace by byte class, for the accounting: the separators above (a BOM is 3 such bytes).
_WHITESPACE_CLASS = np.zeros(256, dtype=bool)
_WHITESPACE_CLASS[list(b" \t\r\n\f\v\xef\xbb\xbf")] = True

# Span kinds.
RECORD, NOT_AN_OBJECT, MALFORMED = 0, 1, 2
# A piece with an odd quote count glues the following pieces into its region until the count is
# even again, up to this many bytes (beyond Firehose's 1,000 KiB record limit, so a real record
# with '}{' inside a string is never split; junk that never closes its quote stops here).
GLUE_LIMIT_BYTES = 2 * 1024 * 1024
_SHORT_GAP = 64  # separators up to this long are counted vectorised
# How far the scanner looks for the closing brace of an unparsable `{`: past this, the `{`
# is not taken as the start of one broken record, and the text resynchronises by lines.
EXTENT_LIMIT_CHARS = 2 * 1024 * 1024


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
    """The spans of one decoded object, in order, and the whitespace between them.

    Span i is `data[starts[i]:ends[i]]` (trimmed) of kind `kinds[i]`. In the zero-copy text
    it runs on to the next start (the last one to `text_end`), so its trailing separator
    comes along. `whitespace[i]` counts the whitespace bytes after span i (span 0 also gets
    those before it), by byte class.
    """

    starts: np.ndarray  # int64
    ends: np.ndarray  # int64
    kinds: np.ndarray  # int8: RECORD, NOT_AN_OBJECT, MALFORMED
    text_end: int  # the decoded size
    key_counts: np.ndarray  # int64: '":' pairs per span (see _key_counts)
    whitespace: np.ndarray  # int64: whitespace bytes attributed to each span
    whitespace_bytes: int  # all whitespace bytes of the object (= whitespace.sum() unless it has no span)
    scanned_bytes: int = 0  # bytes in regions scanned value by value (the rest was cut by the regex)

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def sizes(self) -> np.ndarray:
        return self.ends - self.starts

    def accounted_bytes(self) -> int:
        """Span bytes + whitespace bytes: equals `text_end` when every byte is accounted for."""
        return int(self.sizes.sum()) + self.whitespace_bytes

    def spans(self, data: bytes) -> list[tuple[int, bytes]]:
        """(kind, trimmed text) of every span (for tests and small inputs; the job stays zero-copy)."""
        return [
            (k, data[s:e])
            for s, e, k in zip(self.starts.tolist(), self.ends.tolist(), self.kinds.tolist(), strict=True)
        ]

    def records(self, data: bytes) -> list[bytes]:
        """The trimmed texts of the record spans."""
        return [text for kind, text in self.spans(data) if kind == RECORD]


def frame(data: bytes) -> Framing:
    """Find the spans of a decoded object (both framings and any mix; BOMs and CRLF tolerated)."""
    first, end = _content_span(data)
    if first >= end:
        empty = np.zeros(0, dtype=np.int64)
        return Framing(empty, empty, empty.astype(np.int8), len(data), empty, empty, whitespace_bytes(data))
    view = np.frombuffer(data, dtype=np.uint8)
    closes = np.flatnonzero(view[:end] == _CLOSE)
    cuts = _cuts(data, view, closes, end)
    starts = np.empty(len(cuts) + 1, dtype=np.int64)
    ends = np.empty(len(cuts) + 1, dtype=np.int64)
    starts[0], ends[-1] = first, end
    if len(cuts):
        ends[:-1] = cuts + 1
        starts[1:] = _next_open_brace(view, cuts + 1)
    quotes = _unescaped_quotes(data, end)
    quotes_before_start = np.searchsorted(quotes, starts)
    odd = (np.searchsorted(quotes, ends) - quotes_before_start) % 2 == 1
    clean = _balanced_pieces(view, starts, ends, closes, quotes, quotes_before_start, odd)
    kinds = np.zeros(len(starts), dtype=np.int8)
    scanned = 0
    if not clean.all():
        starts, ends, kinds, scanned = _rescan_regions(data, starts, ends, odd, clean)
    whitespace = _whitespace_after(view, starts, ends, len(data))
    return Framing(
        starts,
        ends,
        kinds,
        len(data),
        _key_counts(view, starts, ends),
        whitespace,
        int(whitespace.sum()),
        scanned,
    )


def records(data: bytes) -> list[bytes]:
    """Decode and frame in one call: the trimmed record spans of a raw object."""
    text = decode_object(data)
    return frame(text).records(text)


def _content_span(data: bytes) -> tuple[int, int]:
    """Where the content starts and ends: whitespace and whole BOMs around it left out."""
    first = _LEADING.match(data).end()
    end = len(data)
    while end > first:
        if data[end - 1] in _TRAILING_BYTES:
            end -= 1
        elif end - 3 >= first and data[end - 3 : end] == UTF8_BOM:  # a BOM only as all three bytes
            end -= 3
        else:
            break
    return first, end


def _cuts(data: bytes, view: np.ndarray, closes: np.ndarray, end: int) -> np.ndarray:
    """Positions of every `}` followed by optional whitespace and `{` (the `_BOUNDARY` pattern).

    Vectorised: from every `}`, step over whitespace bytes until something else; a `{` there
    makes a cut. A separator holding bytes of the BOM class is checked against the exact
    pattern (a BOM is whitespace only as the whole three-byte sequence).
    """
    close = closes
    pos = close + 1
    alive = np.flatnonzero(pos < end)
    cut = np.zeros(len(close), dtype=bool)
    wide = np.zeros(len(close), dtype=bool)
    while len(alive):
        byte = view[pos[alive]]
        cut[alive[byte == _OPEN]] = True
        blank = _WHITESPACE_CLASS[byte]
        wide[alive[byte >= 0x80]] = True
        alive = alive[blank]
        pos[alive] += 1
        alive = alive[pos[alive] < end]
    cut_at = np.flatnonzero(cut)
    checked = cut_at[wide[cut_at]]
    if len(checked):
        exact = [_BOUNDARY.match(data, int(close[k])) is not None for k in checked.tolist()]
        cut[checked[~np.asarray(exact)]] = False
    return close[cut]


def _next_open_brace(view: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Position of the '{' that follows each cut (separators are short: usually 0-2 bytes)."""
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


def _balanced_pieces(
    view: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    closes: np.ndarray,
    quotes: np.ndarray,
    quotes_before_start: np.ndarray,
    odd: np.ndarray,
) -> np.ndarray:
    """Per piece: is it exactly one balanced `{...}` (so a parser reading one value reads it all)?

    The piece must open at its first byte, close at its last and hold an even number of
    unescaped quotes. A piece with no other brace is then balanced (nearly every record);
    the others are judged brace by brace: a brace counts when it lies outside strings, by
    the parity of the unescaped quotes between the piece's start and the brace (relative to
    the piece, so a broken piece earlier in the object cannot throw the judgement off), and
    the depth must return to zero at the last byte and nowhere before.
    """
    shape = (view[starts] == _OPEN) & (view[ends - 1] == _CLOSE) & ~odd
    end = int(ends[-1])
    if np.count_nonzero(view[:end] == _OPEN) == len(starts) == len(closes) and shape.all():
        return shape  # one '{' and one '}' per piece, at its ends: every piece is balanced (the common case)
    opens = np.flatnonzero(view[:end] == _OPEN)
    count = (
        np.searchsorted(opens, ends)
        - np.searchsorted(opens, starts)
        + np.searchsorted(closes, ends)
        - np.searchsorted(closes, starts)
    )
    ok = shape & (count == 2)  # its own first and last byte only
    nested = np.flatnonzero(shape & (count > 2))
    if len(nested):
        braces = np.sort(np.concatenate((opens, closes)))
        lo = np.searchsorted(braces, starts[nested])
        ok[nested] = _balanced_by_depth(view, braces, lo, count[nested], quotes, quotes_before_start[nested])
    return ok


def _balanced_by_depth(
    view: np.ndarray, braces: np.ndarray, lo: np.ndarray, count: np.ndarray, quotes: np.ndarray, qstart: np.ndarray
) -> np.ndarray:
    """For pieces with braces inside: does the depth outside strings reach zero only at the end?"""
    owner = np.repeat(np.arange(len(lo)), count)
    index = np.repeat(lo - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
    position = braces[index]
    outside = (np.searchsorted(quotes, position) - qstart[owner]) % 2 == 0
    step = np.where(view[position] == _OPEN, 1, -1) * outside
    depth = np.cumsum(step)
    first = np.cumsum(count) - count  # each piece's first brace in these arrays
    last = first + count - 1
    base = depth[first] - 1  # the depth before the piece's opening brace
    interior = depth.copy()
    interior[last] = np.iinfo(np.int64).max
    lowest = np.minimum.reduceat(interior, first)
    return (depth[last] == base) & (lowest > base) & outside[last]


def _rescan_regions(
    data: bytes, starts: np.ndarray, ends: np.ndarray, odd: np.ndarray, clean: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Replace the unbalanced pieces by the spans the value-by-value scanner finds in them."""
    out_starts: list[np.ndarray] = []
    out_ends: list[np.ndarray] = []
    out_kinds: list[np.ndarray] = []
    odd_list, clean_list = odd.tolist(), clean.tolist()
    n = len(starts)
    scanned = 0
    done = 0  # pieces before this index are emitted
    for i in np.flatnonzero(~clean).tolist():
        if i < done:
            continue  # already inside an earlier region
        if i > done:
            out_starts.append(starts[done:i])
            out_ends.append(ends[done:i])
            out_kinds.append(np.zeros(i - done, dtype=np.int8))
        j, inside_string = i, odd_list[i]
        while j + 1 < n and (not clean_list[j + 1] or (inside_string and ends[j + 1] - starts[i] <= GLUE_LIMIT_BYTES)):
            j += 1
            inside_string ^= odd_list[j]
        lo, hi = int(starts[i]), int(ends[j])
        following = iter(ends[j + 1 :].tolist())
        spans, hi = scan(data, lo, hi, lambda following=following: next(following, None))
        scanned += hi - lo
        out_starts.append(np.asarray([s for s, _, _ in spans], dtype=np.int64))
        out_ends.append(np.asarray([e for _, e, _ in spans], dtype=np.int64))
        out_kinds.append(np.asarray([k for _, _, k in spans], dtype=np.int8))
        j = int(np.searchsorted(ends, hi)) if hi != int(ends[j]) else j  # pieces the scan took along
        done = j + 1
    if done < n:
        out_starts.append(starts[done:])
        out_ends.append(ends[done:])
        out_kinds.append(np.zeros(n - done, dtype=np.int8))
    return np.concatenate(out_starts), np.concatenate(out_ends), np.concatenate(out_kinds), scanned


# ------------------------------------------------------------------ the value-by-value scanner


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity: Python accepts them, JSON and Spark do not


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_WS = re.compile(r"[ \t\r\n\f\v\ufeff]*")
# A whole string (JSON strings hold no raw line break), a brace, or a quote that opens no string.
_STRUCTURE = re.compile(r'"[^"\\\n]*(?:\\[^\n][^"\\\n]*)*"|[{}]|"')
_CONTINUES_A_VALUE = frozenset(",:]}")
_BLANK = frozenset(" \t\r\n\f\v\ufeff")


def scan(data: bytes, lo: int, hi: int, more: Callable[[], int | None] | None = None) -> tuple[list, int]:
    """The spans (start, end, kind) of `data[lo:hi]`, value by value, by the module's rules.

    Works on text (the JSON decoder needs `str`) decoded with `surrogateescape`, so any byte
    sequence round-trips and invalid UTF-8 only makes its span unparsable; positions are
    mapped back to bytes at the end. When a value fails to parse only because the text ended
    (a string still open: the region was cut at a `}{` inside it), `more()` gives a later
    end to extend to (None: there is none). Returns the spans and the end actually scanned.
    """
    text = data[lo:hi].decode("utf-8", "surrogateescape")
    spans: list[tuple[int, int, int]] = []
    pos = _WS.match(text).end()
    while pos < len(text):
        try:
            value, end = _DECODER.raw_decode(text, pos)
            kind = RECORD if isinstance(value, dict) else NOT_AN_OBJECT
        except (ValueError, RecursionError) as exc:
            if more is not None and _hit_the_end(exc, text):
                extended = more()
                if extended is not None:
                    text += data[hi:extended].decode("utf-8", "surrogateescape")
                    hi = extended
                    continue  # parse the same value again, with more text
            kind = MALFORMED
            end = _broken_record_end(text, pos)
            if end is None or _record_start(text, pos + 1, end, followed=True) is not None:
                end = _rstrip(text, pos, _resync(text, pos))
        spans.append((pos, end, kind))
        pos = _WS.match(text, end).end()
    if len(text) == hi - lo:  # one character per byte: positions are bytes
        return [(lo + s, lo + e, k) for s, e, k in spans], hi
    return _to_bytes(text, spans, lo), hi


def _hit_the_end(exc: BaseException, text: str) -> bool:
    """Did the decoder fail because the text ended (so more text could change the outcome)?"""
    if not isinstance(exc, json.JSONDecodeError):
        return False
    return exc.pos >= len(text) or exc.msg.startswith("Unterminated string")


def _resync(text: str, pos: int) -> int:
    """Where the unparsable text at `pos` ends: the next line, or an earlier `{` that starts a record."""
    newline = text.find("\n", pos)
    limit = len(text) if newline < 0 else newline
    found = _record_start(text, pos + 1, limit)
    return limit if found is None else found


def _record_start(text: str, start: int, stop: int, followed: bool = False) -> int | None:
    """The first `{` in text[start:stop] from which an object parses, or which opens a broken record.

    With `followed`, only an object that could end a record (see `_ends_a_record`) counts:
    inside a balanced `{...}` a parsable `{` is either a nested object (followed by `,` or
    `}`: part of the broken record) or the next record after one cut inside a string.
    """
    brace = text.find("{", start, stop)
    while brace >= 0:
        try:
            _, end = _DECODER.raw_decode(text, brace)
            if not followed or _ends_a_record(text, end):
                return brace
        except (ValueError, RecursionError):
            if not followed and _broken_record_end(text, brace) is not None:
                return brace
        brace = text.find("{", brace + 1, stop)
    return None


def _ends_a_record(text: str, end: int) -> bool:
    """Could a record end at `end`: not followed (past whitespace) by what continues a value (`,:]}`)?"""
    after = _WS.match(text, end).end()
    return after == len(text) or text[after] not in _CONTINUES_A_VALUE


def _broken_record_end(text: str, pos: int) -> int | None:
    """The end of the balanced `{...}` that opens at `pos`, when a record could end there.

    It could unless what follows it (past whitespace) continues a value (`,:]}`: then the
    braces are a nested object of something larger). None then, or when `pos` holds no `{`,
    or the braces never close (within EXTENT_LIMIT_CHARS).
    """
    if text[pos] != "{":
        return None
    depth = 0
    for match in _STRUCTURE.finditer(text, pos, min(len(text), pos + EXTENT_LIMIT_CHARS)):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:
                return match.end() if _ends_a_record(text, match.end()) else None
        elif token == '"':
            return None  # a quote that never closes: no balanced extent
    return None


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start + 1 and text[end - 1] in _BLANK:
        end -= 1
    return end


def _to_bytes(text: str, spans: list[tuple[int, int, int]], lo: int) -> list[tuple[int, int, int]]:
    """Character positions -> byte positions, encoding only the text between consecutive positions."""
    out = []
    char, byte = 0, lo
    for s, e, k in spans:
        byte += len(text[char:s].encode("utf-8", "surrogateescape"))
        start_byte = byte
        byte += len(text[s:e].encode("utf-8", "surrogateescape"))
        out.append((start_byte, byte, k))
        char = e
    return out


# ------------------------------------------------------------------ per-span figures


def _key_counts(view: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Per span, how many `":` pairs it holds: its keys in compact JSON (`"k" : v` counts 0).

    Counted from each span's start to the next one's: what lies between is whitespace.
    """
    end = int(ends[-1])
    pairs = view[1:end] == _COLON
    pairs &= view[: end - 1] == _QUOTE
    return np.diff(np.searchsorted(np.flatnonzero(pairs), np.append(starts, end)))


def _whitespace_after(view: np.ndarray, starts: np.ndarray, ends: np.ndarray, size: int) -> np.ndarray:
    """Whitespace bytes after each span (the first span also gets the leading ones), by byte class.

    Counted from what the bytes are, not as what is left over: a gap holding anything but
    whitespace makes `accounted_bytes()` fall short of the decoded size (and overlapping
    spans make it exceed it).
    """
    gap_starts = np.concatenate(([0], ends))
    gap_ends = np.concatenate((starts, [size]))
    lengths = np.maximum(gap_ends - gap_starts, 0)
    per_gap = np.zeros(len(lengths), dtype=np.int64)
    short = np.flatnonzero((lengths > 0) & (lengths <= _SHORT_GAP))
    if len(short):  # separators: 1-2 bytes each, vectorised byte by byte
        n = lengths[short]
        owner = np.repeat(short, n)
        offsets = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        is_blank = _WHITESPACE_CLASS[view[gap_starts[owner] + offsets]]
        per_gap += np.bincount(owner, weights=is_blank, minlength=len(lengths)).astype(np.int64)
    for k in np.flatnonzero(lengths > _SHORT_GAP).tolist():  # long runs (padding, blank lines): few
        gap = view[gap_starts[k] : gap_ends[k]]
        per_gap[k] = int(np.count_nonzero(_WHITESPACE_CLASS[gap]))
    out = per_gap[1:].copy()
    out[0] += per_gap[0]  # leading whitespace goes with the first span
    return out


def whitespace_bytes(data: bytes) -> int:
    """Whitespace bytes of a text, by byte class (for objects with no span at all)."""
    return int(np.count_nonzero(_WHITESPACE_CLASS[np.frombuffer(data, dtype=np.uint8)]))
