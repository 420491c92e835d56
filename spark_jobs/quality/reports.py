"""Where a run's Data Docs go: `<reports_uri>/<run_id>/`, a local folder or an S3 prefix.

GX 1.x writes Data Docs only to a filesystem site, so for `s3://` the job builds them in a
temporary folder and uploads the tree (`spark_jobs.objectstore`, with content types). One folder per
run keeps runs apart and makes the link in `audit.dq_results` stable.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from spark_jobs import objectstore


@dataclass(frozen=True)
class DocsTarget:
    """`local_dir`: where GX writes; `uri`: where people find the index (same place locally)."""

    local_dir: Path
    uri: str
    upload_to: str = ""  # s3:// prefix to upload `local_dir` to, "" for a local target

    @property
    def index_uri(self) -> str:
        return f"{self.uri.rstrip('/')}/index.html"


def run_folder(reports_uri: str, run_id: str) -> str:
    """`<reports_uri>/<run_id>`: where a run's Data Docs go (the gate) and are looked for (`lakehouse dq`)."""
    return f"{reports_uri.rstrip('/')}/{run_id}"


def docs_target(reports_uri: str, run_id: str) -> DocsTarget:
    uri = run_folder(reports_uri, run_id)
    if uri.startswith("s3://"):
        local = Path(tempfile.mkdtemp(prefix=f"gx-docs-{run_id}-"))
        return DocsTarget(local_dir=local, uri=uri, upload_to=uri)
    folder = Path(uri.removeprefix("file://")).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return DocsTarget(local_dir=folder, uri=str(folder))


def publish_docs(target: DocsTarget) -> str:
    """Upload when the target is S3 (then remove the temporary folder); the index's location."""
    if target.upload_to:
        objectstore.upload_tree(target.local_dir, target.upload_to)
        shutil.rmtree(target.local_dir, ignore_errors=True)
    return target.index_uri
