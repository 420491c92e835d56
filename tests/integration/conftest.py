"""Fixtures of the integration lane."""

from __future__ import annotations

import re
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
