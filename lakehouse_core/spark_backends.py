"""Where Spark runs, as one object chosen once from `settings.spark_backend` (`backend_for`).

- `LocalSpark`: `spark-submit` on this machine (the laptop runtime, `lakehouse.runtime.local_spark`);
- `GlueSpark`: the Glue 5 job `<glue_job_name>-<script>`, with `--datalake-formats iceberg`, the
  package zip in `--extra-py-files` and the Iceberg catalog in Glue's single `--conf` argument
  (`k=v --conf k2=v2 ...`, the form Glue documents);
- `EmrServerlessSpark`: an EMR Serverless job run with the entry script, its arguments and
  `sparkSubmitParameters` (runtime jar, catalog conf, `--py-files`).

Each backend answers everything that differs between those places: the catalog arguments every
job takes, where the entry scripts, the GX suites and the Data Docs are, and the cloud services'
job definitions. A new backend is one more class in `BACKENDS`, not one more branch in every
function. Which Airflow operator runs a job on each is `pipeline.spark_tasks` (Airflow-only code
lives beside the DAG files); the CLI, the deploy and the tests use the backends without Airflow.

Jobs take the same `--snake_case` arguments everywhere (design rule: Spark jobs know nothing of
Airflow), rendered by `spark_jobs.jobargs.to_argv`. The catalog conf comes from
`spark_jobs.session.catalog_conf`, the function the jobs themselves use, so it is written once.

Artifacts on AWS (the deploy step uploads them):
`<artifacts_uri>/spark_jobs/<script>` (entry points), `<artifacts_uri>/spark_jobs.zip` (the
package), `<artifacts_uri>/expectations/` (the GX suites); the gate writes Data Docs under
`<artifacts_uri>/reports/data_docs/`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, ClassVar

from lakehouse_core.settings import REPO_ROOT, Settings
from lakehouse_core.spark_catalog import LOCAL_PLATFORM, catalog_args, local_catalog_args, local_catalog_conf
from spark_jobs.jobargs import to_argv
from spark_jobs.session import catalog_conf

PACKAGE = "spark_jobs"
DATA_DOCS = "data_docs"  # the folder under the reports root that holds one Data Docs site per run


@dataclass(frozen=True)
class SparkBackend:
    """Where Spark runs, for one settings object. Subclasses say what differs."""

    settings: Settings
    platform: ClassVar[str]  # the jobs' `--environment`: local, glue or emr

    def catalog_args(self) -> dict[str, str]:
        """The catalog arguments every job takes (`lakehouse_core.spark_catalog.catalog_args`)."""
        return catalog_args(self.settings, self.platform)

    def script_uri(self, script: str) -> str:
        """Where the entry script `spark_jobs/<script>` lives for this backend."""
        raise NotImplementedError

    def expectations_uri(self) -> str:
        """Where the GX suites are, as the gate's `--expectations_dir`."""
        raise NotImplementedError

    def data_docs_uri(self) -> str:
        """The root of the gate's Data Docs (`<root>/<run_id>/index.html`), as its `--reports_uri`."""
        raise NotImplementedError


class LocalSpark(SparkBackend):
    """spark-submit on this machine, from a Python task (and from the CLI, `lakehouse.runtime.local_spark`).

    The catalog arguments are added when the job starts (`local_spark.build_command`), not here:
    the CLI starts jobs without an operator, and both must give a job the same catalog.
    """

    platform = LOCAL_PLATFORM

    def catalog_args(self) -> dict[str, str]:
        """Plus the JDBC catalog URI and user (`lakehouse_core.spark_catalog.local_catalog_args`)."""
        return local_catalog_args(self.settings)

    def catalog_conf(self) -> dict[str, str]:
        """The local catalog's Spark conf (`lakehouse_core.spark_catalog.local_catalog_conf`)."""
        return local_catalog_conf(self.settings)

    def script_uri(self, script: str) -> str:
        return str(REPO_ROOT / PACKAGE / PurePosixPath(script).name)

    def expectations_uri(self) -> str:
        return ""  # the job finds `expectations/` beside its package

    def data_docs_uri(self) -> str:
        return str(self.settings.reports_dir / DATA_DOCS)


class CloudSpark(SparkBackend):
    """What Glue and EMR Serverless share: artifacts in S3, the catalog args added here (the deferrable
    operators that wait on them: `pipeline.spark_tasks`)."""

    name: ClassVar[str]  # the settings' spark_backend value, for error messages

    @property
    def artifacts(self) -> str:
        if not self.settings.artifacts_uri:
            raise ValueError(
                f"LAKEHOUSE_ARTIFACTS_URI (s3:// prefix of the job scripts and package zip) is required "
                f"for spark_backend={self.name}"
            )
        return self.settings.artifacts_uri

    def script_uri(self, script: str) -> str:
        return f"{self.artifacts}/{PACKAGE}/{PurePosixPath(script).name}"

    def package_zip_uri(self) -> str:
        """The zip of the `spark_jobs` package the entry scripts import from."""
        return f"{self.artifacts}/{PACKAGE}.zip"

    def expectations_uri(self) -> str:
        return f"{self.artifacts}/expectations"

    def data_docs_uri(self) -> str:
        return f"{self.artifacts}/reports/{DATA_DOCS}"

    def job_argv(self, job_args: Mapping[str, Any]) -> list[str]:
        """The catalog arguments, then the job's (which win: argparse keeps the last value)."""
        return to_argv({**self.catalog_args(), **job_args})


class GlueSpark(CloudSpark):
    name = "glue"
    platform = "glue"

    def job_name(self, script: str) -> str:
        """`<glue_job_name>-<script stem, hyphenated>`: one Glue job per Spark program.

        Glue's StartJobRun cannot change a job's script, so each program is its own job
        (`lakehouse deploy` defines them with the matching ScriptLocation).
        """
        if not self.settings.glue_job_name:
            raise ValueError("LAKEHOUSE_GLUE_JOB_NAME (the Glue job name prefix) is required for spark_backend=glue")
        return f"{self.settings.glue_job_name}-{PurePosixPath(script).stem.replace('_', '-')}"

    def script_args(self, job_args: Mapping[str, Any]) -> dict[str, str]:
        """Every argument a Glue run of a job gets: Glue's own, then the job's `--snake_case` ones."""
        conf = catalog_conf(self.platform, self.settings.catalog_name, self.settings.warehouse)
        argv = self.job_argv(job_args)
        return {
            "--datalake-formats": "iceberg",
            "--extra-py-files": self.package_zip_uri(),
            "--conf": glue_conf_string(conf),
            **dict(zip(argv[::2], argv[1::2], strict=True)),
        }


# The Python of our EMR Serverless image (docker/emr-serverless/Dockerfile). EMR 7's own is 3.9, on
# which the jobs cannot even import; the image sets it in its ENV too, but AWS's custom-image
# samples name it per job run as well, so a run never depends on how the image was built.
EMR_PYTHON = "/usr/bin/python3.11"


class EmrServerlessSpark(CloudSpark):
    name = "emr-serverless"
    platform = "emr"

    def spark_submit_parameters(self) -> str:
        """`--conf k=v ...` for the driver's and executors' Python, the Iceberg runtime jar and
        catalog, then `--py-files <package zip>`."""
        conf = catalog_conf(self.platform, self.settings.catalog_name, self.settings.warehouse)
        python = {
            "spark.emr-serverless.driverEnv.PYSPARK_PYTHON": EMR_PYTHON,
            "spark.executorEnv.PYSPARK_PYTHON": EMR_PYTHON,
        }
        # The runtime jar first: it must be on the classpath before the catalog is configured.
        ordered = {**python, "spark.jars": conf.pop("spark.jars"), **conf}
        parts = [f"--conf {key}={value}" for key, value in ordered.items()]
        parts.append(f"--py-files {self.package_zip_uri()}")
        return " ".join(parts)

    def job_driver(self, script: str, job_args: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "sparkSubmit": {
                "entryPoint": self.script_uri(script),
                "entryPointArguments": self.job_argv(job_args),
                "sparkSubmitParameters": self.spark_submit_parameters(),
            }
        }

    def configuration_overrides(self) -> dict[str, Any]:
        """Driver and executor logs to S3 beside the artifacts, where operators look for them."""
        return {
            "monitoringConfiguration": {
                "s3MonitoringConfiguration": {"logUri": f"{self.artifacts}/logs/emr-serverless/"}
            }
        }


BACKENDS: dict[str, type[SparkBackend]] = {"local": LocalSpark, "glue": GlueSpark, "emr-serverless": EmrServerlessSpark}


def backend_for(settings: Settings) -> SparkBackend:
    """The backend `settings.spark_backend` names: the one place that reads it."""
    try:
        return BACKENDS[settings.spark_backend](settings)
    except KeyError:
        raise ValueError(f"unknown spark_backend {settings.spark_backend!r}; one of {', '.join(BACKENDS)}") from None


def data_docs_uri(settings: Settings) -> str:
    """Where the quality gate writes Data Docs, one folder per run: what the DAG passes the gate,
    `lakehouse validate` passes it, and `lakehouse dq` looks in."""
    return backend_for(settings).data_docs_uri()


def glue_conf_string(conf: Mapping[str, str]) -> str:
    """Glue accepts one `--conf` key; more settings are chained inside its value."""
    return " --conf ".join(f"{key}={value}" for key, value in conf.items())
