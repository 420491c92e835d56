"""Fixtures of the integration lane."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> tuple[Any, str]:
    """A boto3 client on moto's server and a fresh bucket named for the test.

    The environment points every SDK at the server the standard way (AWS_ENDPOINT_URL): boto3
    reads it, `spark_jobs.objectstore` passes it to pyarrow.fs.
    """
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    client = boto3.client("s3")
    bucket = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:60]
    client.create_bucket(Bucket=bucket)
    return client, bucket


@pytest.fixture(scope="module")
def postgres() -> Iterator[dict[str, str]]:
    """A throwaway PostgreSQL server for the module (tests.helpers.postgres): its connection parameters."""
    from tests.helpers.postgres import throwaway_postgres

    with throwaway_postgres() as params:
        yield params


@pytest.fixture(scope="module")
def dbt_manifest() -> Path:
    """The dbt manifest Cosmos renders from; `dbt parse` makes it when a fresh clone has none."""
    from lakehouse.runtime.dbt_runner import run_dbt
    from lakehouse_core.settings import load_settings
    from pipeline.dbt_cosmos import manifest_path

    manifest = manifest_path()
    if not manifest.is_file():
        with tempfile.TemporaryDirectory() as home:
            settings = load_settings({"LAKEHOUSE_HOME": home})
            assert run_dbt(settings, ["parse"]) == 0, "dbt parse failed"
    assert manifest.is_file()
    return manifest


@pytest.fixture
def lake_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A clean LAKEHOUSE_* environment with a throwaway home."""
    for name in [n for n in os.environ if n.startswith("LAKEHOUSE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "lake"))
    yield
