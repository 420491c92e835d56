"""What happens when a task fails: retry with exponential backoff, then say so, loudly, once.

`default_args(settings)` is the retry policy every lakehouse DAG uses: transient failures (a
Spark job losing its executors, Glue capacity, an S3 throttle) get retried with a growing
delay, and only the final failure notifies.

One notifier serves both levels:

- as a task's `on_failure_callback` (set through `default_args`) it fires when a task fails for
  good (after its retries), on the worker, with the exception: this is the message people
  act on, so it is the one published to SNS;
- as the DAG's `on_failure_callback` it fires once per failed run; it publishes only when no
  task failure explains the run's failure (the run timed out, `dagrun_timeout`), so a normal
  task failure is reported once, not twice.

What is never retried, because a retry meets the same answer: a verdict (the gate's "failed",
a refused publish) and an environment error (a missing jar or Java: `lakehouse.runtime.jvm.EnvironmentNotReady`;
the dbt manifest missing at parse time). Those tasks raise `AirflowFailException`, which fails
them at once whatever `retries` says, on the scheduler and under `airflow dags test` alike.

Without a topic (local runs, tests) it only logs. boto3 is imported only when publishing, so
DAG parsing stays free of AWS imports.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from lakehouse_core.settings import Settings

log = logging.getLogger(__name__)

# Settings field that holds the SNS topic ARN ("" = log only); see FailureNotifier.topic_arn.
SUBJECT_LIMIT = 100  # SNS rejects longer subjects
OWNER = "data-platform"
RETRIES = 3
RETRY_DELAY = timedelta(minutes=2)
MAX_RETRY_DELAY = timedelta(minutes=30)


def default_args(settings: Settings) -> dict[str, Any]:
    """Owner, retries (2, 4, 8 min: backoff multiplier 2, capped at 30 min) and the failure notifier."""
    return {
        "owner": OWNER,
        "retries": RETRIES,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": MAX_RETRY_DELAY,
        "on_failure_callback": FailureNotifier(settings),
    }


def failure_message(context: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) describing a failed task or run, from an Airflow callback context."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    run_id = context.get("run_id") or getattr(context.get("dag_run"), "run_id", "?")
    interval = f"{context.get('data_interval_start')} .. {context.get('data_interval_end')}"
    lines = [f"DAG: {dag_id}", f"run: {run_id}", f"data interval: {interval}"]
    if ti is not None and getattr(ti, "task_id", None):
        what = f"task {ti.task_id} failed"
        lines.append(f"task: {ti.task_id} (try {getattr(ti, 'try_number', '?')})")
        if context.get("exception") is not None:
            lines.append(f"error: {type(context['exception']).__name__}: {context['exception']}")
        url = getattr(ti, "log_url", None)
        if url:
            lines.append(f"log: {url}")
    else:
        reason = context.get("reason") or "failed"
        what = f"run failed ({reason})"
        lines.append(f"reason: {reason}")
    subject = f"[lakehouse] {dag_id}: {what}"[:SUBJECT_LIMIT]
    return subject, "\n".join(lines)


@dataclass(frozen=True)
class FailureNotifier:
    """Callable `on_failure_callback`; holds the settings it was built with (no env reads here)."""

    settings: Settings

    @property
    def topic_arn(self) -> str:
        return self.settings.alerts_sns_topic_arn

    def __call__(self, context: Mapping[str, Any]) -> None:
        subject, body = failure_message(context)
        log.error("%s\n%s", subject, body)
        is_task = bool(getattr(context.get("ti") or context.get("task_instance"), "task_id", None))
        if not is_task and context.get("reason") == "task_failure":
            return  # the failing task already published
        if self.topic_arn:
            self.publish(subject, body)

    def publish(self, subject: str, body: str) -> None:
        """Publish to SNS with the default AWS credentials (on MWAA: the execution role)."""
        try:
            import boto3

            boto3.client("sns", region_name=self.settings.aws_region).publish(
                TopicArn=self.topic_arn, Subject=subject, Message=body
            )
        except Exception:  # a broken alert must not hide the failure it reports
            log.exception("could not publish the failure to %s", self.topic_arn)
