"""Airflow-side library of the lakehouse: settings, catalog, tables, Spark backends, dbt config.

Deployed inside MWAA's dags/ folder, so everything imported at DAG parse time stays light.
"""
