"""What the gate's two entry points share: their arguments and how they get a Spark session.

The arguments follow the ingest's conventions (`spark_jobs.jobargs`: the same `--snake_case`
names on Glue, EMR Serverless and local spark-submit, the catalog ones as
`pipeline.spark_backends` renders them; unknown platform extras ignored).
On Glue and EMR the launcher passes the catalog conf to Spark itself; locally the job adds it
from `--catalog_uri`/`--warehouse`, so a bare spark-submit works too.
"""

from __future__ import annotations

from collections.abc import Mapping

from spark_jobs.jobargs import CATALOG_ARGS, JobArg, jdbc_catalog_uri, resolve_platform

__all__ = ["CATALOG_ARGS", "RUN_ARGS", "get_spark", "session_conf"]

RUN_ARGS = (
    JobArg("run_id", "ingest run id whose audit branch is gated"),
    JobArg("audit_branch", "the run's audit branch (default: from audit.ingest_runs / audit.dq_results)", ""),
)


def session_conf(args: Mapping[str, str]) -> dict[str, str]:
    """Spark conf for the catalog; empty when the launcher configures it (or nothing is given)."""
    from spark_jobs.session import catalog_conf

    platform = resolve_platform(args.get("environment", ""), args.get("platform", ""))
    if not args.get("warehouse"):
        return {}
    if platform != "local":
        return catalog_conf(platform, args["catalog_name"], args["warehouse"])
    if not args.get("catalog_uri"):
        return {}
    uri, user, password = jdbc_catalog_uri(
        args["catalog_uri"],
        args.get("catalog_jdbc_user") or args.get("jdbc_user", ""),
        args.get("catalog_jdbc_password") or args.get("jdbc_password", ""),
    )
    return catalog_conf("local", args["catalog_name"], args["warehouse"], uri, user, password)


def get_spark(app_name: str, args: Mapping[str, str]):
    from spark_jobs.session import get_session

    return get_session(app_name, session_conf(args))
