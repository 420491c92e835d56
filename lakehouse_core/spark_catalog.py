"""The catalog arguments every Spark job takes, and the local catalog's Spark conf.

Why a module of its own: both the backend objects (`lakehouse_core.spark_backends`, which start jobs
from Airflow) and the local runner (`lakehouse.runtime.local_spark`, which the backend's task body and the
CLI call) need them. Kept here, below both, the runner does not import the backends that call it
(that was an import circle), and the rule stays written once.
"""

from __future__ import annotations

from lakehouse_core.settings import Settings
from spark_jobs.jobargs import jdbc_catalog_uri
from spark_jobs.session import catalog_conf

LOCAL_PLATFORM = "local"


def catalog_args(settings: Settings, platform: str) -> dict[str, str]:
    """The catalog arguments every job takes on `platform` (`spark_jobs.jobargs.CATALOG_ARGS`)."""
    args = {"environment": platform, "catalog_name": settings.catalog_name}
    args["warehouse"] = settings.warehouse
    if settings.namespace_prefix:
        args["namespace_prefix"] = settings.namespace_prefix
    return args


def local_catalog_args(settings: Settings) -> dict[str, str]:
    """Plus the JDBC form of the settings' SQLAlchemy catalog URI: Spark's JdbcCatalog and
    pyiceberg's SqlCatalog share the tables. Never the password: `local_spark.build_command`
    hands it over in the job's environment (`spark_jobs.jobargs.CATALOG_PASSWORD_ENV`)."""
    uri, user, _password = jdbc_catalog_uri(settings.catalog_uri)
    return {**catalog_args(settings, LOCAL_PLATFORM), "catalog_uri": uri, "catalog_jdbc_user": user}


def local_catalog_conf(settings: Settings) -> dict[str, str]:
    """The Spark conf of the local catalog, for a session made outside a job (the warm driver,
    the tests' session, the ingest benchmark): the conf a job derives from its arguments."""
    uri, user, password = jdbc_catalog_uri(settings.catalog_uri)
    return catalog_conf(LOCAL_PLATFORM, settings.catalog_name, settings.warehouse, uri, user, password)
