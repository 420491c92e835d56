"""What every part stands on, free of any environment: settings, the tables, the catalog, the jobs'
arguments and backends, the landing zone, the hour claims. The DAGs (shipped in MWAA's dags folder)
and the `lakehouse` command both import it; it imports neither."""
