"""Glue and EMR Serverless operators that tell a job's verdict from an accident.

A failed quality gate or a refused publish is the job's *answer*: retrying runs the same job on
the same data to the same answer, three times over 14 minutes. Locally the job says so with exit
code 1. Glue and EMR report only "FAILED", so on those platforms the job raises an error whose
message carries `spark_jobs.jobargs.VERDICT_MARKER`, which both services copy into the run's
error text (Glue: `JobRun.ErrorMessage`; EMR Serverless: `jobRun.stateDetails`). When such a
run fails, these operators read that text and fail the task with `AirflowFailException` (no
retry), the verdict in the task log; any other failure keeps the normal retries.

Imported only when the Spark backend is Glue or EMR, so local DAG parsing stays free of the
Amazon provider.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.operators.emr import EmrServerlessStartJobOperator
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from spark_jobs.jobargs import VERDICT_MARKER


def raise_if_verdict(task_id: str, error_text: str | None) -> None:
    """Fail without retry when the run's error text carries the verdict marker."""
    text = error_text or ""
    if VERDICT_MARKER in text:
        verdict = text[text.index(VERDICT_MARKER) :].splitlines()[0][:1000]
        raise AirflowFailException(f"{task_id}: the job's verdict, not retried: {verdict}")


class GlueSparkJobOperator(GlueJobOperator):
    """`GlueJobOperator` whose failed runs are read for a verdict before Airflow retries them."""

    def execute(self, context: Any) -> Any:  # the non-deferrable path (tests, `deferrable=False`)
        try:
            return super().execute(context)
        except AirflowException:
            if self._job_run_id:
                raise_if_verdict(self.task_id, self._glue_error(self._job_run_id))
            raise

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> str:
        if event and event.get("status") != "success" and event.get("run_id"):
            raise_if_verdict(self.task_id, self._glue_error(event["run_id"]))
        return super().execute_complete(context, event)

    def _glue_error(self, run_id: str) -> str:
        run = self.hook.conn.get_job_run(JobName=self.job_name, RunId=run_id, PredecessorsIncluded=False)
        return run["JobRun"].get("ErrorMessage", "")


class EmrServerlessSparkJobOperator(EmrServerlessStartJobOperator):
    """`EmrServerlessStartJobOperator` whose failed runs are read for a verdict before Airflow retries."""

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> None:
        details = (event or {}).get("job_details") or {}
        if event and event.get("status") != "success" and details.get("job_id"):
            run = self.hook.conn.get_job_run(applicationId=details["application_id"], jobRunId=details["job_id"])
            raise_if_verdict(self.task_id, run["jobRun"].get("stateDetails", ""))
        return super().execute_complete(context, event)
