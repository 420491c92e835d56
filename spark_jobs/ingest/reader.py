"""Landing manifest -> a DataFrame of framed records, one row per record.

The manifest (written by `pipeline.landing`) lists the hour's objects with their sizes, so a
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
    KNOWN_FIELDS,
    MALFORMED,
    NOT_AN_OBJECT,
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


def framed_records(spark, objects: list[Mapping[str, Any]], max_record_bytes: int):
    """One row per span of the manifest's objects (schema `FRAMED_SCHEMA`)."""
    if not objects:
        return spark.createDataFrame([], FRAMED_SCHEMA)
    by_key = {object_key(o["uri"]): (o["uri"], int(o["size"])) for o in objects}
    binaries = spark.read.format("binaryFile").load([o["uri"] for o in objects]).select("path", "content")
    frame_batch = functools.partial(_frame_batches, by_key=by_key, max_record_bytes=max_record_bytes)
    return binaries.mapInArrow(frame_batch, FRAMED_SCHEMA)


def _frame_batches(batches, by_key: dict[str, tuple[str, int]], max_record_bytes: int) -> Iterator:
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
            yield from object_batches(uri, raw, max_record_bytes)


def object_batches(uri: str, raw: bytes, max_record_bytes: int) -> Iterator:
    """Arrow batches (FRAMED_SCHEMA) for one object: one row per span, or one corrupt_object row.

    Record spans go to the JVM to be parsed; the spans the framing already rejects (not an
    object, unparsable text, a record over the size limit) carry their reason, and their
    text only for the bounded quarantine copy. Every row carries its bytes and the
    whitespace after it, and the object's first row its decoded size, so the run can
    account for every byte (`job._count`).
    """
    import pyarrow as pa

    try:
        text = framing.decode_object(raw)
    except framing.CorruptObject as exc:
        yield _batch(
            pa,
            source=[uri],
            index=pa.array([None], pa.int64()),
            record=pa.array([None], pa.string()),
            size=pa.array([len(raw)], pa.int64()),
            reason=[CORRUPT_OBJECT],
            detail=[str(exc)],
            extra=[None],
            whitespace=pa.array([0], pa.int64()),
            object_bytes=pa.array([len(raw)], pa.int64()),  # undecodable: its raw bytes, all quarantined
        )
        return
    found = framing.frame(text)
    n = len(found)
    sizes = found.sizes
    kinds = found.kinds
    bounds = np.append(found.starts, found.text_end)
    is_record = kinds == framing.RECORD
    oversize = is_record & (sizes > max_record_bytes)
    maybe_extra = is_record & (found.key_counts != len(KNOWN_FIELDS)) & ~oversize
    rejected = np.flatnonzero(~is_record | oversize)
    for a in range(0, n, BATCH_ROWS):
        b = min(n, a + BATCH_ROWS)
        lo, hi = int(bounds[a]), int(bounds[b])
        offsets = (bounds[a : b + 1] - lo).astype(np.int32)
        record = pa.Array.from_buffers(
            pa.string(), b - a, [None, pa.py_buffer(offsets), pa.py_buffer(memoryview(text)[lo:hi])]
        )
        reason, detail, extra = [None] * (b - a), [None] * (b - a), [None] * (b - a)
        for i in rejected[(rejected >= a) & (rejected < b)].tolist():
            reason[i - a], detail[i - a] = _frame_reason(text, found, i, max_record_bytes)
        for k in np.flatnonzero(maybe_extra[a:b]).tolist():
            extra[k] = extra_fields_json(text[found.starts[a + k] : found.ends[a + k]])
        object_bytes = [None] * (b - a)
        if a == 0:
            object_bytes[0] = found.text_end
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
    """Unknown top-level fields of a record as a JSON object, or None (none, or not valid JSON)."""
    try:
        parsed = json.loads(record)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    extra = {k: v for k, v in parsed.items() if k not in KNOWN_FIELDS}
    return json.dumps(extra, separators=(",", ":"), ensure_ascii=False) if extra else None


def _batch(pa, *, source, index, record, size, reason, detail, extra, whitespace, object_bytes):
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
        ],
        names=FRAMED_SCHEMA.fieldNames(),
    )
