"""The dashboard's one definition: infra/terraform/modules/quicksight/dashboard.json.

Terraform builds the QuickSight datasets and dashboard from that file (jsondecode); the local
page takes its visuals (ids, titles, order) from it; the tests check every column it names
against dbt's manifest and the Iceberg schemas. Keeping it in the Terraform module keeps the
module self-contained; Python finds it from the repository root.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pipeline.settings import REPO_ROOT

SPEC_PATH = REPO_ROOT / "infra" / "terraform" / "modules" / "quicksight" / "dashboard.json"
QUICKSIGHT_TYPES = ("STRING", "INTEGER", "DECIMAL", "DATETIME", "BIT", "BOOLEAN", "JSON")
AGGREGATIONS = ("SUM", "AVERAGE", "MIN", "MAX", "COUNT", "DISTINCT_COUNT")


@dataclass(frozen=True)
class Visual:
    id: str
    title: str
    kind: str
    dataset: str
    x: str
    y: str
    aggregation: str
    color: str = ""
    limit: int = 0


@cache
def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    """The parsed file (cached: it is read once per process)."""
    return json.loads(path.read_text())


def visuals(spec: dict[str, Any] | None = None) -> list[Visual]:
    spec = load_spec() if spec is None else spec
    return [Visual(**{k: v for k, v in item.items() if k in Visual.__dataclass_fields__}) for item in spec["visuals"]]


def dataset_columns(dataset: dict[str, Any]) -> dict[str, str]:
    """Every column a dataset exposes: its own, plus the joined dimension's except the join key."""
    columns = dict(dataset["columns"])
    join = dataset.get("join")
    if join:
        columns.update({name: kind for name, kind in join["columns"].items() if name != join["key"]})
    return columns
