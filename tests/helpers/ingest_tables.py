"""The ingest's four tables, created from their definitions in a namespace of a test's own, with
the test SparkSession (so scenarios and modules never see each other's rows)."""

from __future__ import annotations

from lakehouse_core.tables import INGEST_RUNS, ORDER_LINES, ORDERS_QUARANTINE, ORDERS_RAW
from spark_jobs.ingest.contract import IngestTables


def spark_ddl(definition, identifier: str) -> list[str]:
    """CREATE TABLE (+ sort order) for a table definition, in Spark SQL.

    Why not pyiceberg: once a SparkSession has opened the SQLite JDBC catalog, Iceberg's
    JdbcCatalog keeps a read lock on the file (an unclosed metadata ResultSet), so pyiceberg
    cannot write to the catalog until the session stops. Spark can, through its own connection.
    """
    from pyiceberg import types as it

    def spark_type(t) -> str:
        if isinstance(t, it.DecimalType):
            return f"decimal({t.precision},{t.scale})"
        if isinstance(t, it.MapType):
            return f"map<{spark_type(t.key_type)},{spark_type(t.value_type)}>"
        simple = {
            it.StringType: "string",
            it.IntegerType: "int",
            it.LongType: "bigint",
            it.BinaryType: "binary",
            it.BooleanType: "boolean",
            it.DoubleType: "double",
            it.TimestamptzType: "timestamp",
        }
        return simple[type(t)]

    columns = ", ".join(
        f"{f.name} {spark_type(f.field_type)}{' NOT NULL' if f.required else ''}" for f in definition.schema.fields
    )
    transforms = {"hour": "hours", "day": "days"}
    partitions = ", ".join(f"{transforms[str(t)]}({column})" for column, t, _ in definition.partition_by)
    properties = ", ".join(f"'{k}'='{v}'" for k, v in definition.properties.items())
    ddl = [
        f"CREATE TABLE IF NOT EXISTS {identifier} ({columns}) USING iceberg "
        f"{f'PARTITIONED BY ({partitions}) ' if partitions else ''}TBLPROPERTIES ({properties})"
    ]
    if definition.sort_by:
        ddl.append(f"ALTER TABLE {identifier} WRITE ORDERED BY {', '.join(definition.sort_by)}")
    return ddl


def make_tables(spark, catalog: str, namespace: str) -> IngestTables:
    """The four ingest tables, from their definitions, in a namespace of their own."""
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {catalog}.{namespace}")
    names = {}
    for role, definition in (
        ("bronze", ORDERS_RAW),
        ("quarantine", ORDERS_QUARANTINE),
        ("silver", ORDER_LINES),
        ("runs", INGEST_RUNS),
    ):
        identifier = f"{namespace}.{definition.identifier.split('.', 1)[1]}"
        for statement in spark_ddl(definition, f"{catalog}.{identifier}"):
            spark.sql(statement)
        names[role] = identifier
    return IngestTables(**names)
