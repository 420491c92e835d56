"""Fixtures for the AWS lane: a built deploy bundle, moto's server, a deploy configuration.

The bundle is built once per test session (wheels come from `build/cache/` after the first
download). MWAA's constraints file: LAKEHOUSE_MWAA_CONSTRAINTS, else the public URL; on a
machine that reaches neither, a file derived from requirements/main.lock (which was resolved
under those constraints, so its pins agree with them) stands in.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from lakehouse_core.settings import REPO_ROOT

EXAMPLE_OUTPUTS = REPO_ROOT / "deploy" / "dev.outputs.example.json"


def constraints_file(tmp: Path) -> str:
    given = os.environ.get("LAKEHOUSE_MWAA_CONSTRAINTS", "")
    if given:
        return given
    from lakehouse.aws import bundle

    cached = bundle.CACHE / "constraints-3.2.1-3.12.txt"
    if cached.is_file():
        return str(cached)
    import urllib.request

    try:
        with urllib.request.urlopen(bundle.CONSTRAINTS_URL, timeout=10) as response:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(response.read())
            return str(cached)
    except OSError:
        pass
    derived = tmp / "constraints-derived.txt"
    pins = bundle._lock_pins(REPO_ROOT / "requirements" / "main.lock")
    derived.write_text("# constraints-3.2.1 stand-in derived from requirements/main.lock\n" + "\n".join(pins) + "\n")
    return str(derived)


def deploy_dir(tmp: Path, **changes: object) -> Path:
    """A deploy folder with deploy/dev.yaml (top-level keys changed) and the example outputs."""
    import yaml

    folder = tmp / "deploy"
    folder.mkdir(parents=True, exist_ok=True)
    values = yaml.safe_load((REPO_ROOT / "deploy" / "dev.yaml").read_text())
    values.update(changes)
    (folder / "dev.yaml").write_text(yaml.safe_dump(values))
    shutil.copyfile(EXAMPLE_OUTPUTS, folder / "dev.outputs.json")
    return folder


@pytest.fixture(scope="session")
def mwaa_constraints(tmp_path_factory: pytest.TempPathFactory) -> str:
    return constraints_file(tmp_path_factory.mktemp("constraints"))


@pytest.fixture(scope="session")
def glue_bundle(tmp_path_factory: pytest.TempPathFactory, mwaa_constraints: str):
    """The dev bundle (spark_backend=glue), with its wheels: what `make bundle` builds."""
    from lakehouse.aws import bundle

    tmp = tmp_path_factory.mktemp("bundle-glue")
    return bundle.build("dev", tmp / "bundle", mwaa_constraints, deploy_dir=deploy_dir(tmp))


@pytest.fixture(scope="session")
def emr_bundle(tmp_path_factory: pytest.TempPathFactory, mwaa_constraints: str):
    """The same bundle for spark_backend=emr-serverless (wheels come from the cache the glue one filled)."""
    from lakehouse.aws import bundle

    tmp = tmp_path_factory.mktemp("bundle-emr")
    import yaml

    emr = yaml.safe_load((REPO_ROOT / "deploy" / "dev.yaml").read_text())["emr_serverless"]
    emr["image_uri"] = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/lakehouse-dev-emr-spark:2026-12-07"
    folder = deploy_dir(tmp, spark_backend="emr-serverless", emr_serverless=emr)
    return bundle.build("dev", tmp / "bundle", mwaa_constraints, deploy_dir=folder)


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """boto3 pointed at moto's server (the standard AWS_ENDPOINT_URL), fake credentials; a fresh state."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"), timeout=10)
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return env


def outputs(folder: Path) -> dict[str, str]:
    return {k: v["value"] for k, v in json.loads((folder / "dev.outputs.json").read_text()).items()}


@pytest.fixture(scope="session")
def mwaa_venv(glue_bundle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Python 3.12 + MWAA's image packages + the bundle's requirements.txt (cached by their hash)."""
    from tests.aws.mwaa import build_mwaa_venv

    return build_mwaa_venv(glue_bundle, tmp_path_factory.mktemp("mwaa-install"))
