"""Turn one raw-zone object into spans -- records, non-object values, unparsable text -- in plain
Python (no Spark, no JVM), accounting for every byte.

Why here and not in Spark's JSON reader: Firehose concatenates records with no delimiter
unless the newline processor is on, Spark's line reader only knows newlines, and GZIP must be
recognised by its magic bytes rather than the `.gz` suffix. So each object is decoded here,
inside a Python worker, and cut into spans; the record spans are then parsed with an explicit
schema (Arrow's JSON reader in the same worker, Spark's `from_json` for what Arrow does not
accept: `reader.typed_records`, `transforms.parse_records`). Spark's parser reads the first
JSON value of a text and ignores whatever follows it, so a span handed to it must be exactly
one value: this module guarantees that, or the text following a value would be lost without a
trace.

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

1. Decode: GZIP when the object starts with `1f 8b` (multi-member streams are fine), streamed
   with a cap on the decoded size, keeping what decoded before a cut (`decode`); else the
   bytes as they are.
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
   decoder (`json.JSONDecoder.raw_decode`), by the rules above (`Scan`). Regions are rare:
   the decoder runs on a few hundred bytes per bad record, not on the hour. And linear
   whatever they hold: one vectorised pass finds where every brace of the region closes
   (`_Extents`), no start is ever rescanned, and a work count bounds the rest (`Scan`).
5. Count, per span, the `":` pairs (its keys in compact JSON, unless a string holds `":`).
   A record whose count differs from the number of known fields *may* carry unknown ones;
   only those few are parsed in Python to keep their extra fields (see `reader`).

Spans keep their trailing separator in the zero-copy text handed to the JVM (JSON ignores
trailing whitespace); `ends` gives each span's trimmed end, for sizes and quarantine text.
"""

from __future__ import annotations

import bisect
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from spark_jobs.limits import MAX_OBJECT_BYTES  # the decoded size beyond which an object is quarantined whole

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
SCAN_WINDOW_BYTES = 4 * 1024 * 1024  # the value-by-value scanner works on at most this much at once


class CorruptObject(ValueError):
    """The object cannot be decoded to its end (truncated or damaged GZIP stream)."""


class ObjectTooLarge(CorruptObject):
    """The object decodes to more than the cap (`max_object_bytes`): a gzip bomb or a runaway object."""


_INPUT_CHUNK = 256 * 1024  # compressed bytes per zlib call: at most this much is lost before a damage


@dataclass(frozen=True)
class Decoded:
    """An object's text bytes, and why it could not be decoded to its end (None: it was).

    On damage, `text` holds what decoded before it (framed like any object: the records there
    are salvaged) and `damage` says where the stream broke. `too_large`: decoding stopped at
    the cap and `text` is empty (nothing of the object is used).
    """

    text: bytes
    damage: str | None = None
    too_large: bool = False


def is_gzip(data: bytes) -> bool:
    """GZIP is recognised by its magic bytes, never by the object's name."""
    return data[:2] == GZIP_MAGIC


def decode(data: bytes, max_bytes: int = MAX_OBJECT_BYTES) -> Decoded:
    """The object's text bytes: decompressed when GZIP (streamed, capped at `max_bytes`), as-is otherwise.

    Streamed member by member (multi-member streams are fine) with zlib, never more than
    `max_bytes` + one chunk in memory: an object that decodes to more is `too_large`. A
    truncated stream keeps what decoded before the cut (deflate output up to a cut is exactly
    the original's start); a damaged one keeps its whole members before the damaged member.
    """
    if not is_gzip(data):
        return Decoded(b"", too_large=True) if len(data) > max_bytes else Decoded(data)
    out: list[bytes] = []
    size = 0
    pos = 0
    verified = 0  # pieces of `out` from members whose CRC held
    view = memoryview(data)
    while pos < len(data):
        if data[pos : pos + 2] != GZIP_MAGIC:
            damage = f"{len(data) - pos:,} bytes after the gzip member that ends at byte {pos:,} are not a gzip member"
            return Decoded(b"".join(out), damage)
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        member_start = pos
        while not inflater.eof:
            if pos >= len(data):
                damage = (
                    f"gzip stream truncated: it ends after {len(data):,} bytes, inside a member "
                    f"({size:,} bytes decoded before the end; the rest of the object is missing)"
                )
                return Decoded(b"".join(out), damage)
            chunk = view[pos : pos + _INPUT_CHUNK]
            try:
                piece = inflater.decompress(chunk, max_bytes - size + 1)
            except zlib.error as exc:
                # Damaged data is found where zlib notices it (at the latest by the member's CRC),
                # not where it is: the member's output may already hold wrong bytes. Only the
                # members before it, whose CRC held, are kept.
                kept = sum(len(p) for p in out[:verified])
                damage = (
                    f"gzip stream damaged in the member starting at byte {member_start:,} of {len(data):,} "
                    f"({exc}, noticed by byte {pos + len(chunk):,}): the {kept:,} decoded bytes of the members "
                    f"before it are kept, the {len(data) - member_start:,} bytes from there on are lost"
                )
                return Decoded(b"".join(out[:verified]), damage)
            size += len(piece)
            if size > max_bytes:
                return Decoded(b"", too_large=True)
            out.append(piece)
            pos += len(chunk) - len(inflater.unused_data)
        verified = len(out)
    return Decoded(out[0] if len(out) == 1 else b"".join(out))


def decode_object(data: bytes, max_bytes: int = MAX_OBJECT_BYTES) -> bytes:
    """The object's text bytes, or CorruptObject / ObjectTooLarge (all or nothing; see `decode`)."""
    decoded = decode(data, max_bytes)
    if decoded.too_large:
        raise ObjectTooLarge(f"the object decodes to more than {max_bytes:,} bytes")
    if decoded.damage:
        raise CorruptObject(decoded.damage)
    return decoded.text


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
    scan_work: int = 0  # steps the scanner took in those regions (see `Scan`): linear in scanned_bytes

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
    scanned = work = 0
    if not clean.all():
        starts, ends, kinds, scanned, work = _rescan_regions(data, starts, ends, odd, clean)
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
        work,
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
        ok[nested[ok[nested]]] &= ~_newline_in_a_string(view, starts, ends, nested[ok[nested]], quotes, end)
    return ok


def _newline_in_a_string(
    view: np.ndarray, starts: np.ndarray, ends: np.ndarray, pieces: np.ndarray, quotes: np.ndarray, end: int
) -> np.ndarray:
    """Per piece: does a line break fall between an odd and an even quote (inside a "string")?

    JSON strings hold no raw line break, so there the quote parity that judged the braces is
    wrong (a truncated `{"` line before a record): the piece is not one balanced object.
    """
    hit = np.zeros(len(pieces), dtype=bool)
    if not len(pieces):
        return hit
    newlines = np.flatnonzero(view[:end] == ord("\n"))
    owner = np.searchsorted(starts[pieces], newlines, side="right") - 1
    inside = (owner >= 0) & (newlines < ends[pieces][np.maximum(owner, 0)])
    newlines, owner = newlines[inside], owner[inside]
    odd = (np.searchsorted(quotes, newlines) - np.searchsorted(quotes, starts[pieces][owner])) % 2 == 1
    hit[owner[odd]] = True
    return hit


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
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Replace the unbalanced pieces by the spans the value-by-value scanner finds in them.

    Returns the spans, the bytes scanned and the scanner's work (see `Scan.work`).
    """
    out_starts: list[np.ndarray] = []
    out_ends: list[np.ndarray] = []
    out_kinds: list[np.ndarray] = []
    odd_list, clean_list = odd.tolist(), clean.tolist()
    n = len(starts)
    scanned = work = 0
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
        for window_lo, window_hi in _windows(data, lo, hi):
            more = _following_ends(ends, j + 1) if window_hi == hi else None
            found = Scan(data, window_lo, window_hi, more).run()
            scanned += found.hi - window_lo
            work += found.work
            out_starts.append(np.asarray([s for s, _, _ in found.spans], dtype=np.int64))
            out_ends.append(np.asarray([e for _, e, _ in found.spans], dtype=np.int64))
            out_kinds.append(np.asarray([k for _, _, k in found.spans], dtype=np.int8))
        if found.hi != hi:  # pieces the scan took along
            j = int(np.searchsorted(ends, found.hi))
        done = j + 1
    if done < n:
        out_starts.append(starts[done:])
        out_ends.append(ends[done:])
        out_kinds.append(np.zeros(n - done, dtype=np.int8))
    return np.concatenate(out_starts), np.concatenate(out_ends), np.concatenate(out_kinds), scanned, work


def _windows(data: bytes, lo: int, hi: int) -> list[tuple[int, int]]:
    """A region cut at line breaks into windows of at most SCAN_WINDOW_BYTES (whole characters).

    The scanner holds a few arrays per character of what it scans; windows keep that bounded
    for a region of any size (megabytes of junk or of bare values with no `}{` to cut at). A
    window ends at the last line break of its second half, else at its size.
    """
    windows = []
    while hi - lo > SCAN_WINDOW_BYTES:
        cut = data.rfind(b"\n", lo + SCAN_WINDOW_BYTES // 2, lo + SCAN_WINDOW_BYTES)
        if cut >= 0:
            cut += 1
        else:
            cut = lo + SCAN_WINDOW_BYTES
            while cut > lo + 1 and 0x80 <= data[cut] < 0xC0:  # not inside a UTF-8 sequence
                cut -= 1
        windows.append((lo, cut))
        lo = cut
    windows.append((lo, hi))
    return windows


def _following_ends(ends: np.ndarray, first: int) -> Callable[[int], int | None]:
    """`more(target)`: the end of the first later piece that reaches `target` (else the last one), or None.

    By index into `ends` (a binary search), never a copy of the rest: an object with many bad
    regions stays linear.
    """
    state = {"next": first}

    def more(target: int) -> int | None:
        k = state["next"]
        if k >= len(ends):
            return None
        k = min(max(k, int(np.searchsorted(ends, target))), len(ends) - 1)
        state["next"] = k + 1
        return int(ends[k])

    return more


# ------------------------------------------------------------------ the value-by-value scanner


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity: Python accepts them, JSON and Spark do not


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_WS = re.compile(r"[ \t\r\n\f\v\ufeff]*")
_CONTINUES_A_VALUE = frozenset(",:]}")
_BLANK = frozenset(" \t\r\n\f\v\ufeff")
_LINE = re.compile(r"[^ \t\r\n\f\v\ufeff](?:[^\n]*[^ \t\r\n\f\v\ufeff])?")
# Parse work a region may spend, per character of it (plus a constant), before the rest of it is
# resynchronised by lines only. Ordinary bad input spends about 1-2x; the bound is what keeps an
# adversarial region (nested broken records, each parse attempt reaching far) linear.
WORK_PER_CHAR = 8
WORK_BASE = 4096


class _Extents:
    """Where the balanced `{...}` (and `[...]`) opening at each position ends: one vectorised pass.

    A brace at position k is outside strings, for a parse that starts at a brace p of the same
    line, exactly when the number of unescaped quotes between p and k is even (JSON strings hold
    no raw line break). So the braces of a line fall into two classes by the parity of the
    quotes before them, each class one tokenization, and one depth count per class finds every
    extent of that class at once: no start position is ever rescanned. At a line break, the
    class that is outside strings at the end of the line carries on into the next line (a
    record printed over several lines); the other ended inside a string that never closes, and
    its open braces have no extent. A `chain` names each tokenization: braces of another chain
    inside an extent lie inside its strings.

    Pairs are found without a stack: within one tokenization and one bracket kind, the depth
    (a running count clamped at zero, so a stray closer is ignored) puts an opener and its
    closer on the same level, and on each level openers and closers alternate in text order.
    Work (`work`) is the number of tokens; arrays are per token, not per character (beside the
    text's code points), so memory follows the tokens.
    """

    def __init__(self, text: str) -> None:
        code = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        n = len(code)
        newlines = np.flatnonzero(code == 0x0A)
        quotes = np.flatnonzero(code == 0x22)
        if len(quotes):  # an odd run of backslashes before a quote escapes it (rare: a short loop)
            keep = np.ones(len(quotes), dtype=bool)
            for k in np.flatnonzero(code[np.maximum(quotes - 1, 0)] == 0x5C).tolist():
                p, run = int(quotes[k]) - 1, 0
                while p >= 0 and code[p] == 0x5C:
                    run, p = run + 1, p - 1
                keep[k] = run % 2 == 0
            quotes = quotes[keep]
        brace = (code == 0x7B) | (code == 0x7D) | (code == 0x5B) | (code == 0x5D)
        positions = np.flatnonzero(brace)
        del brace
        self.work = len(positions) + len(quotes) + len(newlines)
        line_starts = np.concatenate(([0], newlines + 1))
        line_ends = np.append(newlines, n)
        quotes_at_line_start = np.searchsorted(quotes, line_starts)
        end_parity = (np.searchsorted(quotes, line_ends) - quotes_at_line_start) % 2
        # chains: class 1 of line L is 2L+1 (new); class 0 is line 0's 0, or the class-1 chain
        # of the last earlier line that ended in class 1 (which carried on as class 0)
        lines = len(line_starts)
        carried = np.maximum.accumulate(np.where(end_parity == 1, np.arange(lines), -1))
        class0 = np.zeros(lines, dtype=np.int64)
        class0[1:] = np.where(carried[:-1] >= 0, 2 * carried[:-1] + 1, 0)
        line_of = np.searchsorted(newlines, positions)  # newlines before: the line number
        klass = (np.searchsorted(quotes, positions) - quotes_at_line_start[line_of]) % 2
        chain = np.where(klass == 1, 2 * line_of + 1, class0[line_of])
        symbol = code[positions]
        is_open = (symbol == 0x7B) | (symbol == 0x5B)
        kind = (symbol == 0x5B) | (symbol == 0x5D)  # bracket (1) or brace (0)
        group = chain * 2 + kind
        order = np.lexsort((positions, group))
        openers, closed = self._pairs(positions[order], group[order], is_open[order])
        # per opener (sorted by position): its end (-1: none) and, for `{`, its chain
        all_open = positions[is_open]
        self.open_pos = all_open
        self.open_end = np.full(len(all_open), -1, dtype=np.int64)
        self.open_end[np.searchsorted(all_open, openers)] = closed
        self.open_chain = np.where(code[all_open] == 0x7B, chain[is_open], -1)
        # record starts: a `{` whose extent is followed, past whitespace, by the end or not by `,:]}`
        braces = (self.open_chain >= 0) & (self.open_end >= 0)
        starts, ends = all_open[braces], self.open_end[braces]
        follower = code[np.minimum(ends, n - 1)] if n else ends
        good = (ends >= n) | ~np.isin(follower, _CONTINUES_ARRAY)
        blank = np.flatnonzero((ends < n) & np.isin(follower, _BLANK_ARRAY))  # look past the whitespace
        good[blank] = [_ends_a_record(code, int(e)) for e in ends[blank].tolist()]
        self.starts = starts[good].tolist()
        self.work += len(all_open) + len(blank)

    @staticmethod
    def _pairs(pos: np.ndarray, group: np.ndarray, is_open: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(opener positions, their ends) from the events sorted by (group, position)."""
        n = len(pos)
        if not n:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        first = np.concatenate(([True], group[1:] != group[:-1]))
        group_index = np.cumsum(first) - 1
        walk = np.cumsum(np.where(is_open, 1, -1))
        heads = np.flatnonzero(first)
        walk -= np.repeat(np.where(heads > 0, walk[heads - 1], 0), np.diff(np.append(heads, n)))
        spread = 2 * n + 2  # groups offset apart so one running minimum serves them all
        running_min = np.minimum.accumulate(walk - group_index * spread) + group_index * spread
        min_before = np.zeros(n, dtype=np.int64)
        min_before[1:] = running_min[:-1]
        min_before[first] = 0
        min_before = np.minimum(min_before, 0)
        keep = is_open | (walk >= min_before)  # a closer with nothing open is ignored
        depth_after = walk - np.minimum(min_before, walk)
        level = np.where(is_open, depth_after, depth_after + 1)  # an opener's level is after it, a closer's before
        p, o, lv, gr = pos[keep], is_open[keep], level[keep], group[keep]
        order = np.lexsort((p, lv, gr))
        p, o, lv, gr = p[order], o[order], lv[order], gr[order]
        pair = np.flatnonzero(o[:-1] & ~o[1:] & (lv[:-1] == lv[1:]) & (gr[:-1] == gr[1:]))
        found = np.argsort(p[pair], kind="stable")
        return p[pair][found], p[pair + 1][found] + 1

    def _index(self, pos: int) -> int:
        k = int(np.searchsorted(self.open_pos, pos))
        return k if k < len(self.open_pos) and int(self.open_pos[k]) == pos else -1

    def end(self, pos: int) -> int | None:
        """Where the `{` or `[` at `pos` closes (the position after its closer), or None."""
        k = self._index(pos)
        return None if k < 0 or self.open_end[k] < 0 else int(self.open_end[k])

    def chain(self, pos: int) -> int:
        k = self._index(pos)
        return -1 if k < 0 else int(self.open_chain[k])


_BLANK_CODES = frozenset(ord(c) for c in " \t\r\n\f\v\ufeff")
_CONTINUES_CODES = frozenset(ord(c) for c in ",:]}")
_BLANK_ARRAY = np.array(sorted(_BLANK_CODES), dtype=np.uint32)
_CONTINUES_ARRAY = np.array(sorted(_CONTINUES_CODES), dtype=np.uint32)


def _ends_a_record(code: np.ndarray, end: int) -> bool:
    """Could a record end at `end`: not followed (past whitespace) by what continues a value (`,:]}`)?

    Each extent end is followed by its own whitespace run (runs after distinct closers do not
    overlap), so all calls together step over each character at most once.
    """
    n = len(code)
    while end < n and int(code[end]) in _BLANK_CODES:
        end += 1
    return end >= n or int(code[end]) not in _CONTINUES_CODES


class Scan:
    """The spans (start, end, kind) of `data[lo:hi]`, value by value, in time linear in its size.

    Works on text (the JSON decoder needs `str`) decoded with `surrogateescape`, so any byte
    sequence round-trips; positions are mapped back to bytes at the end. The rules:

    - At each position, a JSON value is parsed (`raw_decode`): an object is a `RECORD` span,
      any other value `NOT_AN_OBJECT`. When it fails only because the text ended (the region
      was cut at a `}{` inside a string), `more` gives a later end to grow to, doubling the
      region each time (so the re-parses add up to a constant factor).
    - Where no value parses, the text up to the next plausible record start is one
      `MALFORMED` span. A plausible record start is a `{` whose balanced extent (`_Extents`) is
      followed by what ends a record (whitespace, a line break, the end, or anything but
      `,:]}`). A `{` that opens such an extent itself is one broken record, up to its end,
      unless a record start of another tokenization (inside its strings) comes first; else the
      span ends at the next record start on the line, or the line's end.
    - A value nested deeper than Python's parser allows (RecursionError) that is a balanced
      `{...}` is a `RECORD` span: the reader quarantines it as `nesting_too_deep`.
    - Work is counted (`work`: tokens of the extent pass, characters each parse reached,
      candidates looked at); past `WORK_PER_CHAR` per character the rest of the region is
      cut by lines only, one `MALFORMED` span per line.
    """

    def __init__(self, data: bytes, lo: int, hi: int, more: Callable[[int], int | None] | None = None) -> None:
        self.data, self.lo, self.hi, self.more = data, lo, hi, more
        self.text = data[lo:hi].decode("utf-8", "surrogateescape")
        self.extents: _Extents
        self.extent_work = 0
        self.spans: list[tuple[int, int, int]] = []
        self.work = 0
        self._candidates: list[int] = []
        self._prepare()

    def _prepare(self) -> None:
        """Extents and record starts of the text as it is now (again after it grew)."""
        self.extents = _Extents(self.text)
        self.extent_work += self.extents.work
        self._candidates = self.extents.starts
        self.budget = WORK_PER_CHAR * len(self.text) + WORK_BASE

    def run(self) -> Scan:
        decode, skip, append = _DECODER.raw_decode, _WS.match, self.spans.append
        text = self.text
        pos = skip(text).end()
        parsed = 0  # work of the values that parsed, kept local in the common case
        while pos < len(text):
            if parsed + self.work + self.extent_work > self.budget:
                self._by_lines(pos)
                break
            try:  # the common case inline: a value that parses
                value, end = decode(text, pos)
            except (ValueError, RecursionError) as exc:
                outcome = self._failed(pos, exc)
                if outcome is None:  # the text ended inside a string: it grew, try again
                    text = self.text
                    continue
                end, kind = outcome
                if kind == MALFORMED:
                    end = self._malformed_end(pos)
            else:
                kind = RECORD if type(value) is dict else NOT_AN_OBJECT
                parsed += end - pos
            append((pos, end, kind))
            pos = skip(text, end).end()
        self.work += parsed + self.extent_work
        if len(self.text) != self.hi - self.lo:  # not one character per byte: positions are characters
            self.spans = _to_bytes(self.text, self.spans, self.lo)
        else:
            lo = self.lo
            self.spans = [(lo + s, lo + e, k) for s, e, k in self.spans]
        return self

    def _failed(self, pos: int, exc: Exception) -> tuple[int, int] | None:
        """(end, kind) where no value parses at `pos` (usually (pos, MALFORMED)), None when the text grew."""
        text = self.text
        if isinstance(exc, json.JSONDecodeError):
            self.work += exc.pos - pos + 1
            # a valid value can run on past a cut only inside a string (outside one, `}` then `{`
            # needs a comma between): only then can more text change the outcome
            if exc.msg.startswith("Unterminated string") and self._grow(pos):
                return None
            return pos, MALFORMED
        extent = self.extents.end(pos) if text[pos] in "{[" else None
        if isinstance(exc, RecursionError):  # about a thousand levels in: how far is unknown, assume the worst
            self.work += (extent or len(text)) - pos
        else:  # NaN or Infinity, where a value was expected: at most to its value's or line's end
            newline = text.find("\n", pos)
            self.work += (extent or (len(text) if newline < 0 else newline)) - pos
        if isinstance(exc, RecursionError) and text[pos] == "{" and extent is not None and self._ends_a_record(extent):
            return extent, RECORD  # balanced, too deep for the parser: the reader says so
        return pos, MALFORMED

    def _grow(self, pos: int) -> bool:
        """Take later pieces along (at least doubling the text), unless none is left or the value
        would be longer than any record (`GLUE_LIMIT_BYTES`)."""
        if self.more is None or len(self.text) - pos > GLUE_LIMIT_BYTES:
            return False
        extended = self.more(self.hi + max(self.hi - self.lo, 64))
        if extended is None:
            return False
        self.text += self.data[self.hi : extended].decode("utf-8", "surrogateescape")
        self.hi = extended
        self._prepare()
        return True

    def _malformed_end(self, pos: int) -> int:
        """Where the unparsable text at `pos` ends (see the class docstring)."""
        text = self.text
        extent = self.extents.end(pos) if text[pos] == "{" else None
        if extent is not None and self._ends_a_record(extent):
            own = self.extents.chain(pos)
            for start in self._starts_after(pos, extent):
                if self.extents.chain(start) != own:
                    return _rstrip(text, pos, start)  # a record cut inside a string of this one
            return extent
        newline = text.find("\n", pos)
        line_end = len(text) if newline < 0 else newline
        for start in self._starts_after(pos, line_end):
            return _rstrip(text, pos, start)
        return _rstrip(text, pos, line_end)

    def _starts_after(self, pos: int, stop: int):
        """Record starts in (pos, stop), in order. Positions only move forward, so each start
        is looked at about once over the whole scan."""
        starts = self._candidates
        k = bisect.bisect_right(starts, pos)  # a list: bisect is fast
        while k < len(starts) and starts[k] < stop:
            self.work += 1
            yield starts[k]
            k += 1

    def _ends_a_record(self, end: int) -> bool:
        """Could a record end at `end`: not followed (past whitespace) by what continues a value (`,:]}`)?"""
        after = _WS.match(self.text, end).end()
        return after == len(self.text) or self.text[after] not in _CONTINUES_A_VALUE

    def _by_lines(self, pos: int) -> None:
        """Past the work bound: every line of the rest is one MALFORMED span (its blanks trimmed)."""
        for match in _LINE.finditer(self.text, pos):
            self.spans.append((match.start(), match.end(), MALFORMED))
        self.work += len(self.text) - pos


def scan(data: bytes, lo: int, hi: int, more: Callable[[int], int | None] | None = None) -> tuple[list, int]:
    """The spans (start, end, kind) of `data[lo:hi]` and the end actually scanned (see `Scan`)."""
    found = Scan(data, lo, hi, more).run()
    return found.spans, found.hi


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


# ------------------------------------------------------------------ what a span holds


def invalid_utf8(data: bytes) -> np.ndarray:
    """Positions of the bytes where an invalid UTF-8 sequence starts (empty: the text is valid UTF-8).

    JSON text is UTF-8; a record that is not must be kept as its bytes, not "repaired". ASCII
    objects (nearly all) cost one vectorised pass; the others one decode to the first error,
    then on from after it, so the whole object is read once however many errors it holds.
    """
    if not data or int(np.frombuffer(data, dtype=np.uint8).max()) < 0x80:
        return np.zeros(0, dtype=np.int64)
    view = memoryview(data)
    bad: list[int] = []
    pos = 0
    while pos < len(data):
        try:
            str(view[pos:], "utf-8")
            break
        except UnicodeDecodeError as exc:
            bad.append(pos + exc.start)
            pos += exc.end
    return np.asarray(bad, dtype=np.int64)


def spans_holding(positions: np.ndarray, found: Framing) -> np.ndarray:
    """Per span: does it hold any of the (sorted) byte positions?"""
    holds = np.zeros(len(found), dtype=bool)
    if len(positions) and len(found):
        index = np.searchsorted(found.starts, positions, side="right") - 1
        inside = (index >= 0) & (positions < found.ends[np.maximum(index, 0)])
        holds[index[inside]] = True
    return holds


_BRACKETS = np.array([ord(c) for c in "{[}]"], dtype=np.uint8)


def nesting_depth(data: bytes, start: int, end: int) -> int:
    """How deep the objects and arrays of `data[start:end]` nest, outside strings (one vectorised pass)."""
    piece = data[start:end]
    view = np.frombuffer(piece, dtype=np.uint8)
    positions = np.flatnonzero(np.isin(view, _BRACKETS))
    if not len(positions):
        return 0
    quotes = _unescaped_quotes(piece, len(piece))
    outside = np.searchsorted(quotes, positions) % 2 == 0
    kept = view[positions[outside]]
    steps = np.where((kept == _OPEN) | (kept == ord("[")), 1, -1)
    return int(np.cumsum(steps).max()) if len(steps) else 0
