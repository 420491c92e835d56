"""One factory for every Spark step, whatever runs Spark: `spark_task(settings, task_id, script, job_args)`.

`settings.spark_backend` picks the runner, and the DAG reads the same for all three:

- `local`: a Python task that runs `spark-submit` on this machine (`pipeline.local_spark`);
- `glue`: `GlueJobOperator` (deferrable) starting the Glue 5 job `<glue_job_name>-<script>`,
  with `--datalake-formats iceberg`, the package zip in `--extra-py-files` and the Iceberg
  catalog in Glue's single `--conf` argument (`k=v --conf k2=v2 ...`, the form Glue documents);
- `emr-serverless`: `EmrServerlessStartJobOperator` (deferrable) with the entry script, its
  arguments and `sparkSubmitParameters` (runtime jar, catalog conf, `--py-files`).

Jobs take the same `--snake_case` arguments everywhere (design rule: Spark jobs know nothing of
Airflow). Values may be Jinja templates (`{{ ti.xcom_pull(...) }}`): every runner's argument field
is templated, so they render identically on all three. The catalog conf comes from
`spark_jobs.session.catalog_conf`, the function the jobs themselves use, so it is written once.

Deferrable operators hold no worker slot while the cloud job runs. Provider operators (and so
boto3) are imported only for the backend in use, keeping local DAG parsing free of them.

Artifacts on AWS (the deploy step uploads them):
`<artifacts_uri>/spark_jobs/<script>` (entry points) and `<artifacts_uri>/spark_jobs.zip` (the package).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from pipeline.settings import REPO_ROOT, Settings
from spark_jobs.session import catalog_conf

PACKAGE = "spark_jobs"
GLUE_PLATFORM = "glue"
EMR_PLATFORM = "emr"
# Cloud Spark jobs run for minutes: the trigger asks every `settings.cloud_poll_seconds` (30 s by
# default), for at most this long.
WAITER_MAX_SECONDS = 2 * 3600


def script_uri(settings: Settings, script: str) -> str:
    """Where the entry script lives: the repo locally, `<artifacts_uri>/spark_jobs/<script>` on AWS."""
    name = PurePosixPath(script).name
    if settings.spark_backend == "local":
        return str(REPO_ROOT / PACKAGE / name)
    return f"{_artifacts(settings)}/{PACKAGE}/{name}"


def package_zip_uri(settings: Settings) -> str:
    """The zip of the `spark_jobs` package the entry scripts import from."""
    return f"{_artifacts(settings)}/{PACKAGE}.zip"


def expectations_uri(settings: Settings) -> str:
    """Where the GX suites are: "" locally (the job finds `expectations/` beside its package),
    `<artifacts_uri>/expectations` on AWS (the deploy step uploads them)."""
    return "" if settings.spark_backend == "local" else f"{_artifacts(settings)}/expectations"


def reports_uri(settings: Settings) -> str:
    """Where the gate writes Data Docs (`<reports_uri>/<run_id>/`)."""
    if settings.spark_backend == "local":
        return str(settings.reports_dir / "data_docs")
    return f"{_artifacts(settings)}/reports/data_docs"


def glue_job_name(settings: Settings, script: str) -> str:
    """`<glue_job_name>-<script stem, hyphenated>`: one Glue job per Spark program.

    Glue's StartJobRun cannot change a job's script, so each program is its own job
    (Terraform defines them with the matching ScriptLocation).
    """
    if not settings.glue_job_name:
        raise ValueError("LAKEHOUSE_GLUE_JOB_NAME (the Glue job name prefix) is required for spark_backend=glue")
    return f"{settings.glue_job_name}-{PurePosixPath(script).stem.replace('_', '-')}"


def cli_args(job_args: Mapping[str, Any]) -> list[str]:
    """`{"run_id": "x"}` -> `["--run_id", "x"]`; keys may carry the dashes; empty values are left out

    (jobs give unset optional arguments their default, and Glue rejects empty values).
    """
    argv: list[str] = []
    for name, value in job_args.items():
        if value is None or value == "":
            continue
        argv += [_flag(name), str(value)]
    return argv


def glue_conf_string(conf: Mapping[str, str]) -> str:
    """Glue accepts one `--conf` key; more settings are chained inside its value."""
    return " --conf ".join(f"{key}={value}" for key, value in conf.items())


def glue_script_args(settings: Settings, job_args: Mapping[str, Any]) -> dict[str, str]:
    """Every argument a Glue run of a job gets: Glue's own, then the job's `--snake_case` ones."""
    conf = catalog_conf(GLUE_PLATFORM, settings.catalog_name, settings.warehouse)
    args = {
        "--datalake-formats": "iceberg",
        "--extra-py-files": package_zip_uri(settings),
        "--conf": glue_conf_string(conf),
    }
    for name, value in job_args.items():
        if value is None or value == "":
            continue
        args[_flag(name)] = str(value)
    return args


def emr_spark_submit_parameters(settings: Settings) -> str:
    """`--conf k=v ...` for the Iceberg runtime jar and catalog, then `--py-files <package zip>`."""
    conf = catalog_conf(EMR_PLATFORM, settings.catalog_name, settings.warehouse)
    # The runtime jar first: it must be on the classpath before the catalog is configured.
    ordered = {"spark.jars": conf.pop("spark.jars"), **conf}
    parts = [f"--conf {key}={value}" for key, value in ordered.items()]
    parts.append(f"--py-files {package_zip_uri(settings)}")
    return " ".join(parts)


def emr_job_driver(settings: Settings, script: str, job_args: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "sparkSubmit": {
            "entryPoint": script_uri(settings, script),
            "entryPointArguments": cli_args(job_args),
            "sparkSubmitParameters": emr_spark_submit_parameters(settings),
        }
    }


def emr_configuration_overrides(settings: Settings) -> dict[str, Any]:
    """Driver and executor logs to S3 beside the artifacts, where operators look for them."""
    return {
        "monitoringConfiguration": {
            "s3MonitoringConfiguration": {"logUri": f"{_artifacts(settings)}/logs/emr-serverless/"}
        }
    }


def spark_task(
    settings: Settings,
    task_id: str,
    script: str,
    job_args: Mapping[str, Any],
    verdict_exit_codes: tuple[int, ...] = (),
    **operator_kwargs: Any,
):  # -> BaseOperator
    """The task that runs `spark_jobs/<script>` with `job_args` on the configured backend.

    `verdict_exit_codes`: exit codes that are the job's answer, not an accident (the gate's
    "failed"); locally the task then fails at once instead of retrying into the same answer.
    On Glue and EMR the job raises a marked error instead, which `pipeline.cloud_operators`
    reads from the failed run: the same semantics, no retry for a verdict.

    The catalog arguments every job takes come from `pipeline.local_spark.catalog_args` (one
    definition for all backends): on Glue and EMR they are added here, locally the launcher adds
    them when the task runs (the local JDBC URI needs the catalog module, too heavy to parse).
    `job_args` win over them. `operator_kwargs` (outlets, retries, ...) go to the operator unchanged.
    """
    backend = settings.spark_backend
    if backend not in ("local", "glue", "emr-serverless"):
        raise ValueError(f"unknown spark_backend {backend!r}")
    if backend != "local":
        from pipeline.local_spark import catalog_args  # standard library only for glue/emr

        job_args = {**catalog_args(settings), **job_args}
    if backend == "local":
        from airflow.providers.standard.operators.python import PythonOperator

        return PythonOperator(
            task_id=task_id,
            python_callable=functools.partial(run_local_spark_job, settings),
            # op_kwargs is templated: Jinja in job_args renders before the callable runs.
            op_kwargs={"script": script, "job_args": dict(job_args), "verdict_exit_codes": list(verdict_exit_codes)},
            **operator_kwargs,
        )
    if backend == "glue":
        from pipeline.cloud_operators import GlueSparkJobOperator

        return GlueSparkJobOperator(
            task_id=task_id,
            job_name=glue_job_name(settings, script),
            script_location=script_uri(settings, script),
            script_args=glue_script_args(settings, job_args),
            region_name=settings.aws_region,
            aws_conn_id=None,  # the worker's role (MWAA execution role), no Airflow connection
            deferrable=True,
            waiter_delay=settings.cloud_poll_seconds,
            waiter_max_attempts=WAITER_MAX_SECONDS // settings.cloud_poll_seconds,
            verbose=False,
            # A timed-out or cleared task stops its Glue run instead of leaving it to finish alone.
            stop_job_run_on_kill=True,
            **operator_kwargs,
        )
    if backend == "emr-serverless":
        from pipeline.cloud_operators import EmrServerlessSparkJobOperator

        if not (settings.emr_application_id and settings.emr_execution_role_arn):
            raise ValueError(
                "LAKEHOUSE_EMR_APPLICATION_ID and LAKEHOUSE_EMR_EXECUTION_ROLE_ARN are required "
                "for spark_backend=emr-serverless"
            )
        return EmrServerlessSparkJobOperator(
            task_id=task_id,
            name=f"{task_id}-{{{{ ts_nodash }}}}",
            application_id=settings.emr_application_id,
            execution_role_arn=settings.emr_execution_role_arn,
            job_driver=emr_job_driver(settings, script, job_args),
            configuration_overrides=emr_configuration_overrides(settings),
            region_name=settings.aws_region,
            aws_conn_id=None,
            deferrable=True,
            waiter_delay=settings.cloud_poll_seconds,
            waiter_max_attempts=WAITER_MAX_SECONDS // settings.cloud_poll_seconds,
            cancel_on_kill=True,  # a killed task cancels its job run
            **operator_kwargs,
        )
    raise ValueError(f"unknown spark_backend {backend!r}")


def run_local_spark_job(
    settings: Settings, script: str, job_args: Mapping[str, Any], verdict_exit_codes: list[int] | None = None
) -> None:
    """Task body of the local backend: spark-submit `script`; fail the task if the job fails.

    A verdict exit code and a missing environment part (Java, a jar) fail at once: retrying
    cannot change either.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from pipeline.jvm import EnvironmentNotReady

    try:
        code = _submit_local(settings, script_uri(settings, script), cli_args(job_args))
    except EnvironmentNotReady as exc:
        raise AirflowFailException(f"{exc} (an environment error: not retried)") from None
    if code == 0:
        return
    message = f"{PurePosixPath(script).name} exited with code {code} (its output is in this task's log)"
    if code in (verdict_exit_codes or []):
        raise AirflowFailException(message + "; a verdict, not retried")
    raise RuntimeError(message)


def _submit_local(settings: Settings, script_path: str, argv: list[str]) -> int:
    """spark-submit the script with the local JVM parts; returns the job's exit code."""
    from pipeline import local_spark  # imported at run time: it discovers Java and jars

    # Output streams to this task's log; a killed task kills the job's process group.
    return local_spark.run_job(settings, script_path, argv)


def _flag(name: str) -> str:
    return name if name.startswith("--") else f"--{name}"


def _artifacts(settings: Settings) -> str:
    if not settings.artifacts_uri:
        raise ValueError(
            f"LAKEHOUSE_ARTIFACTS_URI (s3:// prefix of the job scripts and package zip) is required "
            f"for spark_backend={settings.spark_backend}"
        )
    return settings.artifacts_uri
