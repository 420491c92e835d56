"""How the ingest is launched: job arguments (argparse / Glue conventions), the local
spark-submit command, and the job's shapes against the table definitions."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from lakehouse.runtime import local_spark
from lakehouse_core.spark_args import ingest_args
from lakehouse_core.spark_backends import LocalSpark
from lakehouse_core.tables import INGEST_RUNS, ORDER_LINES, ORDERS_QUARANTINE, ORDERS_RAW
from spark_jobs.ingest import contract
from spark_jobs.ingest.job import JOB_ARGS, IngestArgs
from spark_jobs.ingest.transforms import days_condition, hours_condition, ids_condition, ranges
from spark_jobs.ingest.writes import RUNS_SCHEMA
from spark_jobs.jobargs import jdbc_catalog_uri, parse_job_args, resolve_platform, to_argv
from spark_jobs.quality.branches import check_branch_name

pytestmark = pytest.mark.unit

HOUR = datetime(2026, 11, 1, 8, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path, settings_for):
    return settings_for(tmp_path / "lake")


def test_ingest_args_round_trip_through_the_job_parser(settings) -> None:
    built = {
        **LocalSpark(settings).catalog_args(),
        **ingest_args(settings, arrival_hour=HOUR, manifest="/m.json", run_id="r1", audit_branch="audit_r1"),
    }
    assert set(built) <= {spec.name for spec in JOB_ARGS}
    argv = [*to_argv(built), "--JOB_NAME", "glue-adds-its-own"]  # platform extras are ignored
    args = IngestArgs.from_mapping(parse_job_args(JOB_ARGS, argv))
    assert args.platform == "local"
    assert args.catalog_uri.startswith("jdbc:sqlite:") and args.catalog_uri.endswith("catalog.db")
    assert args.arrival_hour == HOUR and args.audit_branch == "audit_r1" and args.run_id == "r1"
    assert args.max_record_bytes == contract.MAX_RECORD_BYTES
    assert args.lateness_hours == settings.lateness_hours == contract.LATENESS_HOURS  # the gate's window
    assert args.clock_skew_minutes == settings.clock_skew_minutes == contract.CLOCK_SKEW_MINUTES  # the gate's too
    assert args.max_object_bytes == settings.max_object_bytes == contract.MAX_OBJECT_BYTES
    conf = args.session_conf()
    assert conf[f"spark.sql.catalog.{settings.catalog_name}.uri"] == args.catalog_uri


def test_the_dag_convention_environment_plus_platform_and_sqlalchemy_uri_is_accepted(settings) -> None:
    argv = to_argv(
        {
            "environment": "compose",
            "platform": "local",
            "catalog_name": "lakehouse",
            "catalog_uri": "postgresql+psycopg2://u:p@db:5432/catalog",
            "warehouse": "s3://lakehouse/warehouse",
            "manifest": "s3://lakehouse/raw/_manifests/orders/2026110108.json",
            "arrival_hour": "2026-11-01T08:00:00+00:00",
            "run_id": "r",
        }
    )
    args = IngestArgs.from_mapping(parse_job_args(JOB_ARGS, argv))
    assert (args.platform, args.catalog_uri) == ("local", "jdbc:postgresql://db:5432/catalog")
    assert (args.catalog_jdbc_user, args.catalog_jdbc_password) == ("u", "p")


def test_bad_arguments_fail_at_start() -> None:
    with pytest.raises(SystemExit):
        parse_job_args(JOB_ARGS, ["--catalog_name", "x"])  # required ones missing
    with pytest.raises(ValueError, match="not on the hour"):
        IngestArgs.from_mapping(
            {"environment": "glue", "catalog_name": "c", "warehouse": "s3://w", "manifest": "m", "run_id": "r"}
            | {"arrival_hour": "2026-11-01T08:30:00Z"}
        )
    with pytest.raises(ValueError, match="platform"):
        resolve_platform("laptop")
    with pytest.raises(ValueError):
        check_branch_name("main")
    with pytest.raises(ValueError):
        check_branch_name("a b")
    with pytest.raises(ValueError, match="1-128"):
        check_branch_name("a" * 129)
    assert check_branch_name("audit_" + "a" * 122) == "audit_" + "a" * 122


def test_platform_and_jdbc_helpers() -> None:
    assert [resolve_platform(e) for e in ("local", "glue", "emr", "compose", "aws")] == [
        "local",
        "glue",
        "emr",
        "local",
        "glue",
    ]
    assert resolve_platform("aws", "emr") == "emr"
    assert jdbc_catalog_uri("sqlite:////tmp/c.db") == ("jdbc:sqlite:/tmp/c.db", "", "")
    assert jdbc_catalog_uri("jdbc:sqlite:/x.db", "u") == ("jdbc:sqlite:/x.db", "u", "")


def test_spark_submit_command_uses_this_interpreter_the_jars_and_the_catalog(settings) -> None:
    command = local_spark.build_command(settings, local_spark.INGEST_SCRIPT, {"run_id": "r", "audit_branch": ""})
    argv = command.argv
    assert Path(argv[0]).name == "spark-submit" and Path(argv[0]).exists()
    confs = dict(argv[i + 1].split("=", 1) for i, a in enumerate(argv) if a == "--conf")
    assert confs["spark.master"] == "local[2]"
    assert "iceberg-spark-runtime" in confs.get("spark.jars", confs.get("spark.jars.packages", ""))
    script_at = argv.index(str(local_spark.INGEST_SCRIPT))
    job_argv = argv[script_at + 1 :]
    assert job_argv[job_argv.index("--catalog_name") + 1] == settings.catalog_name
    assert "--audit_branch" not in job_argv  # empty optional arguments are left out
    assert job_argv[-2:] == ["--run_id", "r"]
    assert command.env["PYSPARK_PYTHON"] == command.env["PYSPARK_DRIVER_PYTHON"] == sys.executable
    assert command.env["PYTHONPATH"].split(":")[0] == str(local_spark.REPO_ROOT)
    assert "JAVA_HOME" in command.env


def test_short_jobs_run_with_the_quick_jit_and_keep_the_native_library_path(settings) -> None:
    from lakehouse.runtime import jvm

    def driver_options(script: Path) -> str:
        argv = local_spark.build_command(settings, script, {"run_id": "r"}).argv
        confs = dict(argv[i + 1].split("=", 1) for i, a in enumerate(argv) if a == "--conf")
        return confs.get(local_spark.DRIVER_JAVA_OPTIONS, "")

    native = jvm.discover(settings).spark_conf().get(local_spark.DRIVER_JAVA_OPTIONS, "")
    jobs = local_spark.REPO_ROOT / "spark_jobs"
    for script in (jobs / "validate_orders.py", jobs / "publish_orders.py"):
        options = driver_options(script).split()
        assert local_spark.QUICK_JIT_OPTION in options, script.name
        assert set(native.split()) <= set(options), "added beside the other driver options, not in their place"
    assert local_spark.QUICK_JIT_OPTION not in driver_options(local_spark.INGEST_SCRIPT), "long loops keep C2"


def test_job_shapes_match_the_table_definitions() -> None:
    def names(table) -> tuple[str, ...]:
        return tuple(f.name for f in table.schema.fields)

    assert names(ORDERS_RAW) == contract.BRONZE_COLUMNS
    assert names(ORDERS_QUARANTINE) == contract.QUARANTINE_COLUMNS
    assert names(ORDER_LINES) == contract.SILVER_COLUMNS
    assert tuple(RUNS_SCHEMA.fieldNames()) == names(INGEST_RUNS)
    required = {f.name for f in ORDERS_RAW.schema.fields if f.required} & set(contract.EVENT_COLUMNS)
    assert required == set(contract.REQUIRED_FIELDS)


def test_reason_codes_and_fields_match_the_simulator() -> None:
    from lakehouse import generate

    assert contract.REASONS == generate.QUARANTINE_REASONS
    assert contract.REQUIRED_FIELDS == generate.REQUIRED_FIELDS
    assert set(generate.EVENT_FIELDS) == contract.KNOWN_FIELDS
    assert contract.MAX_RECORD_BYTES == generate.MAX_RECORD_BYTES


def test_day_pruning_condition_merges_consecutive_days() -> None:
    days = [date(2026, 11, 2), date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 5)]
    assert ranges(days, timedelta(days=1)) == [
        (date(2026, 10, 31), date(2026, 11, 2)),
        (date(2026, 11, 5), date(2026, 11, 5)),
    ]
    condition = days_condition(days)
    assert "t.event_ts >= TIMESTAMP'2026-10-31 00:00:00'" in condition
    assert "t.event_ts < TIMESTAMP'2026-11-03 00:00:00'" in condition
    assert days_condition([]) == "false"


def test_hour_pruning_and_id_conditions() -> None:
    hours = [datetime(2026, 11, 2, h) for h in (23, 17, 18, 5)]
    condition = hours_condition(hours)
    assert condition.count(" OR ") == 2  # 05, 17-18, 23
    assert "t.event_ts >= TIMESTAMP'2026-11-02 17:00:00' AND t.event_ts < TIMESTAMP'2026-11-02 19:00:00'" in condition
    assert "t.event_ts < TIMESTAMP'2026-11-03 00:00:00'" in condition
    assert ids_condition([]) == "false"
    assert ids_condition(None) == "true"
    assert ids_condition(["a", "it's"]) == "t.event_id IN ('a', 'it\\'s')"


def test_counts_line_is_found_among_progress_lines() -> None:
    from lakehouse.commands.ingest import default_run_id, find_counts

    lines = ["[ingest] read 3 records", '{"run_id":"r","records_read":3}', "bye", "{not json}"]
    assert find_counts(lines) == {"run_id": "r", "records_read": 3}
    assert find_counts(["nothing"]) is None
    assert default_run_id(HOUR, datetime(2026, 11, 1, 9, 5, 7, tzinfo=UTC)) == "ingest-2026110108-20261101T090507"
    check_branch_name(default_run_id(HOUR))


def test_the_catalog_password_is_in_the_environment_not_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ps` shows every process's arguments to every user: the compose catalog's password is not one."""
    from lakehouse.runtime.warm_spark import catalog_password_conf
    from lakehouse_core.settings import load_settings
    from spark_jobs.jobargs import CATALOG_PASSWORD_ENV

    uri = "postgresql+psycopg2://lakehouse:s3cr3t@db:5432/catalog"
    settings = load_settings({"LAKEHOUSE_HOME": str(tmp_path), "LAKEHOUSE_CATALOG_URI": uri})
    warm_conf = {"spark.sql.catalog.lakehouse.jdbc.password": "s3cr3t"}  # in start_warm_driver's catalog conf
    command = local_spark.build_command(settings, local_spark.INGEST_SCRIPT, {"run_id": "r"}, extra_conf=warm_conf)
    assert not any("s3cr3t" in a for a in command.argv), command.argv
    assert command.env[CATALOG_PASSWORD_ENV] == "s3cr3t"
    # the job, started with that environment, reads it back (its own --catalog_jdbc_password would win)
    monkeypatch.setenv(CATALOG_PASSWORD_ENV, command.env[CATALOG_PASSWORD_ENV])
    job_argv = command.argv[command.argv.index(str(local_spark.INGEST_SCRIPT)) + 1 :]
    job_argv += ["--manifest", "m", "--arrival_hour", "2026-11-01T08"]
    args = IngestArgs.from_mapping(parse_job_args(JOB_ARGS, job_argv))
    assert (args.catalog_jdbc_user, args.catalog_jdbc_password) == ("lakehouse", "s3cr3t")
    assert args.session_conf()["spark.sql.catalog.lakehouse.jdbc.password"] == "s3cr3t"
    assert catalog_password_conf(command.env) == warm_conf  # the warm driver's session gets it the same way
