"""What the deploy tests talk to besides moto's server: MWAA (which moto lacks) through botocore's
Stubber, and versioned buckets on moto."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import Stubber

from lakehouse.aws import deploy

REGION = "eu-west-1"


class RecordingMwaa:
    """A Stubber-validated MWAA client that also records the UpdateEnvironment requests it got."""

    def __init__(self) -> None:
        self.client = boto3.client("mwaa", region_name=REGION, endpoint_url="https://mwaa.invalid")
        self.stub = Stubber(self.client)
        self.updates: list[dict[str, Any]] = []
        self.client.meta.events.register("provide-client-params.mwaa.UpdateEnvironment", self._record)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.updates.append(dict(params))

    def runs(self, name: str, versions: dict[str, str]) -> None:
        """The next GetEnvironment answers that the environment runs these object versions."""
        env: dict[str, Any] = {"Name": name, "Status": "AVAILABLE"}
        for key, (path_field, version_field) in deploy.MWAA_VERSIONED.items():
            if key in versions:
                env |= {path_field: key, version_field: versions[key]}
        self.stub.add_response("get_environment", {"Environment": env}, {"Name": name})

    def expect_update(self, name: str) -> None:
        """The deploy looks at the status again right before it updates (deploy.wait_for_mwaa)."""
        arn = f"arn:aws:airflow:{REGION}:123456789012:environment/{name}"
        self.stub.add_response(
            "get_environment", {"Environment": {"Name": name, "Status": "AVAILABLE"}}, {"Name": name}
        )
        self.stub.add_response("update_environment", {"Arn": arn})


def make_buckets(s3: Any, names: list[str], region: str = REGION, versioned: bool = True) -> None:
    creator = s3 if region == REGION else boto3.client("s3", region_name=region)
    for bucket in names:
        config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        creator.create_bucket(Bucket=bucket, **config)
        if versioned:
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
