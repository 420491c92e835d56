"""The AWS stack as code, proven offline: format, validation, a security scan, and a real
`terraform apply` against moto's server followed by a plan that must show no changes.

What moto cannot emulate (MWAA, Redshift Serverless) is switched off for the apply
(`enable_mwaa=false`, `enable_redshift=false`) and planned on top of the applied stack instead,
where the plan's values are checked. The Firehose stream, buckets and Glue databases are read
back from AWS's APIs (moto) and compared with what `deploy/dev.yaml` and the pipeline's own code
(dags/pipeline: landing layout, namespaces, settings) expect, so infrastructure and code cannot
drift apart.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from lakehouse_core import landing
from lakehouse_core.settings import load_settings
from lakehouse_core.tables import NAMESPACES
from pipeline import waits
from tests.infra.conftest import INFRA, REPO, Terraform, copy_stack, moto_override, terraform_binary

pytestmark = pytest.mark.infra

Cli = tuple[str, dict[str, str]]  # the terraform binary and its environment
Applied = tuple[Terraform, dict[str, Any]]  # terraform in the applied stack, and its outputs

DEPLOY_CONFIG = yaml.safe_load((REPO / "deploy" / "dev.yaml").read_text())
EMULATED = ("-var", "enable_mwaa=false", "-var", "enable_redshift=false")
ACCOUNT = "123456789012"  # moto's account

# The names `lakehouse deploy` reads back (deploy/<env>.outputs.json); agreed with issue 12.
CONTRACT_OUTPUTS = {
    "raw_bucket", "lake_bucket", "artifacts_bucket", "mwaa_bucket", "kms_key_arn", "firehose_stream_name",
    "glue_databases", "glue_job_role_arn", "glue_job_name_prefix", "emr_application_id", "emr_execution_role_arn",
    "emr_image_repository_url",
    "mwaa_environment_name", "mwaa_execution_role_arn", "mwaa_webserver_url", "redshift_workgroup",
    "redshift_namespace", "redshift_host", "redshift_database", "redshift_secret_arn", "redshift_spectrum_role_arn",
    "sns_topic_arn", "athena_workgroup", "vpc_id", "private_subnet_ids", "security_group_ids",
}  # fmt: skip
OFF_IN_EMULATION = {
    "mwaa_environment_name", "mwaa_webserver_url", "redshift_workgroup",
    "redshift_namespace", "redshift_host", "redshift_database", "redshift_secret_arn", "redshift_spectrum_role_arn",
}  # fmt: skip


def expected_bucket(purpose: str) -> str:
    """The naming rule of modules/storage: <project>-<env>-<purpose>-<account>-<region>."""
    name = f"{DEPLOY_CONFIG['project']}-{DEPLOY_CONFIG['environment']}"
    suffix = f"{ACCOUNT}-{DEPLOY_CONFIG['aws_region']}"
    return f"airflow-{name}-{suffix}" if purpose == "mwaa" else f"{name}-{purpose}-{suffix}"


# --- offline checks ----------------------------------------------------------------------------


def test_terraform_fmt_is_clean() -> None:
    binary = terraform_binary()
    if binary is None:
        pytest.skip("terraform is not installed: `make tf-tools` installs a pinned one (.ci/run does)")
    proc = subprocess.run(
        [binary, "fmt", "-check", "-recursive", "-diff", "-no-color"], cwd=INFRA, capture_output=True, text=True
    )
    assert proc.returncode == 0, f"terraform fmt would change files (run `terraform fmt -recursive`):\n{proc.stdout}"


def test_terraform_validate_offline(terraform_cli: Cli, tmp_path: Path) -> None:
    binary, env = terraform_cli
    tf = Terraform(binary, copy_stack(tmp_path), env)
    tf.run("init", "-backend=false", "-input=false")
    report = tf.json("validate", "-json")
    assert report["valid"], report["diagnostics"]
    assert report["warning_count"] == 0, report["diagnostics"]


def test_checkov_finds_no_failed_check_and_every_skip_is_justified() -> None:
    """checkov offline has no severities (they need an API key): every failed check must be fixed
    or skipped with a reason next to the resource (`#checkov:skip=CKV_...:reason`)."""
    checkov = REPO / ".venv-tools" / "bin" / "checkov"
    if not checkov.exists():
        pytest.skip("checkov is not installed: `make tf-tools` (.ci/run does)")
    started = time.monotonic()
    proc = subprocess.run(
        [str(checkov), "-d", str(INFRA), "--framework", "terraform", "-o", "json", "--skip-download"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads(proc.stdout)
    print(f"checkov: {time.monotonic() - started:.1f} s, summary {report['summary']}")
    failed = [(c["check_id"], c["resource"], c["file_path"]) for c in report["results"]["failed_checks"]]
    assert report["summary"]["parsing_errors"] == 0
    assert failed == [], f"checkov failed checks (fix them or skip with a reason): {failed}"
    for check in report["results"]["skipped_checks"]:
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason.split()) >= 5, f"{check['check_id']} on {check['resource']} is skipped without a reason"
    assert proc.returncode == 0


# --- apply against moto ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def applied(terraform_cli: Cli, moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Applied]:
    """The dev stack applied to moto (MWAA and Redshift off); yields terraform and its outputs."""
    binary, env = terraform_cli
    workdir = copy_stack(tmp_path_factory.mktemp("stack"))
    (workdir / "moto_override.tf").write_text(moto_override(moto_endpoint))
    tf = Terraform(binary, workdir, env)
    tf.run("init", "-input=false")
    started = time.monotonic()
    tf.run("apply", "-auto-approve", "-input=false", *EMULATED)
    print(f"terraform apply against moto: {time.monotonic() - started:.1f} s")
    outputs = {name: o["value"] for name, o in tf.json("output", "-json").items()}
    yield tf, outputs


@pytest.fixture(scope="module")
def aws(moto_endpoint: str) -> Any:
    """boto3 clients on moto's server, in the stack's region."""
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=DEPLOY_CONFIG["aws_region"]
    )
    return lambda service: session.client(service, endpoint_url=moto_endpoint)


def test_second_plan_shows_no_changes(applied: Applied) -> None:
    tf, _ = applied
    started = time.monotonic()
    proc = tf.run("plan", "-detailed-exitcode", "-input=false", *EMULATED, check=False)
    print(f"terraform plan (no changes) against moto: {time.monotonic() - started:.1f} s")
    assert proc.returncode == 0, f"the plan after apply is not empty (exit {proc.returncode}):\n{proc.stdout[-8000:]}"


def test_outputs_are_the_ones_lakehouse_deploy_reads(applied: Applied) -> None:
    _, outputs = applied
    missing = CONTRACT_OUTPUTS - outputs.keys()
    assert not missing, f"outputs missing from the deploy contract: {sorted(missing)}"
    for name in CONTRACT_OUTPUTS - OFF_IN_EMULATION:
        assert outputs[name], f"output {name} is empty"
    for name in OFF_IN_EMULATION:
        assert outputs[name] == "", f"{name} must be empty while its part is switched off"
    assert outputs["glue_job_name_prefix"] == f"{DEPLOY_CONFIG['project']}-{DEPLOY_CONFIG['environment']}"
    assert set(outputs["security_group_ids"]) == {"mwaa", "spark", "redshift", "vpc_endpoints"}
    assert len(outputs["private_subnet_ids"]) == 3


def test_firehose_stream_writes_the_layout_the_pipeline_reads(applied: Applied, aws: Any) -> None:
    """Prefix, compression, framing and buffering of the real stream (DescribeDeliveryStream) equal
    deploy/dev.yaml and the code: landing's hour prefix, the hour sensor's wait."""
    _, outputs = applied
    cfg = DEPLOY_CONFIG["firehose"]
    stream = aws("firehose").describe_delivery_stream(DeliveryStreamName=cfg["stream_name"])
    description = stream["DeliveryStreamDescription"]
    assert description["DeliveryStreamType"] == "DirectPut"
    (destination,) = description["Destinations"]
    s3 = destination["ExtendedS3DestinationDescription"]

    assert s3["BucketARN"] == f"arn:aws:s3:::{expected_bucket('raw')}" == f"arn:aws:s3:::{outputs['raw_bucket']}"
    assert s3["CompressionFormat"] == "GZIP"
    assert s3["BufferingHints"] == {"IntervalInSeconds": cfg["buffer_seconds"], "SizeInMBs": cfg["buffer_mb"]}
    # A static prefix: Firehose appends its default UTC YYYY/MM/DD/HH/, the layout landing lists.
    assert s3["Prefix"] == cfg["raw_prefix"]
    assert "!{" not in s3["Prefix"]
    assert s3["Prefix"].endswith(f"{landing.TABLE_PREFIX}/")
    assert not s3["ErrorOutputPrefix"].startswith(s3["Prefix"]), "failed records must land outside the read prefix"
    assert "!{firehose:error-output-type}" in s3["ErrorOutputPrefix"]
    processors = s3["ProcessingConfiguration"].get("Processors", [])
    assert s3["ProcessingConfiguration"]["Enabled"] is cfg["newline_delimiter"]
    assert [p["Type"] for p in processors] == (["AppendDelimiterToRecord"] if cfg["newline_delimiter"] else [])
    assert s3["CloudWatchLoggingOptions"]["Enabled"] is True

    # The pipeline's settings built from Terraform's outputs find the stream's objects where
    # Firehose puts them: <raw root>/orders/YYYY/MM/DD/HH/ = s3://<bucket>/<prefix>YYYY/MM/DD/HH/.
    settings = load_settings(
        {
            "LAKEHOUSE_ENV": "aws",
            "LAKEHOUSE_RAW_ROOT": outputs["raw_root"],
            "LAKEHOUSE_WAREHOUSE": outputs["warehouse_uri"],
            "LAKEHOUSE_STREAM_NAME": outputs["firehose_stream_name"],
            # Redshift is planned, not applied, here; the settings still need its workgroup
            "LAKEHOUSE_REDSHIFT_WORKGROUP": "lakehouse-dev",
        }
    )
    hour = datetime(2026, 11, 1, 9, tzinfo=UTC)
    assert f"{settings.raw_root}/{landing.hour_prefix(hour)}" == (
        f"s3://{outputs['raw_bucket']}/{s3['Prefix']}{hour:%Y/%m/%d/%H}/"
    )
    # Even without an explicit LAKEHOUSE_FIREHOSE_BUFFER_SECONDS, the hour sensor waits at least
    # the stream's buffering interval after the hour ends before the manifest lists it.
    assert settings.firehose_buffer_seconds >= s3["BufferingHints"]["IntervalInSeconds"]
    end = hour.replace(hour=10)
    ready = waits.landing_ready_at(end, settings.firehose_buffer_seconds, settings.landing_margin_seconds)
    assert (ready - end).total_seconds() >= s3["BufferingHints"]["IntervalInSeconds"]


def test_glue_databases_are_the_pipelines_namespaces_with_the_prefix(applied: Applied, aws: Any) -> None:
    _, outputs = applied
    prefix = DEPLOY_CONFIG["namespace_prefix"]
    expected = {ns: f"{prefix}{ns}" for ns in NAMESPACES}
    assert outputs["glue_databases"] == expected
    names = {db["Name"] for db in aws("glue").get_databases()["DatabaseList"]}
    assert set(expected.values()) <= names
    silver = aws("glue").get_database(Name=expected["silver"])["Database"]
    assert silver["LocationUri"].startswith(outputs["warehouse_uri"] + "/")


def test_buckets_are_named_versioned_private_encrypted_and_tls_only(applied: Applied, aws: Any) -> None:
    _, outputs = applied
    s3 = aws("s3")
    for purpose in ("raw", "lake", "artifacts", "mwaa"):
        bucket = outputs[f"{purpose}_bucket"]
        assert bucket == expected_bucket(purpose)
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values()), block
        (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rule["ApplyServerSideEncryptionByDefault"] == {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": outputs["kms_key_arn"],
        }
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        deny_tls = [st for st in policy["Statement"] if st["Effect"] == "Deny"]
        assert deny_tls and deny_tls[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        logging = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
        assert logging["TargetBucket"] == outputs["access_log_bucket"]
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        (every,) = [r for r in rules if r.get("NoncurrentVersionExpiration")]
        assert every["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0
        # the markers Iceberg's deletes leave go once their noncurrent versions have expired
        assert every["Expiration"] == {"ExpiredObjectDeleteMarker": True}, every
    raw_rules = s3.get_bucket_lifecycle_configuration(Bucket=outputs["raw_bucket"])["Rules"]
    storage = DEPLOY_CONFIG["storage"]
    (tiering,) = [r for r in raw_rules if r.get("Transitions")]
    assert tiering["Filter"]["Prefix"] == DEPLOY_CONFIG["firehose"]["raw_prefix"]
    assert [(t["Days"], t["StorageClass"]) for t in tiering["Transitions"]] == [
        (storage["raw_infrequent_access_days"], "STANDARD_IA"),
        (storage["raw_glacier_days"], "GLACIER_IR"),
    ]


def test_emr_serverless_may_pull_the_custom_image_and_nobody_else(applied: Applied, aws: Any) -> None:
    _, outputs = applied
    url = outputs["emr_image_repository_url"]
    name = url.split("/", 1)[1]
    ecr = aws("ecr")
    (repo,) = ecr.describe_repositories(repositoryNames=[name])["repositories"]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["encryptionConfiguration"]["encryptionType"] == "KMS"
    (statement,) = json.loads(ecr.get_repository_policy(repositoryName=name)["policyText"])["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "emr-serverless.amazonaws.com"}
    pull = {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability", "ecr:DescribeImages"}
    assert set(statement["Action"]) == pull
    account = outputs["glue_job_role_arn"].split(":")[4]
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": account}
    assert statement["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:emr-serverless:{DEPLOY_CONFIG['aws_region']}:{account}:/applications/*"
    }


def test_no_iam_policy_allows_every_action_on_every_resource(applied: Applied, aws: Any) -> None:
    iam = aws("iam")
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("lakehouse-")]
    assert len(roles) >= 4  # firehose, glue job, emr job, flow logs
    for role in roles:
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            for statement in document["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert not any(a == "*" or a.endswith(":*") for a in actions), (role, name, statement)
                if statement["Effect"] == "Allow" and statement["Resource"] in ("*", ["*"]):
                    # Only actions that take no resource, each fenced by a condition.
                    assert statement.get("Condition"), (role, name, statement)


# --- what moto cannot emulate: planned on top of the applied stack -----------------------------


def planned_changes(tf: Terraform, *args: str) -> dict[str, dict[str, Any]]:
    plan = tf.workdir / "full.tfplan"
    started = time.monotonic()
    tf.run("plan", "-input=false", f"-out={plan}", *args)
    print(f"terraform plan {' '.join(args) or '(full)'}: {time.monotonic() - started:.1f} s")
    shown = tf.json("show", "-json", str(plan))
    return {rc["address"]: rc for rc in shown["resource_changes"] if rc["change"]["actions"] != ["no-op"]}


def test_mwaa_and_redshift_are_planned_as_configured(applied: Applied) -> None:
    tf, _ = applied
    changes = planned_changes(tf, "-refresh=false")  # the no-change plan just refreshed the state
    created = {a for a, rc in changes.items() if rc["change"]["actions"] == ["create"]}
    updated = {a for a, rc in changes.items() if rc["change"]["actions"] == ["update"]}
    # The environment and its log groups (the execution role exists already), Redshift; QuickSight
    # is the second phase (quicksight.enabled: false in deploy/dev.yaml, test_quicksight_phase_plans).
    assert all(re.match(r"module\.(mwaa\.aws_(mwaa_environment|cloudwatch_log_group)|redshift\[0\])\.?", a)
               for a in created), created  # fmt: skip
    # Only the execution role's policy grows (its Redshift grants); nothing is replaced.
    assert updated == {"module.mwaa.aws_iam_role_policy.execution"}, updated

    mwaa = changes["module.mwaa.aws_mwaa_environment.this[0]"]["change"]["after"]
    cfg = DEPLOY_CONFIG["mwaa"]
    assert mwaa["airflow_version"] == cfg["airflow_version"] == "3.2.1"
    assert mwaa["webserver_access_mode"] == cfg["webserver_access_mode"] == "PRIVATE_ONLY"
    assert mwaa["dag_s3_path"] == "dags"
    assert mwaa["environment_class"] == cfg["environment_class"]
    assert mwaa["airflow_configuration_options"]["cosmos.enable_telemetry"] == "False"
    (logging,) = mwaa["logging_configuration"]
    assert all(logging[kind][0]["enabled"] for kind in logging), logging
    # `lakehouse deploy` owns the object versions: Terraform sets none of them.
    assert not any(mwaa.get(key) for key in ("requirements_s3_path", "startup_script_s3_path", "plugins_s3_path"))
    (network,) = mwaa["network_configuration"]
    assert len(network["subnet_ids"]) == 2

    namespace = changes["module.redshift[0].aws_redshiftserverless_namespace.this"]["change"]["after"]
    assert namespace["manage_admin_password"] is True
    assert namespace["db_name"] == DEPLOY_CONFIG["redshift"]["database"]
    workgroup = changes["module.redshift[0].aws_redshiftserverless_workgroup.this"]["change"]["after"]
    assert workgroup["enhanced_vpc_routing"] is True
    assert workgroup["publicly_accessible"] is False
    assert workgroup["base_capacity"] == DEPLOY_CONFIG["redshift"]["base_capacity_rpu"]
    params = {p["parameter_key"]: p["parameter_value"] for p in workgroup["config_parameter"]}
    assert params["require_ssl"] == "true"
    assert "module.redshift[0].aws_iam_role.spectrum" in created
    assert not [a for a in changes if a.startswith("module.quicksight")], "QuickSight is the second phase"


def check_quicksight_plan(changes: dict[str, Any]) -> None:
    """QuickSight (on with Redshift): the rendered datasets and dashboard are dashboard.json's.

    moto has no QuickSight data source, dataset or VPC connection API, so these resources are
    planned (with the provider's schema checks), not applied."""
    from lakehouse.dashboard.spec import load_spec

    spec = load_spec()
    prefix = "module.quicksight[0]."
    source = changes[prefix + "aws_quicksight_data_source.redshift"]["change"]["after"]
    assert source["type"] == "REDSHIFT"
    assert source["ssl_properties"] == [{"disable_ssl": False}]
    assert source["credentials"][0]["credential_pair"] == []  # the secret, never a password in state
    assert prefix + "aws_quicksight_vpc_connection.this" in changes
    for key, dataset in spec["datasets"].items():
        after = changes[f'{prefix}aws_quicksight_data_set.this["{key}"]']["change"]["after"]
        assert after["import_mode"] == "SPICE"
        assert after["data_set_id"] == f"{DEPLOY_CONFIG['project']}-{DEPLOY_CONFIG['environment']}-{key}"
        tables = {t["physical_table_map_id"]: t for t in after["physical_table_map"]}
        if "mart" in dataset:
            (table,) = tables["mart"]["relational_table"]
            assert (table["schema"], table["name"]) == ("marts", dataset["mart"])
            assert {c["name"]: c["type"] for c in table["input_columns"]} == dataset["columns"]
        else:
            (sql,) = tables["sql"]["custom_sql"]
            assert {c["name"]: c["type"] for c in sql["columns"]} == dataset["columns"]
            assert "{" not in sql["sql_query"], sql["sql_query"]  # the external schemas filled in
        if "join" in dataset:
            (dim,) = tables["dimension"]["relational_table"]
            assert dim["name"] == dataset["join"]["mart"]
            (joined,) = [t for t in after["logical_table_map"] if t["logical_table_map_id"] == "joined"]
            assert joined["source"][0]["join_instruction"][0]["type"] == "LEFT"
    dashboard = changes[prefix + "aws_quicksight_dashboard.orders"]["change"]["after"]
    (sheet,) = dashboard["definition"][0]["sheets"]
    drawn = {}
    for visual in sheet["visuals"]:
        ((kind, body),) = [(k, v[0]) for k, v in visual.items() if v]
        drawn[body["visual_id"]] = (kind, body["title"][0]["format_text"][0]["plain_text"])
    assert drawn == {v["id"]: (f"{v['kind']}_chart_visual", v["title"]) for v in spec["visuals"]}
    assert prefix + "aws_quicksight_group.readers" in changes and prefix + "aws_quicksight_group.authors" in changes


@pytest.fixture(scope="module")
def quicksight_phase(applied: Applied) -> Iterator[dict[str, dict[str, Any]]]:
    """The plan of the second phase (quicksight.enabled: true, after the first green hour) on top
    of the applied stack, so network ids are known; the configuration is restored afterwards."""
    tf, _ = applied
    config = tf.workdir.parents[3] / "deploy" / "dev.yaml"
    original = config.read_text()
    config.write_text(original.replace("enabled: false", "enabled: true", 1))
    try:
        yield planned_changes(tf, "-refresh=false")
    finally:
        config.write_text(original)


def test_quicksight_phase_plans(quicksight_phase: dict[str, dict[str, Any]], applied: Applied) -> None:
    """QuickSight logs in as a read-only user Terraform creates (never the admin), reads its
    secret through its own role, and reaches Redshift with rules both ways."""
    changes = quicksight_phase
    check_quicksight_plan(changes)
    _, outputs = applied
    prefix = "module.quicksight[0]."
    groups = outputs["security_group_ids"]
    # QuickSight's network interfaces are not stateful: inbound from Redshift's group (all TCP),
    # and Redshift's group inbound from QuickSight's on 5439 (AWS's QuickSight VPC guide).
    back = changes[prefix + "aws_vpc_security_group_ingress_rule.from_redshift"]["change"]["after"]
    assert (back["ip_protocol"], back["from_port"], back["to_port"]) == ("tcp", 0, 65535)
    assert back["referenced_security_group_id"] == groups["redshift"]
    into = changes[prefix + "aws_vpc_security_group_ingress_rule.redshift_from_quicksight"]["change"]["after"]
    assert (into["security_group_id"], into["from_port"], into["to_port"]) == (groups["redshift"], 5439, 5439)
    # the reader: created, granted SELECT/USAGE only, by the admin secret that only Terraform uses.
    # A statement whose SQL holds a value known only after apply (the Spectrum role's ARN, the
    # generated password) is unknown in the plan; the grants are known and must all be read-only.
    statements = {a: rc["change"] for a, rc in changes.items() if rc["type"] == "aws_redshiftdata_statement"}
    reader = {a.split('"')[1]: c["after"].get("sql") for a, c in statements.items() if a.startswith(prefix)}
    assert set(reader) == {
        "reader_user",
        "audit_schema",
        "bronze_schema",
        "schema_usage",
        "marts_select",
        "future_marts",
    }
    grants = [reader["schema_usage"], reader["marts_select"], reader["future_marts"]]
    assert all(q and re.search(r"GRANT (SELECT|USAGE) ON .* TO quicksight_reader$", q) for q in grants), grants
    assert "marts, spectrum_audit, spectrum_bronze" in reader["schema_usage"]
    assert 'FOR USER "IAMR:lakehouse-dev-mwaa-execution" IN SCHEMA marts' in reader["future_marts"]
    assert not any(re.search(r"\b(CREATEUSER|SUPERUSER|INSERT|UPDATE|DELETE|ALL PRIVILEGES)\b", q) for q in grants)
    for key in ("reader_user", "audit_schema", "bronze_schema"):
        sql = reader[key] or statements[f'{prefix}aws_redshiftdata_statement.create["{key}"]']["after_unknown"]
        assert sql, key  # known, or known after apply
    if reader["reader_user"]:
        assert reader["reader_user"].startswith("CREATE USER quicksight_reader PASSWORD 'md5")
    # every statement runs with the admin secret (Terraform's principal), after the grants' creates
    for address, change in statements.items():
        assert "secret_arn" in change["after_unknown"] or change["after"]["secret_arn"], address


def test_the_nat_gateway_variant_plans(terraform_cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    """network.nat_gateway: true swaps the interface endpoints for one NAT gateway."""
    binary, env = terraform_cli
    workdir = copy_stack(tmp_path)
    config = tmp_path / "deploy" / "dev.yaml"
    config.write_text(config.read_text().replace("nat_gateway: false", "nat_gateway: true"))
    (workdir / "moto_override.tf").write_text(moto_override(moto_endpoint))
    tf = Terraform(binary, workdir, env)
    tf.run("init", "-input=false")
    changes = planned_changes(tf, *EMULATED)
    assert "module.network.aws_nat_gateway.this[0]" in changes
    assert not [a for a in changes if a.startswith("module.network.aws_vpc_endpoint.interface")]
    assert "module.network.aws_vpc_endpoint.s3" in changes


def test_a_raw_prefix_the_pipeline_would_not_read_is_refused(
    terraform_cli: Cli, moto_endpoint: str, tmp_path: Path
) -> None:
    """A Firehose prefix that does not end with the pipeline's `orders/` fails the plan, naming why."""
    binary, env = terraform_cli
    workdir = copy_stack(tmp_path)
    config = tmp_path / "deploy" / "dev.yaml"
    config.write_text(config.read_text().replace("raw_prefix: orders/", "raw_prefix: events/"))
    (workdir / "moto_override.tf").write_text(moto_override(moto_endpoint))
    tf = Terraform(binary, workdir, env)
    tf.run("init", "-input=false")
    proc = tf.run("plan", "-input=false", "-refresh=false", *EMULATED, check=False)
    assert proc.returncode == 1
    assert f'must end with "{landing.TABLE_PREFIX}/"' in proc.stderr, proc.stderr[-3000:]


# --- the network path: nat_gateway = false ---------------------------------------------------

# Where each role's calls come from (docs/deploy-aws.md's IAM table names the roles): inside the
# VPC's private subnets, or somewhere that is not this VPC (said why).
IN_THE_VPC = {"lakehouse-dev-mwaa-execution": "MWAA workers", "lakehouse-dev-emr-serverless-job": "EMR Serverless"}
OUTSIDE_THE_VPC = {
    "lakehouse-dev-glue-job": "Glue jobs run in Glue's managed network (no Glue connection): AWS's public endpoints",
    "lakehouse-dev-orders-delivery": "Firehose delivers from the Firehose service",
    "lakehouse-dev-deployer": "lakehouse deploy runs where the operator or CI runs",
    "aws-quicksight-secretsmanager-role-v0": "QuickSight reads the secret from the QuickSight service",
}  # fmt: skip
# IAM service prefix -> the VPC endpoint its API is reached through (S3: the gateway endpoint).
ENDPOINT_OF = {"cloudwatch": "monitoring", "airflow": "airflow.api"}
NOT_A_CALL = {"iam"}  # iam:PassRole is an authorisation of another call, not a request


def documented_iam_actions() -> dict[str, set[str]]:
    """role -> IAM actions, from docs/deploy-aws.md's generated table (the enforcing lane keeps it true)."""
    from tests.aws.iam_table import documented

    by_role: dict[str, set[str]] = {}
    for line in documented().splitlines()[2:]:
        role, _task, actions = (cell.strip() for cell in line.strip("|").split("|"))
        by_role.setdefault(role.strip("`"), set()).update(a.strip(" `") for a in actions.split(","))
    return by_role


def test_every_service_a_task_calls_has_a_vpc_endpoint(applied: Applied, quicksight_phase: dict[str, Any]) -> None:
    """With nat_gateway: false the private subnets reach AWS only through VPC endpoints: every
    service the in-VPC roles call has one; every other role says how its calls travel; and
    QuickSight <-> Redshift have their security group rules both ways."""
    tf, outputs = applied
    by_role = documented_iam_actions()
    assert by_role, "docs/deploy-aws.md has no IAM table (the enforcing lane writes it)"
    assert set(by_role) <= set(IN_THE_VPC) | set(OUTSIDE_THE_VPC), set(by_role) - set(IN_THE_VPC) - set(OUTSIDE_THE_VPC)
    state = tf.json("show", "-json")
    endpoints = {}
    for module in state["values"]["root_module"]["child_modules"]:
        for rc in module.get("resources", []):
            if rc["type"] == "aws_vpc_endpoint":
                service = rc["values"]["service_name"].removeprefix(f"com.amazonaws.{DEPLOY_CONFIG['aws_region']}.")
                endpoints[service] = rc["values"]
    assert endpoints["s3"]["vpc_endpoint_type"] == "Gateway"
    missing = {}
    for role in IN_THE_VPC:
        for action in by_role.get(role, ()):
            prefix = action.split(":")[0]
            service = ENDPOINT_OF.get(prefix, prefix)
            if prefix not in NOT_A_CALL and service not in endpoints:
                missing.setdefault(service, set()).add(f"{role}: {action}")
    assert not missing, f"services called from the private subnets without a VPC endpoint: {missing}"
    for service, endpoint in endpoints.items():
        if service != "s3":
            assert endpoint["private_dns_enabled"] and endpoint["vpc_endpoint_type"] == "Interface", service
    # the QuickSight data source: QuickSight's VPC connection -> Redshift on 5439, the replies back
    groups = outputs["security_group_ids"]
    rules = {a.split(".")[-1]: rc["change"]["after"] for a, rc in quicksight_phase.items()
             if rc["type"] in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")
             and a.startswith("module.quicksight[0].")}  # fmt: skip
    assert rules["redshift_from_quicksight"]["security_group_id"] == groups["redshift"]
    assert rules["to_redshift"]["referenced_security_group_id"] == groups["redshift"]
    assert rules["from_redshift"]["referenced_security_group_id"] == groups["redshift"]
