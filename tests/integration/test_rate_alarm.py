"""The transaction-rate alarm end to end without Airflow: simulator, DuckDB silver, real dbt, the task.

One history is made by the simulator (`--shape retail`, seven days and thirteen hours) with
a silent hour injected as its *last* hour: the case the hourly DAG meets when an hour has no
objects (it skips ingest and dbt; the rate check reads the pending row the previous build
left). The real dbt models (`+agg_hourly_order_rate`) are built on it in DuckDB
(`lakehouse.benchmarks.alarm` helpers, the same path `make bench-alarm` measures), then
`pipeline.rate_alarm.check_hour` (what the `rate_alarm` task runs) is called twice for the
hour: one alarm row in the Iceberg table `audit.rate_alarms`, one notification. The demo's
summary prints that row. The SNS publish goes through the Amazon provider's hook to moto's
server and is read back from an SQS queue subscribed to the topic.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lakehouse.benchmarks.alarm import START, build_rate_model, lake_settings, load_silver
from lakehouse.generate import GenerateConfig, generate
from lakehouse.generate.volume import Anomaly
from lakehouse_core.settings import load_settings
from pipeline import rate_alarm

pytestmark = pytest.mark.integration

SILENT = START + timedelta(days=7, hours=12)  # a Monday noon, after 7 days: about 18 orders expected


@pytest.fixture(scope="module")
def rate_history(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Seven and a half days of orders ending in a silent hour, in silver and through the dbt rate
    model: {"settings": its home, "truth": the generator's ground truth}."""
    home = tmp_path_factory.mktemp("rate-alarm")
    settings = lake_settings(home)
    hours = int((SILENT - START).total_seconds() // 3600) + 1  # the silent hour is the last one
    config = GenerateConfig(
        start=START,
        hours=hours,
        events_per_hour=60,
        seed=3,
        framing="newline",
        shape="retail",
        anomalies=(Anomaly(SILENT, "silent"),),
    )
    truth = generate(config, str(home / "raw"))
    load_silver(settings, home / "raw")
    assert build_rate_model(settings, home / "dbt") == 0, "dbt build failed"
    return {"settings": settings, "truth": truth}


def test_the_silent_hour_has_no_objects_and_is_in_the_ground_truth(rate_history: dict) -> None:
    last = rate_history["truth"]["hours"][-1]
    assert last["arrival_hour"] == f"{SILENT:%Y-%m-%dT%H}:00:00Z"
    assert last["objects"] == [] and last["records"] == 0
    assert rate_history["truth"]["rate"]["anomalies"] == [{"arrival_hour": last["arrival_hour"], "kind": "silent"}]


def test_the_empty_last_hour_is_judged_from_its_pending_row(rate_history: dict) -> None:
    row = rate_alarm.read_hour(rate_history["settings"], SILENT)
    assert row is not None
    assert row["is_closed"] is False  # no data at or after it: its DAG run skipped dbt
    assert row["order_count"] == 0
    assert row["baseline_points"] >= rate_history["settings"].rate_alarm_min_points
    assert row["expected_order_count"] > 10
    assert row["alarm_kind"] == "zero"
    # the same hour a day earlier was a normal hour
    assert rate_alarm.read_hour(rate_history["settings"], SILENT - timedelta(days=1))["alarm_kind"] is None


def test_a_rerun_does_not_notify_twice(rate_history: dict, caplog: pytest.LogCaptureFixture) -> None:
    settings = rate_history["settings"]
    first = rate_alarm.check_hour(settings, SILENT, "scheduled__first")
    again = rate_alarm.check_hour(settings, SILENT, "manual__rerun")
    assert (first["alarm_kind"], first["notified"]) == ("zero", "log")
    assert (again["alarm_kind"], again["notified"]) == ("zero", "before")
    assert caplog.text.count("[lakehouse] order rate zero") == 1
    rows = rate_alarm.raised_alarms(settings)
    assert len(rows) == 1
    assert rows[0]["arrival_hour"] == SILENT and rows[0]["alarm_kind"] == "zero"
    assert rows[0]["dag_run_id"] == "scheduled__first" and rows[0]["order_count"] == 0


def test_the_demo_summary_names_the_alarm(rate_history: dict, capsys: pytest.CaptureFixture) -> None:
    from lakehouse.runtime.demo import print_rate_alarms

    rate_alarm.check_hour(rate_history["settings"], SILENT, "scheduled__first")  # raised already or now: one row
    print_rate_alarms(rate_history["settings"], since=START)
    out = capsys.readouterr().out
    assert "Transaction-rate alarms" in out
    assert f"{SILENT:%Y-%m-%d %H}:00" in out and "zero" in out
    print_rate_alarms(rate_history["settings"], since=SILENT + timedelta(hours=1))  # nothing after it: silent
    assert capsys.readouterr().out == ""


def test_the_alarm_goes_to_sns_through_the_provider(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    sns, sqs = boto3.client("sns", region_name="eu-west-1"), boto3.client("sqs", region_name="eu-west-1")
    topic = sns.create_topic(Name="lakehouse-dev-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="on-call")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    settings = load_settings(
        {
            "LAKEHOUSE_ALERTS_SNS_TOPIC_ARN": topic,
            "LAKEHOUSE_AWS_REGION": "eu-west-1",
            "LAKEHOUSE_DASHBOARD_URL": "https://eu-west-1.quicksight.aws.amazon.com/sn/dashboards/lakehouse-dev-orders",
        }
    )
    alarm = rate_alarm.RateAlarm.from_row(
        {
            "arrival_hour": datetime(2026, 11, 10, 14),
            "alarm_kind": "drop",
            "order_count": 3,
            "expected_order_count": 61.0,
            "lower_order_count": 29.8,
            "upper_order_count": 92.2,
            "order_score": -7.4,
            "net_revenue": 180.5,
            "expected_net_revenue": 3412.0,
            "baseline": "hour_of_week",
            "baseline_points": 4,
        }
    )

    notified = rate_alarm.notify(settings, alarm)

    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert len(messages) == 1
    envelope = json.loads(messages[0]["Body"])
    assert notified == f"sns:{envelope['MessageId']}"
    assert envelope["Subject"] == "[lakehouse] order rate drop: 2026-11-10 14:00 UTC"
    body = envelope["Message"]
    assert "orders: 3 observed, 61 expected (normal band 30 .. 92, score -7.4)" in body
    assert "dashboard: https://eu-west-1.quicksight.aws.amazon.com/sn/dashboards/lakehouse-dev-orders" in body
    assert envelope["MessageAttributes"]["alarm_kind"]["Value"] == "drop"


def test_dashboard_link_defaults_to_the_local_page(tmp_path: Path) -> None:
    settings = load_settings({"LAKEHOUSE_HOME": str(tmp_path)})
    assert rate_alarm.dashboard_link(settings) == (tmp_path / "reports" / "dashboard.html").as_uri()


def test_hour_query_names_the_hour_in_utc() -> None:
    from datetime import timezone

    paris = timezone(timedelta(hours=1))
    sql = rate_alarm.hour_query(datetime(2026, 11, 10, 15, tzinfo=paris))
    assert sql.endswith("where arrival_hour = cast('2026-11-10 14:00:00' as timestamp)")
