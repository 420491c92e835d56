"""The laptop runtime, the services the commands call: the local JVM and Spark (one-shot and warm),
the local warehouses' silver copies (DuckDB, compose's PostgreSQL), local Airflow and its
`airflow dags test` runner, dbt, the demo, the compose stack, the doctor's checks. Never shipped to
AWS: the DAGs reach it only inside the local Spark task's body and the local warehouses
(`pipeline.spark_tasks`, `pipeline.warehouse`), which run only where LAKEHOUSE_ENV is local or
compose (tests/aws/test_bundle.py)."""
