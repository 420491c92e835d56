"""Landing manifest -> a DataFrame of framed records, one row per record.

The manifest (written by `pipeline.landing`) lists the hour's objects with their sizes, so a
run -- and every retry of it -- reads exactly the same input, whatever lands later.

Objects are read by Spark's `binaryFile` source (Hadoop FileSystem: local, s3:// on Glue and
EMR), then decoded and framed in Python workers (`mapInArrow`, see `framing`). Record texts
go back to the JVM as zero-copy Arrow slices of the decoded buffer, so a 300 MB hour costs
one decompression, one regex scan and a few vectorised passes -- no per-record Python work
except for the rare records that may carry unknown fields.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from spark_jobs.ingest import framing
from spark_jobs.ingest.contract import CORRUPT_OBJECT, FRAMED_SCHEMA, KNOWN_FIELDS, OVERSIZE

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
    """One row per framed record of the manifest's objects (schema `FRAMED_SCHEMA`)."""
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
    """Arrow batches (FRAMED_SCHEMA) for one object: its records, or one corrupt_object row."""
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
        )
        return
    found = framing.frame(text)
    n = len(found)
    sizes = found.sizes
    bounds = np.append(found.starts, found.text_end)
    oversize = sizes > max_record_bytes
    maybe_extra = (found.key_counts != len(KNOWN_FIELDS)) & ~oversize
    for a in range(0, n, BATCH_ROWS):
        b = min(n, a + BATCH_ROWS)
        lo, hi = int(bounds[a]), int(bounds[b])
        offsets = (bounds[a : b + 1] - lo).astype(np.int32)
        record = pa.Array.from_buffers(
            pa.string(), b - a, [None, pa.py_buffer(offsets), pa.py_buffer(memoryview(text)[lo:hi])]
        )
        reason, detail, extra = [None] * (b - a), [None] * (b - a), [None] * (b - a)
        for k in np.flatnonzero(oversize[a:b]).tolist():
            reason[k] = OVERSIZE
            detail[k] = f"{int(sizes[a + k])} bytes > limit {max_record_bytes}"
        for k in np.flatnonzero(maybe_extra[a:b]).tolist():
            extra[k] = extra_fields_json(text[found.starts[a + k] : found.ends[a + k]])
        yield _batch(
            pa,
            source=[uri] * (b - a),
            index=pa.array(np.arange(a, b, dtype=np.int64)),
            record=record,
            size=pa.array(sizes[a:b]),
            reason=reason,
            detail=detail,
            extra=extra,
        )


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


def _batch(pa, *, source, index, record, size, reason, detail, extra):
    return pa.RecordBatch.from_arrays(
        [
            pa.array(source, pa.string()),
            index,
            record,
            size,
            pa.array(reason, pa.string()),
            pa.array(detail, pa.string()),
            pa.array(extra, pa.string()),
        ],
        names=FRAMED_SCHEMA.fieldNames(),
    )
