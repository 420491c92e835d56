"""DAG hygiene: the real DagBag over `dags/`, parsed the way Airflow parses it.

- every DAG file imports with no error, on every Spark backend and dbt target;
- tags, owner, doc_md, retries with exponential backoff, dagrun_timeout, max_active_runs;
- the task graph: wait -> manifest -> short-circuit -> ingest -> gate -> publish -> [export] -> dbt;
- assets: silver on publish, one per mart after dbt; they agree with `lakehouse_core.tables`;
- parsing makes no network call (sockets and DNS blocked while parsing, AWS backends included);
- the failure callback publishes to SNS (moto's server) when a topic is configured.

Parse *time* is measured by `lakehouse.benchmarks.dags`, not asserted here.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from lakehouse_core.settings import REPO_ROOT, load_settings
from tests.helpers.dagbag import parse

pytestmark = pytest.mark.integration

DAG_IDS = {"orders_lakehouse", "orders_backfill", "lakehouse_maintenance", "product_recommendations"}
AWS_ENV = {
    "LAKEHOUSE_ENV": "aws",
    "LAKEHOUSE_WAREHOUSE": "s3://acme-lake/warehouse",
    "LAKEHOUSE_RAW_ROOT": "s3://acme-raw/firehose",
    "LAKEHOUSE_ARTIFACTS_URI": "s3://acme-artifacts/lakehouse",
    "LAKEHOUSE_GLUE_JOB_NAME": "lakehouse",
    "LAKEHOUSE_EMR_APPLICATION_ID": "00abc123",
    "LAKEHOUSE_EMR_EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/lakehouse-emr",
    "LAKEHOUSE_REDSHIFT_WORKGROUP": "lakehouse-dev",
}
CONFIGURATIONS = {
    "local": {},
    "glue-redshift": {**AWS_ENV, "LAKEHOUSE_SPARK_BACKEND": "glue"},
    "emr-redshift": {**AWS_ENV, "LAKEHOUSE_SPARK_BACKEND": "emr-serverless"},
    # the SPICE refresh after the marts (dags/pipeline/quicksight.py): parses offline too
    "glue-redshift-quicksight": {
        **AWS_ENV,
        "LAKEHOUSE_SPARK_BACKEND": "glue",
        "LAKEHOUSE_QUICKSIGHT_DATASET_IDS": "lakehouse-dev-daily_sales,lakehouse-dev-gate_results",
    },
}


@pytest.mark.parametrize("config", sorted(CONFIGURATIONS))
def test_dagbag_imports_without_errors(config: str, dbt_manifest: Path, lake_env: None, monkeypatch) -> None:
    bag = parse(CONFIGURATIONS[config], monkeypatch)
    assert bag.import_errors == {}
    assert set(bag.dag_ids) >= DAG_IDS


class NetworkBlocked(AssertionError):
    pass


@pytest.mark.parametrize("config", sorted(CONFIGURATIONS))
def test_parsing_makes_no_network_call(config: str, dbt_manifest: Path, lake_env: None, monkeypatch) -> None:
    """Sockets cannot connect and names cannot resolve while the DAG files are imported."""
    attempts: list[str] = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args[1:] if args else kwargs)[:200])
        raise NetworkBlocked(f"network call during DAG parsing: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    # botocore would otherwise find credentials/regions through the instance metadata endpoint.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    bag = parse(CONFIGURATIONS[config], monkeypatch)
    assert attempts == []
    assert bag.import_errors == {}
    assert set(bag.dag_ids) >= DAG_IDS


@pytest.fixture
def local_bag(dbt_manifest: Path, lake_env: None, monkeypatch: pytest.MonkeyPatch):
    return parse({}, monkeypatch)


def test_every_dag_has_docs_tags_owner_and_a_retry_policy(local_bag) -> None:
    for dag_id in DAG_IDS:
        dag = local_bag.dags[dag_id]
        assert dag.doc_md and dag.doc_md.strip().startswith("###"), dag_id
        assert {"lakehouse"} <= set(dag.tags), dag_id
        assert dag.max_active_runs == 1, dag_id
        assert dag.dagrun_timeout is not None and dag.dagrun_timeout <= timedelta(hours=6), dag_id
        assert dag.on_failure_callback is not None, dag_id
        for task in dag.tasks:
            assert task.owner == "data-platform", task.task_id
            assert task.on_failure_callback, task.task_id
        spark_ids = {"ingest", "quality_gate", "publish", "maintain_tables", "recommend"}
        spark_tasks = [t for t in dag.tasks if t.task_id in spark_ids]
        assert spark_tasks, dag_id
        for task in spark_tasks:
            assert task.retries >= 1, task.task_id
            assert task.retry_exponential_backoff > 0, task.task_id
            assert task.max_retry_delay is not None, task.task_id


def test_orders_lakehouse_wiring(local_bag) -> None:
    from airflow.timetables.interval import CronDataIntervalTimetable

    dag = local_bag.dags["orders_lakehouse"]
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.summary == "0 * * * *"
    chain = [
        "wait_for_hour",
        "claim_hour",
        "landing_manifest",
        "has_objects",
        "ensure_tables",
        "ingest",
        "quality_gate",
        "publish",
        "export_silver",
    ]
    for upstream, downstream in itertools.pairwise(chain):
        assert downstream in dag.get_task(upstream).downstream_task_ids, (upstream, downstream)
    dbt_tasks = [t for t in dag.tasks if t.task_id.startswith("dbt.")]
    assert dbt_tasks, "the Cosmos group rendered no task: is the dbt manifest there?"
    roots = [t for t in dbt_tasks if not any(u.startswith("dbt.") for u in t.upstream_task_ids)]
    assert roots and all(t.upstream_task_ids == {"export_silver"} for t in roots)
    assert dag.get_task("marts_published").upstream_task_ids <= {t.task_id for t in dbt_tasks}
    # the gate's verdict is final: publishing waits for it, dbt waits for publish
    assert dag.get_task("quality_gate").downstream_task_ids == {"publish"}
    assert dag.get_task("publish").downstream_task_ids == {
        "export_silver",
        "is_silver_maintenance_hour",
        "release_hour",
    }
    assert dag.get_task("wait_for_hour").__class__.__name__ == "FirehoseHourSensor"
    # one writer per hour: the claim is a setup, its release a teardown after publish (runs on failure too)
    release = dag.get_task("release_hour")
    assert release.is_teardown and dag.get_task("claim_hour").is_setup
    assert "claim_hour" in release.upstream_task_ids
    assert dag.get_task("firehose_errors").upstream_task_ids == {"landing_manifest"}
    # an hour with no objects skips ingest .. marts by trigger rules, and the rate check still runs
    assert dag.get_task("has_objects").ignore_downstream_trigger_rules is False
    rate_alarm = dag.get_task("rate_alarm")
    assert rate_alarm.upstream_task_ids == {"marts_published"}
    assert rate_alarm.trigger_rule == "none_failed"
    skipped_by_rule = {"ensure_tables", "ingest", "quality_gate", "publish", "export_silver", "marts_published"}
    assert all(dag.get_task(t).trigger_rule == "all_success" for t in skipped_by_rule)


def test_orders_backfill_wiring(local_bag) -> None:
    """The bulk backfill: by hand only, params from/to, one ingest (a range) -> gate -> publish ->
    marts, the range's claims a setup released by a teardown, the gate given the range's window."""
    dag = local_bag.dags["orders_backfill"]
    assert dag.schedule is None and set(dag.params) == {"from", "to"}
    chain = ["plan_range", "has_objects", "ensure_tables", "ingest", "quality_gate", "publish", "export_silver"]
    for upstream, downstream in itertools.pairwise(chain):
        assert downstream in dag.get_task(upstream).downstream_task_ids, (upstream, downstream)
    release = dag.get_task("release_range")
    assert release.is_teardown and dag.get_task("plan_range").is_setup
    assert dag.get_task("quality_gate").downstream_task_ids == {"publish"}
    assert "marts_published" in dag.task_ids and any(t.startswith("dbt.") for t in dag.task_ids)
    assert "rate_alarm" not in dag.task_ids
    ingest_args = dag.get_task("ingest").op_kwargs["job_args"]
    assert "key='to_hour'" in ingest_args["to_hour"] and "key='manifest'" in ingest_args["manifest"]
    gate_args = dag.get_task("quality_gate").op_kwargs["job_args"]
    assert "key='gate_hour'" in gate_args["arrival_hour"]
    assert "key='gate_lateness_hours'" in gate_args["lateness_hours"]


def test_redshift_target_has_no_duckdb_export_and_analyzes_the_marts(dbt_manifest, lake_env, monkeypatch) -> None:
    bag = parse(CONFIGURATIONS["glue-redshift"], monkeypatch)
    dag = bag.dags["orders_lakehouse"]
    assert "export_silver" not in dag.task_ids
    assert dag.max_active_tasks == 3  # what an mw1.small worker holds (warehouse.MWAA_DBT_PARALLEL_TASKS)
    roots = [
        t
        for t in dag.tasks
        if t.task_id.startswith("dbt.") and not any(u.startswith("dbt.") for u in t.upstream_task_ids)
    ]
    assert roots and all(t.upstream_task_ids == {"publish"} for t in roots)
    assert type(dag.get_task("ingest")).__name__ == "GlueSparkJobOperator"  # a GlueJobOperator

    maintenance = bag.dags["lakehouse_maintenance"]
    analyze = maintenance.get_task("analyze_marts")
    assert type(analyze).__name__ == "RedshiftDataOperator"
    assert analyze.deferrable is True
    assert analyze.upstream_task_ids == {"maintain_tables"}
    from pipeline.assets import mart_models

    assert len(analyze.sql) == len(mart_models(dbt_manifest)) > 0
    assert all(sql.startswith("ANALYZE marts.") for sql in analyze.sql)


def test_assets_match_the_tables_and_the_marts(local_bag, dbt_manifest: Path) -> None:
    from lakehouse_core import tables
    from pipeline.assets import SILVER_TABLES, mart_models

    assert set(SILVER_TABLES) == {t.identifier for t in tables.TABLES if t.namespace == "silver"}
    dag = local_bag.dags["orders_lakehouse"]
    assert {a.name for a in dag.get_task("publish").outlets} == set(SILVER_TABLES)
    marts = {a.name for a in dag.get_task("marts_published").outlets}
    assert marts == {f"marts.{m}" for m in mart_models(dbt_manifest)} and marts

    # every table is maintained, silver by the hourly DAG (after a publish), the rest daily
    daily = local_bag.dags["lakehouse_maintenance"].get_task("maintain_tables").op_kwargs["job_args"]
    hourly = dag.get_task("maintain_silver").op_kwargs["job_args"]
    assert hourly["tables"] == "silver.order_lines"
    assert set(daily["tables"].split(",")) == {t.identifier for t in tables.TABLES} - {"silver.order_lines"}


def test_product_recommendations_wiring(local_bag) -> None:
    from airflow.timetables.interval import CronDataIntervalTimetable

    from pipeline.assets import GOLD_TABLES

    dag = local_bag.dags["product_recommendations"]
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.summary == "30 2 * * *"  # after the day closed and its last hour published
    assert dag.catchup is False
    recommend = dag.get_task("recommend")
    assert recommend.upstream_task_ids == {"ensure_tables"}
    assert {a.name for a in recommend.outlets} == set(GOLD_TABLES)
    assert recommend.op_kwargs["script"] == "recommend_products.py"
    assert recommend.op_kwargs["verdict_exit_codes"] == [1]  # a refused model is not retried
    recommend.render_template_fields({"data_interval_end": datetime(2026, 11, 2, 2, 30, tzinfo=UTC)})
    # the run id (recommend_20261102) and the model's parameters are the job's defaults
    assert recommend.op_kwargs["job_args"] == {"as_of": "2026-11-02", "seed": "42"}


@pytest.mark.parametrize("config", ["glue-redshift", "emr-redshift"])
def test_product_recommendations_renders_glue_and_emr_arguments(config, dbt_manifest, lake_env, monkeypatch) -> None:
    bag = parse(CONFIGURATIONS[config], monkeypatch)
    recommend = bag.dags["product_recommendations"].get_task("recommend")
    recommend.render_template_fields(
        {"data_interval_end": datetime(2026, 11, 2, 2, 30, tzinfo=UTC), "ts_nodash": "20261102T023000"}
    )
    if config == "glue-redshift":
        assert type(recommend).__name__ == "GlueSparkJobOperator"
        assert recommend.job_name == "lakehouse-recommend-products"
        assert recommend.script_location == "s3://acme-artifacts/lakehouse/spark_jobs/recommend_products.py"
        args = recommend.script_args
        assert args["--as_of"] == "2026-11-02" and args["--seed"] == "42"
        assert args["--environment"] == "glue" and args["--datalake-formats"] == "iceberg"
        assert args["--extra-py-files"] == "s3://acme-artifacts/lakehouse/spark_jobs.zip"
    else:
        assert type(recommend).__name__ == "EmrServerlessSparkJobOperator"
        submit = recommend.job_driver["sparkSubmit"]
        assert submit["entryPoint"] == "s3://acme-artifacts/lakehouse/spark_jobs/recommend_products.py"
        argv = submit["entryPointArguments"]
        assert argv[argv.index("--as_of") + 1] == "2026-11-02"
        assert argv[argv.index("--environment") + 1] == "emr"
        assert "--py-files s3://acme-artifacts/lakehouse/spark_jobs.zip" in submit["sparkSubmitParameters"]
    assert recommend.deferrable is True


def test_silver_compaction_cannot_run_beside_a_publish(local_bag) -> None:
    """It runs in the hourly DAG, after publish, one run at a time (never in the daily DAG)."""
    dag = local_bag.dags["orders_lakehouse"]
    assert dag.max_active_runs == 1
    assert dag.get_task("maintain_silver").upstream_task_ids == {"is_silver_maintenance_hour"}
    assert dag.get_task("is_silver_maintenance_hour").upstream_task_ids == {"publish"}
    assert "silver.order_lines" not in local_bag.dags["lakehouse_maintenance"].get_task("maintain_tables").op_kwargs[
        "job_args"
    ]["tables"].split(",")


def test_cosmos_runs_the_dbt_virtualenv_on_the_same_duckdb_file_the_export_fills(local_bag) -> None:
    from lakehouse_core.settings import load_settings
    from pipeline.warehouse import duckdb_path

    settings = load_settings()
    dag = local_bag.dags["orders_lakehouse"]
    build = dag.get_task("dbt.dbt_producer_watcher")  # locally: one `dbt build` for every node
    assert str(build.dbt_executable_path) == settings.dbt_executable
    assert build.profile_config.target_name == "local"
    assert build.env["LAKEHOUSE_DUCKDB_PATH"] == str(duckdb_path(settings))
    assert build.upstream_task_ids == {"export_silver"}
    # every model and its tests still show as tasks, each after the build (airflow dags test
    # runs ready tasks in no fixed order, so "after" must be a dependency, not a priority)
    dbt_tasks = [t for t in dag.tasks if t.task_id.startswith("dbt.") and t is not build]
    models = {t.task_id for t in dbt_tasks if t.task_id.endswith(".run")}
    assert {"dbt.stg_order_lines.run", "dbt.fct_order_lines.run", "dbt.agg_daily_sales.run"} <= models
    assert all(t.upstream_task_ids for t in dbt_tasks)
    assert {t.task_id for t in dbt_tasks if t.upstream_task_ids == {build.task_id}} >= {"dbt.stg_order_lines.run"}
    # DuckDB is a local file: a failed model fails the same way again, so no retries
    assert all(t.retries == 0 for t in [build, *dbt_tasks] if type(t).__name__ != "EmptyOperator")


def test_compose_target_runs_one_dbt_build_on_postgres_with_a_task_per_model(
    dbt_manifest, lake_env, monkeypatch
) -> None:
    """Issue 30: compose ran 26 `dbt build --select` start-ups an hour on PostgreSQL; it runs the
    watcher's one build, as the local target does, and still shows a task per model and test."""
    dag = parse({"LAKEHOUSE_ENV": "compose"}, monkeypatch).dags["orders_lakehouse"]
    build = dag.get_task("dbt.dbt_producer_watcher")
    assert build.profile_config.target_name == "compose"
    assert build.upstream_task_ids == {"export_silver"}
    dbt_tasks = [t for t in dag.tasks if t.task_id.startswith("dbt.") and t is not build]
    assert not [t.task_id for t in dbt_tasks if t.task_id.endswith("_model_build")]
    models = {t.task_id for t in dbt_tasks if t.task_id.endswith(".run")}
    assert {"dbt.stg_order_lines.run", "dbt.fct_order_lines.run", "dbt.agg_daily_sales.run"} <= models
    assert all(t.upstream_task_ids for t in dbt_tasks)
    # PostgreSQL is reached over the network: the build gets its one retry (a dropped connection)
    assert build.retries == 1


def test_redshift_target_runs_one_dbt_build_per_model_with_a_retry(dbt_manifest, lake_env, monkeypatch) -> None:
    bag = parse(CONFIGURATIONS["glue-redshift"], monkeypatch)
    dag = bag.dags["orders_lakehouse"]
    dbt_tasks = [t for t in dag.tasks if t.task_id.startswith("dbt.")]
    assert all(t.task_id.endswith(("_model_build", "_seed_build", "_test")) for t in dbt_tasks)
    assert all(t.retries == 1 for t in dbt_tasks)


# --- the failure callback, against moto's SNS ----------------------------------------------------


@pytest.fixture
def sns_topic(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, object, str]]:
    """(topic arn, SQS client, queue url): a topic on moto's real HTTP server, drained into a queue."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    sns = boto3.client("sns", region_name="eu-west-1")
    sqs = boto3.client("sqs", region_name="eu-west-1")
    topic = sns.create_topic(Name="lakehouse-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    yield topic, sqs, queue
    server.stop()


def test_failure_callback_publishes_the_failed_task_to_sns(sns_topic) -> None:
    from pipeline.callbacks import FailureNotifier

    topic, sqs, queue = sns_topic
    notifier = FailureNotifier(
        load_settings({"LAKEHOUSE_ALERTS_SNS_TOPIC_ARN": topic, "LAKEHOUSE_AWS_REGION": "eu-west-1"})
    )
    ti = SimpleNamespace(dag_id="orders_lakehouse", task_id="quality_gate", try_number=1, log_url="http://x/log")
    notifier({"ti": ti, "run_id": "scheduled__2026-01-15T10:00:00+00:00", "exception": RuntimeError("gate failed")})
    # the run-level callback for the same failure stays quiet: one message per failure
    notifier({"dag": SimpleNamespace(dag_id="orders_lakehouse"), "run_id": "r", "reason": "task_failure"})

    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert len(messages) == 1
    body = json.loads(messages[0]["Body"])
    assert body["Subject"] == "[lakehouse] orders_lakehouse: task quality_gate failed"
    assert "RuntimeError: gate failed" in body["Message"]


def test_failure_callback_without_a_topic_only_logs(caplog) -> None:
    from pipeline.callbacks import FailureNotifier

    notifier = FailureNotifier(load_settings({"LAKEHOUSE_AWS_REGION": "eu-west-1"}))
    notifier({"dag": SimpleNamespace(dag_id="orders_lakehouse"), "run_id": "r", "reason": "timed_out"})
    assert "run failed (timed_out)" in caplog.text


def test_skip_reasons_name_the_dags_own_short_circuits(local_bag) -> None:
    """`pipeline.skip_reasons` (what the summaries print for a skipped task) matches the graph."""
    from pipeline import skip_reasons

    dag = local_bag.dags["orders_lakehouse"]
    for gate, doc in skip_reasons.GATE_DOCS.items():
        assert "ShortCircuit" in type(dag.get_task(gate)).__name__, gate
        assert dag.get_task(gate).doc_md == doc
    # a task skipped by design hangs off the maintenance hour's short-circuit and nothing else
    for task_id in skip_reasons.BY_DESIGN:
        assert dag.get_task(task_id).upstream_task_ids == {skip_reasons.MAINTENANCE_GATE}
    # the empty hour is recognised by its mark, which only has_objects can skip
    mark = dag.get_task(skip_reasons.EMPTY_HOUR_MARK)
    assert skip_reasons.EMPTY_HOUR_GATE in {t.task_id for t in mark.get_flat_relatives(upstream=True)}
    assert skip_reasons.MAINTENANCE_GATE not in {t.task_id for t in mark.get_flat_relatives(upstream=True)}


# "54 tasks on the local target (43 of them dbt)": the docs' task counts of an hourly run.
TASK_COUNT = re.compile(r"(\d+)\s+tasks\s+on\s+the\s+(local|compose)\s+target\s+\((\d+)\s+of\s+them\s+dbt")
ANY_TASK_COUNT = re.compile(r"\b\d+ (?:Cosmos |dbt |model/test |Airflow )*tasks\b")
DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]


def doc_task_counts() -> tuple[list[tuple[str, int, int, str]], list[str]]:
    """The checked claims `(target, tasks, dbt tasks, where)`, and every other task count outside a
    fenced block (a benchmark's printed output) that does not say it was so "at the time"."""
    claims, unchecked = [], []
    for path in DOCS:
        text = path.read_text()
        claimed: set[int] = set()  # line numbers a claim starts on
        for m in TASK_COUNT.finditer(text):
            number = text.count("\n", 0, m.start()) + 1
            claimed.add(number)
            claims.append((m.group(2), int(m.group(1)), int(m.group(3)), f"{path.relative_to(REPO_ROOT)}:{number}"))
        fenced = False
        for number, line in enumerate(text.splitlines(), 1):
            if line.lstrip().startswith("```"):
                fenced = not fenced
            elif not fenced and number not in claimed and ANY_TASK_COUNT.search(line) and "at the time" not in line:
                unchecked.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()[:120]}")
    return claims, unchecked


def test_the_docs_task_counts_are_the_dags(local_bag, dbt_manifest, lake_env, monkeypatch) -> None:
    """An hourly run's task count in the docs is the parsed DAG's, per dbt target (issue 30: the docs
    said 32 and 23 dbt where 37 and 26 ran). A count from an old measurement says "at the time"."""
    claims, unchecked = doc_task_counts()
    assert {target for target, *_ in claims} == {"local", "compose"}, claims
    assert unchecked == []
    dags = {"local": local_bag.dags["orders_lakehouse"]}
    dags["compose"] = parse({"LAKEHOUSE_ENV": "compose"}, monkeypatch).dags["orders_lakehouse"]
    for target, total, dbt, where in claims:
        ids = dags[target].task_ids
        actual = (len(ids), sum(1 for t in ids if t.startswith("dbt.")))
        assert (total, dbt) == actual, f"{where}: the {target} target has {actual[0]} tasks ({actual[1]} dbt)"
