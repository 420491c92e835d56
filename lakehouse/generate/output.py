"""Where objects go: a local folder or an S3 prefix. Keys are relative to the output root."""

from __future__ import annotations

import os
from pathlib import Path


class Sink:
    """Where objects go: a local folder or an S3 prefix. Keys are relative to the output root."""

    location: str

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        raise NotImplementedError

    def list_keys(self, prefix: str) -> set[str] | None:
        """Keys under `prefix` (relative), or None when listing is not possible."""
        raise NotImplementedError


class LocalSink(Sink):
    def __init__(self, root: str) -> None:
        self.root = Path(root.removeprefix("file://")).expanduser().resolve()
        self.location = str(self.root)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        # Write then rename: a reader polling the folder never sees half an object.
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def list_keys(self, prefix: str) -> set[str] | None:
        folder = self.root / prefix
        if not folder.is_dir():
            return set()
        return {f"{prefix}{p.name}" for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}


class S3Sink(Sink):
    def __init__(self, uri: str) -> None:
        import boto3  # lazy: a second of import time that local runs do not need
        from botocore.config import Config

        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        if not bucket:
            raise ValueError(f"{uri!r} names no bucket (expected s3://bucket/prefix)")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.location = f"s3://{bucket}" + (f"/{self.prefix}" if self.prefix else "")
        # Custom endpoints (moto, MinIO) do not resolve bucket subdomains: use path-style there.
        custom = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        config = Config(s3={"addressing_style": "path"}, max_pool_connections=8) if custom else None
        self.client = boto3.client("s3", config=config)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)

    def list_keys(self, prefix: str) -> set[str] | None:
        from botocore.exceptions import BotoCoreError, ClientError

        keys: set[str] = set()
        strip = len(self._key(""))
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(prefix)
            ):
                keys.update(obj["Key"][strip:] for obj in page.get("Contents", []))
        except (BotoCoreError, ClientError):
            return None  # no ListBucket permission: skip the check, do not fail the run
        return keys


def open_sink(out: str) -> Sink:
    """A sink for `out`: `s3://bucket/prefix` or a local folder."""
    return S3Sink(out) if out.startswith("s3://") else LocalSink(out)
