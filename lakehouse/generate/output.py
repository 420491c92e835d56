"""Where objects go: a local folder or an S3 prefix (`spark_jobs.objectstore`, pyarrow.fs).

Keys are relative to the output root. Local writes go through a temporary name and a rename,
so a reader polling the folder never sees half an object; on S3 a put is atomic by itself.
"""

from __future__ import annotations

from spark_jobs import objectstore


class Sink:
    """Writes keys under one root (`out`: a folder or `s3://bucket/prefix`)."""

    def __init__(self, out: str) -> None:
        if objectstore.is_s3(out):
            bucket, prefix = objectstore.split_s3(out)  # a clear error for s3:// without a bucket
            self.location = objectstore.join(f"s3://{bucket}", prefix)
        else:
            self.location = str(objectstore.local_path(out))

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        objectstore.write_bytes(objectstore.join(self.location, key), data, content_type)

    def list_keys(self, prefix: str) -> set[str] | None:
        """Keys under `prefix` (relative), or None when listing is not possible (no permission)."""
        try:
            files = objectstore.list_files(objectstore.join(self.location, prefix))
        except OSError:
            if not objectstore.is_s3(self.location):
                raise
            return None  # no ListBucket permission: skip the check, do not fail the run
        return {f"{prefix}{f.uri.rsplit('/', 1)[-1]}" for f in files}


def open_sink(out: str) -> Sink:
    """A sink for `out`: `s3://bucket/prefix` or a local folder."""
    return Sink(out)
