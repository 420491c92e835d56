"""The rate alarm's pure parts: settings <-> dbt vars, the message, and the simulator's injected anomalies.

The detector itself (median, MAD, score, min history, zero/drop/spike) is tested by dbt unit
tests on hand-made series (dbt/models/marts/agg_hourly_order_rate.yml), run by every dbt build
(tests/integration/test_dbt_local.py, test_dbt_compose_postgres.py); the delivery end to end by
tests/integration/test_rate_alarm.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from lakehouse.generate import GenerateConfig, generate
from lakehouse.generate.volume import Anomaly, parse_anomalies, planned_events
from lakehouse_core.settings import REPO_ROOT, SettingsError, load_settings
from pipeline import rate_alarm
from pipeline.warehouse import RedshiftWarehouse

pytestmark = pytest.mark.unit

HOUR = datetime(2026, 11, 3, 12, tzinfo=UTC)


def test_dbt_project_defaults_are_the_settings_defaults() -> None:
    project = yaml.safe_load((REPO_ROOT / "dbt" / "dbt_project.yml").read_text())
    settings = load_settings({})
    for name in rate_alarm.VAR_SETTINGS:
        assert project["vars"][name] == getattr(settings, name), name


def test_only_overridden_thresholds_reach_dbt() -> None:
    assert rate_alarm.dbt_vars(load_settings({})) == {}  # no --vars: dbt keeps its partial parse
    settings = load_settings({"LAKEHOUSE_RATE_ALARM_DROP_SCORE": "5", "LAKEHOUSE_RATE_ALARM_MIN_POINTS": "14"})
    assert rate_alarm.dbt_vars(settings) == {"rate_alarm_drop_score": 5.0, "rate_alarm_min_points": 14}


def test_a_threshold_out_of_range_names_its_variable() -> None:
    with pytest.raises(SettingsError, match="LAKEHOUSE_RATE_ALARM_SPIKE_SCORE"):
        load_settings({"LAKEHOUSE_RATE_ALARM_SPIKE_SCORE": "0"})


def test_a_normal_row_is_no_alarm_and_an_unknown_kind_is_refused() -> None:
    assert rate_alarm.RateAlarm.from_row({"alarm_kind": None, "order_count": 40}) is None
    with pytest.raises(ValueError, match="alarm_kind='slump'"):
        rate_alarm.RateAlarm.from_row({"alarm_kind": "slump", "order_count": 1, "arrival_hour": HOUR})


def test_the_message_says_hour_kind_observed_expected_and_where_to_look() -> None:
    alarm = rate_alarm.RateAlarm.from_row(
        {"arrival_hour": "2026-11-03 12:00:00", "alarm_kind": "zero", "order_count": 0, "expected_order_count": 35.5,
         "lower_order_count": 11.7, "upper_order_count": 59.3, "order_score": -5.96, "net_revenue": 0.0,
         "expected_net_revenue": 2210.4, "baseline": "hour_of_day", "baseline_points": 8}
    )  # fmt: skip
    subject, body = alarm.message("file:///lake/reports/dashboard.html")
    assert subject == "[lakehouse] order rate zero: 2026-11-03 12:00 UTC"
    assert "alarm: zero (no orders in an hour that normally has them)" in body
    assert "orders: 0 observed, 36 expected (normal band 12 .. 59, score -6.0)" in body
    assert "net revenue: 0.00 observed, 2,210.40 expected" in body
    assert "baseline: hour_of_day, 8 past hours" in body
    assert body.endswith("dashboard: file:///lake/reports/dashboard.html")


# --- the simulator's anomalies ----------------------------------------------------------------------


def test_parse_anomalies() -> None:
    parsed = parse_anomalies("spike@2026-11-03T14, outage@2026-11-03T12")
    assert parsed == (Anomaly(HOUR, "outage"), Anomaly(HOUR.replace(hour=14), "spike"))
    with pytest.raises(ValueError, match="KIND@HOUR"):
        parse_anomalies("outage")
    with pytest.raises(ValueError, match="anomaly kind 'flood'"):
        parse_anomalies("flood@2026-11-03T12")
    with pytest.raises(ValueError, match="two anomalies in one hour"):
        parse_anomalies("outage@2026-11-03T12,spike@2026-11-03T12")


def test_an_anomaly_outside_the_generated_hours_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the generated hours"):
        GenerateConfig(start=HOUR, hours=2, anomalies=(Anomaly(HOUR.replace(hour=15), "silent"),))


def test_anomalies_scale_the_hours_planned_volume() -> None:
    normal = planned_events(1000, "flat", HOUR, 7, None)
    assert normal == 1000
    assert planned_events(1000, "flat", HOUR, 7, Anomaly(HOUR, "outage")) == 50
    assert planned_events(1000, "flat", HOUR, 7, Anomaly(HOUR, "spike")) == 4000
    assert planned_events(1000, "flat", HOUR, 7, Anomaly(HOUR, "silent")) == 0
    night, noon = (planned_events(1000, "retail", HOUR.replace(hour=h), 7, None) for h in (3, 12))
    assert noon > 5 * night > 0  # the retail shape's night trough


def test_a_silent_hour_writes_no_object_and_the_truth_says_so(tmp_path: Path) -> None:
    silent = HOUR.replace(hour=13)
    config = GenerateConfig(
        start=HOUR, hours=3, events_per_hour=200, anomalies=(Anomaly(silent, "silent"), Anomaly(HOUR, "outage"))
    )
    truth = generate(config, str(tmp_path))
    by_hour = {h["arrival_hour"]: h for h in truth["hours"]}
    assert by_hour["2026-11-03T13:00:00Z"]["objects"] == []
    assert not (tmp_path / "orders" / "2026" / "11" / "03" / "13").exists()
    assert by_hour["2026-11-03T12:00:00Z"]["new_unique_events"] == 10  # 5% of 200
    assert by_hour["2026-11-03T14:00:00Z"]["new_unique_events"] == 200
    assert truth["rate"]["anomalies"] == [
        {"arrival_hour": "2026-11-03T12:00:00Z", "kind": "outage"},
        {"arrival_hour": "2026-11-03T13:00:00Z", "kind": "silent"},
    ]
    assert truth["config"]["anomalies"] == ["outage@2026-11-03T12", "silent@2026-11-03T13"]
    written = json.loads((tmp_path / config.ground_truth_key).read_text())
    assert written["rate"] == truth["rate"]


def test_default_generation_has_no_rate_section(tmp_path: Path) -> None:
    truth = generate(GenerateConfig(start=HOUR, hours=1, events_per_hour=50), str(tmp_path))
    assert "rate" not in truth and "shape" not in truth["config"] and "anomalies" not in truth["config"]


# Digest of `generate` (3 hours from 2026-11-01T08, 500 events/hour, faults all, seed 7): objects
# and ground truth, computed with the simulator as it was before rate anomalies existed (at the
# issue-24a commit 4fe0688, whose corrupt object is cut right after its gzip header).
DEFAULT_DIGEST = "95dcac76bc293983e25cf2bc2e5a0ec442eb67a3bd8acad4948832d1622864a8"


def test_default_generation_is_byte_identical_to_before_anomalies(tmp_path: Path) -> None:
    import hashlib

    config = GenerateConfig(start=datetime(2026, 11, 1, 8, tzinfo=UTC), hours=3, events_per_hour=500, faults="all")
    generate(config, str(tmp_path))
    digest = hashlib.sha256()
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if "_ground_truth" in path.parts:
                truth = json.loads(data)
                truth.pop("out")
                data = json.dumps(truth, sort_keys=True).encode()
            digest.update(str(path.relative_to(tmp_path)).encode())
            digest.update(data)
    assert digest.hexdigest() == DEFAULT_DIGEST


def test_on_redshift_the_hour_is_read_through_the_data_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's Stubber: moto's Data API answers every statement with the same fixed rows."""
    from airflow.providers.amazon.aws.hooks.redshift_data import RedshiftDataHook
    from botocore.stub import Stubber

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings = load_settings(
        {
            "LAKEHOUSE_ENV": "aws",
            "LAKEHOUSE_WAREHOUSE": "s3://lake/warehouse",
            "LAKEHOUSE_RAW_ROOT": "s3://raw/firehose",
            "LAKEHOUSE_REDSHIFT_WORKGROUP": "lakehouse-dev",
            "LAKEHOUSE_AWS_REGION": "eu-west-1",
        }
    )
    hook = RedshiftDataHook(aws_conn_id=None, region_name="eu-west-1")
    sql = rate_alarm.hour_query(HOUR)
    stub = Stubber(hook.conn)
    stub.add_response(
        "execute_statement",
        {"Id": "stmt-1"},
        {"Sql": sql, "Database": "dev", "WorkgroupName": "lakehouse-dev", "WithEvent": False},
    )
    stub.add_response("describe_statement", {"Id": "stmt-1", "Status": "FINISHED"}, {"Id": "stmt-1"})
    names = ("arrival_hour", "is_closed", "order_count", "expected_order_count", "order_score", "alarm_kind")
    cells = [
        {"stringValue": "2026-11-03 12:00:00"},
        {"booleanValue": False},
        {"longValue": 0},
        {"doubleValue": 35.5},
        {"doubleValue": -5.7},
        {"stringValue": "zero"},
    ]
    stub.add_response(
        "get_statement_result",
        {"ColumnMetadata": [{"name": n} for n in names], "Records": [cells], "TotalNumRows": 1},
        {"Id": "stmt-1"},
    )
    with stub:
        (row,) = RedshiftWarehouse(settings, hook=hook).query(sql).dicts()
    stub.assert_no_pending_responses()
    assert row == dict(zip(names, ["2026-11-03 12:00:00", False, 0, 35.5, -5.7, "zero"], strict=True))
    alarm = rate_alarm.RateAlarm.from_row(row)
    assert (alarm.arrival_hour, alarm.alarm_kind, alarm.order_count) == (HOUR, "zero", 0)


def test_on_aws_the_alarm_links_the_quicksight_dashboard_terraform_made(tmp_path: Path) -> None:
    import shutil

    from lakehouse.aws import deploy_config

    shutil.copy(REPO_ROOT / "deploy" / "dev.yaml", tmp_path / "dev.yaml")
    shutil.copy(REPO_ROOT / "deploy" / "dev.outputs.example.json", tmp_path / "dev.outputs.json")
    env = deploy_config.load("dev", tmp_path).runtime_env()
    settings = load_settings(env)
    url = "https://eu-west-1.quicksight.aws.amazon.com/sn/dashboards/lakehouse-dev-orders"
    assert rate_alarm.dashboard_link(settings) == url
    without = load_settings({k: v for k, v in env.items() if k != "LAKEHOUSE_DASHBOARD_URL"})
    assert "set LAKEHOUSE_DASHBOARD_URL" in rate_alarm.dashboard_link(without)
