"""Parsing dags/ the way the scheduler does, under a chosen environment."""

from __future__ import annotations

import sys

import pytest

from lakehouse_core.settings import REPO_ROOT

DAGS_FOLDER = REPO_ROOT / "dags"


def parse(env: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    """A fresh DagBag over dags/ with `env` applied (pipeline modules re-imported too)."""
    from airflow.dag_processing.dagbag import DagBag

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for module in [m for m in sys.modules if m == "pipeline" or m.startswith("pipeline.")]:
        monkeypatch.delitem(sys.modules, module)
    return DagBag(dag_folder=str(DAGS_FOLDER), include_examples=False, safe_mode=True)
