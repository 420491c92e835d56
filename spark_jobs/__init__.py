"""Spark programs of the lakehouse.

They know nothing of Airflow: every input is a `--snake_case` argument, identical on Glue 5,
EMR Serverless 7 and local `spark-submit`. Transforms are pure functions of DataFrames.
"""
