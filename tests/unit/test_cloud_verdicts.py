"""A failed gate on Glue / EMR Serverless is not retried; an out-of-memory failure is.

Each test drives one task instance the way Airflow 3.2 does, with Airflow's and the Amazon
provider's own code at every step:

1. the task runner (`airflow.sdk.execution_time.task_runner.run`) executes the operator, which
   starts the job and defers: the `DeferTask` message names the provider's trigger and its kwargs;
2. the trigger is rebuilt from that message and its async `run()` is iterated as the triggerer
   does (`TriggerRunner.run_trigger`); its AWS client is a real aiobotocore client whose calls are
   answered by botocore's `Stubber` (which checks every request against the service model): the
   job is RUNNING, then FAILED with the error text the service reports;
3. what the triggerer hands back is applied as Airflow applies it: an event through
   `airflow.models.trigger.handle_event_submit`, an exception as `Trigger.submit_failure` does
   (`next_method="__fail__"`, the traceback in `next_kwargs`);
4. the task runner resumes the task and decides: FAILED (no retry) or UP_FOR_RETRY.

The only stand-ins are the transports: the Stubber for AWS's HTTP answers and a recorder for the
supervisor's socket (`SUPERVISOR_COMMS`), which receives the task runner's state messages.
"""

from __future__ import annotations

import asyncio
import os
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.stub import Stubber

from spark_jobs.jobargs import VERDICT_MARKER, Verdict, verdict_exit
from tests.helpers.settings import aws_settings

pytestmark = pytest.mark.unit

REGION = "eu-west-1"
NOW = datetime(2026, 11, 1, 9, tzinfo=UTC)
GATE_ARGS = {"run_id": "orders_2026110108_ab12", "arrival_hour": "2026-11-01T08:00:00+00:00"}
EMR = {
    "LAKEHOUSE_SPARK_BACKEND": "emr-serverless",
    "LAKEHOUSE_EMR_APPLICATION_ID": "00abc",
    "LAKEHOUSE_EMR_EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/emr",
}
APP_ARN = "arn:aws:emr-serverless:eu-west-1:123456789012:/applications/00abc"
# What the services report for a Python job that raised (the job's last exception in the text).
VERDICT = (
    f"spark_jobs.jobargs.Verdict: {VERDICT_MARKER}: quality gate failed for run orders_2026110108_ab12: 2/24 failed"
)
GLUE_VERDICT = f"Error Category: UNCLASSIFIED_ERROR; Failed Line Number: 41; {VERDICT}"
GLUE_OOM = "Error Category: OUT_OF_MEMORY_ERROR; An error occurred while calling o112.collectToPython. Java heap space"
EMR_FAILED = "Job failed, please check complete logs in configured logging destination."
EMR_VERDICT = f"{EMR_FAILED} ExitCode: 1. Last few exceptions: {VERDICT}\n"
EMR_OOM = f"{EMR_FAILED} ExitCode: 137. Last few exceptions: java.lang.OutOfMemoryError: Java heap space\n"


HTTP_200 = {"ResponseMetadata": {"HTTPStatusCode": 200}}  # the operator checks it; Stubber adds none


class RecordingComms:
    """The supervisor's end of the task runner's socket: records what the task runner sends."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, msg: Any) -> None:
        self.sent.append(msg)


def gate_task(**settings: str):
    from airflow.sdk import DAG

    from pipeline.spark_tasks import spark_task

    with DAG("orders_lakehouse", schedule=None, start_date=NOW):
        return spark_task(
            aws_settings(LAKEHOUSE_CLOUD_POLL_SECONDS="1", **settings),
            "quality_gate",
            "validate_orders.py",
            GATE_ARGS,
            verdict_exit_codes=(1,),
            retries=3,
        )


def run_task(op, next_method: str | None = None, next_kwargs: dict[str, Any] | None = None):
    """One pass of Airflow's task runner over `op` (retries left: `should_retry`), as a worker runs it."""
    import structlog
    from airflow.sdk.api.datamodels._generated import DagRun, TIRunContext
    from airflow.sdk.execution_time import task_runner

    dag_run = DagRun(
        dag_id=op.dag_id, run_id="scheduled__2026-11-01T09:00:00+00:00", logical_date=NOW, data_interval_start=NOW,
        data_interval_end=NOW, run_after=NOW, start_date=NOW, run_type="scheduled", state="running",
        consumed_asset_events=[],
    )  # fmt: skip
    server = TIRunContext(
        dag_run=dag_run, max_tries=op.retries, should_retry=True, next_method=next_method, next_kwargs=next_kwargs
    )
    ti = task_runner.RuntimeTaskInstance.model_construct(
        id=uuid.uuid4(), task_id=op.task_id, dag_id=op.dag_id, run_id=dag_run.run_id, try_number=1, map_index=-1,
        dag_version_id=uuid.uuid4(), task=op, _ti_context_from_server=server, max_tries=op.retries, start_date=NOW,
    )  # fmt: skip
    # The task runner sets these process-wide (its socket, AIRFLOW_CTX_* variables): put them back.
    saved_env = dict(os.environ)
    task_runner.SUPERVISOR_COMMS = RecordingComms()
    try:
        return task_runner.run(ti, ti.get_template_context(), structlog.get_logger())
    finally:
        del task_runner.SUPERVISOR_COMMS
        os.environ.clear()
        os.environ.update(saved_env)


@contextmanager
def stubbed_aio_clients(monkeypatch, service: str, responses: list[tuple[str, dict, dict]]) -> Iterator[None]:
    """Every aiobotocore client for `service` made inside answers `responses` in order (Stubber)."""
    from aiobotocore.session import AioSession

    real_create = AioSession._create_client
    stubs: list[Stubber] = []

    async def create_stubbed(self, *args, **kwargs):
        client = await real_create(self, *args, **kwargs)
        if client.meta.service_model.service_name == service:
            stub = Stubber(client)
            for operation, response, params in responses:
                stub.add_response(operation, response, params)
            stub.activate()
            stubs.append(stub)
        return client

    monkeypatch.setattr(AioSession, "_create_client", create_stubbed)
    yield
    assert stubs, f"the trigger made no {service} client"
    for stub in stubs:
        stub.assert_no_pending_responses()


def run_trigger(defer) -> tuple[str, dict[str, Any]]:
    """The trigger a `DeferTask` names, run as the triggerer runs it; then what Airflow stores
    for the resumed task: `(next_method, next_kwargs)`."""
    from airflow._shared.module_loading import import_string
    from airflow.models.trigger import TriggerFailureReason, handle_event_submit
    from airflow.sdk.serde import deserialize

    trigger = import_string(defer.classpath)(**deserialize(defer.trigger_kwargs))

    async def first_event():
        async for event in trigger.run():  # TriggerRunner.run_trigger
            return event
        return None

    try:
        event = asyncio.run(first_event())
    except Exception as exc:  # the triggerer's failed trigger -> Trigger.submit_failure
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        return "__fail__", {"error": TriggerFailureReason.TRIGGER_FAILURE, "traceback": lines}
    assert event is not None, "the trigger ended without an event"
    ti = SimpleNamespace(next_kwargs=defer.next_kwargs, trigger_id=1, state="deferred", scheduled_dttm=None)
    handle_event_submit(event, task_instance=ti, session=SimpleNamespace(flush=lambda: None))
    return defer.next_method, ti.next_kwargs


def deferred_then_resumed(op, trigger_service: str, polls: list[tuple[str, dict, dict]], monkeypatch):
    """Run `op` until it defers, its trigger until it answers, and the task again: the final state."""
    from airflow.sdk.execution_time.comms import DeferTask

    state, defer, _ = run_task(op)
    assert state == "deferred" and isinstance(defer, DeferTask), (state, defer)
    assert defer.classpath.startswith("airflow.providers.amazon.aws.triggers.")  # the provider's own trigger
    with stubbed_aio_clients(monkeypatch, trigger_service, polls):
        next_method, next_kwargs = run_trigger(defer)
    return run_task(op, next_method, next_kwargs)


@pytest.fixture
def aws_credentials(monkeypatch) -> None:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)  # MWAA sets it; EMR's trigger builds its hook without a region


def glue_started(op) -> Stubber:
    """The worker's Glue calls: the job exists, one run starts."""
    stub = Stubber(op.hook.conn)
    stub.add_response("get_job", {"Job": {"Name": op.job_name}}, {"JobName": op.job_name})
    stub.add_response("start_job_run", {"JobRunId": "jr_1"}, {"JobName": op.job_name, "Arguments": op.script_args})
    return stub


def glue_polls(op, error: str) -> list[tuple[str, dict, dict]]:
    params = {"JobName": op.job_name, "RunId": "jr_1"}
    run = {"Id": "jr_1", "JobName": op.job_name}
    return [
        ("get_job_run", {"JobRun": {**run, "JobRunState": "RUNNING"}}, params),
        ("get_job_run", {"JobRun": {**run, "JobRunState": "FAILED", "ErrorMessage": error}}, params),
    ]


def emr_started(op) -> Stubber:
    stub = Stubber(op.hook.conn)
    app = {"applicationId": "00abc", "name": "lakehouse", "arn": APP_ARN, "releaseLabel": "emr-7.12.0",
           "type": "SPARK", "state": "STARTED", "createdAt": NOW, "updatedAt": NOW}  # fmt: skip
    stub.add_response("get_application", {"application": app}, {"applicationId": "00abc"})
    stub.add_response(
        "start_job_run",
        {"applicationId": "00abc", "jobRunId": "jr1", "arn": f"{app['arn']}/jobruns/jr1", **HTTP_200},
        None,  # the request (client token, rendered job driver) is still checked against the service model
    )
    return stub


def emr_polls(error: str) -> list[tuple[str, dict, dict]]:
    params = {"applicationId": "00abc", "jobRunId": "jr1"}
    run = {
        "applicationId": "00abc", "jobRunId": "jr1", "createdAt": NOW, "updatedAt": NOW, "releaseLabel": "emr-7.12.0",
        "arn": f"{APP_ARN}/jobruns/jr1", "createdBy": "arn:aws:iam::123456789012:role/mwaa-execution",
        "executionRole": EMR["LAKEHOUSE_EMR_EXECUTION_ROLE_ARN"],
        "jobDriver": {"sparkSubmit": {"entryPoint": "s3://acme-artifacts/lakehouse/spark_jobs/validate_orders.py"}},
    }  # fmt: skip
    return [
        ("get_job_run", {"jobRun": {**run, "state": "RUNNING", "stateDetails": "Job is running."}}, params),
        ("get_job_run", {"jobRun": {**run, "state": "FAILED", "stateDetails": error}}, params),
    ]


def test_glue_gate_verdict_fails_once_without_retry(aws_credentials, monkeypatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    op = gate_task()
    with glue_started(op):
        state, _, error = deferred_then_resumed(op, "glue", glue_polls(op, GLUE_VERDICT), monkeypatch)
    assert state == "failed", (state, error)
    assert isinstance(error, AirflowFailException)
    assert "quality gate failed for run orders_2026110108_ab12" in str(error)


def test_glue_out_of_memory_keeps_its_retries(aws_credentials, monkeypatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    op = gate_task()
    with glue_started(op):
        state, _, error = deferred_then_resumed(op, "glue", glue_polls(op, GLUE_OOM), monkeypatch)
    assert state == "up_for_retry", (state, error)
    assert not isinstance(error, AirflowFailException)
    assert "Java heap space" in str(error)
    assert op.stop_job_run_on_kill is True  # a timed-out task stops its Glue run


def test_emr_gate_verdict_fails_once_without_retry(aws_credentials, monkeypatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    op = gate_task(**EMR)
    with emr_started(op):
        state, _, error = deferred_then_resumed(op, "emr-serverless", emr_polls(EMR_VERDICT), monkeypatch)
    assert state == "failed", (state, error)
    assert isinstance(error, AirflowFailException)
    assert "quality gate failed for run orders_2026110108_ab12" in str(error)


def test_emr_out_of_memory_keeps_its_retries(aws_credentials, monkeypatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    op = gate_task(**EMR)
    with emr_started(op):
        state, _, error = deferred_then_resumed(op, "emr-serverless", emr_polls(EMR_OOM), monkeypatch)
    assert state == "up_for_retry", (state, error)
    assert not isinstance(error, AirflowFailException)
    assert "Java heap space" in str(error)


def test_jobs_mark_a_verdict_only_on_cloud_platforms() -> None:
    assert verdict_exit(1, {"environment": "local"}, "gate failed") == 1
    assert verdict_exit(0, {"environment": "glue"}, "fine") == 0
    for platform in ("glue", "emr"):
        with pytest.raises(Verdict, match=f"^{VERDICT_MARKER}: gate failed$"):
            verdict_exit(1, {"environment": platform}, "gate failed")
