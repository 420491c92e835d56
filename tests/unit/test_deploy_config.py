"""`deploy/<env>.yaml` + Terraform's outputs -> what MWAA's startup.sh exports, checked at bundle time.

Each test builds a deploy folder from the committed `deploy/dev.yaml` (one key changed) and the
example outputs, and derives the runtime environment with the same code `lakehouse bundle` runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from lakehouse import deploy_config
from pipeline.settings import REPO_ROOT

pytestmark = pytest.mark.unit


def config(tmp_path: Path, **sections: Any) -> deploy_config.DeployConfig:
    """deploy/dev.yaml with the given top-level keys merged in (a dict merges one level deep)."""
    values = yaml.safe_load((REPO_ROOT / "deploy" / "dev.yaml").read_text())
    for key, value in sections.items():
        values[key] = {**values.get(key, {}), **value} if isinstance(value, dict) else value
    (tmp_path / "dev.yaml").write_text(yaml.safe_dump(values))
    shutil.copyfile(REPO_ROOT / "deploy" / "dev.outputs.example.json", tmp_path / "dev.outputs.json")
    return deploy_config.load("dev", tmp_path)


def test_emr_serverless_without_its_python_3_11_image_is_refused(tmp_path) -> None:
    cfg = config(tmp_path, spark_backend="emr-serverless", emr_serverless={"image_uri": ""})
    with pytest.raises(deploy_config.DeployConfigError, match=r"emr_serverless.image_uri.*Python is 3\.9"):
        cfg.runtime_env()


def test_emr_serverless_with_its_image_derives_the_emr_settings(tmp_path) -> None:
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lakehouse-dev-emr-spark:2026-12-07"
    env = config(tmp_path, spark_backend="emr-serverless", emr_serverless={"image_uri": image}).runtime_env()
    assert env["LAKEHOUSE_SPARK_BACKEND"] == "emr-serverless"
    assert env["LAKEHOUSE_EMR_APPLICATION_ID"] == "00fabcdef1234567"
