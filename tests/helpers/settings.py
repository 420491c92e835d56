"""Settings and deploy configurations the way the AWS environment has them, without AWS."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from lakehouse.aws import deploy_config
from lakehouse_core.settings import REPO_ROOT, Settings, load_settings

ARTIFACTS = "s3://acme-artifacts/lakehouse"
WAREHOUSE = "s3://acme-lake/warehouse"


def aws_settings(**extra: str) -> Settings:
    env = {
        "LAKEHOUSE_ENV": "aws",
        "LAKEHOUSE_WAREHOUSE": WAREHOUSE,
        "LAKEHOUSE_RAW_ROOT": "s3://acme-raw/firehose",
        "LAKEHOUSE_ARTIFACTS_URI": ARTIFACTS + "/",
        "LAKEHOUSE_AWS_REGION": "eu-west-1",
        "LAKEHOUSE_GLUE_JOB_NAME": "lakehouse",
        "LAKEHOUSE_REDSHIFT_WORKGROUP": "lakehouse-dev",
        **extra,
    }
    return load_settings(env)


def deploy_config_with(tmp_path: Path, **sections: Any) -> deploy_config.DeployConfig:
    """deploy/dev.yaml with the given top-level keys merged in (a dict merges one level deep)."""
    values = yaml.safe_load((REPO_ROOT / "deploy" / "dev.yaml").read_text())
    for key, value in sections.items():
        values[key] = {**values.get(key, {}), **value} if isinstance(value, dict) else value
    (tmp_path / "dev.yaml").write_text(yaml.safe_dump(values))
    shutil.copyfile(REPO_ROOT / "deploy" / "dev.outputs.example.json", tmp_path / "dev.outputs.json")
    return deploy_config.load("dev", tmp_path)
