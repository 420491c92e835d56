"""The bundle ships only wheels whose sha256 a hashed lock allows (lakehouse/aws/bundle.py verify_wheels).

`_download` is where every wheel of plugins.zip (MWAA) and of the Glue/EMR zip is collected; it
reuses what is in build/cache. Here the cache is a fresh folder: the first call downloads a real
wheel from PyPI (six, pinned in main.lock) and passes; after one byte of it changes, the same
call fails naming the file. A cached constraints file whose pins changed is refused too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lakehouse.aws import bundle

pytestmark = pytest.mark.integration


def test_a_tampered_wheel_in_the_cache_stops_the_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundle, "CACHE", tmp_path / "cache")
    [wheel] = bundle._download(["six==1.17.0"], bundle.JOBS_PYTHON, "cp311")
    assert wheel.parent == tmp_path / "cache" / "wheels-cp311"

    wheel.write_bytes(wheel.read_bytes() + b"\0")
    with pytest.raises(bundle.BundleError, match=re.escape(str(wheel))) as refused:
        bundle._download(["six==1.17.0"], bundle.JOBS_PYTHON, "cp311")
    assert "sha256" in str(refused.value)


def test_a_wheel_no_lock_pins_is_refused(tmp_path: Path) -> None:
    stray = tmp_path / "six-1.16.0-py2.py3-none-any.whl"  # main.lock pins six 1.17.0
    stray.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    with pytest.raises(bundle.BundleError, match="pinned by no lock"):
        bundle.verify_wheels([stray])


def test_the_cached_constraints_must_be_mwaas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundle, "CACHE", tmp_path)
    (tmp_path / "constraints-3.2.1-3.12.txt").write_text(
        "# constraints-3.2.1\napache-airflow-providers-amazon==9.25.0\nsix==1.0.0\n"
    )
    target = bundle.Bundle(tmp_path / "bundle", "dev")
    with pytest.raises(bundle.BundleError, match=re.escape("not MWAA's 3.2.1 constraints")):
        bundle._constraints(target, bundle.CONSTRAINTS_URL)
    with pytest.raises(bundle.BundleError, match="https only"):
        bundle._constraints(target, "http://example.invalid/constraints.txt")
