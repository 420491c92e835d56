#!/usr/bin/env bash
# Entry point of the Airflow image. `init` is the one-shot airflow-init service: migrate the
# metadata database (idempotent) and write the admin login of Airflow's simple auth manager
# from AIRFLOW_ADMIN_PASSWORD into the shared Airflow home. Anything else runs as given
# (`airflow scheduler`, `airflow api-server`, `lakehouse ...`).
set -euo pipefail

if [ "${1:-}" = "init" ]; then
  : "${AIRFLOW_ADMIN_PASSWORD:?AIRFLOW_ADMIN_PASSWORD is required (docker/.env)}"
  echo "airflow-init: migrating the metadata database"
  airflow db migrate
  passwords="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:?}"
  user="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS%%:*}"
  umask 077
  python - "$passwords" "$user" <<'PY'
import json, os, sys
path, user = sys.argv[1], sys.argv[2]
with open(path + ".tmp", "w") as f:
    json.dump({user: os.environ["AIRFLOW_ADMIN_PASSWORD"]}, f)
os.replace(path + ".tmp", path)
PY
  mkdir -p "$AIRFLOW_HOME/logs"
  echo "airflow-init: login '$user' written to $passwords"
  exit 0
fi
# The scheduler runs the tasks (LocalExecutor). With LAKEHOUSE_WARM_SPARK set (compose.yaml sets
# it on the scheduler service), one warm Spark driver lives beside it and runs the Spark jobs of
# every hour, started again whenever it ends (lakehouse.runtime.local_spark.keep_warm_driver); a task that
# finds none runs its own spark-submit.
if [ "${1:-}" = "airflow" ] && [ "${2:-}" = "scheduler" ] && [ -n "${LAKEHOUSE_WARM_SPARK:-}" ]; then
  mkdir -p "$AIRFLOW_HOME/logs"
  python -m lakehouse.runtime.local_spark "$LAKEHOUSE_WARM_SPARK" "$AIRFLOW_HOME/logs/warm-spark.log" &
fi
exec "$@"
