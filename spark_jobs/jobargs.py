"""Job arguments, the same `--snake_case` names on every platform.

Why one module: a job must not care where it runs. Locally and on EMR Serverless the
arguments arrive as plain `--name value` pairs (argparse); on Glue they arrive the same way
but Glue adds its own (`--JOB_NAME`, `--TempDir`, ...) and the documented reader is
`awsglue.utils.getResolvedOptions`, which is only importable inside Glue. So: use Glue's
reader when `awsglue` is present, argparse otherwise, and hand the job one plain dict.

Optional arguments are simply left out by the launcher when unset (Glue rejects empty
argument values), and get their default here.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class JobArg:
    """One `--name value` argument. `default is None` means required."""

    name: str
    help: str = ""
    default: str | None = None

    @property
    def required(self) -> bool:
        return self.default is None


# How every job names its Iceberg catalog: the launchers (`lakehouse_core.spark_backends`, one backend
# object per platform) render exactly these; unknown platform extras are ignored.
CATALOG_ARGS = (
    JobArg("environment", "platform (local, glue, emr), or deployment (local, compose, aws) with --platform", "local"),
    JobArg("platform", "local, glue or emr; overrides --environment", ""),
    JobArg("catalog_name", "Iceberg catalog name (the same as the Spark catalog)", "lakehouse"),
    JobArg("catalog_uri", "local platform: JDBC (or SQLAlchemy) uri of the catalog; unused on Glue/EMR", ""),
    JobArg("catalog_jdbc_user", "JDBC catalog user (compose)", ""),
    JobArg("catalog_jdbc_password", "JDBC catalog password (compose)", ""),
    JobArg("jdbc_user", "alias of --catalog_jdbc_user", ""),
    JobArg("jdbc_password", "alias of --catalog_jdbc_password", ""),
    JobArg("warehouse", "Iceberg warehouse root (file:// or s3://)", ""),
    JobArg("namespace_prefix", "prefix of the namespaces (Glue databases) on AWS, e.g. dev_", ""),
)


# A failed gate or a refused publish is the job's answer, not an accident. Locally the job exits
# 1; on Glue and EMR (which only say FAILED) it raises `Verdict`, whose message starts with this
# marker, and the Airflow operators (pipeline.cloud_operators) read it from the run's error text
# and do not retry.
VERDICT_MARKER = "LAKEHOUSE-VERDICT"


class Verdict(Exception):
    """The job's verdict on a cloud platform (see VERDICT_MARKER)."""


def verdict_exit(code: int, args: Mapping[str, str], reason: str) -> int:
    """`code` locally; on Glue/EMR a verdict (1) becomes a `Verdict` the platform reports."""
    if code == 1 and resolve_platform(args.get("environment", ""), args.get("platform", "")) in ("glue", "emr"):
        raise Verdict(f"{VERDICT_MARKER}: {reason}")
    return code


def on_glue() -> bool:
    """True inside an AWS Glue job (the `awsglue` package exists only there)."""
    return importlib.util.find_spec("awsglue") is not None


# The JDBC catalog's password reaches a local job through its environment, never its command
# line (`ps` shows every process's arguments to every user): lakehouse.runtime.local_spark sets it.
CATALOG_PASSWORD_ENV = "ICEBERG_CATALOG_JDBC_PASSWORD"


def parse_job_args(specs: Sequence[JobArg], argv: Sequence[str] | None = None, prog: str = "") -> dict[str, str]:
    """The job's arguments as {name: value}; unknown arguments (platform extras) are ignored.

    `catalog_jdbc_password`, when not given, comes from CATALOG_PASSWORD_ENV.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if on_glue():
        return _glue_args(specs, args)
    parser = argparse.ArgumentParser(prog=prog or None, allow_abbrev=False)
    for spec in specs:
        parser.add_argument(f"--{spec.name}", required=spec.required, default=spec.default, help=spec.help)
    known, _platform_extras = parser.parse_known_args(args)
    values = {spec.name: getattr(known, spec.name) for spec in specs}
    if "catalog_jdbc_password" in values and not values["catalog_jdbc_password"]:
        values["catalog_jdbc_password"] = os.environ.get(CATALOG_PASSWORD_ENV, "")
    return values


def _glue_args(specs: Sequence[JobArg], args: list[str]) -> dict[str, str]:
    from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]

    given = {a[2:].split("=", 1)[0] for a in args if a.startswith("--")}
    wanted = [s.name for s in specs if s.required or s.name in given]
    resolved = getResolvedOptions(["job", *args], wanted)
    return {s.name: resolved.get(s.name, s.default) for s in specs}


def to_argv(values: Mapping[str, object] | Sequence[str]) -> list[str]:
    """{name: value} -> ['--name', 'value', ...]: how every launcher hands a job its arguments.

    The one rendering for local spark-submit, the warm driver, EMR Serverless'
    `entryPointArguments` and Glue's script arguments. Names may carry their dashes already;
    None and "" are left out (the job gives an unset optional argument its default, and Glue
    rejects empty values). An argv (a sequence of strings) passes through.
    """
    if not isinstance(values, Mapping):
        return [str(a) for a in values]
    argv: list[str] = []
    for name, value in values.items():
        if value is None or value == "":
            continue
        argv += [name if name.startswith("--") else f"--{name}", str(value)]
    return argv


# ---------------------------------------------------------------- the catalog arguments every job takes

PLATFORMS = ("local", "glue", "emr")
_ENVIRONMENT_PLATFORM = {"compose": "local", "aws": "glue"}


def resolve_platform(environment: str, platform: str = "") -> str:
    """Where Spark runs: `--platform` when given, else `--environment` read as a platform.

    Two conventions meet here: `--environment local|glue|emr` names the platform directly;
    `--environment local|compose|aws` names the deployment and `--platform` the Spark runner
    (compose runs local Spark, aws defaults to Glue).
    """
    chosen = (platform or "").strip().lower() or (environment or "local").strip().lower()
    chosen = _ENVIRONMENT_PLATFORM.get(chosen, chosen)
    if chosen not in PLATFORMS:
        raise ValueError(f"platform {chosen!r} is not one of {', '.join(PLATFORMS)} (from --environment/--platform)")
    return chosen


def jdbc_catalog_uri(uri: str, user: str = "", password: str = "") -> tuple[str, str, str]:
    """(jdbc uri, user, password) from a JDBC URI or the SQLAlchemy URI the settings hold.

    The one converter: the jobs call it on `--catalog_uri`, the Airflow side (the local launcher,
    the warm driver, the tests' session) on `settings.catalog_uri`. It lives here because the jobs
    ship without `pipeline`, while `dags/` on MWAA carries a copy of `spark_jobs` (lakehouse.aws.bundle).
    """
    if uri.startswith("jdbc:"):
        return uri, user, password
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "sqlite":
        return f"jdbc:sqlite:{uri.split(':///', 1)[1]}", user, password
    if scheme in ("postgresql", "postgres"):
        port = f":{parts.port}" if parts.port else ""
        jdbc = f"jdbc:postgresql://{parts.hostname or 'localhost'}{port}{parts.path}"
        return jdbc, user or parts.username or "", password or parts.password or ""
    raise ValueError(f"catalog uri {uri!r}: expected jdbc:..., sqlite:///... or postgresql://...")


def parse_hour(text: str, what: str = "arrival hour") -> datetime:
    """An arrival hour as an aware UTC datetime: `2026-11-01T08`, `2026-11-01T08:00`,
    `2026-11-01T08:00:00Z` or with an offset (the DAG passes `...+00:00`); naive means UTC.

    One parser for the CLI, the ingest, the gate and the settings (LAKEHOUSE_SCHEDULE_START,
    named by `what` in the message). Anything not on the hour is refused: the arrival hour names
    a raw-zone prefix, and a window off by minutes would pass or fail the wrong events.
    """
    raw = text.strip()
    if len(raw) == 13 and raw[10] in "T ":  # date + hour only
        raw += ":00"
    try:
        moment = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise ValueError(
            f"{what} {text!r} is not an ISO date-time on the hour such as 2026-11-01T08 or 2026-11-01T08:00:00Z"
        ) from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if (moment.minute, moment.second, moment.microsecond) != (0, 0, 0):
        raise ValueError(f"{what} {text!r} is not on the hour; arrival hours start at :00 (e.g. {moment:%Y-%m-%dT%H})")
    return moment
