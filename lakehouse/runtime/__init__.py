"""The laptop runtime: the local JVM and Spark (one-shot and warm), the local warehouses (DuckDB,
compose's PostgreSQL), the jars and the `airflow dags test` runner. Never shipped to AWS: the core
reaches it only inside the local backends, at run time, where LAKEHOUSE_ENV is local or compose."""
