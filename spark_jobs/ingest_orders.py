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
    from spark_jobs.ingest.job import JOB_ARGS, IngestArgs, counts_json, run_ingest
    from spark_jobs.jobargs import parse_job_args
    from spark_jobs.session import get_session

    args = IngestArgs.from_mapping(parse_job_args(JOB_ARGS, argv, prog="ingest_orders"))
    spark = get_session(f"ingest_orders {args.run_id}", args.session_conf())
    if args.to_hour is not None:
        from spark_jobs.ingest.bulk import run_range_ingest

        record = run_range_ingest(spark, args)
    else:
        record = run_ingest(spark, args)
    print(counts_json(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
