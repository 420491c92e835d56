"""Landing manifest -> a DataFrame of framed records, one row per record.

The manifest (written by `lakehouse_core.landing`) lists the hour's objects with their sizes, so a
run -- and every retry of it -- reads exactly the same input, whatever lands later.

Objects are read by Spark's `binaryFile` source (Hadoop FileSystem: local, s3:// on Glue and
EMR), then decoded and framed in Python workers (`mapInArrow`, see `framing`). Span texts
go back to the JVM as zero-copy Arrow slices of the decoded buffer, so a 300 MB hour costs
one decompression and a few vectorised passes -- no per-record Python work except for the
rare records that may carry unknown fields and the rare stretches of bad input.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from spark_jobs.ingest import framing
from spark_jobs.ingest.contract import (
    CORRUPT_OBJECT,
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
    spark, objects: list[Mapping[str, Any]], max_record_bytes: int, max_object_bytes: int = MAX_OBJECT_BYTES
):
    """One row per span of the manifest's objects (schema `FRAMED_SCHEMA`)."""
    if not objects:
        return spark.createDataFrame([], FRAMED_SCHEMA)
    by_key = {object_key(o["uri"]): (o["uri"], int(o["size"])) for o in objects}
    binaries = spark.read.format("binaryFile").load([o["uri"] for o in objects]).select("path", "content")
    frame_batch = functools.partial(
        _frame_batches, by_key=by_key, max_record_bytes=max_record_bytes, max_object_bytes=max_object_bytes
    )
    return binaries.mapInArrow(frame_batch, FRAMED_SCHEMA)


def _frame_batches(
    batches, by_key: dict[str, tuple[str, int]], max_record_bytes: int, max_object_bytes: int
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
            yield from object_batches(uri, raw, max_record_bytes, max_object_bytes)


def object_batches(uri: str, raw: bytes, max_record_bytes: int, max_object_bytes: int = MAX_OBJECT_BYTES) -> Iterator:
    """Arrow batches (FRAMED_SCHEMA) for one object: one row per span, plus object-level rows.

    Record spans go to the JVM to be parsed; the spans the framing already rejects (not an
    object, unparsable text, a record over the size limit, bytes that are not UTF-8, nesting
    too deep for the parsers) carry their reason. Every row carries its bytes and the
    whitespace after it, and the object's first row the object's decoded size, so the run can
    account for every byte (`job._count`).

    Total: whatever one object's bytes make any step here raise is caught, and the object
    becomes one `corrupt_object` row saying why, so no input can fail the hour (nothing is
    yielded before the whole object is framed, so its rows are all or nothing).
    """
    import pyarrow as pa

    try:
        batches = list(_object_batches(pa, uri, raw, max_record_bytes, max_object_bytes))
    except Exception as exc:  # one object's bytes must never stop the hour
        detail = f"the object could not be framed ({type(exc).__name__}: {str(exc)[:500]}); nothing of it was read"
        batches = [_object_row(pa, uri, CORRUPT_OBJECT, detail, size=len(raw), object_bytes=len(raw))]
    yield from batches


def _object_batches(pa, uri: str, raw: bytes, max_record_bytes: int, max_object_bytes: int) -> Iterator:
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
    for a in range(0, n, BATCH_ROWS):
        b = min(n, a + BATCH_ROWS)
        lo, hi = int(bounds[a]), int(bounds[b])
        offsets = (bounds[a : b + 1] - lo).astype(np.int32)
        record = pa.Array.from_buffers(
            pa.string(), b - a, [None, pa.py_buffer(offsets), pa.py_buffer(memoryview(text)[lo:hi])]
        )
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


def _batch(pa, *, source, index, record, size, reason, detail, extra, whitespace, object_bytes, raw_bytes):
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
        ],
        names=FRAMED_SCHEMA.fieldNames(),
    )
