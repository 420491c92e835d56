"""The deploy configuration of an AWS environment: `deploy/<env>.yaml` plus Terraform's outputs.

One file per environment holds every choice a team makes (names, region, Spark backend, buffer
hints, sizes); Terraform reads the same file (`yamldecode`) and creates the resources; what it
created comes back as `terraform output -json`, saved beside it as `deploy/<env>.outputs.json`.
From those two inputs this module derives everything the running pipeline needs, so no value is
typed twice:

- `runtime_env()`: the variables MWAA's `startup.sh` exports: the `LAKEHOUSE_*` settings the DAGs
  read (`lakehouse_core/settings.py`) and the `DBT_*` variables `dbt/profiles.yml` reads;
- `glue_jobs()` (in `lakehouse.aws.deploy`): one Glue job per Spark program.

The result is checked by loading it through the real settings loader, so a configuration that
the DAGs would reject fails here, at bundle time, with the same message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakehouse.aws import spark_runtimes
from lakehouse_core.settings import REPO_ROOT, Settings, SettingsError, load_settings

DEPLOY_DIR = REPO_ROOT / "deploy"
# Where MWAA puts things (AWS documents these paths; the startup script and requirements use them).
MWAA_AIRFLOW_HOME = "/usr/local/airflow"
MWAA_DAGS = f"{MWAA_AIRFLOW_HOME}/dags"
MWAA_PLUGINS = f"{MWAA_AIRFLOW_HOME}/plugins"
DBT_VENV = f"{MWAA_AIRFLOW_HOME}/dbt_venv"
# Variables MWAA sets itself and restores over whatever startup.sh exports (its image's
# `_is_protected_os_environ`, Airflow 3.2.1 images): exporting one changes nothing on MWAA and only
# makes a local run differ from it. AWS_DEFAULT_REGION is MWAA's region; the DAGs read
# LAKEHOUSE_AWS_REGION.
MWAA_PROTECTED = (
    "AIRFLOW_ENV_ID", "AIRFLOW_ENV_NAME", "AIRFLOW_HOME", "AIRFLOW_TASK_REVISION_ID", "AIRFLOW_VERSION",
    "AIRFLOW__AWS_MWAA__REDIRECT_URL", "JWT_PUBLIC_KEY", "AIRFLOW__WEBSERVER__BASE_URL", "AIRFLOW__API__BASE_URL",
    "AWS_DEFAULT_REGION", "AWS_REGION", "CUSTOMER_ACCOUNT_ID", "ECS_AGENT_URI", "ECS_CONTAINER_METADATA_URI",
    "ECS_CONTAINER_METADATA_URI_V4", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_EXECUTION_ENV", "PYTHONPATH",
    "PYTHONUNBUFFERED", "WATCHTOWER_VERSION", "USE_NON_CRITICAL_LOGGING", "AIRFLOW__CORE__DATABASE_ACCESS_ISOLATION",
)  # fmt: skip


def mwaa_protected(name: str) -> bool:
    return name in MWAA_PROTECTED or name.startswith("MWAA__")


# Names of the Terraform outputs this module reads (infra/terraform/envs/<env>/outputs.tf).
REQUIRED_OUTPUTS = (
    "raw_bucket",
    "lake_bucket",
    "artifacts_bucket",
    "mwaa_bucket",
    "glue_job_role_arn",
    "glue_job_name_prefix",
    "mwaa_environment_name",
)


class DeployConfigError(ValueError):
    """The deploy configuration or Terraform's outputs are missing or invalid; says which file to fix."""


@dataclass(frozen=True)
class DeployConfig:
    """One environment's choices (the YAML) and what Terraform made of them (its outputs)."""

    env_name: str
    values: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None

    # --- the YAML -------------------------------------------------------------------------
    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.values
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def require(self, dotted: str) -> Any:
        value = self.get(dotted)
        if value is None or value == "":
            raise DeployConfigError(f"{self.source or 'deploy config'}: `{dotted}` is required")
        return value

    @property
    def region(self) -> str:
        return str(self.require("aws_region"))

    @property
    def spark_backend(self) -> str:
        return str(self.get("spark_backend", "glue"))

    @property
    def namespace_prefix(self) -> str:
        return str(self.get("namespace_prefix", "") or "")

    # --- Terraform's outputs ---------------------------------------------------------------
    def output(self, name: str, default: Any = None) -> Any:
        value = self.outputs.get(name, default)
        return default if value is None else value

    def require_output(self, name: str) -> Any:
        value = self.output(name)
        if value in (None, "", [], {}):
            raise DeployConfigError(
                f"Terraform output `{name}` is missing from deploy/{self.env_name}.outputs.json: run "
                f"`terraform -chdir=infra/terraform/envs/{self.env_name} output -json > "
                f"deploy/{self.env_name}.outputs.json` after `terraform apply`"
            )
        return value

    @property
    def artifacts_uri(self) -> str:
        """The artifacts bucket's root: the IAM grants of the Spark roles are written for it."""
        return str(self.output("artifacts_uri") or f"s3://{self.require_output('artifacts_bucket')}")

    @property
    def glue_job_prefix(self) -> str:
        return str(self.require_output("glue_job_name_prefix"))

    @property
    def glue_version(self) -> str:
        return str(self.get("glue.glue_version", spark_runtimes.GLUE_VERSION))

    @property
    def emr_release(self) -> str:
        return str(self.get("emr_serverless.release_label", spark_runtimes.EMR_RELEASE))

    def check_spark_releases(self) -> None:
        """The Glue version and EMR release must be ones whose Spark/Iceberg we test (spark_runtimes)."""
        try:
            spark_runtimes.runtime("glue", self.glue_version)
            spark_runtimes.runtime("emr", self.emr_release)
        except spark_runtimes.UnsupportedRelease as exc:
            raise DeployConfigError(f"{self.source or 'deploy config'}: {exc}") from None

    def require_emr_image(self) -> str:
        """The EMR Serverless application's custom image: without it jobs start on EMR 7's Python 3.9."""
        image = str(self.get("emr_serverless.image_uri", "") or "")
        if not image:
            raise DeployConfigError(
                f"{self.source or 'deploy config'}: spark_backend is emr-serverless but `emr_serverless.image_uri` "
                "is empty. EMR 7's own Python is 3.9, on which the Spark jobs cannot start; build the image "
                "(docker/emr-serverless/Dockerfile: Python 3.11 and the jobs' wheels), push it to the ECR "
                "repository Terraform made (output `emr_image_repository_url`) and set its URI here "
                '(docs/deploy-aws.md, "EMR Serverless image")'
            )
        return image

    # --- derived ---------------------------------------------------------------------------
    def runtime_env(self) -> dict[str, str]:
        """Every variable MWAA's startup.sh exports, validated through the DAGs' settings loader."""
        self.check_spark_releases()
        env = {
            "LAKEHOUSE_ENV": "aws",
            "LAKEHOUSE_AWS_REGION": self.region,
            "LAKEHOUSE_CATALOG_NAME": str(self.get("catalog_name", "lakehouse")),
            "LAKEHOUSE_NAMESPACE_PREFIX": self.namespace_prefix,
            "LAKEHOUSE_WAREHOUSE": str(
                self.output("warehouse_uri") or f"s3://{self.require_output('lake_bucket')}/warehouse"
            ),
            "LAKEHOUSE_RAW_ROOT": str(self.output("raw_root") or f"s3://{self.require_output('raw_bucket')}"),
            "LAKEHOUSE_STREAM_NAME": str(self.require("firehose.stream_name")),
            "LAKEHOUSE_FIREHOSE_BUFFER_SECONDS": str(self.require("firehose.buffer_seconds")),
            "LAKEHOUSE_SPARK_BACKEND": self.spark_backend,
            "LAKEHOUSE_ARTIFACTS_URI": self.artifacts_uri,
            "LAKEHOUSE_GLUE_JOB_NAME": self.glue_job_prefix,
            "LAKEHOUSE_DBT_TARGET": str(self.get("pipeline.dbt_target", "redshift")),
            "LAKEHOUSE_DBT_EXECUTABLE": f"{DBT_VENV}/bin/dbt",
            "LAKEHOUSE_HOME": "/tmp/lakehouse",  # nosec B108  # scratch on the MWAA worker; manifests and reports go to S3
        }
        for key, var in (
            ("pipeline.landing_margin_seconds", "LAKEHOUSE_LANDING_MARGIN_SECONDS"),
            ("pipeline.lateness_hours", "LAKEHOUSE_LATENESS_HOURS"),
            ("pipeline.clock_skew_minutes", "LAKEHOUSE_CLOCK_SKEW_MINUTES"),
            ("pipeline.quarantine_max_share", "LAKEHOUSE_QUARANTINE_MAX_SHARE"),
            ("pipeline.max_object_bytes", "LAKEHOUSE_MAX_OBJECT_BYTES"),
            ("pipeline.straggler_hours", "LAKEHOUSE_STRAGGLER_HOURS"),
        ):
            if self.get(key) is not None:
                env[var] = str(self.get(key))
        start = self.get("pipeline.schedule_start")
        if start not in (None, ""):
            # YAML reads an unquoted 2026-11-01T00:00:00Z as a datetime: hand the DAGs ISO text either way
            env["LAKEHOUSE_SCHEDULE_START"] = start.isoformat() if hasattr(start, "isoformat") else str(start)
        if self.spark_backend == "emr-serverless":
            self.require_emr_image()
            env["LAKEHOUSE_EMR_APPLICATION_ID"] = str(self.require_output("emr_application_id"))
            env["LAKEHOUSE_EMR_EXECUTION_ROLE_ARN"] = str(self.require_output("emr_execution_role_arn"))
        # No LAKEHOUSE_REDSHIFT_SECRET_ARN: ANALYZE logs in with IAM as the execution role (the
        # marts' owner); the admin secret is Terraform's alone (infra/terraform/modules/redshift).
        optional = {
            "LAKEHOUSE_ALERTS_SNS_TOPIC_ARN": self.output("sns_topic_arn", ""),
            "LAKEHOUSE_REDSHIFT_WORKGROUP": self.output("redshift_workgroup", ""),
            "LAKEHOUSE_REDSHIFT_DATABASE": self.output("redshift_database", self.get("redshift.database", "dev")),
        }
        env |= {k: str(v) for k, v in optional.items() if v}
        dashboard = self.output("quicksight_dashboard_id", "")
        if dashboard:  # the link in each transaction-rate alarm (pipeline.rate_alarm)
            env["LAKEHOUSE_DASHBOARD_URL"] = (
                f"https://{self.region}.quicksight.aws.amazon.com/sn/dashboards/{dashboard}"
            )
        if env["LAKEHOUSE_DBT_TARGET"] == "redshift":
            env |= self._dbt_redshift_env()
            # the SPICE datasets the DAG refreshes after the marts (Terraform's quicksight module; [] when off)
            datasets = self.output("quicksight_dataset_ids", [])
            if datasets:
                env["LAKEHOUSE_QUICKSIGHT_DATASET_IDS"] = ",".join(str(d) for d in datasets)
        self.settings(env)  # the DAGs' own validation, at bundle time
        return env

    def _dbt_redshift_env(self) -> dict[str, str]:
        """What dbt/profiles.yml's `redshift` target and the Spectrum macro read (IAM auth: no password)."""
        workgroup = str(self.require_output("redshift_workgroup"))
        return {
            "DBT_REDSHIFT_HOST": str(self.require_output("redshift_host")),
            "DBT_REDSHIFT_DATABASE": str(self.output("redshift_database", self.get("redshift.database", "dev"))),
            "DBT_REDSHIFT_REGION": self.region,
            "DBT_REDSHIFT_METHOD": "iam",
            "DBT_REDSHIFT_SERVERLESS_WORKGROUP": workgroup,
            "DBT_REDSHIFT_SPECTRUM_ROLE_ARN": str(self.output("redshift_spectrum_role_arn", "")),
            "DBT_SPECTRUM_SCHEMA": str(self.get("redshift.spectrum_schema", "silver_ext")),
            "DBT_GLUE_DATABASE_SILVER": f"{self.namespace_prefix}silver",
            "DBT_SPECTRUM_SCHEMA_GOLD": str(self.get("redshift.spectrum_schema_gold", "gold_ext")),
            "DBT_GLUE_DATABASE_GOLD": f"{self.namespace_prefix}gold",
        }

    @staticmethod
    def settings(env: dict[str, str]) -> Settings:
        try:
            return load_settings(env)
        except SettingsError as exc:
            raise DeployConfigError(f"the derived settings are invalid: {exc}") from None


def add_arguments(parser, constraints_help: str) -> None:
    """The arguments `lakehouse bundle` and `lakehouse deploy` share: which environment, from where."""
    parser.add_argument("--env", default="dev", help="deploy configuration deploy/<env>.yaml (default: dev)")
    parser.add_argument("--outputs", type=Path, help="Terraform outputs JSON (default: deploy/<env>.outputs.json)")
    parser.add_argument("--constraints", default="", help=constraints_help)


def load(env_name: str, deploy_dir: Path = DEPLOY_DIR, outputs: Path | None = None) -> DeployConfig:
    """`deploy/<env>.yaml` and, when present, `deploy/<env>.outputs.json` (or `outputs`)."""
    import yaml

    path = deploy_dir / f"{env_name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in deploy_dir.glob("*.yaml"))) or "none"
        raise DeployConfigError(f"no deploy configuration {path} (environments: {known})")
    values = yaml.safe_load(path.read_text()) or {}
    if not isinstance(values, dict):
        raise DeployConfigError(f"{path}: expected a mapping at the top level")
    if values.get("environment", env_name) != env_name:
        raise DeployConfigError(
            f"{path}: environment is {values.get('environment')!r}, the file name says {env_name!r}"
        )
    outputs_path = outputs or deploy_dir / f"{env_name}.outputs.json"
    return DeployConfig(env_name, values, read_outputs(outputs_path), path)


def read_outputs(path: Path) -> dict[str, Any]:
    """Terraform's `output -json` ({name: {value, type, sensitive}}) or a plain {name: value} map."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DeployConfigError(f"{path} is not JSON ({exc}); write it with `terraform output -json`") from None
    return {k: (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in data.items()}
