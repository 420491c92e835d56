"""The orders ingest: Firehose raw zone -> bronze, quarantine and silver Iceberg tables.

Modules, in the order data flows through them:

- `framing`    pure Python: decode an object (GZIP by magic bytes), cut it into records
- `reader`     landing manifest -> DataFrame of framed records (Python workers, Arrow)
- `transforms` pure DataFrame functions: parse + validate, bronze/quarantine rows, dedupe, silver rows
- `writes`     Iceberg writes: hour overwrite, audit branch, MERGE, the run record
- `job`        the run: arguments -> counts (what `spark_jobs/ingest_orders.py` calls)
- `contract`   names and schemas shared by the above

Nothing here imports Airflow or the `pipeline` package: the job is shipped to Glue and EMR
Serverless as a zip and must run there with only Spark and the Python standard library
(plus numpy/pyarrow, which both platforms ship).
"""
