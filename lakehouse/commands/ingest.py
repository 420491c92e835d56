"""`lakehouse ingest --hour H`: ingest one arrival hour locally, as the DAG's ingest task does.

Builds (or reuses) the hour's landing manifest (with the stragglers of earlier hours, as the
DAG's plan task does: `lakehouse_core.landing.land_hour`), runs `spark_jobs/ingest_orders.py` with the
local `spark-submit` (`lakehouse.runtime.local_spark`), and prints the job's counts as one JSON line on
stdout; progress goes to stderr. Like a DAG run it holds the hour's claim (`lakehouse_core.hour_claims`)
while it writes: if another run holds the hour, it is refused at once, before writing anything.
Exit code: 0 success, 1 the job failed or the hour is busy, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from lakehouse.console import arg_hour, progress
from lakehouse_core.settings import load_settings


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "ingest",
        help="ingest one arrival hour of the raw zone into bronze, quarantine and silver (local spark-submit)",
        description=(
            "Write the hour's landing manifest (the exact objects to read), run the Spark ingest job with "
            "the local spark-submit and print its counts as one JSON line. Re-running an hour is safe: "
            "bronze and quarantine are replaced, silver only takes newer versions."
        ),
    )
    p.add_argument("--hour", required=True, type=arg_hour, help="UTC arrival hour, e.g. 2026-11-01T08")
    p.add_argument("--run-id", default="", help="run id (default: ingest-<hour>-<timestamp>)")
    p.add_argument("--branch", default="", help="write silver to this audit branch instead of main")
    p.add_argument("--manifest", default="", help="use this existing manifest instead of listing the hour")
    p.set_defaults(func=run)


def default_run_id(hour: datetime, now: datetime | None = None) -> str:
    """`ingest-YYYYMMDDHH-<UTC timestamp>`: sortable, unique per attempt, safe as a branch name."""
    now = now or datetime.now(UTC)
    return f"ingest-{hour:%Y%m%d%H}-{now:%Y%m%dT%H%M%S}"


def find_counts(lines: list[str]) -> dict | None:
    """The job's JSON counts line (the last stdout line that is a JSON object with a run_id)."""
    for line in reversed(lines):
        text = line.strip()
        if text.startswith("{") and text.endswith("}"):
            try:
                value = json.loads(text)
            except ValueError:
                continue
            if isinstance(value, dict) and "run_id" in value:
                return value
    return None


def run(args: argparse.Namespace) -> int:
    from lakehouse_core import hour_claims

    settings = load_settings()
    hour: datetime = args.hour
    run_id = args.run_id or default_run_id(hour)
    owner = f"lakehouse ingest {run_id}"
    try:
        hour_claims.acquire(settings, hour, owner)
    except hour_claims.HourBusy as exc:  # one writer per hour: refused, nothing written
        progress(f"ingest: refused: {exc}")
        return 1
    try:
        return _ingest(settings, args, hour, run_id, owner)
    finally:
        hour_claims.release_window(settings, hour, settings.straggler_hours, owner)


def _ingest(settings, args: argparse.Namespace, hour: datetime, run_id: str, owner: str) -> int:
    from lakehouse.runtime import local_spark
    from lakehouse_core import landing
    from lakehouse_core.spark_args import ingest_args

    if args.manifest:
        manifest_uri = args.manifest
        progress(f"ingest {hour:%Y-%m-%dT%H}: using manifest {manifest_uri}")
    else:
        manifest_uri, manifest = landing.land_hour(settings, hour, run_id, owner)
        progress(
            f"ingest {hour:%Y-%m-%dT%H}: {manifest['object_count']} objects, {manifest['total_bytes']:,} bytes, "
            f"{manifest['straggler_objects']} straggler(s) of earlier hours -> manifest {manifest_uri}"
        )
        alarm = landing.firehose_errors_alarm(manifest)
        if alarm:
            progress(f"ingest: WARNING: {alarm}")
    job_args = ingest_args(settings, arrival_hour=hour, manifest=manifest_uri, run_id=run_id, audit_branch=args.branch)
    stdout: list[str] = []

    def on_stdout(line: str) -> None:
        # spark-submit merges the Python driver's stderr into stdout: keep stdout for the JSON only
        stdout.append(line)
        if not line.lstrip().startswith("{"):
            print(line, file=sys.stderr, flush=True)

    progress(f"ingest: spark-submit {local_spark.INGEST_SCRIPT.name} (run {run_id})")
    returncode = local_spark.run_job(settings, local_spark.INGEST_SCRIPT, job_args, on_stdout=on_stdout)
    counts = find_counts(stdout)
    if returncode != 0 or counts is None:
        progress(f"ingest: the Spark job failed (exit code {returncode})")
        return 1
    print(json.dumps(counts, separators=(",", ":")), flush=True)
    return 0


def ingest_range(settings, start: datetime, end: datetime, run_id: str = "", on_line=None) -> tuple[int, dict | None]:
    """A bulk backfill of arrival hours [start, end) without Airflow: the `orders_backfill` DAG's
    Spark steps, here (local backend; in the warm driver when `settings.warm_spark` names one).

    Claims the range (`lakehouse_core.backfill.plan_range`; `HourBusy` if any hour is held), runs the one
    ingest job on an audit branch, the gate over the range and publish, and releases the claims.
    No dbt: the caller builds the marts (the demo's hourly runs after the history do). Returns
    (exit code: 0 published, 1 the gate failed or a job failed, and the ingest's summary or None).
    """
    from lakehouse.runtime import local_spark
    from lakehouse_core import backfill
    from lakehouse_core.spark_args import gate_args, ingest_args, publish_args
    from pipeline.waits import audit_branch

    run_id = run_id or backfill.range_run_id(start, end, datetime.now(UTC).isoformat())
    owner = f"lakehouse backfill --bulk {run_id}"
    branch = audit_branch(run_id)
    uri, plan = backfill.plan_range(settings, start, end, run_id, owner)
    try:
        if not backfill.objects_to_read(plan):
            progress(f"backfill: nothing in [{start:%Y-%m-%dT%H}, {end:%Y-%m-%dT%H})")
            return 0, None
        progress(
            f"backfill: {plan['object_count']} objects in {len(plan['hours'])} hours, {plan['straggler_objects']} "
            f"straggler(s) of earlier hours -> one ingest job (run {run_id})"
        )
        stdout: list[str] = []

        def collect(line: str) -> None:
            stdout.append(line)
            if on_line is not None:
                on_line(line)
            elif not line.lstrip().startswith("{"):
                print(line, file=sys.stderr, flush=True)

        args = ingest_args(settings, arrival_hour=start, to_hour=end, manifest=uri, run_id=run_id, audit_branch=branch)
        code = local_spark.run_job(settings, local_spark.INGEST_SCRIPT, args, on_stdout=collect)
        summary = find_counts(stdout)
        if code != 0 or summary is None:
            progress(f"backfill: the ingest job failed (exit code {code})")
            return 1, summary
        scripts = local_spark.INGEST_SCRIPT.parent
        gate = gate_args(
            settings,
            run_id=run_id,
            audit_branch=branch,
            arrival_hour=f"{end - backfill.HOUR:%Y-%m-%dT%H:%M:%SZ}",
            lateness_hours=backfill.gate_lateness_hours(settings, plan),
        )
        for script, job_args in (
            ("validate_orders.py", gate),
            ("publish_orders.py", publish_args(settings, run_id=run_id, audit_branch=branch, action="publish")),
        ):
            code = local_spark.run_job(settings, scripts / script, job_args, on_stdout=on_line)
            if code != 0:
                progress(f"backfill: {script} exited with {code}; main is unchanged")
                return 1, summary
        return 0, summary
    finally:
        backfill.release_range(settings, start, end, owner)
