#!/usr/bin/env bash
# MWAA startup script: dbt in its own virtualenv, because dbt-core 1.11 cannot resolve under
# Airflow 3.2.1's constraints (pathspec). Cosmos is given this executable through
# LAKEHOUSE_DBT_EXECUTABLE (read by dags/pipeline/settings.py).
# Versions must match requirements/dbt.lock (tests/unit/test_mwaa_files.py checks it).
set -euo pipefail
DBT_VENV="${AIRFLOW_HOME:-/usr/local/airflow}/dbt_venv"
if [ "${MWAA_AIRFLOW_COMPONENT:-worker}" != "webserver" ]; then
  python3 -m venv "$DBT_VENV"
  "$DBT_VENV/bin/pip" install --no-cache-dir -q \
    dbt-core==1.11.16 dbt-redshift==1.10.2
fi
export LAKEHOUSE_DBT_EXECUTABLE="$DBT_VENV/bin/dbt"
export LAKEHOUSE_ENV=aws
export LAKEHOUSE_DBT_TARGET=redshift
