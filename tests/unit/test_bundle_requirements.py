"""MWAA's requirements.txt as `lakehouse bundle` writes it: pip's hash-checking mode, one sha256 per
wheel of plugins.zip, no hash for what MWAA's image has (tests/aws/test_mwaa_faithful.py installs
it the way MWAA's pip does, and shows a changed wheel refused)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from lakehouse.aws import bundle

pytestmark = pytest.mark.unit

TOP_LEVEL = ["apache-airflow-providers-amazon[aiobotocore]==9.25.0", "pyiceberg[glue,pyarrow]==0.11.1"]


def _wheel(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def test_every_shipped_wheel_is_pinned_with_its_sha256(tmp_path: Path) -> None:
    iceberg = _wheel(tmp_path, "pyiceberg-0.11.1-cp312-cp312-manylinux_2_28_x86_64.whl", b"iceberg")
    roaring = _wheel(tmp_path, "pyroaring-1.0.4-cp312-cp312-manylinux_2_28_x86_64.whl", b"roaring")
    text = bundle.requirements_text(TOP_LEVEL, [roaring, iceberg])
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    digest = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (iceberg, roaring)}
    assert lines == [
        '--constraint "/usr/local/airflow/dags/constraints.txt"',
        "--no-index",
        "--find-links /usr/local/airflow/plugins/wheels",
        "--require-hashes",
        "apache-airflow-providers-amazon[aiobotocore]==9.25.0",  # on MWAA's image: never fetched
        f"pyiceberg[glue,pyarrow]==0.11.1 --hash=sha256:{digest[iceberg]}",
        f"pyroaring==1.0.4 --hash=sha256:{digest[roaring]}",
    ]


def test_a_wheel_of_another_version_than_the_pin_is_refused(tmp_path: Path) -> None:
    other = _wheel(tmp_path, "pyiceberg-0.11.0-cp312-cp312-manylinux_2_28_x86_64.whl", b"older")
    with pytest.raises(bundle.BundleError, match=re.escape(other.name)):
        bundle.requirements_text(TOP_LEVEL, [other])


def test_without_wheels_the_file_says_it_has_no_hashes(tmp_path: Path) -> None:
    text = bundle.requirements_text(TOP_LEVEL, None)
    assert "--hash" not in text and "--require-hashes" not in text
    assert text.splitlines()[-2:] == TOP_LEVEL


def test_dbt_pins_hash_every_wheel(tmp_path: Path) -> None:
    core = _wheel(tmp_path, "dbt_core-1.11.2-py3-none-any.whl", b"core")
    agate = _wheel(tmp_path, "agate-1.9.1-py3-none-any.whl", b"agate")
    lines = bundle.hashed_pins([core, agate]).splitlines()
    assert lines == [
        "--require-hashes",
        f"agate==1.9.1 --hash=sha256:{hashlib.sha256(b'agate').hexdigest()}",
        f"dbt-core==1.11.2 --hash=sha256:{hashlib.sha256(b'core').hexdigest()}",
    ]
