"""`lakehouse init` creates, is idempotent, and evolves a table when its definition gains a column."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pyiceberg.schema import Schema
from pyiceberg.types import NestedField, StringType

from lakehouse_core.catalog import init_catalog, open_catalog
from lakehouse_core.tables import NAMESPACES, ORDER_LINES, TABLES

pytestmark = pytest.mark.unit


@pytest.fixture
def fresh_home(tmp_path, settings_for):
    """Local settings of an empty lakehouse home, one per test (no catalog yet)."""
    return settings_for(tmp_path / "lake")


def test_init_creates_everything_then_is_a_no_op(fresh_home) -> None:
    first = init_catalog(fresh_home)
    assert set(first.created_namespaces) == set(NAMESPACES)
    assert first.created_tables == [t.identifier for t in TABLES]

    cat = open_catalog(fresh_home)
    silver = cat.load_table("silver.order_lines")
    assert silver.properties["write.wap.enabled"] == "true"
    assert silver.properties["write.parquet.compression-codec"] == "zstd"
    assert silver.metadata.format_version == 2
    assert [f.name for f in silver.spec().fields] == ["event_ts_day"]
    assert str(silver.spec().fields[0].transform) == "day"
    before = {t.identifier: cat.load_table(t.identifier).metadata_location for t in TABLES}

    second = init_catalog(fresh_home)
    assert not second.changed
    assert sorted(second.unchanged) == sorted(t.identifier for t in TABLES)
    after = {t.identifier: cat.load_table(t.identifier).metadata_location for t in TABLES}
    assert after == before  # no new metadata file: truly nothing written


def test_added_column_is_evolved_in_place(fresh_home) -> None:
    init_catalog(fresh_home)
    cat = open_catalog(fresh_home)
    table = cat.load_table(ORDER_LINES.identifier)
    table.append(table.scan().to_arrow())  # empty append keeps it simple; schema evolution is metadata-only
    snapshots_before = len(table.metadata.snapshots)

    fields = [*ORDER_LINES.schema.fields, NestedField(999, "promo_code", StringType(), required=False, doc="new")]
    evolved_def = dataclasses.replace(ORDER_LINES, schema=Schema(*fields))
    report = init_catalog(fresh_home, tables=(evolved_def,))
    assert report.evolved == {"silver.order_lines": ["+column promo_code"]}

    table = cat.load_table(ORDER_LINES.identifier)
    assert table.schema().find_field("promo_code").optional
    assert len(table.metadata.snapshots) == snapshots_before  # no data rewrite
    assert not init_catalog(fresh_home, tables=(evolved_def,)).changed


def test_opening_a_local_catalog_makes_it_ready_for_spark(fresh_home) -> None:
    """What opening creates, on purpose (lakehouse_core.catalog.open_catalog): the home, the warehouse
    folder and the SQL catalog's own tables, which Spark's JDBC catalog is told not to create."""
    import sqlite3
    from urllib.parse import urlsplit

    from spark_jobs.session import catalog_conf

    assert not fresh_home.home.exists()
    open_catalog(fresh_home)
    assert fresh_home.home.is_dir() and Path(urlsplit(fresh_home.warehouse).path).is_dir()
    with sqlite3.connect(fresh_home.home / "catalog.db") as db:
        names = {row[0] for row in db.execute("select name from sqlite_master where type = 'table'")}
    assert {"iceberg_tables", "iceberg_namespace_properties"} <= names
    conf = catalog_conf("local", "lakehouse", fresh_home.warehouse, "jdbc:sqlite:/x.db")
    assert conf["spark.sql.catalog.lakehouse.jdbc.init-catalog-tables"] == "false", "Spark relies on the above"
