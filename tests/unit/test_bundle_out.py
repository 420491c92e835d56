"""`lakehouse bundle --out DIR` deletes DIR only when an earlier bundle made it (its marker file)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lakehouse.aws import bundle
from lakehouse_core.settings import REPO_ROOT

pytestmark = pytest.mark.unit

EXAMPLE_OUTPUTS = REPO_ROOT / "deploy" / "dev.outputs.example.json"


def test_bundle_refuses_to_delete_a_folder_it_did_not_make(tmp_path: Path) -> None:
    mine = tmp_path / "home"
    (mine / "notes").mkdir(parents=True)
    (mine / "notes" / "precious.txt").write_text("keep me")
    with pytest.raises(bundle.BundleError, match=re.escape(f"{mine} exists and was not made by `lakehouse bundle`")):
        bundle.build("dev", mine, wheels=False, outputs=EXAMPLE_OUTPUTS)
    assert (mine / "notes" / "precious.txt").read_text() == "keep me"
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(bundle.BundleError, match="not a folder"):
        bundle.fresh_root(a_file)
    assert a_file.read_text() == "x"


def test_a_folder_the_bundle_made_is_replaced(tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    bundle.fresh_root(out)  # new
    (out / "mwaa").mkdir()
    (out / "mwaa" / "stale.txt").write_text("from the last build")
    bundle.fresh_root(out)  # made by us: replaced
    assert sorted(p.name for p in out.iterdir()) == [bundle.MARKER]
    empty = tmp_path / "empty"
    empty.mkdir()
    bundle.fresh_root(empty)  # an empty folder is fine too
    assert (empty / bundle.MARKER).is_file()
    assert bundle.Bundle(out, "dev").files() == []  # the marker is never part of what is uploaded
