"""We deploy only Glue versions and EMR releases whose Spark and Iceberg match what the tests run.

`lakehouse.aws.spark_runtimes` is the one table (Spark, Iceberg, Python per environment); these tests
hold every place that names a release to it: `deploy/*.yaml`, `lakehouse deploy`'s default, the
EMR image's base release, docs/deploy-aws.md's copy, and the local row against what is installed.
"""

from __future__ import annotations

import re
import sys

import pytest
import yaml

from lakehouse.aws import deploy_config, spark_runtimes
from lakehouse_core.settings import REPO_ROOT
from tests.helpers.settings import deploy_config_with as config

pytestmark = pytest.mark.unit
TABLE_DOC = REPO_ROOT / "docs" / "deploy-aws.md"


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "deploy").glob("*.yaml")), ids=lambda p: p.name)
def test_every_deploy_configuration_names_releases_from_the_table(path) -> None:
    values = yaml.safe_load(path.read_text())
    cfg = deploy_config.DeployConfig(path.stem, values, source=path)
    cfg.check_spark_releases()
    assert spark_runtimes.runtime("glue", cfg.glue_version).spark == spark_runtimes.TESTED.spark
    assert spark_runtimes.runtime("emr", cfg.emr_release).spark.split("-")[0] == spark_runtimes.TESTED.spark


def test_a_glue_version_outside_the_table_is_refused_at_bundle_time(tmp_path) -> None:
    cfg = config(tmp_path, glue={"glue_version": "5.0"})
    with pytest.raises(deploy_config.DeployConfigError, match=r"glue release '5.0' is not one we deploy"):
        cfg.runtime_env()


def test_an_emr_release_outside_the_table_is_refused_at_bundle_time(tmp_path) -> None:
    cfg = config(tmp_path, emr_serverless={"release_label": "emr-7.10.0"})  # Spark 3.5.5, Iceberg 1.8.1
    with pytest.raises(deploy_config.DeployConfigError, match=r"emr release 'emr-7.10.0'"):
        cfg.runtime_env()


def test_lakehouse_deploy_defaults_to_a_glue_version_from_the_table(tmp_path) -> None:
    from lakehouse.aws.deploy import glue_job_definitions

    cfg = config(tmp_path)
    del cfg.values["glue"]["glue_version"]
    versions = {job["GlueVersion"] for job in glue_job_definitions(cfg).values()}
    assert versions == {spark_runtimes.GLUE_VERSION}
    spark_runtimes.runtime("glue", spark_runtimes.GLUE_VERSION)
    spark_runtimes.runtime("emr", spark_runtimes.EMR_RELEASE)


def test_the_emr_image_builds_on_a_release_from_the_table() -> None:
    dockerfile = (REPO_ROOT / "docker" / "emr-serverless" / "Dockerfile").read_text()
    (release,) = re.findall(r"^ARG EMR_RELEASE=(\S+)$", dockerfile, re.MULTILINE)
    assert spark_runtimes.runtime("emr", release).python == "3.11"


def test_the_local_row_is_what_is_installed() -> None:
    import pyspark

    from lakehouse.runtime import jvm

    assert pyspark.__version__ == spark_runtimes.TESTED.spark
    assert spark_runtimes.TESTED.iceberg == jvm.ICEBERG_VERSION
    assert f"{sys.version_info[0]}.{sys.version_info[1]}" == spark_runtimes.TESTED.python


def test_the_deploy_guide_shows_the_table() -> None:
    assert spark_runtimes.markdown_table() in TABLE_DOC.read_text(), (
        "docs/deploy-aws.md must show lakehouse.aws.spark_runtimes.markdown_table() verbatim"
    )
