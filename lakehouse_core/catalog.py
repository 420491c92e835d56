"""Open the lakehouse's Iceberg catalog from Python, and apply the table definitions.

pyiceberg and Spark share one catalog under one name: locally an SQL catalog (the same
`iceberg_tables` rows Spark's JdbcCatalog writes), on AWS the Glue Data Catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from lakehouse_core.settings import Settings
from lakehouse_core.tables import NAMESPACES, TABLES, TableDef


def open_catalog(settings: Settings):  # -> pyiceberg.catalog.Catalog
    """The pyiceberg catalog for the environment, named `settings.catalog_name`.

    Off AWS, opening creates what is missing, on purpose: the local folders (`local_folders`) and
    the SQL catalog's own tables (pyiceberg's `init_catalog_tables`, said explicitly below). Spark's
    JDBC catalog is told not to create those tables (`spark_jobs.session.catalog_conf`: on SQLite
    its check holds a read lock), so every Python opener, the DAG's ensure_tables as much as
    `lakehouse init`, leaves a catalog both engines can use. The tables are `init_catalog`'s job.
    """
    if settings.environment == "aws":
        from pyiceberg.catalog.glue import GlueCatalog

        # s3_properties: none on AWS; an endpoint where one is set (the moto lanes)
        props = {"warehouse": settings.warehouse, "glue.region": settings.aws_region, **s3_properties(settings)}
        return GlueCatalog(settings.catalog_name, **props)
    from pyiceberg.catalog.sql import SqlCatalog

    local_folders(settings)
    props = {
        "uri": settings.catalog_uri,
        "warehouse": settings.warehouse,
        "init_catalog_tables": "true",  # pyiceberg's default, relied on (see above)
        **s3_properties(settings),
    }
    return SqlCatalog(settings.catalog_name, **props)


def local_folders(settings: Settings) -> list[Path]:
    """Create (if missing) and return the local folders the catalog needs: the home that holds the
    SQLite catalog file (SQLite creates a file, never its folder) and a `file:` warehouse root."""
    from urllib.parse import unquote

    folders = []
    if settings.catalog_uri.startswith("sqlite"):
        folders.append(settings.home)
    if settings.warehouse.startswith("file:"):
        folders.append(Path(unquote(urlsplit(settings.warehouse).path)))
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    return folders


def table_identifier(settings: Settings, name: str) -> str:
    """`silver.order_lines` -> the identifier inside the catalog, with the environment's prefix
    (`dev_silver.order_lines` on AWS with LAKEHOUSE_NAMESPACE_PREFIX=dev_; unchanged locally)."""
    from spark_jobs.naming import physical

    return physical(name, settings.namespace_prefix)


def spark_tables(settings: Settings):  # -> spark_jobs.naming.TableNames
    """How Spark SQL names the environment's tables (`lakehouse.dev_silver.order_lines`): for code
    that calls a job's functions in-process (benchmarks, tests) the way the job's arguments would."""
    from spark_jobs.naming import TableNames

    return TableNames(settings.catalog_name, settings.namespace_prefix)


def load_table(settings: Settings, name: str, catalog=None):  # -> pyiceberg.table.Table
    """The pipeline's table `name` (logical, e.g. `audit.dq_results`) in the environment's catalog.

    The one way Python code reads a table: the namespace prefix comes from the settings, so no
    reader can forget it. `catalog`: one already open (several tables read in a row).
    """
    return (catalog or open_catalog(settings)).load_table(table_identifier(settings, name))


def s3_properties(settings: Settings) -> dict[str, str]:
    """pyiceberg FileIO properties for an S3-compatible store (compose); none for AWS's own S3.

    Path-style addressing follows from the endpoint override; the region is given so pyiceberg
    never asks AWS where a bucket lives; credentials come from the standard AWS_* variables.
    Spark writes the same files through S3A as `s3a://`; pyiceberg reads that scheme as S3.
    """
    if not settings.s3_endpoint:
        return {}
    return {"s3.endpoint": settings.s3_endpoint, "s3.region": settings.aws_region}


@dataclass
class InitReport:
    created_namespaces: list[str] = field(default_factory=list)
    created_tables: list[str] = field(default_factory=list)
    evolved: dict[str, list[str]] = field(default_factory=dict)  # table -> added columns / properties
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created_namespaces or self.created_tables or self.evolved)


def apply_table(catalog, definition: TableDef, report: InitReport) -> None:
    from pyiceberg.exceptions import NoSuchTableError

    try:
        table = catalog.load_table(definition.identifier)
    except NoSuchTableError:
        catalog.create_table(
            definition.identifier,
            schema=definition.schema,
            partition_spec=definition.partition_spec(),
            sort_order=definition.sort_order(),
            properties=definition.properties,
        )
        report.created_tables.append(definition.identifier)
        return

    existing = {f.name for f in table.schema().fields}
    added = [f.name for f in definition.schema.fields if f.name not in existing]
    missing_props = {
        k: v for k, v in definition.properties.items() if k != "format-version" and table.properties.get(k) != v
    }
    if not added and not missing_props:
        report.unchanged.append(definition.identifier)
        return
    with table.transaction() as tx:
        if added:
            # union_by_name adds new columns; new columns are always optional in Iceberg evolution
            with tx.update_schema(allow_incompatible_changes=False) as update:
                for f in definition.schema.fields:
                    if f.name not in existing:
                        update.add_column(f.name, f.field_type, doc=f.doc, required=False)
        if missing_props:
            tx.set_properties(missing_props)
    report.evolved[definition.identifier] = [f"+column {c}" for c in added] + [
        f"property {k}={v}" for k, v in missing_props.items()
    ]


def init_catalog(settings: Settings, tables: tuple[TableDef, ...] = TABLES) -> InitReport:
    """Create or evolve every namespace and table. Running it twice changes nothing."""
    from dataclasses import replace

    catalog = open_catalog(settings)
    report = InitReport()
    prefix = settings.namespace_prefix  # Glue databases per environment (dev_bronze, ...)
    existing = {ns[0] for ns in catalog.list_namespaces()}
    for ns in dict.fromkeys(prefix + n for n in [*NAMESPACES, *(t.namespace for t in tables)]):
        if ns not in existing:
            catalog.create_namespace(ns)
            report.created_namespaces.append(ns)
    for definition in tables:
        apply_table(catalog, replace(definition, identifier=table_identifier(settings, definition.identifier)), report)
    return report
