"""Spark job: ingest one arrival hour of Firehose order events (raw zone -> bronze, quarantine, silver).

With `--to_hour` it ingests the range of arrival hours [--arrival_hour, --to_hour) from a range
manifest in one job (a bulk backfill, `spark_jobs.ingest.bulk`): the same script, so Glue and EMR
need no job of their own for it.

The same script runs under local `spark-submit`, on Glue 5 and on EMR Serverless 7; every
input is a `--snake_case` argument (see `spark_jobs.ingest.job.JOB_ARGS`). It prints the
run's counts as one JSON line on stdout; progress goes to stderr. Exit code 0 on success.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.entry import Answer, run_job
    from spark_jobs.ingest.job import JOB_ARGS, IngestArgs, counts_json, run_ingest

    def ingest(spark, args: IngestArgs, _catalog) -> Answer:
        if args.to_hour is not None:
            from spark_jobs.ingest.bulk import run_range_ingest

            return Answer(ok=True, text=counts_json(run_range_ingest(spark, args)))
        return Answer(ok=True, text=counts_json(run_ingest(spark, args)))

    # failure=None: an error propagates (exit 1, the platform's traceback; Airflow retries it)
    return run_job(
        "ingest_orders", JOB_ARGS, argv, IngestArgs.from_mapping, ingest,
        app_name=lambda args: f"ingest_orders {args.run_id}", failure=None,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
