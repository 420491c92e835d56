"""A failed gate or refused publish on Glue / EMR Serverless is not retried; other failures are.

The job marks its verdict in the error the platform reports (spark_jobs.jobargs.verdict_exit);
the operators read the failed run's error text through the real boto3 clients, whose calls are
checked against the service models by botocore's Stubber.
"""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from spark_jobs.jobargs import VERDICT_MARKER, Verdict, verdict_exit
from tests.unit.test_spark_backends import aws_settings

pytestmark = pytest.mark.unit
GATE_ARGS = {"run_id": "orders_2026110108_ab12", "arrival_hour": "2026-11-01T08:00:00+00:00"}


def gate_task(**settings: str):
    from pipeline.spark_backends import spark_task

    return spark_task(
        aws_settings(**settings), "quality_gate", "validate_orders.py", GATE_ARGS, verdict_exit_codes=(1,)
    )


def glue_failed(op, error: str) -> Stubber:
    stub = Stubber(op.hook.conn)
    stub.add_response(
        "get_job_run",
        {"JobRun": {"Id": "jr_1", "JobName": op.job_name, "JobRunState": "FAILED", "ErrorMessage": error}},
        {"JobName": op.job_name, "RunId": "jr_1", "PredecessorsIncluded": False},
    )
    return stub


def test_glue_gate_verdict_fails_without_retry() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    op = gate_task()
    error = f"Error Category: UNCLASSIFIED_ERROR; Verdict: {VERDICT_MARKER}: quality gate failed for run x: 2/24 failed"
    with glue_failed(op, error), pytest.raises(AirflowFailException, match="quality gate failed for run x"):
        op.execute_complete({}, {"status": "error", "message": "AWS Glue job failed.", "run_id": "jr_1"})


def test_glue_accident_keeps_its_retries() -> None:
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    op = gate_task()
    with glue_failed(op, "java.lang.OutOfMemoryError: Java heap space"), pytest.raises(AirflowException) as err:
        op.execute_complete({}, {"status": "error", "message": "AWS Glue job failed.", "run_id": "jr_1"})
    assert not isinstance(err.value, AirflowFailException)
    assert op.stop_job_run_on_kill is True  # a timed-out task stops its Glue run


def test_emr_gate_verdict_fails_without_retry() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    op = gate_task(
        LAKEHOUSE_SPARK_BACKEND="emr-serverless",
        LAKEHOUSE_EMR_APPLICATION_ID="00abc",
        LAKEHOUSE_EMR_EXECUTION_ROLE_ARN="arn:aws:iam::123456789012:role/emr",
    )
    details = f"Job failed. ExitCode: 1. Last few exceptions: Verdict: {VERDICT_MARKER}: quality gate failed\n..."
    run = {
        "applicationId": "00abc",
        "jobRunId": "jr1",
        "arn": "arn:aws:emr-serverless:eu-west-1:123456789012:/applications/00abc/jobruns/jr1",
        "createdBy": "arn:aws:iam::123456789012:role/mwaa-execution",
        "createdAt": "2026-11-01T00:00:00Z",
        "updatedAt": "2026-11-01T00:00:00Z",
        "executionRole": "arn:aws:iam::123456789012:role/emr",
        "state": "FAILED",
        "stateDetails": details,
        "releaseLabel": "emr-7.12.0",
        "jobDriver": {"sparkSubmit": {"entryPoint": "s3://a/b.py"}},
    }
    stub = Stubber(op.hook.conn)
    stub.add_response("get_job_run", {"jobRun": run}, {"applicationId": "00abc", "jobRunId": "jr1"})
    event = {"status": "error", "job_details": {"application_id": "00abc", "job_id": "jr1"}}
    with stub, pytest.raises(AirflowFailException, match="quality gate failed"):
        op.execute_complete({}, event)


def test_jobs_mark_a_verdict_only_on_cloud_platforms() -> None:
    assert verdict_exit(1, {"environment": "local"}, "gate failed") == 1
    assert verdict_exit(0, {"environment": "glue"}, "fine") == 0
    for platform in ("glue", "emr"):
        with pytest.raises(Verdict, match=f"^{VERDICT_MARKER}: gate failed$"):
            verdict_exit(1, {"environment": platform}, "gate failed")
