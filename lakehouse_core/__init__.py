"""What the DAGs and the `lakehouse` command both stand on, with no Airflow and nothing of the
laptop: the settings, the tables, the catalog, the Spark backends and each job's arguments, the
landing manifests, the hour claims, a backfill's plan. Shipped in MWAA's dags folder; it imports
only `spark_jobs` (tests/unit/test_import_layers.py)."""
