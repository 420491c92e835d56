"""The docker-compose stack's files and the host side of `lakehouse compose`, without Docker.

The stack itself runs in the `compose` lane (tests/compose); these checks are the rules a
reviewer would otherwise check by eye: secrets only in the git-ignored env file, ports on
127.0.0.1 only, every image from the one base, health-gated start order, and the compose
settings (S3A + HadoopFileIO for Spark, the same store for pyiceberg and boto3).
"""

from __future__ import annotations

import argparse
import re
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from lakehouse.commands.compose import run_up
from lakehouse.runtime.compose_stack import (
    ENV_EXAMPLE,
    PLACEHOLDER,
    PlaceholderSecrets,
    Stack,
    ensure_env_file,
    placeholder_secrets,
    read_env_file,
)
from lakehouse_core.settings import REPO_ROOT, load_settings
from spark_jobs.session import HADOOP_FILE_IO, catalog_conf, s3a_conf

pytestmark = pytest.mark.unit

DOCKER = REPO_ROOT / "docker"
COMPOSE = yaml.safe_load((DOCKER / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
LONG_RUNNING = ("postgres", "objectstore", "api-server", "scheduler", "dag-processor", "triggerer")


def test_the_committed_example_holds_placeholders_and_the_real_env_file_is_ignored() -> None:
    values = read_env_file(DOCKER / ".env.example")
    secrets = {k: v for k, v in values.items() if not k.endswith("_PORT")}
    assert secrets and set(secrets.values()) == {PLACEHOLDER}
    ignored = subprocess.run(["git", "check-ignore", "docker/.env"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert ignored.stdout.strip() == "docker/.env"


def test_every_secret_in_compose_comes_from_the_env_file() -> None:
    text = (DOCKER / "compose.yaml").read_text()
    example = read_env_file(DOCKER / ".env.example")
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    assert used - {"LAKEHOUSE_IMAGE_TAG"} <= set(example), used - set(example)
    assert {k for k in example if not k.endswith("_PORT")} <= used
    for name in set(example) - {"AIRFLOW_PORT", "POSTGRES_PORT", "S3_PORT"}:
        # required, never defaulted: a missing secret stops compose with the variable's name
        assert f"${{{name}:?" in text and f"${{{name}:-" not in text, name


def test_the_env_file_is_made_with_fresh_secrets_once(tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    target = tmp_path / ".env"
    assert ensure_env_file(target, overrides={"AIRFLOW_PORT": "18080"}) is True
    values = read_env_file(target)
    assert PLACEHOLDER not in values.values()
    assert values["AIRFLOW_PORT"] == "18080" and values["POSTGRES_PORT"] == "5433"
    assert all(re.fullmatch(r"[0-9a-f]{32}", v) for k, v in values.items() if k.endswith("PASSWORD"))
    Fernet(values["AIRFLOW_FERNET_KEY"].encode())  # a valid key, or this raises
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    other = tmp_path / "other.env"
    ensure_env_file(other)
    assert read_env_file(other)["AIRFLOW_JWT_SECRET"] != values["AIRFLOW_JWT_SECRET"]
    assert ensure_env_file(target) is False and read_env_file(target) == values  # never overwritten


def test_compose_up_refuses_placeholder_secrets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A hand-copied .env.example (`change-me` everywhere) never starts: `compose up` names the
    secrets and exits 2 before Compose is called; a made file, or one fixed by the environment, passes."""
    copied = tmp_path / ".env"
    copied.write_text(ENV_EXAMPLE.read_text().replace("S3_SECRET_KEY=change-me", "S3_SECRET_KEY="))
    secrets = [k for k, v in read_env_file(ENV_EXAMPLE).items() if v == PLACEHOLDER]
    assert placeholder_secrets(copied, environ={}) == secrets and "S3_SECRET_KEY" in secrets  # empty too
    with pytest.raises(PlaceholderSecrets, match="AIRFLOW_ADMIN_PASSWORD"):
        Stack(env_file=copied).up()
    args = argparse.Namespace(project_name="lakehouse-placeholder-test", env_file=copied, timeout=1)
    assert run_up(args) == 2
    assert "refusing to start" in capsys.readouterr().err
    assert placeholder_secrets(copied, environ={k: "a1b2c3" for k in secrets}) == []

    made = tmp_path / "made.env"
    ensure_env_file(made)
    assert placeholder_secrets(made, environ={}) == []


def test_only_the_s3_gateway_listens_beyond_the_object_stores_loopback() -> None:
    """SeaweedFS's master, volume and filer have no authentication: bound to the container's
    127.0.0.1; the S3 gateway (identities from S3_ACCESS_KEY/S3_SECRET_KEY) is what others reach."""
    entrypoint = (REPO_ROOT / "docker" / "objectstore" / "entrypoint.sh").read_text()
    [server] = [line for line in entrypoint.replace("\\\n", " ").splitlines() if line.startswith("weed server ")]
    flags = dict(f.split("=", 1) for f in server.split() if f.startswith("-") and "=" in f)
    assert flags["-ip.bind"] == "127.0.0.1" and flags["-s3.ip.bind"] == "0.0.0.0"
    assert "-s3.config" in flags


def test_ports_are_published_on_loopback_only() -> None:
    published = {name: svc.get("ports", []) for name, svc in SERVICES.items() if svc.get("ports")}
    assert set(published) == {"postgres", "objectstore", "api-server"}
    for name, ports in published.items():
        assert all(str(p).startswith("127.0.0.1:") for p in ports), (name, ports)


def test_every_image_builds_from_the_one_base() -> None:
    """Every image of the compose stack; the EMR Serverless image (docker/emr-serverless, built on
    AWS's own EMR base for the cloud, not for compose) is the one exception."""
    for dockerfile in sorted(DOCKER.glob("*/Dockerfile")):
        if dockerfile.parent.name == "emr-serverless":
            assert "FROM public.ecr.aws/emr-serverless/spark/" in dockerfile.read_text()
            continue
        bases = re.findall(r"^FROM\s+(\S+)", dockerfile.read_text(), re.M)
        stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", dockerfile.read_text(), re.M | re.I))
        assert bases and {b for b in bases if b not in stages} == {"debian:bookworm-slim"}, dockerfile


def test_services_start_in_health_order() -> None:
    for name in LONG_RUNNING:
        assert SERVICES[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    assert SERVICES["airflow-init"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("api-server", "scheduler", "dag-processor", "triggerer"):
        deps = SERVICES[name]["depends_on"]
        assert deps["airflow-init"] == {"condition": "service_completed_successfully"}, name
        assert deps["postgres"] == deps["objectstore"] == {"condition": "service_healthy"}, name
        env = SERVICES[name]["environment"]
        assert env["LAKEHOUSE_ENV"] == "compose" and env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert "../dags:/opt/lakehouse/dags:ro" in SERVICES[name]["volumes"]
    assert SERVICES["scheduler"]["depends_on"]["api-server"] == {"condition": "service_healthy"}


def test_compose_settings_use_s3a_for_spark_and_the_same_store_everywhere() -> None:
    settings = load_settings({"LAKEHOUSE_ENV": "compose", "AWS_ENDPOINT_URL": "http://objectstore:8333"})
    assert settings.warehouse == "s3a://lakehouse/warehouse"
    assert settings.raw_root == "s3://lakehouse-raw"
    assert settings.s3_endpoint == "http://objectstore:8333"
    assert settings.dbt_target == "compose" and settings.spark_backend == "local"
    assert settings.warehouse_db_uri == "postgresql+psycopg2://lakehouse@postgres:5432/warehouse"
    # without any endpoint variable, compose still means its own object store
    assert load_settings({"LAKEHOUSE_ENV": "compose"}).s3_endpoint == "http://objectstore:8333"
    assert load_settings({"LAKEHOUSE_ENV": "local"}).s3_endpoint == ""

    conf = catalog_conf("local", "lakehouse", settings.warehouse, "jdbc:postgresql://postgres:5432/catalog", "u", "p")
    assert conf["spark.sql.catalog.lakehouse.io-impl"] == HADOOP_FILE_IO
    s3a = s3a_conf(settings.s3_endpoint, "eu-west-1")
    assert s3a["spark.hadoop.fs.s3a.endpoint"] == "http://objectstore:8333"
    assert s3a["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert s3a["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert s3a["spark.hadoop.fs.s3.impl"] == "org.apache.hadoop.fs.s3a.S3AFileSystem"  # the raw zone's s3:// URIs
    assert not any("secret" in key or "access.key" in key for key in s3a)  # credentials stay in the environment


def test_the_warehouse_uri_follows_the_dbt_profile_variables() -> None:
    env = {
        "LAKEHOUSE_ENV": "compose",
        "DBT_POSTGRES_HOST": "127.0.0.1",
        "DBT_POSTGRES_PORT": "15432",
        "DBT_POSTGRES_DATABASE": "warehouse",
        "DBT_POSTGRES_USER": "lakehouse",
        "DBT_ENV_SECRET_POSTGRES_PASSWORD": "p@ss",
    }
    assert load_settings(env).warehouse_db_uri == "postgresql+psycopg2://lakehouse:p%40ss@127.0.0.1:15432/warehouse"
    assert load_settings({**env, "LAKEHOUSE_WAREHOUSE_DB_URI": "postgresql://x@h/db"}).warehouse_db_uri == (
        "postgresql://x@h/db"
    )


def test_the_host_reaches_the_stack_through_its_published_ports(tmp_path: Path) -> None:
    env_file = tmp_path / "compose.env"
    ensure_env_file(env_file, overrides={"AIRFLOW_PORT": "18080", "POSTGRES_PORT": "15433", "S3_PORT": "18333"})
    values = read_env_file(env_file)
    stack = Stack(project="x", env_file=env_file)
    settings = stack.settings(base={"PATH": "/usr/bin"})
    assert stack.ui_url == "http://127.0.0.1:18080"
    assert settings.environment == "compose"
    assert settings.catalog_uri == (
        f"postgresql+psycopg2://lakehouse:{values['LAKEHOUSE_DB_PASSWORD']}@127.0.0.1:15433/catalog"
    )
    assert settings.s3_endpoint == "http://127.0.0.1:18333"
    assert settings.warehouse_db_uri.endswith("@127.0.0.1:15433/warehouse")
    command = stack.command("ps")
    compose_file = str(DOCKER / "compose.yaml")
    assert command[-7:] == ["--project-name", "x", "--file", compose_file, "--env-file", str(env_file), "ps"]
