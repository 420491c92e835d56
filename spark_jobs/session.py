"""Spark session factory: one function, three platforms.

The platform decides where the Iceberg catalog lives:

- `local`: Iceberg JDBC catalog (SQLite file, or Postgres in docker-compose) and a warehouse
  folder, or in docker-compose an `s3a://` warehouse in the object store (HadoopFileIO; the
  launcher adds `s3a_conf`). The Iceberg runtime and JDBC driver jars come from the launcher
  (`--jars`), because this machine has no Maven Central; see `lakehouse.runtime.jvm`.
- `glue`: Glue 5 with `--datalake-formats iceberg` (the runtime is on the classpath);
  the catalog is the Glue Data Catalog with S3FileIO.
- `emr`: EMR Serverless 7, runtime jar at /usr/share/aws/iceberg/lib; Glue Data Catalog too.

The catalog name is the same everywhere, so SQL in the jobs reads `lakehouse.silver.order_lines`
on every platform, and pyiceberg opens the same catalog under the same name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from spark_jobs.jobargs import PLATFORMS

ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
EMR_ICEBERG_JAR = "/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar"
HADOOP_FILE_IO = "org.apache.iceberg.hadoop.HadoopFileIO"
# For a DataFrame read several times from the cache within one job: building the compressed
# cache of 1M rows took 3.0 s, the uncompressed one 1.5 s, for about twice the memory.
UNCOMPRESSED_CACHE = {"spark.sql.inMemoryColumnarStorage.compressed": "false"}


def catalog_conf(
    platform: str,
    catalog: str,
    warehouse: str,
    catalog_uri: str = "",
    jdbc_user: str = "",
    jdbc_password: str = "",
) -> dict[str, str]:
    """Spark conf that registers `catalog` as an Iceberg catalog for `platform`."""
    if platform not in PLATFORMS:
        raise ValueError(f"platform {platform!r} is not one of {', '.join(PLATFORMS)}")
    prefix = f"spark.sql.catalog.{catalog}"
    conf = {
        "spark.sql.extensions": ICEBERG_EXTENSIONS,
        prefix: "org.apache.iceberg.spark.SparkCatalog",
        f"{prefix}.warehouse": warehouse,
        "spark.sql.session.timeZone": "UTC",
        # Iceberg tables are sorted/partitioned by their own spec; keep Spark from guessing.
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
    }
    if platform == "local":
        if not catalog_uri.startswith("jdbc:"):
            raise ValueError(f"local platform needs a jdbc: catalog uri, got {catalog_uri!r}")
        conf[f"{prefix}.type"] = "jdbc"
        conf[f"{prefix}.uri"] = catalog_uri
        if catalog_uri.startswith("jdbc:sqlite:"):
            # Iceberg's JdbcCatalog checks for its tables with DatabaseMetaData.getTables and never
            # closes that ResultSet: on SQLite the open statement keeps a read lock for the life of
            # the session, so an idle warm driver made every other process's catalog commit fail
            # with "database is locked". pyiceberg's SqlCatalog creates those tables before any
            # Spark job runs (`lakehouse init`, the DAG's ensure_tables), so Spark need not look.
            conf[f"{prefix}.jdbc.init-catalog-tables"] = "false"
        if jdbc_user:
            conf[f"{prefix}.jdbc.user"] = jdbc_user
            conf[f"{prefix}.jdbc.password"] = jdbc_password
        if warehouse.startswith("s3a://"):  # compose: the object store through Hadoop's S3A
            conf[f"{prefix}.io-impl"] = HADOOP_FILE_IO
        elif warehouse.startswith("s3://"):  # needs the AWS SDK v2 bundle on the classpath
            conf[f"{prefix}.io-impl"] = "org.apache.iceberg.aws.s3.S3FileIO"
    else:
        conf[f"{prefix}.type"] = "glue"
        conf[f"{prefix}.io-impl"] = "org.apache.iceberg.aws.s3.S3FileIO"
        if platform == "emr":
            conf["spark.jars"] = EMR_ICEBERG_JAR
    return conf


def s3a_conf(endpoint: str, region: str = "") -> dict[str, str]:
    """Hadoop S3A conf for an S3-compatible store at `endpoint` (docker-compose's object store).

    - `s3://` is mapped to S3A too, so the raw zone's object URIs (what Firehose, boto3 and the
      landing manifests use) are read by the same client as the `s3a://` warehouse;
    - path-style requests: the store serves buckets under its host name, not as subdomains;
    - credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY only (no instance metadata
      lookups that would time out off AWS).
    The jars (hadoop-aws, the AWS SDK v1 bundle it needs) are on the image's classpath.
    """
    conf = {
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.endpoint": endpoint,
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": str(endpoint.startswith("https://")).lower(),
        "spark.hadoop.fs.s3a.aws.credentials.provider": "com.amazonaws.auth.EnvironmentVariableCredentialsProvider",
    }
    if region:
        conf["spark.hadoop.fs.s3a.endpoint.region"] = region
    return conf


def local_tuning() -> dict[str, str]:
    """Small-machine defaults for local runs and tests (2 cores)."""
    return {
        "spark.master": "local[2]",
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "4",
        "spark.ui.enabled": "false",
        "spark.sql.adaptive.enabled": "true",
        "spark.driver.memory": "4g",
        "spark.ui.showConsoleProgress": "false",
    }


def get_session(app_name: str, conf: Mapping[str, str]):  # -> pyspark.sql.SparkSession
    """Build (or reuse) the session. Imported lazily so argument parsing needs no JVM."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


@contextlib.contextmanager
def runtime_conf(spark, values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for None, unset) runtime SQL conf for a block, then put back what was there.

    Why a block and not the session: the gate and publish run in sessions an ingest may share
    (tests, the benchmark, one Glue job), and their settings must not leak into its writes.
    """
    saved = {key: spark.conf.get(key, None) for key in values}
    for key, value in values.items():
        if value is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
