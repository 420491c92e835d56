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

from lakehouse_core.settings import REPO_ROOT

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
    extra_y: tuple[str, ...] = ()  # further measures on the same axes (the rate alarm's band and alarm points)


@cache
def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    """The parsed file (cached: it is read once per process)."""
    return json.loads(path.read_text())


def visuals(spec: dict[str, Any] | None = None) -> list[Visual]:
    spec = load_spec() if spec is None else spec
    return [
        Visual(**{k: tuple(v) if k == "extra_y" else v for k, v in item.items() if k in Visual.__dataclass_fields__})
        for item in spec["visuals"]
    ]


def dataset_columns(dataset: dict[str, Any]) -> dict[str, str]:
    """Every column a dataset exposes: its own, plus the joined dimension's except the join key."""
    columns = dict(dataset["columns"])
    join = dataset.get("join")
    if join:
        columns.update({name: kind for name, kind in join["columns"].items() if name != join["key"]})
    return columns


def check_columns(spec: dict[str, Any], manifest: dict[str, Any], iceberg: dict[str, list[str]]) -> list[str]:
    """Every problem between dashboard.json and what the pipeline builds; [] when they agree.

    `manifest`: dbt's manifest (the marts and their columns, which dbt's own tests keep equal to
    the built tables); `iceberg`: table identifier -> column names (lakehouse_core/tables.py).
    A column a dataset or visual names that the mart or table does not have is a problem, and
    so is an unknown QuickSight type, aggregation or dataset.
    """
    marts = {
        node["name"]: set(node["columns"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("schema") == "marts"
    }
    problems: list[str] = []

    def check(where: str, model: str, columns: dict[str, str] | list[str], known: dict[str, set[str]]) -> None:
        if model not in known:
            problems.append(f"{where}: {model} does not exist")
            return
        for column in columns:
            if column not in known[model]:
                problems.append(f"{where}: {model} has no column {column!r}")
        for column, kind in columns.items() if isinstance(columns, dict) else ():
            if kind not in QUICKSIGHT_TYPES:
                problems.append(f"{where}: column {column!r} has no QuickSight type {kind!r}")

    tables = {name: set(columns) for name, columns in iceberg.items()}
    for key, dataset in spec["datasets"].items():
        if "mart" in dataset:
            check(f"dataset {key}", dataset["mart"], dataset["columns"], marts)
        join = dataset.get("join")
        if join:
            check(f"dataset {key} (join)", join["mart"], join["columns"], marts)
            if join["key"] not in dataset["columns"] or join["key"] not in join["columns"]:
                problems.append(f"dataset {key}: join key {join['key']!r} must be on both sides")
        for table_name, columns in dataset.get("source_columns", {}).items():
            check(f"dataset {key} (sql)", table_name, columns, tables)
        if "sql" in dataset:
            for column, kind in dataset["columns"].items():
                if kind not in QUICKSIGHT_TYPES:
                    problems.append(f"dataset {key}: column {column!r} has no QuickSight type {kind!r}")
        if ("mart" in dataset) == ("sql" in dataset):
            problems.append(f"dataset {key}: needs exactly one of `mart` and `sql`")
    for visual in visuals(spec):
        dataset = spec["datasets"].get(visual.dataset)
        if dataset is None:
            problems.append(f"visual {visual.id}: no dataset {visual.dataset!r}")
            continue
        exposed = dataset_columns(dataset)
        for role in ("x", "y", "color"):
            column = getattr(visual, role)
            if column and column not in exposed:
                problems.append(f"visual {visual.id}: dataset {visual.dataset} has no column {column!r} ({role})")
        for column in visual.extra_y:
            if column not in exposed:
                problems.append(f"visual {visual.id}: dataset {visual.dataset} has no column {column!r} (extra_y)")
            elif exposed[column] == "STRING":
                problems.append(f"visual {visual.id}: extra_y {column!r} is text; it must be a measure")
        if visual.aggregation not in AGGREGATIONS:
            problems.append(f"visual {visual.id}: unknown aggregation {visual.aggregation!r}")
        if visual.kind not in ("line", "bar"):
            problems.append(f"visual {visual.id}: kind {visual.kind!r} is not line or bar")
        if visual.kind == "line" and exposed.get(visual.x) != "DATETIME":
            problems.append(f"visual {visual.id}: a line chart needs a DATETIME x, not {visual.x!r}")
        if exposed.get(visual.y) == "STRING" and visual.aggregation not in ("COUNT", "DISTINCT_COUNT"):
            problems.append(f"visual {visual.id}: a text column can only be counted")
    return problems
