#!/usr/bin/env bash
# First start (empty data volume): initdb, then create the roles and databases the stack uses,
# with passwords from the environment (docker/.env), while the server listens on its socket
# only -- so the health check (TCP) passes only once everything exists. Later starts: just run.
#
#   airflow   owns  airflow    (Airflow's metadata database)
#   lakehouse owns  catalog    (Iceberg JDBC catalog: Spark's JdbcCatalog and pyiceberg's SqlCatalog)
#             and   warehouse  (dbt's `compose` target: silver copy, staging, marts)
set -euo pipefail

: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required (docker/.env)}"
: "${AIRFLOW_DB_PASSWORD:?AIRFLOW_DB_PASSWORD is required (docker/.env)}"
: "${LAKEHOUSE_DB_PASSWORD:?LAKEHOUSE_DB_PASSWORD is required (docker/.env)}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "postgres: first start; initialising $PGDATA"
  pwfile="$(mktemp)"
  printf '%s' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb -D "$PGDATA" -U postgres --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  {
    echo "listen_addresses = '*'"
    echo "max_connections = 200"
    echo "shared_buffers = 256MB"
  } >>"$PGDATA/postgresql.conf"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"

  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  psql -v ON_ERROR_STOP=1 -U postgres -d postgres -q \
    -v airflow_pw="$AIRFLOW_DB_PASSWORD" -v lakehouse_pw="$LAKEHOUSE_DB_PASSWORD" <<'SQL'
create role airflow login password :'airflow_pw';
create role lakehouse login password :'lakehouse_pw';
create database airflow owner airflow;
create database catalog owner lakehouse;
create database warehouse owner lakehouse;
SQL
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "postgres: databases airflow, catalog, warehouse created"
fi
exec postgres -D "$PGDATA"
