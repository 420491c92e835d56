"""`deploy/<env>.yaml` + Terraform's outputs -> what MWAA's startup.sh exports, checked at bundle time.

Each test builds a deploy folder from the committed `deploy/dev.yaml` (one key changed) and the
example outputs, and derives the runtime environment with the same code `lakehouse bundle` runs.
"""

from __future__ import annotations

import json

import pytest

from lakehouse.aws import deploy_config
from lakehouse_core.settings import REPO_ROOT
from tests.helpers.settings import deploy_config_with as config

pytestmark = pytest.mark.unit


def test_emr_serverless_without_its_python_3_11_image_is_refused(tmp_path) -> None:
    cfg = config(tmp_path, spark_backend="emr-serverless", emr_serverless={"image_uri": ""})
    with pytest.raises(deploy_config.DeployConfigError, match=r"emr_serverless.image_uri.*Python is 3\.9"):
        cfg.runtime_env()


def test_emr_serverless_with_its_image_derives_the_emr_settings(tmp_path) -> None:
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lakehouse-dev-emr-spark:2026-12-07"
    env = config(tmp_path, spark_backend="emr-serverless", emr_serverless={"image_uri": image}).runtime_env()
    assert env["LAKEHOUSE_SPARK_BACKEND"] == "emr-serverless"
    outputs = json.loads((REPO_ROOT / "deploy" / "dev.outputs.example.json").read_text())
    assert env["LAKEHOUSE_EMR_APPLICATION_ID"] == outputs["emr_application_id"]["value"]


@pytest.mark.parametrize("start", ["2026-11-01T00:00+00:00", "2026-11-01T00:00:00Z"])
def test_the_schedule_start_comes_from_the_deploy_configuration(tmp_path, start: str) -> None:
    # the second one unquoted: YAML turns it into a datetime, which must still reach the DAGs as ISO text
    cfg = config(tmp_path, pipeline={"schedule_start": start})
    (tmp_path / "dev.yaml").write_text((tmp_path / "dev.yaml").read_text().replace(f"'{start}'", start))
    env = deploy_config.load("dev", tmp_path).runtime_env()
    assert cfg.settings(env).schedule_start.isoformat() == "2026-11-01T00:00:00+00:00"


def test_no_schedule_start_leaves_the_dags_to_run_from_the_latest_hour(tmp_path) -> None:
    assert "LAKEHOUSE_SCHEDULE_START" not in config(tmp_path).runtime_env()


def test_startup_exports_no_variable_mwaa_protects(tmp_path) -> None:
    from lakehouse.aws import bundle

    env = config(tmp_path).runtime_env()
    assert not [name for name in env if deploy_config.mwaa_protected(name)]
    assert env["LAKEHOUSE_AWS_REGION"] == "eu-west-1"  # what the DAGs read instead of AWS_DEFAULT_REGION
    assert "export AWS_DEFAULT_REGION" not in bundle.startup_script("dev", env)
    with pytest.raises(bundle.BundleError, match="must not export AWS_REGION, PYTHONPATH"):
        bundle.startup_script("dev", {**env, "PYTHONPATH": "/x", "AWS_REGION": "eu-west-1"})


@pytest.mark.parametrize(
    ("component", "installs"),
    [("worker", True), ("hybrid", True), ("", True), ("scheduler", False), ("webserver", False)],
)
def test_startup_installs_dbt_only_where_tasks_run(tmp_path, component: str, installs: bool) -> None:
    """Sourced as MWAA does, in each component: only workers (and hybrid containers) build the dbt
    venv. Here AIRFLOW_HOME is a file, so an attempted install fails at once and says so."""
    import os
    import subprocess

    from lakehouse.aws import bundle

    script = tmp_path / "startup.sh"
    script.write_text(bundle.startup_script("dev", config(tmp_path).runtime_env()))
    (tmp_path / "home").write_text("not a folder")
    env = {"PATH": os.environ["PATH"], "AIRFLOW_HOME": str(tmp_path / "home"), "MWAA_AIRFLOW_COMPONENT": component}
    done = subprocess.run(
        ["bash", "-c", f"source {script}; echo saved=$LAKEHOUSE_SPARK_BACKEND"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0 and "saved=glue" in done.stdout, done.stderr
    assert ("dbt install FAILED" in done.stderr) is installs, done.stderr
