"""Landing manifest -> a DataFrame of framed records, one row per record.

The manifest (written by `lakehouse_core.landing`) lists the hour's objects with their sizes, so a
run -- and every retry of it -- reads exactly the same input, whatever lands later.

Objects are read by Spark's `binaryFile` source (Hadoop FileSystem: local, s3:// on Glue and
EMR), then decoded, framed (see `framing`) and parsed in Python workers (`mapInArrow`): the
record spans of an object go through Arrow's JSON reader (C++, columnar) with the event
schema (`typed_records`), so the JVM receives typed columns instead of 350 MB of text to
parse row by row. A 300 MB hour costs one decompression, a few vectorised passes and one
columnar parse -- no per-record Python work except for the rare records that may carry unknown
fields and the rare stretches of bad input.

Arrow's reader is all or nothing per call and stricter than Spark's (a number where a string
is expected fails the whole call; so does a decimal with more places than the scale, which
Spark rounds). So it only ever *accepts*: a call that fails is split in halves until the
records it rejects stand alone, and those, with every timestamp not in the strict ISO form
`YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, keep `parsed` false and are parsed by the JVM exactly as
before (`transforms.parse_records`: Spark's `from_json`, which also tells why a record is
invalid). For the records Arrow accepts, its values are the ones Spark gives (strings, int32,
decimal(12,3) and the strict timestamp form leave no room for a difference;
tests/unit/test_ingest_parse.py compares them). A typed record's text goes to the JVM only
when the quarantine may need it (a required field null, an event_ts outside the bounds given).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from spark_jobs.ingest import framing
from spark_jobs.ingest.contract import (
    CORRUPT_OBJECT,
    EVENT_FIELDS,
    FRAMED_SCHEMA,
    INVALID_UTF8,
    KNOWN_FIELDS,
    MALFORMED,
    MAX_NESTING_DEPTH,
    MAX_OBJECT_BYTES,
    NESTING_TOO_DEEP,
    NOT_AN_OBJECT,
    OBJECT_TOO_LARGE,
    OVERSIZE,
    REQUIRED_FIELDS,
)

BATCH_ROWS = 32_768  # Arrow batch size handed back to the JVM


def read_manifest(spark, uri: str) -> dict[str, Any]:
    """The manifest JSON, read on the driver through Hadoop's FileSystem (local, file://, s3://).

    Through the JVM rather than `open()` or boto3, so it works wherever Spark can read the
    objects themselves; and without a Spark job, which would cost seconds for one small file.
    """
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    stream = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).open(path)
    try:
        text = jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()
    manifest = json.loads(text)
    if not isinstance(manifest.get("objects"), list):
        raise ValueError(f"manifest {uri} has no 'objects' list")
    return manifest


def object_key(uri: str) -> str:
    """A scheme-normalised key, so binaryFile's `file:/x` matches the manifest's `file:///x` or `/x`."""
    parts = urlsplit(uri)
    scheme = {"": "file", "s3a": "s3", "s3n": "s3"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}{parts.path}"


def framed_records(
    spark,
    objects: list[Mapping[str, Any]],
    max_record_bytes: int,
    max_object_bytes: int = MAX_OBJECT_BYTES,
    event_ts_bounds: tuple[datetime, datetime] | None = None,
):
    """One row per span of the manifest's objects (schema `FRAMED_SCHEMA`), records typed.

    `event_ts_bounds` (oldest, newest accepted event_ts): a typed record inside them needs no
    text in the JVM (see `object_batches`); without them every span keeps its text.
    """
    if not objects:
        return spark.createDataFrame([], FRAMED_SCHEMA)
    by_key = {object_key(o["uri"]): (o["uri"], int(o["size"])) for o in objects}
    binaries = spark.read.format("binaryFile").load([o["uri"] for o in objects]).select("path", "content")
    frame_batch = functools.partial(
        _frame_batches,
        by_key=by_key,
        max_record_bytes=max_record_bytes,
        max_object_bytes=max_object_bytes,
        event_ts_bounds=event_ts_bounds,
    )
    return binaries.mapInArrow(frame_batch, FRAMED_SCHEMA)


def _frame_batches(
    batches,
    by_key: dict[str, tuple[str, int]],
    max_record_bytes: int,
    max_object_bytes: int,
    event_ts_bounds: tuple[datetime, datetime] | None = None,
) -> Iterator:
    """mapInArrow body: (path, content) batches in, framed-record batches out."""
    for batch in batches:
        paths = batch.column("path").to_pylist()
        contents = batch.column("content")
        for i, path in enumerate(paths):
            uri, size = by_key[object_key(path)]
            raw = contents[i].as_py()
            if len(raw) != size:
                raise RuntimeError(
                    f"{uri} has {len(raw)} bytes but the manifest says {size}: the input changed after the manifest"
                )
            yield from object_batches(uri, raw, max_record_bytes, max_object_bytes, event_ts_bounds)


def object_batches(
    uri: str,
    raw: bytes,
    max_record_bytes: int,
    max_object_bytes: int = MAX_OBJECT_BYTES,
    event_ts_bounds: tuple[datetime, datetime] | None = None,
) -> Iterator:
    """Arrow batches (FRAMED_SCHEMA) for one object: one row per span, plus object-level rows.

    Record spans are typed here (`typed_records`); those Arrow does not accept go to the JVM to
    be parsed; the spans the framing already rejects (not an object, unparsable text, a record
    over the size limit, bytes that are not UTF-8, nesting too deep for the parsers) carry
    their reason. Every row carries its bytes and the whitespace after it, and the object's
    first row the object's decoded size, so the run can account for every byte (`job._count`).

    Text: with `event_ts_bounds`, a typed record with every required field and its event_ts
    inside the bounds (so it can only be valid) goes without its text; every other span keeps
    it, for the JVM's parse or the quarantine. Without bounds every span keeps its text.

    Total: whatever one object's bytes make any step here raise is caught, and the object
    becomes one `corrupt_object` row saying why, so no input can fail the hour (nothing is
    yielded before the whole object is framed, so its rows are all or nothing).
    """
    import pyarrow as pa

    try:
        batches = list(_object_batches(pa, uri, raw, max_record_bytes, max_object_bytes, event_ts_bounds))
    except Exception as exc:  # one object's bytes must never stop the hour
        detail = f"the object could not be framed ({type(exc).__name__}: {str(exc)[:500]}); nothing of it was read"
        batches = [_object_row(pa, uri, CORRUPT_OBJECT, detail, size=len(raw), object_bytes=len(raw))]
    yield from batches


def _object_batches(
    pa, uri: str, raw: bytes, max_record_bytes: int, max_object_bytes: int, event_ts_bounds=None
) -> Iterator:
    decoded = framing.decode(raw, max_object_bytes)
    if decoded.too_large:
        detail = f"the object decodes to more than {max_object_bytes:,} bytes (max_object_bytes): not read"
        yield _object_row(pa, uri, OBJECT_TOO_LARGE, detail, size=len(raw), object_bytes=len(raw))
        return
    text = decoded.text
    found = framing.frame(text)
    n = len(found)
    damaged = decoded.damage is not None
    if damaged and not n:  # nothing but whitespace decoded before the damage: the object is one row
        yield _object_row(
            pa,
            uri,
            CORRUPT_OBJECT,
            decoded.damage,
            size=len(raw),
            object_bytes=len(text) + len(raw),
            whitespace=found.whitespace_bytes,
        )
        return
    sizes = found.sizes
    kinds = found.kinds
    bounds = np.append(found.starts, found.text_end)
    is_record = kinds == framing.RECORD
    oversize = is_record & (sizes > max_record_bytes)
    not_utf8 = framing.spans_holding(framing.invalid_utf8(text), found) & ~oversize
    too_deep = np.zeros(n, dtype=bool)
    for i in np.flatnonzero(is_record & ~oversize & ~not_utf8 & (sizes > 2 * MAX_NESTING_DEPTH)).tolist():
        too_deep[i] = framing.nesting_depth(text, int(found.starts[i]), int(found.ends[i])) > MAX_NESTING_DEPTH
    rejected_record = oversize | not_utf8 | too_deep
    maybe_extra = is_record & (found.key_counts != len(KNOWN_FIELDS)) & ~rejected_record
    rejected = np.flatnonzero(~is_record | rejected_record)
    typed, parsed = typed_records(text, found.starts, found.ends, is_record & ~rejected_record)
    keep_text = ~parsed if event_ts_bounds is not None else np.ones(n, dtype=bool)
    if event_ts_bounds is not None and parsed.any():
        keep_text |= _may_be_rejected(typed, event_ts_bounds)
    for a in range(0, n, BATCH_ROWS):
        b = min(n, a + BATCH_ROWS)
        record = _texts(pa, text, bounds, a, b, keep_text[a:b])
        reason, detail, extra, raw_bytes = [None] * (b - a), [None] * (b - a), [None] * (b - a), [None] * (b - a)
        for i in rejected[(rejected >= a) & (rejected < b)].tolist():
            if not_utf8[i]:
                span = text[int(found.starts[i]) : int(found.ends[i])]
                reason[i - a] = INVALID_UTF8
                detail[i - a] = f"bytes that are not UTF-8 ({len(span)} bytes; raw_bytes holds them exactly)"
                raw_bytes[i - a] = span[:max_record_bytes]
            elif too_deep[i]:
                reason[i - a] = NESTING_TOO_DEEP
                detail[i - a] = f"objects and arrays nested deeper than {MAX_NESTING_DEPTH} levels"
            else:
                reason[i - a], detail[i - a] = _frame_reason(text, found, i, max_record_bytes)
        for k in np.flatnonzero(maybe_extra[a:b]).tolist():
            extra[k] = extra_fields_json(text[found.starts[a + k] : found.ends[a + k]])
        object_bytes = [None] * (b - a)
        if a == 0:
            object_bytes[0] = found.text_end + (len(raw) if damaged else 0)
        yield _batch(
            pa,
            source=[uri] * (b - a),
            index=pa.array(np.arange(a, b, dtype=np.int64)),
            record=record,
            size=pa.array(sizes[a:b]),
            reason=reason,
            detail=detail,
            extra=extra,
            whitespace=pa.array(found.whitespace[a:b]),
            object_bytes=pa.array(object_bytes, pa.int64()),
            raw_bytes=raw_bytes,
            parsed=pa.array(parsed[a:b]),
            typed=[column.slice(a, b - a) for column in typed],
        )
    if damaged:  # the salvaged spans are above; the object's damage is one more row, with its raw size
        yield _object_row(pa, uri, CORRUPT_OBJECT, decoded.damage, size=len(raw), object_bytes=None)


def _object_row(pa, uri: str, reason: str, detail: str, *, size: int, object_bytes: int | None, whitespace: int = 0):
    """One object-level row (no record index, no text): a corrupt or too-large object."""
    return _batch(
        pa,
        source=[uri],
        index=pa.array([None], pa.int64()),
        record=pa.array([None], pa.string()),
        size=pa.array([size], pa.int64()),
        reason=[reason],
        detail=[detail],
        extra=[None],
        whitespace=pa.array([whitespace], pa.int64()),
        object_bytes=pa.array([object_bytes], pa.int64()),
        raw_bytes=[None],
    )


def _texts(pa, text: bytes, bounds: np.ndarray, a: int, b: int, keep: np.ndarray):
    """The span texts of rows a..b (each runs on to the next span's start), null where not kept.

    All kept (no bounds given, or a batch of rejected records): zero-copy slices of the decoded
    buffer. Otherwise only the kept texts are copied, so typed records cost no transfer.
    """
    lo, hi = int(bounds[a]), int(bounds[b])
    if keep.all():
        offsets = (bounds[a : b + 1] - lo).astype(np.int32)
        return pa.Array.from_buffers(
            pa.string(), b - a, [None, pa.py_buffer(offsets), pa.py_buffer(memoryview(text)[lo:hi])]
        )
    kept = np.flatnonzero(keep)
    lengths = np.zeros(b - a, dtype=np.int64)
    lengths[kept] = bounds[a + kept + 1] - bounds[a + kept]
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int32)
    data = b"".join(text[int(bounds[a + k]) : int(bounds[a + k + 1])] for k in kept.tolist())
    validity = pa.array(keep).buffers()[1]
    return pa.Array.from_buffers(pa.string(), b - a, [validity, pa.py_buffer(offsets), pa.py_buffer(data)])


# ------------------------------------------------------------------ typing records with Arrow

# Timestamps Arrow types itself: exactly this form, which Spark's JSON parser reads to the same
# instant. Any other text (offsets, a space, no zone, epoch numbers...) is left to Spark.
STRICT_TIMESTAMP = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?Z$"
)
_ARROW_READ_LIMIT = 1 << 30  # one block per call (Arrow's reader splits larger inputs at line breaks)


def _typed_type(pa, dtype):
    """The Arrow type of a typed event column handed to the JVM (`FRAMED_SCHEMA`)."""
    return pa.timestamp("us", tz="UTC") if dtype.typeName() == "timestamp" else _arrow_type(pa, dtype)


def _arrow_type(pa, dtype):
    """The Arrow type Arrow's JSON reader reads a field as: timestamps as text, typed after."""
    from pyspark.sql import types as T

    if isinstance(dtype, T.IntegerType):
        return pa.int32()
    if isinstance(dtype, T.DecimalType):
        return pa.decimal128(dtype.precision, dtype.scale)
    return pa.string()  # strings, and timestamps (`_timestamps`)


def _arrow_types(pa) -> list:
    """The event fields as Arrow's JSON reader reads them."""
    return [pa.field(name, _arrow_type(pa, dtype)) for name, dtype in EVENT_FIELDS]


def typed_records(text: bytes, starts: np.ndarray, ends: np.ndarray, candidates: np.ndarray) -> tuple[list, np.ndarray]:
    """The event columns (one Arrow array per `EVENT_FIELDS`, a value per span) and which spans Arrow typed.

    `candidates`: the record spans to try (balanced objects within the limits). Arrow's reader
    parses them all in one call; a call that fails (a record it does not accept) is split in
    halves, down to the single records it rejects, which stay untyped (`parsed` false) for
    Spark to parse and diagnose. A span typed here has `parsed` true and its values; every
    other span nulls.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(starts)
    fields = _arrow_types(pa)
    schema = pa.schema(fields)
    parsed = np.zeros(n, dtype=bool)
    pieces: list = []
    todo = np.flatnonzero(candidates)
    if len(todo):
        whole = len(todo) == n and n > 0
        _parse_spans(pa, schema, text, starts, ends, todo, pieces, whole)
    order = np.full(n, -1, dtype=np.int64)
    if pieces:
        rows = np.concatenate([ix for ix, _ in pieces])
        table = pa.concat_tables([t for _, t in pieces])
        order[rows] = np.arange(len(rows))
        parsed[rows] = True
    else:
        table = schema.empty_table()
    take = pa.array(order, mask=order < 0)
    columns = [
        table.column(i).take(take).combine_chunks() if len(table) else pa.nulls(n, f.type) for i, f in enumerate(fields)
    ]
    typed, strict = [], np.ones(n, dtype=bool)
    for (_, dtype), column in zip(EVENT_FIELDS, columns, strict=True):
        if pa.types.is_string(column.type) and dtype.typeName() == "timestamp":
            column, ok = _timestamps(pa, column)
            strict &= ok
        typed.append(column)
    parsed &= strict
    if not strict.all():  # a timestamp Spark must read: the whole record goes to Spark
        null_rows = pa.array(~parsed)
        typed = [pc.if_else(null_rows, pa.scalar(None, c.type), c) for c in typed]
    return typed, parsed


def _parse_spans(pa, schema, text: bytes, starts, ends, todo: np.ndarray, pieces: list, whole: bool = False) -> None:
    """Parse the spans `todo` in one call, or split the call until the rejected records stand alone."""
    import pyarrow.json as pj

    if whole:  # every span a candidate: the decoded text as it is, zero-copy
        data = pa.py_buffer(memoryview(text)[int(starts[0]) : int(ends[-1])])
    else:
        data = pa.py_buffer(b"\n".join(text[int(starts[i]) : int(ends[i])] for i in todo.tolist()))
    table = None
    try:
        table = pj.read_json(
            pa.BufferReader(data),
            read_options=pj.ReadOptions(
                use_threads=False, block_size=max(1 << 20, min(len(data) + 1, _ARROW_READ_LIMIT))
            ),
            parse_options=pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore"),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        table = None
    if table is not None and table.num_rows == len(todo):
        pieces.append((todo, table.select(schema.names)))
        return
    if len(todo) == 1:
        return  # Arrow rejects it: Spark parses and diagnoses it
    half = len(todo) // 2
    _parse_spans(pa, schema, text, starts, ends, todo[:half], pieces)
    _parse_spans(pa, schema, text, starts, ends, todo[half:], pieces)


def _timestamps(pa, texts) -> tuple:
    """Timestamp texts in the strict form -> UTC timestamps; per value, may Arrow keep the record
    (the text is null or in the strict form, and a real instant)."""
    import pyarrow.compute as pc

    strict = pc.match_substring_regex(texts, STRICT_TIMESTAMP)
    ok = np.asarray(pc.fill_null(strict, True))
    candidates = pc.if_else(strict, texts, pa.scalar(None, pa.string()))
    target = pa.timestamp("us", tz="UTC")
    try:
        values = pc.cast(candidates, target)
    except pa.ArrowInvalid:  # a date that does not exist (Feb 30): one value at a time
        out = []
        for i, value in enumerate(candidates.to_pylist()):
            try:
                out.append(None if value is None else pc.cast(pa.array([value]), target)[0].as_py())
            except pa.ArrowInvalid:
                out.append(None)
                ok[i] = False
        values = pa.array(out, target)
    return values, ok


def _may_be_rejected(typed: list, bounds: tuple[datetime, datetime]) -> np.ndarray:
    """Typed records the JVM may quarantine (a required field null, event_ts outside the bounds):
    their text goes along."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = [name for name, _ in EVENT_FIELDS]
    maybe = np.zeros(len(typed[0]), dtype=bool)
    for name in REQUIRED_FIELDS:
        maybe |= np.asarray(pc.is_null(typed[names.index(name)]))
    event_ts = typed[names.index("event_ts")]
    oldest, newest = (pa.scalar(b.astimezone(UTC), pa.timestamp("us", tz="UTC")) for b in bounds)
    outside = pc.or_(pc.less(event_ts, oldest), pc.greater(event_ts, newest))
    maybe |= np.asarray(pc.fill_null(outside, False))
    return maybe


def _frame_reason(text: bytes, found: framing.Framing, i: int, max_record_bytes: int) -> tuple[str, str]:
    """Reason code and detail of a span the framing rejects itself."""
    size = int(found.sizes[i])
    kind = int(found.kinds[i])
    if kind == framing.NOT_AN_OBJECT:
        first = text[int(found.starts[i]) : int(found.starts[i]) + 1]
        what = {b"[": "an array", b'"': "a string", b"t": "true", b"f": "false", b"n": "null"}.get(first, "a number")
        return NOT_AN_OBJECT, f"a JSON value that is not an object ({what}, {size} bytes)"
    if kind == framing.MALFORMED:
        return MALFORMED, f"no JSON value parses here ({size} bytes up to the next record start)"
    return OVERSIZE, f"{size} bytes > limit {max_record_bytes}"


def extra_fields_json(record: bytes) -> str | None:
    """Unknown top-level fields of a record as a JSON object, or None (none, or not valid JSON).

    RecursionError too: the reader quarantines records nested deeper than MAX_NESTING_DEPTH
    before calling this, so it is a last guard, never a way to fail the hour.
    """
    try:
        parsed = json.loads(record)
    except (ValueError, RecursionError):
        return None
    if not isinstance(parsed, dict):
        return None
    extra = {k: v for k, v in parsed.items() if k not in KNOWN_FIELDS}
    return json.dumps(extra, separators=(",", ":"), ensure_ascii=False) if extra else None


def _batch(
    pa,
    *,
    source,
    index,
    record,
    size,
    reason,
    detail,
    extra,
    whitespace,
    object_bytes,
    raw_bytes,
    parsed=None,
    typed=None,
):
    rows = len(source)
    if typed is None:  # an object-level row: nothing typed
        typed = [pa.nulls(rows, _typed_type(pa, dtype)) for _, dtype in EVENT_FIELDS]
    return pa.RecordBatch.from_arrays(
        [
            pa.array(source, pa.string()),
            index,
            record,
            size,
            pa.array(reason, pa.string()),
            pa.array(detail, pa.string()),
            pa.array(extra, pa.string()),
            whitespace,
            object_bytes,
            pa.array(raw_bytes, pa.binary()),
            parsed if parsed is not None else pa.nulls(rows, pa.bool_()),
            *typed,
        ],
        names=FRAMED_SCHEMA.fieldNames(),
    )
