"""One factory for every Spark step of every DAG: `spark_task(settings, task_id, script, job_args)`.

The backend (`lakehouse_core.spark_backends.backend_for`) says where Spark runs and what the job
is given there; this module says which Airflow operator runs it:

- local: a `PythonOperator` whose body runs `spark-submit` on this machine (the laptop runtime);
- Glue: `GlueJobOperator` (deferrable), as `pipeline.cloud_operators.GlueSparkJobOperator`;
- EMR Serverless: `EmrServerlessStartJobOperator` (deferrable), as `EmrServerlessSparkJobOperator`.

Values in `job_args` may be Jinja templates (`{{ ti.xcom_pull(...) }}`): every operator's
argument field is templated, so they render identically on all three. Deferrable operators hold
no worker slot while the cloud job runs. Provider operators (and so boto3) are imported only for
the backend in use, keeping local DAG parsing free of them; the laptop runtime is imported only
inside the local task's body, which never runs on MWAA (the bundle does not ship it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from typing import Any

from lakehouse_core.settings import Settings
from lakehouse_core.spark_backends import CloudSpark, EmrServerlessSpark, GlueSpark, LocalSpark, backend_for

# Cloud Spark jobs run for minutes: the trigger asks every `settings.cloud_poll_seconds` (30 s by
# default), for at most this long.
WAITER_MAX_SECONDS = 2 * 3600


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

    Every job also gets the backend's catalog arguments (`SparkBackend.catalog_args`); `job_args`
    win over them. `operator_kwargs` (outlets, retries, ...) go to the operator unchanged.
    """
    backend = backend_for(settings)
    build = OPERATORS[type(backend)]
    return build(backend, task_id, script, job_args, tuple(verdict_exit_codes), **operator_kwargs)


def _local_task(backend: LocalSpark, task_id, script, job_args, verdict_exit_codes, **operator_kwargs):
    from airflow.providers.standard.operators.python import PythonOperator

    return PythonOperator(
        task_id=task_id,
        python_callable=functools.partial(run_local_spark_job, backend.settings),
        # op_kwargs is templated: Jinja in job_args renders before the callable runs.
        op_kwargs={"script": script, "job_args": dict(job_args), "verdict_exit_codes": list(verdict_exit_codes)},
        **operator_kwargs,
    )


def waiting(backend: CloudSpark) -> dict[str, Any]:
    """The operator arguments of a deferrable wait on the worker's role (no Airflow connection)."""
    settings = backend.settings
    return {
        "region_name": settings.aws_region,
        "aws_conn_id": None,  # the worker's role (MWAA execution role)
        "deferrable": True,
        "waiter_delay": settings.cloud_poll_seconds,
        "waiter_max_attempts": WAITER_MAX_SECONDS // settings.cloud_poll_seconds,
    }


def _glue_task(backend: GlueSpark, task_id, script, job_args, verdict_exit_codes, **operator_kwargs):
    from pipeline.cloud_operators import GlueSparkJobOperator

    return GlueSparkJobOperator(
        task_id=task_id,
        job_name=backend.job_name(script),
        script_location=backend.script_uri(script),
        script_args=backend.script_args(job_args),
        verbose=False,
        # A timed-out or cleared task stops its Glue run instead of leaving it to finish alone.
        stop_job_run_on_kill=True,
        **waiting(backend),
        **operator_kwargs,
    )


def _emr_task(backend: EmrServerlessSpark, task_id, script, job_args, verdict_exit_codes, **operator_kwargs):
    from pipeline.cloud_operators import EmrServerlessSparkJobOperator

    settings = backend.settings
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
        job_driver=backend.job_driver(script, job_args),
        configuration_overrides=backend.configuration_overrides(),
        cancel_on_kill=True,  # a killed task cancels its job run
        **waiting(backend),
        **operator_kwargs,
    )


OPERATORS: dict[type, Callable[..., Any]] = {
    LocalSpark: _local_task,
    GlueSpark: _glue_task,
    EmrServerlessSpark: _emr_task,
}


def run_local_spark_job(
    settings: Settings, script: str, job_args: Mapping[str, Any], verdict_exit_codes: list[int] | None = None
) -> None:
    """Task body of the local backend: spark-submit `script`; fail the task if the job fails.

    A verdict exit code and a missing environment part (Java, a jar) fail at once: retrying
    cannot change either.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from lakehouse.runtime import local_spark  # the laptop runtime: it discovers Java and jars
    from lakehouse.runtime.jvm import EnvironmentNotReady

    try:
        # Output streams to this task's log; a killed task kills the job's process group.
        code = local_spark.run_job(settings, LocalSpark(settings).script_uri(script), job_args)
    except EnvironmentNotReady as exc:
        raise AirflowFailException(f"{exc} (an environment error: not retried)") from None
    if code == 0:
        return
    message = f"{PurePosixPath(script).name} exited with code {code} (its output is in this task's log)"
    if code in (verdict_exit_codes or []):
        raise AirflowFailException(message + "; a verdict, not retried")
    raise RuntimeError(message)
