"""Read, write and list "a local folder or `s3://`": one small layer over `pyarrow.fs`.

Why pyarrow.fs: it is in every place this code runs (main.lock; MWAA through
`pyiceberg[pyarrow]` in mwaa/requirements.txt; Glue 5 and our EMR image through the jobs'
wheels, `lakehouse.aws.bundle.JOBS_REQUIREMENTS`) and speaks both a local folder and S3 with one
interface, so the landing manifest, the simulator's output, the GX suites and the Data Docs
upload no longer each carry their own `if uri.startswith("s3://")` with a boto3 branch.

What it adds to pyarrow.fs: URIs as the project writes them (a path, `file://...` or
`s3://bucket/key`), the S3 endpoint of moto/MinIO (pyarrow does not read AWS_ENDPOINT_URL,
boto3 does; the settings' `s3_endpoint` comes from the same variables), atomic local writes
(write, then rename: a reader polling the folder never sees half a file) and a Content-Type on
S3 objects (Data Docs must open in a browser).

Standard library at import; pyarrow is imported on first use (DAG files import the landing
module at parse time only indirectly, in tasks).
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

S3 = "s3://"
# boto3's own endpoint variables, the service-specific one first (the AWS SDKs' precedence).
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")


@dataclass(frozen=True)
class StoredFile:
    uri: str  # in the form it was listed under: a local path or s3://bucket/key
    size: int


def is_s3(uri: str) -> bool:
    return uri.startswith(S3)


def join(root: str, *parts: str) -> str:
    """`root/part/...` for a folder or an s3:// prefix (no doubled slashes)."""
    return "/".join([root.rstrip("/"), *(p.strip("/") for p in parts if p.strip("/"))])


def local_path(uri: str) -> Path:
    """The absolute local path of a folder or `file://` URI."""
    return Path(uri.removeprefix("file://")).expanduser().resolve()


def split_s3(uri: str) -> tuple[str, str]:
    """(bucket, key) of an s3:// URI; a clear error when it names no bucket."""
    bucket, _, key = uri.removeprefix(S3).partition("/")
    if not bucket:
        raise ValueError(f"{uri!r} names no bucket (expected s3://bucket/prefix)")
    return bucket, key


def endpoint_variable(env: Mapping[str, str], names: Sequence[str] = ENDPOINT_VARIABLES) -> tuple[str, str]:
    """(name, value) of the first of `names` set in `env`; ("", "") when none is.

    The one precedence of S3 endpoints: the settings call it with LAKEHOUSE_S3_ENDPOINT in front,
    a job (which has no settings) with the SDK's variables alone.
    """
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return name, value
    return "", ""


def s3_endpoint(endpoint: str = "") -> str:
    """The S3 endpoint to talk to: the argument, else the SDK's standard variables, else AWS."""
    return endpoint or endpoint_variable(os.environ)[1]


@lru_cache(maxsize=8)
def _s3(endpoint: str) -> Any:
    from pyarrow import fs

    return fs.S3FileSystem(endpoint_override=endpoint) if endpoint else fs.S3FileSystem()


@lru_cache(maxsize=1)
def _local() -> Any:
    from pyarrow import fs

    return fs.LocalFileSystem()


def resolve(uri: str, endpoint: str = "") -> tuple[Any, str]:
    """(pyarrow filesystem, path inside it) for a folder, `file://` or `s3://` URI."""
    if is_s3(uri):
        bucket, key = split_s3(uri)
        return _s3(s3_endpoint(endpoint)), f"{bucket}/{key}".rstrip("/")
    return _local(), str(local_path(uri))


def read_bytes(uri: str, endpoint: str = "") -> bytes:
    filesystem, path = resolve(uri, endpoint)
    with filesystem.open_input_stream(path, compression=None) as stream:  # bytes as stored, never un-gzipped
        return stream.read()


def read_text(uri: str, endpoint: str = "") -> str:
    return read_bytes(uri, endpoint).decode("utf-8")


def write_bytes(uri: str, data: bytes, content_type: str = "", endpoint: str = "") -> None:
    """Write (replace) one file; locally through a temporary name and a rename."""
    filesystem, path = resolve(uri, endpoint)
    if not is_s3(uri):
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        return
    content_type = content_type or mimetypes.guess_type(path)[0] or "application/octet-stream"
    # compression=None: pyarrow would otherwise gzip a `.gz` name a second time
    with filesystem.open_output_stream(path, compression=None, metadata={"Content-Type": content_type}) as out:
        out.write(data)


def list_files(folder: str, endpoint: str = "") -> list[StoredFile]:
    """Files directly under a folder or prefix (none when it does not exist), sorted by URI.

    Skips dot-files (writers' temporary files) and S3 "folder" marker objects.
    """
    from pyarrow import fs

    filesystem, path = resolve(folder, endpoint)
    infos = filesystem.get_file_info(fs.FileSelector(path, recursive=False, allow_not_found=True))
    base = folder.rstrip("/")
    found = [
        StoredFile(f"{base}/{info.base_name}" if is_s3(folder) else info.path, int(info.size or 0))
        for info in infos
        if info.type == fs.FileType.File and not info.base_name.startswith(".")
    ]
    return sorted(found, key=lambda f: f.uri)


def upload_tree(folder: Path, uri: str, endpoint: str = "") -> int:
    """Copy every file under a local folder to a folder or prefix, each with its content type."""
    count = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        write_bytes(join(uri, path.relative_to(folder).as_posix()), path.read_bytes(), endpoint=endpoint)
        count += 1
    return count
