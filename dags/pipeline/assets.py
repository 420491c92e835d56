"""Airflow 3 Assets for what the pipeline publishes: the silver Iceberg tables and the dbt marts.

An asset event is emitted when data becomes visible to readers, not when it is written:
silver assets are outlets of the *publish* task (the fast-forward of `main`; the audit branch
is invisible to readers), mart assets of the task that closes the dbt group. Other DAGs (and
QuickSight refresh jobs) can schedule on them.

URI schemes start with `x-` (`x-iceberg://`, `x-dbt://`): Airflow treats `x-` schemes as
user-defined and does not look for a provider to normalise them. Any other scheme makes the
first Asset of a parse discover every provider's asset handlers (importing the S3 hook and
boto3): over a second of DAG parse time for nothing.

The names here are strings on purpose: `lakehouse_core.tables` imports pyiceberg, which DAG parsing
must not pay for; an integration test checks that the two lists agree. Marts are read from
the dbt manifest Cosmos renders anyway, so a new mart gets its asset without a code change.
"""

from __future__ import annotations

import json
from pathlib import Path

from airflow.sdk import Asset

# Silver tables readers see after publish (identifiers as in lakehouse_core.tables).
SILVER_TABLES: tuple[str, ...] = ("silver.order_lines",)
MARTS_FOLDER = "marts"


# Gold tables the recommendation DAG publishes (identifiers as in lakehouse_core.tables).
GOLD_TABLES: tuple[str, ...] = ("gold.product_recommendations", "gold.similar_products")


def iceberg_asset(catalog_name: str, identifier: str) -> Asset:
    """`x-iceberg://<catalog>/<namespace>/<table>`, named by the table identifier, grouped by namespace."""
    namespace, _, table = identifier.partition(".")
    return Asset(name=identifier, uri=f"x-iceberg://{catalog_name}/{namespace}/{table}", group=namespace)


def silver_assets(catalog_name: str) -> list[Asset]:
    return [iceberg_asset(catalog_name, identifier) for identifier in SILVER_TABLES]


def gold_assets(catalog_name: str) -> list[Asset]:
    return [iceberg_asset(catalog_name, identifier) for identifier in GOLD_TABLES]


def mart_nodes(manifest_path: Path) -> list[dict]:
    """The dbt manifest's model nodes under `models/marts/`; [] when there is no manifest yet."""
    try:
        nodes = json.loads(manifest_path.read_text()).get("nodes", {})
    except (FileNotFoundError, json.JSONDecodeError):
        return []
    # fqn = [project, folder, ..., model]: a mart lives under models/marts/.
    return [
        node
        for node in nodes.values()
        if node.get("resource_type") == "model" and node.get("fqn", [None, None])[1:2] == [MARTS_FOLDER]
    ]


def mart_models(manifest_path: Path) -> list[str]:
    """Names of the mart models, sorted."""
    return sorted({node["name"] for node in mart_nodes(manifest_path)})


def mart_asset(project: str, model: str) -> Asset:
    """`x-dbt://<project>/marts/<model>`, named `marts.<model>`."""
    return Asset(name=f"{MARTS_FOLDER}.{model}", uri=f"x-dbt://{project}/{MARTS_FOLDER}/{model}", group="marts")


def mart_assets(project: str, manifest_path: Path) -> list[Asset]:
    return [mart_asset(project, model) for model in mart_models(manifest_path)]
