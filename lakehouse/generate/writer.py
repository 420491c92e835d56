"""Compress and write objects in worker threads (zlib and I/O release the GIL).

Why: at a million events an hour gzip is most of the cost; two threads overlap it with the
planning loop. At most a few buffers are in flight, so memory stays bounded.
"""

from __future__ import annotations

import gzip
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from lakehouse.generate.output import Sink

MAX_IN_FLIGHT = 4


# A delivery cut off right after the gzip member header: nothing of the deflate stream is left,
# so nothing of the object can be salvaged and the ground truth stays "one row for the object".
# (The ingest salvages what decodes before a later cut; tests/unit/test_ingest_hostile_input.py.)
GZIP_HEADER_BYTES = 10


class ObjectWriter:
    """Gzips a body (mtime 0: byte-identical re-runs) and puts it; fills in the entry's `bytes`."""

    def __init__(self, sink: Sink, gzip_level: int) -> None:
        self.sink = sink
        self.gzip_level = gzip_level
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="generate-write")
        self.pending: deque[tuple[dict[str, Any], Future[int]]] = deque()

    def _compress_and_put(self, key: str, body: str, truncate: bool) -> int:
        data = gzip.compress(body.encode("utf-8"), compresslevel=self.gzip_level, mtime=0)
        if truncate:
            data = data[:GZIP_HEADER_BYTES]
        self.sink.put(key, data)
        return len(data)

    def submit(self, entry: dict[str, Any], key: str, body: str, truncate: bool = False) -> None:
        """Queue one object; `truncate` cuts the gzip stream after its header (the corrupt-object fault)."""
        while len(self.pending) >= MAX_IN_FLIGHT:
            self._settle_one()
        self.pending.append((entry, self.pool.submit(self._compress_and_put, key, body, truncate)))

    def _settle_one(self) -> None:
        entry, future = self.pending.popleft()
        entry["bytes"] = future.result()

    def settle(self) -> None:
        """Wait for every queued object (a write error surfaces here)."""
        while self.pending:
            self._settle_one()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
