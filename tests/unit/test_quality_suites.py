"""The suite files in expectations/: valid GX Core 1.x suites that follow our review conventions.

Suites are reviewed like code, so these tests hold them to rules a reviewer would otherwise
check by eye: one file per table named after it, every expectation explains itself, columns
exist in the table (tables as code), parameters are declared, sets are sorted, nothing twice.
Also the run parameters (the event-time window) and the jobs' argument handling, without a JVM.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lakehouse_core.settings import REPO_ROOT
from lakehouse_core.tables import table as table_def
from spark_jobs import publish_orders, validate_orders
from spark_jobs.entry import CatalogArgs
from spark_jobs.jobargs import jdbc_catalog_uri, parse_hour, parse_job_args
from spark_jobs.quality import suites

pytestmark = pytest.mark.unit

EXPECTATIONS = REPO_ROOT / "expectations"
SUITE_FILES = sorted(EXPECTATIONS.glob("*.json"))
KEY_ORDER = ("type", "kwargs", "meta", "notes", "severity")


def test_a_suite_per_gated_table() -> None:
    assert {p.stem for p in SUITE_FILES} >= {"silver.order_lines", "audit.ingest_runs"}


@pytest.mark.parametrize("path", SUITE_FILES, ids=lambda p: p.stem)
def test_suite_follows_conventions(path: Path) -> None:
    data = json.loads(path.read_text())
    suite = suites.Suite(table=path.stem, data=data, source=str(path))
    suite.check()  # batches known, parameters declared, notes on every expectation
    assert data["name"] == path.stem == data["meta"]["table"]
    assert list(data) == ["name", "notes", "meta", "expectations"], "stable top-level order"
    seen = set()
    for e in data["expectations"]:
        assert [k for k in e if k in KEY_ORDER] == [k for k in KEY_ORDER if k in e], f"key order in {e['type']}"
        assert e["type"].startswith("expect_")
        identity = json.dumps([e["type"], e["kwargs"], suite.batch_of(e)], sort_keys=True)
        assert identity not in seen, f"duplicate expectation {e['type']} {e['kwargs']}"
        seen.add(identity)
        values = e["kwargs"].get("value_set")
        if values is not None:
            assert values == sorted(values), f"{e['type']}: keep value_set sorted for readable diffs"
    assert path.read_text().endswith("\n")


@pytest.mark.parametrize("path", SUITE_FILES, ids=lambda p: p.stem)
def test_suite_columns_exist_in_the_table(path: Path) -> None:
    suite = suites.Suite(table=path.stem, data=json.loads(path.read_text()), source=str(path))
    columns = {f.name for f in table_def(path.stem).schema.fields} | set(suite.derived_columns)
    for batch in suite.batches:
        missing = suite.referenced_columns(batch) - columns
        assert not missing, f"{path.name} [{batch}] reads columns the table does not have: {sorted(missing)}"
    for name, expression in suite.derived_columns.items():
        if expression.startswith("provided by the gate"):
            continue
        words = {w for w in expression.replace("(", " ").replace(")", " ").split() if w.isidentifier()}
        unknown = words - columns - {"CASE", "WHEN", "THEN", "ELSE", "END"}
        assert not unknown, f"derived column {name} reads unknown columns {sorted(unknown)}"


def test_suites_load_in_great_expectations() -> None:
    """The files are GX Core 1.x suites as they are: GX builds every expectation from them."""
    import great_expectations as gx

    loaded = suites.load_suites(str(EXPECTATIONS), [p.stem for p in SUITE_FILES])
    for name, suite in loaded.items():
        gx_suite = gx.ExpectationSuite(**json.loads(json.dumps(suite.data)))
        assert gx_suite.name == name
        assert len(gx_suite.expectations) == len(suite.data["expectations"])
        assert {e.severity.value for e in gx_suite.expectations} == {"critical"}


def test_expectations_split_by_batch() -> None:
    silver = suites.load_suites(str(EXPECTATIONS), ["silver.order_lines"])["silver.order_lines"]
    assert silver.batches == ["run_rows", "event_days"]
    days = silver.for_batch("event_days")["expectations"]
    assert [(e["type"], e["kwargs"]["column"]) for e in days] == [("expect_column_values_to_be_unique", "event_id")]
    rows = silver.for_batch("run_rows")["expectations"]
    assert len(rows) + len(days) == len(silver.data["expectations"])
    assert silver.referenced_parameters() == {"event_ts_min", "event_ts_max"}
    assert "is_cancellation" in silver.referenced_columns("run_rows"), "row conditions count as read columns"


def test_check_names_what_is_wrong() -> None:
    data = {
        "name": "t",
        "meta": {"batches": {"rows": ""}, "parameters": {}},
        "expectations": [
            {"type": "expect_column_values_to_be_between", "kwargs": {"column": "x", "max_value": {"$PARAMETER": "p"}}},
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "x"}, "meta": {"batch": "nope"}},
        ],
    }
    with pytest.raises(suites.SuiteError) as info:
        suites.Suite("t", data, "t.json").check()
    message = str(info.value)
    assert "no notes" in message and "'nope' is not in meta.batches" in message and "not declared" in message


def test_missing_suite_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(suites.SuiteError, match=r"no suite for table silver\.order_lines"):
        suites.load_suites(str(tmp_path), ["silver.order_lines"])


def test_event_time_window_and_parameters() -> None:
    hour = datetime(2026, 1, 1, 10, tzinfo=UTC)
    window = suites.RunWindow(hour, lateness_hours=48, clock_skew_minutes=5)
    assert window.event_ts_min == hour - timedelta(hours=48)
    assert window.event_ts_max == datetime(2026, 1, 1, 11, 5, tzinfo=UTC)
    params = suites.suite_parameters(window, 0.02)
    assert params == {
        "event_ts_min": "2025-12-30T10:00:00+00:00",
        "event_ts_max": "2026-01-01T11:05:00+00:00",
        "quarantine_max_share": 0.02,
    }
    loaded = suites.load_suites(str(EXPECTATIONS), ["silver.order_lines", "audit.ingest_runs"])
    assert suites.missing_parameters(loaded, params) == []
    assert suites.missing_parameters(loaded, {}) == ["event_ts_max", "event_ts_min", "quarantine_max_share"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-01T10:00:00+00:00", datetime(2026, 1, 1, 10, tzinfo=UTC)),
        ("2026-01-01T10:00:00Z", datetime(2026, 1, 1, 10, tzinfo=UTC)),
        ("2026-01-01T10:00:00", datetime(2026, 1, 1, 10, tzinfo=UTC)),
        ("2026-01-01T12:00:00+02:00", datetime(2026, 1, 1, 10, tzinfo=UTC)),
        ("2026-11-01T08", datetime(2026, 11, 1, 8, tzinfo=UTC)),  # the CLI's short forms (lakehouse.console)
        ("2026-11-01T08:00", datetime(2026, 11, 1, 8, tzinfo=UTC)),
    ],
)
def test_arrival_hour_parsing(text: str, expected: datetime) -> None:
    assert parse_hour(text) == expected


@pytest.mark.parametrize("text", ["2026-01-01T10:30:00Z", "yesterday", "2026-11-01T08:30", "2026-13-01T08"])
def test_arrival_hour_refuses_what_is_not_an_hour(text: str) -> None:
    with pytest.raises(ValueError, match="arrival hour"):
        parse_hour(text)


def test_session_conf_follows_the_ingest_conventions() -> None:
    base = {"environment": "local", "platform": "", "catalog_name": "lakehouse", "warehouse": "file:///w"}

    def session_conf(args: dict[str, str]) -> dict[str, str]:
        return CatalogArgs.from_args(args).spark_conf()

    assert session_conf({**base, "catalog_uri": ""}) == {}, "no uri: the launcher configured the catalog"
    local = session_conf({**base, "catalog_uri": "sqlite:////tmp/c.db"})
    assert local["spark.sql.catalog.lakehouse.uri"] == jdbc_catalog_uri("sqlite:////tmp/c.db")[0]
    glue = session_conf({**base, "environment": "aws", "warehouse": "s3://b/w"})
    assert glue["spark.sql.catalog.lakehouse.type"] == "glue"


def test_validate_job_arguments_need_no_jvm(capsys: pytest.CaptureFixture[str]) -> None:
    args = {spec.name: spec.default or "" for spec in validate_orders.SPECS}
    args.update(run_id="orders_2026010110_ab", arrival_hour="2026-01-01T10:00:00Z", quarantine_max_share="0.05")
    request = validate_orders.request_from_args(args)
    assert request.arrival_hour == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert request.quarantine_max_share == 0.05 and request.lateness_hours == 48
    assert Path(request.expectations_dir) == EXPECTATIONS
    # bad arguments end before any Spark session is built
    assert validate_orders.main(["--run_id", "r", "--arrival_hour", "2026-01-01T10:30:00Z"]) == 2
    assert "not on the hour" in capsys.readouterr().err
    assert publish_orders.main(["--run_id", "r", "--action", "merge"]) == 2
    # Glue/EMR extras (and the ingest's --manifest) are ignored, not errors
    parsed = parse_job_args(validate_orders.SPECS, ["--run_id", "r", "--manifest", "m", "--JOB_ID", "j"])
    assert parsed["run_id"] == "r"
