"""`lakehouse deploy` against moto's S3 and Glue server; MWAA (which moto lacks) through Stubber.

What a deploy must do: upload the bundle to versioned buckets, create the Glue jobs, and call
UpdateEnvironment with the new object versions; then a second deploy with no change writes
nothing; `--dry-run` never writes; a wrong bucket, region or versioning stops before any write.
"""

from __future__ import annotations

import shutil
from typing import Any

import boto3
import pytest

from lakehouse.aws import bundle as bundles
from lakehouse.aws import deploy
from lakehouse.aws.deploy_config import load
from tests.aws.conftest import deploy_dir, outputs
from tests.aws.deploy_fakes import REGION, RecordingMwaa, make_buckets

pytestmark = pytest.mark.aws


def versions(s3: Any, bucket: str) -> int:
    return len(s3.list_object_versions(Bucket=bucket).get("Versions", []))


def test_deploy_uploads_creates_jobs_updates_mwaa_then_changes_nothing(glue_bundle, aws_env, tmp_path) -> None:
    folder = deploy_dir(tmp_path)
    out = outputs(folder)
    s3, glue = boto3.client("s3", region_name=REGION), boto3.client("glue", region_name=REGION)
    make_buckets(s3, [out["mwaa_bucket"], out["artifacts_bucket"]])
    mwaa = RecordingMwaa()
    clients = deploy.Clients(s3, glue, mwaa.client)
    env_name = out["mwaa_environment_name"]

    # --dry-run: the whole plan, nothing written
    mwaa.runs(env_name, {})
    with mwaa.stub:
        plan = deploy.deploy("dev", glue_bundle, clients, dry_run=True, deploy_dir=folder)
    counts = plan.counts()
    files = len(glue_bundle.files())
    assert counts == {"upload": files, "create-job": 5, "update-environment": 1}  # one job per program
    assert versions(s3, out["mwaa_bucket"]) == versions(s3, out["artifacts_bucket"]) == 0
    assert glue.get_jobs()["Jobs"] == []
    assert mwaa.updates == []

    # first deploy
    mwaa.runs(env_name, {})
    mwaa.expect_update(env_name)
    with mwaa.stub:
        deploy.deploy("dev", glue_bundle, clients, deploy_dir=folder)
    mwaa.stub.assert_no_pending_responses()
    key = "spark_jobs/ingest_orders.py"
    assert s3.head_object(Bucket=out["artifacts_bucket"], Key=key)["Metadata"]["sha256"]
    assert s3.head_object(Bucket=out["mwaa_bucket"], Key="dags/orders_lakehouse.py")["ContentLength"] > 0
    [update] = mwaa.updates
    latest = {k: s3.head_object(Bucket=out["mwaa_bucket"], Key=k)["VersionId"] for k in deploy.MWAA_VERSIONED}
    assert update == {
        "Name": env_name,
        "RequirementsS3Path": "requirements.txt",
        "RequirementsS3ObjectVersion": latest["requirements.txt"],
        "StartupScriptS3Path": "startup.sh",
        "StartupScriptS3ObjectVersion": latest["startup.sh"],
        "PluginsS3Path": "plugins.zip",
        "PluginsS3ObjectVersion": latest["plugins.zip"],
    }
    jobs = {job["Name"]: job for job in glue.get_jobs()["Jobs"]}
    programs = ("ingest-orders", "validate-orders", "publish-orders", "maintain-tables", "recommend-products")
    assert set(jobs) == {f"lakehouse-dev-{program}" for program in programs}
    ingest = jobs["lakehouse-dev-ingest-orders"]
    artifacts = f"s3://{out['artifacts_bucket']}"
    assert ingest["Command"]["ScriptLocation"] == f"{artifacts}/spark_jobs/ingest_orders.py"
    assert ingest["Role"] == out["glue_job_role_arn"]
    assert ingest["GlueVersion"] == "5.1"  # Spark 3.5.6, Iceberg 1.10 (lakehouse.aws.spark_runtimes)
    assert ingest["SecurityConfiguration"] == out["glue_security_configuration"]
    args = ingest["DefaultArguments"]
    assert args["--datalake-formats"] == "iceberg"
    assert args["--extra-py-files"] == f"{artifacts}/spark_jobs.zip"
    # ingest needs nothing beyond Glue 5.1's own packages: no pip install at its start
    assert "--additional-python-modules" not in args and "--python-modules-installer-option" not in args
    gate = jobs["lakehouse-dev-validate-orders"]["DefaultArguments"]
    assert gate["--additional-python-modules"] == f"{artifacts}/python/glue/validate-orders.gluewheels.zip"
    assert gate["--python-modules-installer-option"] == "--no-index"
    gate_zip = s3.head_object(Bucket=out["artifacts_bucket"], Key="python/glue/validate-orders.gluewheels.zip")
    assert gate_zip["ContentLength"] > 0  # deployed beside the job that names it
    assert "spark.sql.catalog.lakehouse=org.apache.iceberg.spark.SparkCatalog" in args["--conf"]

    # second deploy, nothing changed: no upload, no job change, no UpdateEnvironment
    before = versions(s3, out["mwaa_bucket"]), versions(s3, out["artifacts_bucket"])
    mwaa.runs(env_name, latest)
    with mwaa.stub:
        plan = deploy.deploy("dev", glue_bundle, clients, deploy_dir=folder)
    assert plan.actions == []
    assert plan.unchanged == files + 5 + 1  # files, one Glue job per program, the environment
    assert (versions(s3, out["mwaa_bucket"]), versions(s3, out["artifacts_bucket"])) == before
    assert len(mwaa.updates) == 1

    # one changed file (startup.sh) and one DAG-folder file gone: upload it, delete the stale
    # object, update MWAA with the new startup.sh version only
    changed = bundles.Bundle(tmp_path / "changed", "dev")
    shutil.copytree(glue_bundle.root, changed.root)
    (changed.mwaa / "startup.sh").write_text((changed.mwaa / "startup.sh").read_text() + "# changed\n")
    (changed.dags / "pipeline" / "callbacks.py").unlink()
    bundles.write_listing(changed)
    mwaa.runs(env_name, latest)
    mwaa.expect_update(env_name)
    with mwaa.stub:
        plan = deploy.deploy("dev", changed, clients, deploy_dir=folder)
    assert sorted((a.kind, a.target) for a in plan.actions) == [
        ("delete", f"s3://{out['mwaa_bucket']}/dags/pipeline/callbacks.py"),
        ("update-environment", f"mwaa:{env_name}"),
        ("upload", f"s3://{out['mwaa_bucket']}/startup.sh"),
    ]
    new_startup = s3.head_object(Bucket=out["mwaa_bucket"], Key="startup.sh")["VersionId"]
    assert new_startup != latest["startup.sh"]
    assert mwaa.updates[-1]["StartupScriptS3ObjectVersion"] == new_startup
    assert mwaa.updates[-1]["RequirementsS3ObjectVersion"] == latest["requirements.txt"]


def test_a_changed_job_setting_plans_a_glue_update(glue_bundle, aws_env, tmp_path) -> None:
    folder = deploy_dir(tmp_path)
    out = outputs(folder)
    s3, glue = boto3.client("s3", region_name=REGION), boto3.client("glue", region_name=REGION)
    make_buckets(s3, [out["mwaa_bucket"], out["artifacts_bucket"]])
    for name, definition in deploy.glue_job_definitions(load("dev", folder)).items():
        glue.create_job(Name=name, **definition)
    glue_settings = {"glue_version": "5.1", "worker_type": "G.2X", "number_of_workers": 4}
    bigger = deploy_dir(tmp_path / "bigger", glue=glue_settings)
    mwaa = RecordingMwaa()
    mwaa.runs(out["mwaa_environment_name"], {})
    with mwaa.stub:
        plan = deploy.deploy("dev", glue_bundle, deploy.Clients(s3, glue, mwaa.client), dry_run=True, deploy_dir=bigger)
    updates = [a for a in plan.actions if a.kind == "update-job"]
    assert len(updates) == 5
    assert all(a.detail == "changed: NumberOfWorkers, WorkerType" for a in updates)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "does not exist: create the stack first"),
        ("other-region", "is in us-east-1, but the deploy configuration says aws_region: eu-west-1"),
        ("unversioned", "is not versioned"),
    ],
)
def test_bad_buckets_stop_before_any_write(glue_bundle, aws_env, tmp_path, setup: str, message: str) -> None:
    folder = deploy_dir(tmp_path)
    out = outputs(folder)
    s3 = boto3.client("s3", region_name=REGION)
    if setup == "other-region":
        make_buckets(s3, [out["mwaa_bucket"], out["artifacts_bucket"]], region="us-east-1")
    elif setup == "unversioned":
        make_buckets(s3, [out["mwaa_bucket"], out["artifacts_bucket"]], versioned=False)
    mwaa = RecordingMwaa()
    clients = deploy.Clients(s3, boto3.client("glue", region_name=REGION), mwaa.client)
    with pytest.raises(deploy.DeployError, match=message):
        deploy.deploy("dev", glue_bundle, clients, deploy_dir=folder)
    for bucket in (out["mwaa_bucket"], out["artifacts_bucket"]):
        if setup != "missing":
            assert versions(s3, bucket) == 0


def test_cli_dry_run_prints_the_plan_and_exits_0(glue_bundle, aws_env, tmp_path, capsys, monkeypatch) -> None:
    folder = deploy_dir(tmp_path)
    out = outputs(folder)
    s3 = boto3.client("s3", region_name=REGION)
    make_buckets(s3, [out["mwaa_bucket"], out["artifacts_bucket"]])
    mwaa = RecordingMwaa()
    mwaa.runs(out["mwaa_environment_name"], {})
    monkeypatch.setattr(deploy.Clients, "for_region", classmethod(lambda cls, region: deploy.Clients(
        s3, boto3.client("glue", region_name=region), mwaa.client)))  # fmt: skip
    monkeypatch.setattr(deploy.deploy_config, "DEPLOY_DIR", folder)
    from lakehouse.cli import main

    with mwaa.stub:
        code = main(["deploy", "--env", "dev", "--bundle", str(glue_bundle.root), "--dry-run",
                     "--outputs", str(folder / "dev.outputs.json")])  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0
    assert "plan (dry run: nothing was written)" in text
    assert f"s3://{out['mwaa_bucket']}/requirements.txt" in text
    assert versions(s3, out["mwaa_bucket"]) == 0
