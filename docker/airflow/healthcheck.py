"""Health checks of the Airflow containers, cheap enough to run every few seconds.

    healthcheck.py http URL           # the api-server: URL answers 200
    healthcheck.py job JOB_TYPE       # scheduler, dag-processor, triggerer: this container's job
                                      # (SchedulerJob, DagProcessorJob, TriggererJob) is running
                                      # and heartbeated within the last HEARTBEAT_GRACE seconds

Why not `airflow jobs check`: it imports Airflow (seconds of CPU per call), and three of them on a
timer cost a whole core on a two-core machine. This reads the same `job` row with psycopg2.
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.request

HEARTBEAT_GRACE = 60


def check_http(url: str) -> None:
    with urllib.request.urlopen(url, timeout=5) as response:  # nosec B310  # the container's own http URL
        if response.status != 200:
            raise SystemExit(f"{url} answered {response.status}")


def check_job(job_type: str) -> None:
    import psycopg2

    uri = os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    rest = uri.split("://", 1)[1]  # postgresql+psycopg2://... -> libpq's postgresql://...
    with psycopg2.connect(f"postgresql://{rest}", connect_timeout=5) as con, con.cursor() as cur:
        cur.execute(
            """
            select count(*) from job
            where job_type = %s and hostname = %s and state = 'running'
              and latest_heartbeat > now() - make_interval(secs => %s)
            """,
            (job_type, socket.getfqdn(), HEARTBEAT_GRACE),
        )
        if cur.fetchone()[0] == 0:
            raise SystemExit(f"no running {job_type} of {socket.getfqdn()} heartbeated in {HEARTBEAT_GRACE}s")


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[0] not in ("http", "job"):
        raise SystemExit(__doc__)
    (check_http if argv[0] == "http" else check_job)(argv[1])


if __name__ == "__main__":
    main(sys.argv[1:])
