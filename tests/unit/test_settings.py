"""Settings: defaults per environment, and invalid values fail with the variable's name."""

from __future__ import annotations

import dataclasses

import pytest

from lakehouse_core.settings import SettingsError, load_settings

pytestmark = pytest.mark.unit


def test_local_defaults_live_under_one_home(tmp_path) -> None:
    s = load_settings({"LAKEHOUSE_HOME": str(tmp_path)})
    assert s.environment == "local"
    assert s.catalog_name == "lakehouse"
    assert s.catalog_uri == f"sqlite:///{tmp_path}/catalog.db"
    assert s.warehouse == (tmp_path / "warehouse").as_uri()
    assert s.raw_root == str(tmp_path / "raw")
    assert s.spark_backend == "local"
    assert s.dbt_target == "local"
    assert s.quarantine_max_share == 0.01


def test_settings_are_frozen(tmp_path) -> None:
    s = load_settings({"LAKEHOUSE_HOME": str(tmp_path)})
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.catalog_name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"LAKEHOUSE_ENV": "prod"}, ["LAKEHOUSE_ENV", "local, compose, aws"]),
        ({"LAKEHOUSE_SPARK_BACKEND": "databricks"}, ["LAKEHOUSE_SPARK_BACKEND", "glue, emr-serverless"]),
        ({"LAKEHOUSE_QUARANTINE_MAX_SHARE": "5"}, ["LAKEHOUSE_QUARANTINE_MAX_SHARE", "between 0.0 and 1.0"]),
        ({"LAKEHOUSE_FIREHOSE_BUFFER_SECONDS": "soon"}, ["LAKEHOUSE_FIREHOSE_BUFFER_SECONDS", "not an integer"]),
        ({"LAKEHOUSE_CATALOG_NAME": "my-catalog"}, ["LAKEHOUSE_CATALOG_NAME"]),
        ({"LAKEHOUSE_ENV": "aws"}, ["LAKEHOUSE_WAREHOUSE", "required"]),
        ({"LAKEHOUSE_SCHEDULE_START": "yesterday"}, ["LAKEHOUSE_SCHEDULE_START", "ISO date-time"]),
        ({"LAKEHOUSE_SCHEDULE_START": "2026-11-01T08:30"}, ["LAKEHOUSE_SCHEDULE_START", "on the hour"]),
        ({"LAKEHOUSE_CLOCK_SKEW_MINUTES": "-1"}, ["LAKEHOUSE_CLOCK_SKEW_MINUTES", ">= 0"]),
        (
            {
                "LAKEHOUSE_ENV": "aws",
                "LAKEHOUSE_WAREHOUSE": "s3://w",
                "LAKEHOUSE_RAW_ROOT": "s3://r",
                "LAKEHOUSE_SPARK_BACKEND": "local",
            },
            ["LAKEHOUSE_SPARK_BACKEND", "glue, emr-serverless"],
        ),
        (
            # dbt on Redshift with neither a workgroup nor a cluster: the daily ANALYZE would fail daily
            {"LAKEHOUSE_ENV": "aws", "LAKEHOUSE_WAREHOUSE": "s3://w", "LAKEHOUSE_RAW_ROOT": "s3://r"},
            ["LAKEHOUSE_REDSHIFT_WORKGROUP", "LAKEHOUSE_REDSHIFT_CLUSTER_ID"],
        ),
        (
            {
                "LAKEHOUSE_ENV": "aws",
                "LAKEHOUSE_WAREHOUSE": "s3://w",
                "LAKEHOUSE_RAW_ROOT": "s3://r",
                "LAKEHOUSE_REDSHIFT_WORKGROUP": "wg",
                "LAKEHOUSE_REDSHIFT_CLUSTER_ID": "c1",
            },
            ["not both"],
        ),
        ({"LAKEHOUSE_NAMESPACE_PREFIX": "Dev-"}, ["LAKEHOUSE_NAMESPACE_PREFIX", "lowercase"]),
    ],
)
def test_invalid_settings_name_the_variable(env, names) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(env)
    for name in names:
        assert name in str(err.value)


def test_aws_defaults() -> None:
    s = load_settings(
        {
            "LAKEHOUSE_ENV": "aws",
            "LAKEHOUSE_WAREHOUSE": "s3://lake/wh",
            "LAKEHOUSE_RAW_ROOT": "s3://lake/raw/",
            "LAKEHOUSE_REDSHIFT_WORKGROUP": "lakehouse-dev",
        }
    )
    assert (s.spark_backend, s.dbt_target, s.catalog_uri) == ("glue", "redshift", "")
    assert s.raw_root == "s3://lake/raw"


def test_cli_reports_invalid_settings_with_exit_code_2(monkeypatch, capsys) -> None:
    from lakehouse.cli import main

    monkeypatch.setenv("LAKEHOUSE_ENV", "staging")
    assert main(["doctor"]) == 2
    assert "LAKEHOUSE_ENV='staging' is not valid; allowed values: local, compose, aws" in capsys.readouterr().err
