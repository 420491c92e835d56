"""Refresh after publish: one QuickSight SPICE ingestion per dataset once the Redshift marts are built.

QuickSight's SPICE datasets (infra/terraform/modules/quicksight) hold a copy of the marts; a
new hour in Redshift is invisible to the dashboard until each dataset is ingested again. The
Amazon provider's `QuickSightCreateIngestionOperator` starts a FULL_REFRESH ingestion without
waiting, and a sensor in `reschedule` mode (no worker slot held between polls; the provider's
QuickSight sensor has no deferrable mode in 9.25.0) waits for it. A FAILED or CANCELLED
ingestion fails the sensor at once (no retries: the ingestion is over) with the dataset, the
ingestion id and QuickSight's error type and message; the marts are published either way, only
the dashboard is stale until the task group is cleared.

Only wired when `settings.quicksight_dataset_ids` is set, which settings allow only on the
Redshift target: local and compose have no tasks for it (they have `lakehouse dashboard`).
Imported only then, so local DAG parsing stays free of the Amazon provider.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.operators.quicksight import QuickSightCreateIngestionOperator
from airflow.providers.amazon.aws.sensors.quicksight import QuickSightSensor
from airflow.sdk import TaskGroup
from airflow.sdk.exceptions import AirflowFailException

from lakehouse_core.settings import Settings

GROUP_ID = "quicksight_refresh"
# Unique per DAG run and try, within QuickSight's pattern [A-Za-z0-9_-]{1,128}: a cleared run
# (try_number + 1) starts a new ingestion instead of colliding with the failed one's id.
INGESTION_ID = (
    "{{ (dag_run.run_id | replace(':', '') | replace('+', '') | replace('.', '') | replace(' ', '_'))[-100:] }}"
    "-{{ ti.try_number }}"
)
SPICE_WAIT_SECONDS = 60 * 60


class SpiceIngestionSensor(QuickSightSensor):
    """`QuickSightSensor` that fails without retry, and says which dataset and why, when an ingestion fails."""

    def poke(self, context: Any) -> bool:
        state = self.hook.get_status(None, self.data_set_id, self.ingestion_id)
        self.log.info("SPICE ingestion %s of dataset %s: %s", self.ingestion_id, self.data_set_id, state)
        if state in self.errored_statuses:
            error = self.hook.get_error_info(None, self.data_set_id, self.ingestion_id) or {}
            raise AirflowFailException(ingestion_failure(self.data_set_id, self.ingestion_id, state, error))
        return state == self.success_status


def ingestion_failure(dataset_id: str, ingestion_id: str, state: str, error: dict[str, Any]) -> str:
    """The message of a failed refresh: what failed, QuickSight's reason, what to do."""
    reason = f"{error.get('Type', 'no error type')}: {error.get('Message', 'no message')}"
    return (
        f"QuickSight SPICE ingestion {ingestion_id} of dataset {dataset_id} ended {state} ({reason}). "
        "The marts are published; only the dashboard is stale. Fix the cause (docs/operations.md, "
        "'QuickSight refresh') and clear this task group's refresh task to ingest again."
    )


def refresh_task_group(settings: Settings, group_id: str = GROUP_ID) -> TaskGroup:
    """refresh_<dataset> >> wait_<dataset> for every dataset id, in parallel; call inside a DAG."""
    with TaskGroup(group_id=group_id, tooltip="SPICE ingestion of each QuickSight dataset") as group:
        for dataset_id in settings.quicksight_dataset_ids:
            start = QuickSightCreateIngestionOperator(
                task_id=f"refresh_{dataset_id}",
                data_set_id=dataset_id,
                ingestion_id=INGESTION_ID,
                ingestion_type="FULL_REFRESH",
                wait_for_completion=False,
                region_name=settings.aws_region,
                aws_conn_id=None,  # the worker's role (MWAA execution role)
            )
            wait = SpiceIngestionSensor(
                task_id=f"wait_{dataset_id}",
                data_set_id=dataset_id,
                ingestion_id=f"{{{{ ti.xcom_pull(task_ids='{start.task_id}')['IngestionId'] }}}}",
                region_name=settings.aws_region,
                aws_conn_id=None,
                mode="reschedule",
                poke_interval=settings.cloud_poll_seconds,
                timeout=SPICE_WAIT_SECONDS,
                retries=0,
            )
            start >> wait
    return group
