"""The one settings object of the project: the only place that reads the environment.

Everything switches on `LAKEHOUSE_ENV` (`local`, `compose`, `aws`); every other value has a
default for that environment and can be overridden by its own `LAKEHOUSE_*` variable. The
object is frozen and validated at construction, so a bad value fails at start with the
variable's name and the allowed values, not deep inside a Spark job an hour later.

Import cost matters: DAG files import this at parse time, so it uses the standard library only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from spark_jobs import limits
from spark_jobs.jobargs import parse_hour
from spark_jobs.naming import is_namespace_prefix
from spark_jobs.objectstore import ENDPOINT_VARIABLES, endpoint_variable

ENVIRONMENTS = ("local", "compose", "aws")
SPARK_BACKENDS = ("local", "glue", "emr-serverless")
DBT_TARGETS = ("local", "compose", "redshift")
FRAMINGS = ("concatenated", "newline")

# The repository root: lakehouse_core/settings.py -> ../ (on MWAA, the dags folder it ships in)
REPO_ROOT = Path(__file__).resolve().parents[1]
# docker-compose: the buckets the object store creates at start (docker/compose.yaml).
COMPOSE_RAW_ROOT = "s3://lakehouse-raw"
COMPOSE_WAREHOUSE = "s3a://lakehouse/warehouse"
COMPOSE_S3_ENDPOINT = "http://objectstore:8333"


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable and what it accepts."""


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = env.get(name, default).strip().lower()
    if value not in allowed:
        raise SettingsError(f"{name}={value!r} is not valid; allowed values: {', '.join(allowed)}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise SettingsError(f"{name}={value} must be >= {minimum}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, lo: float, hi: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if not lo <= value <= hi:
        raise SettingsError(f"{name}={value} must be between {lo} and {hi}")
    return value


def _hour(env: Mapping[str, str], name: str) -> datetime | None:
    """An ISO date-time on the hour, UTC when no offset is given (`jobargs.parse_hour`, the jobs'
    rule: the DAG runs per arrival hour); None when unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse_hour(raw, what=name)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def _required(env: Mapping[str, str], name: str, environment: str, why: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is required when LAKEHOUSE_ENV={environment} ({why})")
    return value


def _s3_endpoint(env: Mapping[str, str], environment: str) -> str:
    """LAKEHOUSE_S3_ENDPOINT, else boto3's own endpoint variables in boto3's order (the one
    precedence, `objectstore.endpoint_variable`), else compose's object store."""
    name, value = endpoint_variable(env, ("LAKEHOUSE_S3_ENDPOINT", *ENDPOINT_VARIABLES))
    if not name:
        return COMPOSE_S3_ENDPOINT if environment == "compose" else ""
    if not value.startswith(("http://", "https://")):
        raise SettingsError(f"{name}={value!r} must be an http:// or https:// URL")
    return value.rstrip("/")


def _warehouse_db_uri(env: Mapping[str, str]) -> str:
    """LAKEHOUSE_WAREHOUSE_DB_URI, else the database of dbt's `compose` target (dbt/profiles.yml)."""
    explicit = env.get("LAKEHOUSE_WAREHOUSE_DB_URI", "").strip()
    if explicit:
        return explicit
    from urllib.parse import quote

    user = quote(env.get("DBT_POSTGRES_USER", "lakehouse"), safe="")
    password = env.get("DBT_ENV_SECRET_POSTGRES_PASSWORD", "")
    login = f"{user}:{quote(password, safe='')}" if password else user
    host, port = env.get("DBT_POSTGRES_HOST", "postgres"), _int(env, "DBT_POSTGRES_PORT", 5432, minimum=1)
    return f"postgresql+psycopg2://{login}@{host}:{port}/{env.get('DBT_POSTGRES_DATABASE', 'warehouse')}"


def _quicksight_dataset_ids(env: Mapping[str, str], dbt_target: str) -> tuple[str, ...]:
    """LAKEHOUSE_QUICKSIGHT_DATASET_IDS: comma-separated QuickSight dataset ids; only on Redshift."""
    name = "LAKEHOUSE_QUICKSIGHT_DATASET_IDS"
    ids = tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())
    if ids and dbt_target != "redshift":
        raise SettingsError(
            f"{name} is set but LAKEHOUSE_DBT_TARGET={dbt_target}: QuickSight reads the Redshift marts; "
            "unset it (local and compose have the local dashboard, `lakehouse dashboard`)"
        )
    for dataset_id in ids:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,250}", dataset_id):
            raise SettingsError(f"{name}: {dataset_id!r} is not a dataset id (letters, digits, '-', '_', '.')")
    if len(set(ids)) != len(ids):
        raise SettingsError(f"{name} names a dataset twice: {', '.join(ids)}")
    return ids


@dataclass(frozen=True)
class Settings:
    """Resolved configuration; build it with `load_settings()`."""

    environment: str
    home: Path  # local working folder (catalog, warehouse, raw zone, reports); git-ignored
    catalog_name: str
    catalog_uri: str  # SQLAlchemy URI for pyiceberg's SqlCatalog (local/compose); "" on aws
    warehouse: str  # Iceberg warehouse root (file:// or s3://)
    raw_root: str  # where Firehose lands objects (folder or s3://bucket/prefix)
    stream_name: str  # Firehose delivery stream name (object name prefix)
    spark_backend: str
    firehose_buffer_seconds: int  # the stream's buffering interval
    landing_margin_seconds: int  # extra wait after interval end + buffer before reading an hour
    lateness_hours: int  # how far before its arrival hour an event may be and still pass the gate
    clock_skew_minutes: int  # how far after its arrival hour's end an event time may be
    quarantine_max_share: float  # quarantined / read above this fails the gate
    dbt_target: str
    dbt_executable: str
    aws_region: str
    glue_job_name: str = ""
    emr_application_id: str = ""
    emr_execution_role_arn: str = ""
    artifacts_uri: str = ""  # s3:// prefix where job scripts and the package zip are shipped
    # an object that decodes to more is quarantined whole (object_too_large): spark_jobs.limits
    max_object_bytes: int = limits.MAX_OBJECT_BYTES
    # JVM parts for local Spark (see lakehouse.runtime.jvm); empty = discover.
    java_home: str = ""
    iceberg_jar: str = ""
    sqlite_jdbc_jar: str = ""
    sqlite_jdbc_native_dir: str = ""
    jars_from_maven: bool = False  # online machines: resolve jars via spark.jars.packages
    jars_dir: str = ""  # where `make setup` puts jars it fetched (default: <venv>/share/lakehouse-jars)
    maven_repository: str = "https://repo1.maven.org/maven2"  # where `make setup` may fetch jars
    # The sha256 the fetched SQLite JDBC jar must have; "" = lakehouse/pins.py (upstream's jar).
    sqlite_jdbc_sha256: str = ""
    # Local runs: the folder of a warm Spark driver (lakehouse.runtime.warm_spark) started by the CLI; "" = none.
    warm_spark: str = ""
    # `lakehouse airflow`: the address the UI/API binds (0.0.0.0 opens it to the network).
    airflow_host: str = "127.0.0.1"
    # `lakehouse airflow`: the admin's password ("" = a random one kept in the Airflow home, mode 600).
    airflow_password: str = field(default="", repr=False)
    # Orchestration: when the stream began (None: no catch-up), where failure alerts go.
    schedule_start: datetime | None = None
    alerts_sns_topic_arn: str = ""
    # Redshift upkeep (ANALYZE after dbt) through the Data API: Serverless workgroup or cluster.
    redshift_workgroup: str = ""
    redshift_cluster_id: str = ""
    redshift_database: str = "dev"
    redshift_secret_arn: str = ""
    # Prefix of the Glue databases (`<prefix>bronze`, ...): two environments in one account
    # never share tables. "" locally, where each environment has its own catalog.
    namespace_prefix: str = ""
    # How often a deferred Glue / EMR task asks for its job run's state (seconds).
    cloud_poll_seconds: int = 30
    # S3-compatible object store (compose): endpoint for boto3, Spark's S3A and pyiceberg;
    # "" on AWS. Credentials stay in the standard AWS_* variables, never in settings.
    s3_endpoint: str = ""
    # dbt target `compose`: SQLAlchemy URI of the PostgreSQL warehouse dbt builds the marts in, made
    # from the variables dbt's `compose` profile reads, so Python and dbt open the same database.
    warehouse_db_uri: str = ""
    # QuickSight SPICE datasets (Terraform output `quicksight_dataset_ids`) the DAG refreshes after
    # the marts are published on Redshift; empty: no refresh tasks (local, compose, or no QuickSight).
    quicksight_dataset_ids: tuple[str, ...] = ()
    # How many hours before its own a run re-lists for stragglers (objects Firehose delivered into
    # an hour's prefix after that hour was read; its S3 retries last up to 24 h). 0: none.
    straggler_hours: int = 24
    # The transaction-rate alarm (dbt model agg_hourly_order_rate, pipeline.rate_alarm): passed to
    # dbt as vars; defaults chosen with `make bench-alarm` (docs/benchmarks.md, docs/operations.md).
    rate_alarm_window_days: int = 28
    rate_alarm_min_points: int = 7
    rate_alarm_week_min_points: int = 3
    rate_alarm_drop_score: float = 4.0
    rate_alarm_spike_score: float = 4.0
    rate_alarm_zero_min_expected: float = 3.0
    rate_alarm_drop_fraction: float = 0.2
    # Link put in each alarm message (the QuickSight dashboard on AWS); "" = the local dashboard file.
    dashboard_url: str = ""

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read `LAKEHOUSE_*` variables (from `env`, default `os.environ`) into a frozen Settings."""
    env = os.environ if env is None else env
    environment = _choice(env, "LAKEHOUSE_ENV", ENVIRONMENTS, "local")
    home = Path(env.get("LAKEHOUSE_HOME", str(REPO_ROOT / ".lakehouse"))).expanduser().resolve()
    catalog_name = env.get("LAKEHOUSE_CATALOG_NAME", "lakehouse").strip()
    if not catalog_name.isidentifier():
        raise SettingsError(f"LAKEHOUSE_CATALOG_NAME={catalog_name!r} must be a simple identifier (letters, digits, _)")

    if environment == "local":
        catalog_uri = env.get("LAKEHOUSE_CATALOG_URI", f"sqlite:///{home / 'catalog.db'}")
        warehouse = env.get("LAKEHOUSE_WAREHOUSE", (home / "warehouse").as_uri())
        raw_root = env.get("LAKEHOUSE_RAW_ROOT", str(home / "raw"))
        default_backend, default_dbt = "local", "local"
    elif environment == "compose":
        catalog_uri = env.get(
            "LAKEHOUSE_CATALOG_URI", "postgresql+psycopg2://lakehouse:lakehouse@postgres:5432/catalog"
        )
        # s3a://: Spark reaches the compose object store through Hadoop's S3A with Iceberg's
        # HadoopFileIO (S3FileIO needs the AWS SDK v2, which no reachable registry carries).
        warehouse = env.get("LAKEHOUSE_WAREHOUSE", COMPOSE_WAREHOUSE)
        raw_root = env.get("LAKEHOUSE_RAW_ROOT", COMPOSE_RAW_ROOT)
        default_backend, default_dbt = "local", "compose"
    else:
        catalog_uri = ""
        warehouse = _required(env, "LAKEHOUSE_WAREHOUSE", environment, "s3:// root of the Iceberg tables")
        raw_root = _required(env, "LAKEHOUSE_RAW_ROOT", environment, "s3:// prefix Firehose writes to")
        default_backend, default_dbt = "glue", "redshift"

    spark_backend = _choice(env, "LAKEHOUSE_SPARK_BACKEND", SPARK_BACKENDS, default_backend)
    dbt_target = _choice(env, "LAKEHOUSE_DBT_TARGET", DBT_TARGETS, default_dbt)
    settings = Settings(
        environment=environment,
        home=home,
        catalog_name=catalog_name,
        catalog_uri=catalog_uri,
        warehouse=warehouse,
        raw_root=raw_root.rstrip("/"),
        stream_name=env.get("LAKEHOUSE_STREAM_NAME", "orders-stream"),
        spark_backend=spark_backend,
        firehose_buffer_seconds=_int(env, "LAKEHOUSE_FIREHOSE_BUFFER_SECONDS", 300, minimum=0),
        landing_margin_seconds=_int(env, "LAKEHOUSE_LANDING_MARGIN_SECONDS", 120, minimum=0),
        lateness_hours=_int(env, "LAKEHOUSE_LATENESS_HOURS", limits.LATENESS_HOURS, minimum=0),
        clock_skew_minutes=_int(env, "LAKEHOUSE_CLOCK_SKEW_MINUTES", limits.CLOCK_SKEW_MINUTES, minimum=0),
        quarantine_max_share=_float(env, "LAKEHOUSE_QUARANTINE_MAX_SHARE", limits.QUARANTINE_MAX_SHARE, 0.0, 1.0),
        max_object_bytes=_int(env, "LAKEHOUSE_MAX_OBJECT_BYTES", limits.MAX_OBJECT_BYTES, minimum=1),
        straggler_hours=_int(env, "LAKEHOUSE_STRAGGLER_HOURS", 24, minimum=0),
        dbt_target=dbt_target,
        dbt_executable=env.get("LAKEHOUSE_DBT_EXECUTABLE", str(REPO_ROOT / ".venv-dbt" / "bin" / "dbt")),
        aws_region=env.get("LAKEHOUSE_AWS_REGION", env.get("AWS_DEFAULT_REGION", "eu-west-1")),
        glue_job_name=env.get("LAKEHOUSE_GLUE_JOB_NAME", ""),
        emr_application_id=env.get("LAKEHOUSE_EMR_APPLICATION_ID", ""),
        emr_execution_role_arn=env.get("LAKEHOUSE_EMR_EXECUTION_ROLE_ARN", ""),
        artifacts_uri=env.get("LAKEHOUSE_ARTIFACTS_URI", "").rstrip("/"),
        java_home=env.get("JAVA_HOME", ""),
        iceberg_jar=env.get("LAKEHOUSE_ICEBERG_JAR", ""),
        sqlite_jdbc_jar=env.get("LAKEHOUSE_SQLITE_JDBC_JAR", ""),
        sqlite_jdbc_native_dir=env.get("LAKEHOUSE_SQLITE_JDBC_NATIVE_DIR", ""),
        jars_from_maven=_choice(env, "LAKEHOUSE_JARS_FROM_MAVEN", ("0", "1"), "0") == "1",
        jars_dir=env.get("LAKEHOUSE_JARS_DIR", "").strip(),
        maven_repository=env.get("LAKEHOUSE_MAVEN_REPOSITORY", "https://repo1.maven.org/maven2").strip().rstrip("/"),
        sqlite_jdbc_sha256=env.get("LAKEHOUSE_SQLITE_JDBC_SHA256", "").strip().lower(),
        warm_spark=env.get("LAKEHOUSE_WARM_SPARK", "").strip(),
        airflow_host=env.get("LAKEHOUSE_AIRFLOW_HOST", "127.0.0.1").strip() or "127.0.0.1",
        airflow_password=env.get("LAKEHOUSE_AIRFLOW_PASSWORD", ""),
        schedule_start=_hour(env, "LAKEHOUSE_SCHEDULE_START"),
        alerts_sns_topic_arn=env.get("LAKEHOUSE_ALERTS_SNS_TOPIC_ARN", "").strip(),
        redshift_workgroup=env.get("LAKEHOUSE_REDSHIFT_WORKGROUP", "").strip(),
        redshift_cluster_id=env.get("LAKEHOUSE_REDSHIFT_CLUSTER_ID", "").strip(),
        redshift_database=env.get("LAKEHOUSE_REDSHIFT_DATABASE", "dev").strip() or "dev",
        redshift_secret_arn=env.get("LAKEHOUSE_REDSHIFT_SECRET_ARN", "").strip(),
        namespace_prefix=env.get("LAKEHOUSE_NAMESPACE_PREFIX", "").strip(),
        cloud_poll_seconds=_int(env, "LAKEHOUSE_CLOUD_POLL_SECONDS", 30, minimum=1),
        s3_endpoint=_s3_endpoint(env, environment),
        warehouse_db_uri=_warehouse_db_uri(env) if dbt_target == "compose" else "",
        quicksight_dataset_ids=_quicksight_dataset_ids(env, dbt_target),
        rate_alarm_window_days=_int(env, "LAKEHOUSE_RATE_ALARM_WINDOW_DAYS", 28, minimum=1),
        rate_alarm_min_points=_int(env, "LAKEHOUSE_RATE_ALARM_MIN_POINTS", 7, minimum=1),
        rate_alarm_week_min_points=_int(env, "LAKEHOUSE_RATE_ALARM_WEEK_MIN_POINTS", 3, minimum=1),
        rate_alarm_drop_score=_float(env, "LAKEHOUSE_RATE_ALARM_DROP_SCORE", 4.0, 0.5, 100.0),
        rate_alarm_spike_score=_float(env, "LAKEHOUSE_RATE_ALARM_SPIKE_SCORE", 4.0, 0.5, 100.0),
        rate_alarm_zero_min_expected=_float(env, "LAKEHOUSE_RATE_ALARM_ZERO_MIN_EXPECTED", 3.0, 0.0, 1e9),
        rate_alarm_drop_fraction=_float(env, "LAKEHOUSE_RATE_ALARM_DROP_FRACTION", 0.2, 0.0, 1.0),
        dashboard_url=env.get("LAKEHOUSE_DASHBOARD_URL", "").strip(),
    )
    if settings.spark_backend == "emr-serverless" and environment == "aws":
        _required(env, "LAKEHOUSE_EMR_APPLICATION_ID", environment, "the EMR Serverless application")
        _required(env, "LAKEHOUSE_EMR_EXECUTION_ROLE_ARN", environment, "the job execution role")
    if settings.spark_backend == "local" and environment == "aws":
        raise SettingsError(
            "LAKEHOUSE_SPARK_BACKEND=local is not allowed with LAKEHOUSE_ENV=aws; allowed values: glue, emr-serverless"
        )
    if not is_namespace_prefix(settings.namespace_prefix):
        raise SettingsError(
            f"LAKEHOUSE_NAMESPACE_PREFIX={settings.namespace_prefix!r} must be lowercase letters, digits "
            "and _ (Glue database names), starting with a letter, e.g. dev_"
        )
    if settings.dbt_target == "redshift" and not (settings.redshift_workgroup or settings.redshift_cluster_id):
        # Without one, dbt's Redshift connection and the daily ANALYZE would fail every day.
        raise SettingsError(
            "LAKEHOUSE_DBT_TARGET=redshift needs LAKEHOUSE_REDSHIFT_WORKGROUP (Serverless) or "
            "LAKEHOUSE_REDSHIFT_CLUSTER_ID (provisioned)"
        )
    if settings.redshift_workgroup and settings.redshift_cluster_id:
        raise SettingsError(
            "set one of LAKEHOUSE_REDSHIFT_WORKGROUP (Serverless) and LAKEHOUSE_REDSHIFT_CLUSTER_ID "
            "(provisioned), not both"
        )
    return settings
