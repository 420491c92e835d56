"""From GX result dicts to outcomes, `audit.dq_results` rows, summaries and the `lakehouse dq` report.

No Spark and no GX here: the result dicts below have the shape of
`ExpectationSuiteValidationResult.to_json_dict()` in GX Core 1.x (checked against real results
by the spark tests), so the conversion and the text people read are tested in milliseconds.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lakehouse import dq_results
from lakehouse.commands import dq as dq_cmd
from lakehouse_core import spark_args
from lakehouse_core.settings import load_settings
from spark_jobs.quality import reports, results

pytestmark = pytest.mark.unit


def gx_item(type_: str, kwargs: dict, success: bool, result: dict, position: int, severity: str = "critical") -> dict:
    return {
        "success": success,
        "expectation_config": {
            "type": type_,
            "kwargs": {"batch_id": "spark-silver.order_lines", **kwargs},
            "meta": {"position": position},
            "severity": severity,
        },
        "result": result,
        "exception_info": {"raised_exception": False, "exception_traceback": None, "exception_message": None},
    }


RESULT = {
    "success": False,
    "results": [
        gx_item(
            "expect_column_values_to_be_between",
            {"column": "event_ts", "min_value": "2025-12-30T10:00:00+00:00", "max_value": "2026-01-01T11:05:00+00:00"},
            False,
            {
                "element_count": 20,
                "unexpected_count": 2,
                "unexpected_percent": 10.0,
                "partial_unexpected_counts": [{"value": "2025-12-20T10:00:00", "count": 2}],
            },
            position=2,
        ),
        gx_item("expect_column_values_to_not_be_null", {"column": "event_id"}, True, {"element_count": 20}, 0),
        gx_item(
            "expect_column_pair_values_to_be_equal",
            {"column_A": "records_read", "column_B": "records_accounted"},
            False,
            {"element_count": 1, "unexpected_count": 1, "partial_unexpected_list": [[23, 22]]},
            position=1,
            severity="warning",
        ),
        {
            **gx_item("expect_column_values_to_match_regex", {"column": "nope", "regex": "^x$"}, False, {}, 3),
            "exception_info": {
                "column_values.match_regex.unexpected_count": {
                    "raised_exception": True,
                    "exception_traceback": "...",
                    "exception_message": "column nope does not exist",
                }
            },
        },
    ],
}


def outcomes() -> list[results.Outcome]:
    return results.outcomes_from_result(
        RESULT, table="silver.order_lines", suite="silver.order_lines", batch="run_rows"
    )


def test_outcomes_keep_suite_order_and_drop_runtime_kwargs() -> None:
    got = outcomes()
    assert [o.position for o in got] == [0, 1, 2, 3]
    assert [o.column for o in got] == ["event_id", "records_read, records_accounted", "event_ts", "nope"]
    assert all("batch_id" not in o.kwargs for o in got)


def test_only_failed_critical_expectations_block() -> None:
    by_position = {o.position: o for o in outcomes()}
    assert not by_position[0].blocking  # passed
    assert not by_position[1].blocking  # failed, but a warning
    assert by_position[2].blocking
    assert by_position[3].blocking and by_position[3].exception == "column nope does not exist"


def test_result_rows_match_the_table_columns() -> None:
    from lakehouse_core.tables import DQ_RESULTS

    at = datetime(2026, 1, 1, 10, 20, tzinfo=UTC)
    rows = results.result_rows(
        outcomes(),
        run_id="r1",
        arrival_hour=datetime(2026, 1, 1, 10, tzinfo=UTC),
        validated_at=at,
        context={"branch": "audit_r1", "gate": "failed"},
    )
    assert len(rows) == 4
    assert all(set(row) == {f.name for f in DQ_RESULTS.schema.fields} for row in rows)
    between = rows[2]
    assert between["success"] is False and between["unexpected_count"] == 2 and between["element_count"] == 20
    assert json.loads(between["observed_value"]) == [{"count": 2, "value": "2025-12-20T10:00:00"}]
    details = json.loads(between["details"])
    assert details["branch"] == "audit_r1" and details["batch"] == "run_rows" and details["severity"] == "critical"
    assert details["kwargs"]["min_value"] == "2025-12-30T10:00:00+00:00"
    assert rows[0]["observed_value"] is None, "nothing unexpected: no observed value to show"
    assert results.blocking_rows(rows) == [rows[2], rows[3]]


def test_failure_description_says_what_where_and_how_many() -> None:
    outcome = outcomes()[2]
    outcome.samples = [{"event_id": "e-7", "event_ts": "2025-12-20T10:00:00"}]
    text = "\n".join(results.describe_failure(outcome))
    assert "FAILED  silver.order_lines [run_rows] expect_column_values_to_be_between(event_ts)" in text
    assert '"min_value":"2025-12-30T10:00:00+00:00"' in text
    assert "unexpected: 2 of 20 rows (10%)" in text
    assert "sample: " in text and "e-7" in text


def test_row_conditions_read_like_code() -> None:
    outcome = results.Outcome(
        table="t",
        suite="t",
        batch="run_rows",
        position=0,
        expectation="expect_column_values_to_be_between",
        kwargs={
            "column": "quantity",
            "max_value": -1,
            "row_condition": {
                "type": "comparison",
                "column": {"name": "is_cancellation"},
                "operator": "==",
                "parameter": True,
            },
        },
        severity="critical",
        success=False,
    )
    assert outcome.criteria()["row_condition"] == "is_cancellation == True"


def test_local_docs_target_is_one_folder_per_run(tmp_path: Path) -> None:
    target = reports.docs_target(str(tmp_path / "gx"), "orders_2026010110_ab")
    assert target.local_dir == tmp_path / "gx" / "orders_2026010110_ab" and target.local_dir.is_dir()
    assert target.index_uri == str(tmp_path / "gx" / "orders_2026010110_ab" / "index.html")
    assert reports.publish_docs(target) == target.index_uri


def dq_rows(run_id: str, at: datetime, failing: bool) -> list[dict]:
    context = {"branch": f"audit_{run_id}", "branch_snapshot_id": 42, "main_snapshot_id": 41, "docs": "/r/index.html"}
    out = []
    for position, (expectation, column, ok) in enumerate(
        [
            ("expect_column_values_to_not_be_null", "event_id", True),
            ("expect_column_values_to_be_between", "event_ts", not failing),
        ]
    ):
        out.append(
            {
                "run_id": run_id,
                "validated_at": at,
                "table_name": "silver.order_lines",
                "suite_name": "silver.order_lines",
                "expectation": expectation,
                "column_name": column,
                "success": ok,
                "observed_value": None if ok else '[{"count":2,"value":"2025-12-20T10:00:00"}]',
                "element_count": 20,
                "unexpected_count": 0 if ok else 2,
                "unexpected_percent": 0.0 if ok else 10.0,
                "details": json.dumps(
                    {**context, "position": position, "severity": "critical", "event_days": ["2026-01-01"]}
                    | ({} if ok else {"sample_rows": [{"event_id": "e-7"}]})
                ),
            }
        )
    return out


def test_dq_report_shows_the_latest_attempt(tmp_path: Path) -> None:
    settings = load_settings({"LAKEHOUSE_HOME": str(tmp_path)})
    first, second = datetime(2026, 1, 1, 10, 20, tzinfo=UTC), datetime(2026, 1, 1, 11, 0, tzinfo=UTC)
    rows = dq_rows("r1", first, failing=True) + dq_rows("r1", second, failing=False)
    assert [len(a) for a in dq_results.attempts(rows)] == [2, 2]
    text = dq_cmd.format_run(settings, "r1", rows)
    assert "gate PASSED (2 of 2 expectations passed" in text and "attempt 2 of 2" in text
    assert "Data Docs: /r/index.html" in text

    failed = dq_cmd.format_run(settings, "r1", dq_rows("r1", first, failing=True))
    assert "gate FAILED" in failed and "FAIL" in failed and "2 of 20 (10%)" in failed
    assert 'sample (expect_column_values_to_be_between, event_ts): {"event_id": "e-7"}' in failed
    assert "lakehouse discard --run-id r1" in failed

    listing = dq_results.format_runs(rows + dq_rows("r2", second, failing=True), last=10)
    assert listing.index("r1") > listing.index("validated at") and "FAILED" in listing


def test_gate_args_come_from_settings(tmp_path: Path) -> None:
    settings = load_settings({"LAKEHOUSE_HOME": str(tmp_path), "LAKEHOUSE_QUARANTINE_MAX_SHARE": "0.02"})
    args = spark_args.gate_args(settings, run_id="r1", arrival_hour="2026-01-01T10:00:00Z")
    assert args["reports_uri"] == str(tmp_path / "reports" / "data_docs")
    assert args["quarantine_max_share"] == "0.02" and args["lateness_hours"] == "48"
    assert "audit_branch" not in args, "empty values are left out (Glue rejects them)"
    assert "expectations_dir" not in args, "locally the job reads expectations/ beside its package"
    assert spark_args.publish_args(settings, run_id="r1", action="discard")["action"] == "discard"


def test_lakehouse_dq_looks_for_data_docs_where_the_gate_writes_them(tmp_path: Path) -> None:
    """Without a recorded location, `lakehouse dq` finds the index under the gate's `--reports_uri`."""
    settings = load_settings({"LAKEHOUSE_HOME": str(tmp_path)})
    assert dq_cmd.docs_location(settings, "r1", []) == ""  # nothing written yet
    target = reports.docs_target(spark_args.gate_args(settings, run_id="r1")["reports_uri"], "r1")
    (target.local_dir / "index.html").write_text("<html></html>")
    assert dq_cmd.docs_location(settings, "r1", []) == target.index_uri


def test_cli_commands_register() -> None:
    parser = argparse.ArgumentParser()
    dq_cmd.register(parser.add_subparsers())
    assert parser.parse_args(["dq", "--run-id", "r1"]).func is dq_cmd.run_dq
    assert parser.parse_args(["validate", "--run-id", "r1", "--hour", "2026-01-01T10"]).func is dq_cmd.run_validate
    discard = parser.parse_args(["discard", "--run-id", "r1"])
    assert discard.func is dq_cmd.run_publish and discard.action == "discard"
