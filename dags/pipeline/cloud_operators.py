"""Glue and EMR Serverless operators that tell a job's verdict from an accident.

A failed quality gate or a refused publish is the job's *answer*: retrying runs the same job on
the same data to the same answer, three times over 14 minutes. Locally the job says so with exit
code 1. Glue and EMR report only "FAILED", so on those platforms the job raises an error whose
message carries `spark_jobs.jobargs.VERDICT_MARKER`, which both services copy into the run's
error text (Glue: `JobRun.ErrorMessage`; EMR Serverless: `jobRun.stateDetails`).

The operators run deferrable. When a run ends FAILED, the Amazon provider's triggers (9.25.0)
hand Airflow an event whose message carries that error text, but not in one shape:

- `GlueJobCompleteTrigger` (`AwsBaseWaiterTrigger.run`) catches the waiter's failure and fires
  `{"status": "error", "message": "AWS Glue job failed.: FAILED - <ErrorMessage> ...", "run_id": ...}`;
- `EmrServerlessStartJobTrigger` overrides `run`, and its `except Exception` fires
  `{"status": "failure", "message": "Serverless Job failed: FAILED - <stateDetails> ..."}`, with
  no `job_details`: the provider's own `execute_complete` then dies on a `KeyError`, which
  Airflow retries like any accident.

So `execute_complete` reads the verdict from the event's message, the text the trigger built
from the run's terminal GetJobRun answer: a marked failure fails the task with
`AirflowFailException` (no retry), the verdict in the task log; any other failure (out of
memory, a lost executor, the wait running out) raises a plain `AirflowException` with that text
and keeps the normal retries. `tests/unit/test_cloud_verdicts.py` proves both through the
provider's real triggers, Airflow's task runner and stubbed AWS answers.

Why no trigger subclass that reshapes the event: the triggerer imports a trigger by its class
path, and on MWAA (Airflow 3.2.1) its `sys.path` holds the plugins folder and the image's own
`/python`, not `dags/`: a trigger defined in `dags/pipeline` would not import there, and every
run would end as a (retried) trigger failure. Reading the provider's events needs code only on
the worker, where `dags/` is importable.

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


class ReadsVerdict:
    """Mixin for a deferrable cloud-job operator: a failed run's event is read for a verdict."""

    task_id: str

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> Any:
        if event and event.get("status") != "success":
            message = str(event.get("message", ""))
            raise_if_verdict(self.task_id, message)
            raise AirflowException(f"{self.task_id}: the job failed (retried): {message[:2000]}")
        return super().execute_complete(context, event)  # type: ignore[misc]


class GlueSparkJobOperator(ReadsVerdict, GlueJobOperator):
    """`GlueJobOperator` whose failed runs are read for a verdict before Airflow retries them."""


class EmrServerlessSparkJobOperator(ReadsVerdict, EmrServerlessStartJobOperator):
    """`EmrServerlessStartJobOperator` whose failed runs are read for a verdict before Airflow retries."""
