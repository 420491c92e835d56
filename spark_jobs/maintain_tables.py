"""Daily Iceberg table maintenance, as a Spark job (local spark-submit, Glue 5, EMR Serverless 7).

Why each step, in the order it runs per table:

1. `rewrite_data_files` (bin-pack): hourly MERGEs and hour-partition overwrites leave many
   small files; readers (Spectrum, DuckDB, Spark) pay per file.
2. `rewrite_manifests`: hourly commits leave one small manifest each; planning reads them all.
3. `expire_snapshots`: keeps time travel for the retention window (and at least `retain_last`
   snapshots), then deletes metadata and data files no snapshot references any more. It also
   removes refs older than their own ref age: write-audit-publish leaves a branch per failed
   run (kept on purpose, for inspection), created with `RETAIN n HOURS` by the ingest, so
   Iceberg drops it here and then frees the snapshots it pinned. No branch sweep of ours.
4. `remove_orphan_files`: files no metadata references (a crashed writer's leftovers). Only
   files older than a safety age, so an in-flight write is never mistaken for an orphan.

Every step is idempotent: running the job twice in a day does no harm; on a table with nothing
to do each procedure is a cheap no-op. The job prints one JSON line per step (what it changed).

Arguments (the same on every platform): the catalog arguments every job takes
(`spark_jobs.jobargs.CATALOG_ARGS`), `--tables` (comma-separated `namespace.table`),
`--snapshot_retention_hours`, `--retain_last`, `--orphan_age_hours`, `--dry_run` (`true`:
report what would change, change nothing).
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from spark_jobs.entry import Answer, CatalogArgs, run_job
from spark_jobs.jobargs import CATALOG_ARGS, JobArg
from spark_jobs.naming import physical

UTC = timezone.utc  # noqa: UP017 -- not `datetime.UTC` (3.11+): an entry script must reach the package's
# Python check (spark_jobs/__init__.py) on an older Python to say so instead of a traceback
MIN_ORPHAN_AGE_HOURS = 24
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")

SPECS = (
    *CATALOG_ARGS,  # --platform, --catalog_name, --warehouse, --catalog_uri, ... as every job takes them
    JobArg("tables", "comma-separated namespace.table list"),
    JobArg("snapshot_retention_hours", "expire snapshots older than this", "168"),
    JobArg("retain_last", "always keep at least this many snapshots", "10"),
    JobArg("orphan_age_hours", "only delete unreferenced files older than this", "72"),
    JobArg("dry_run", "true = report only", "false"),
)


@dataclass(frozen=True)
class Plan:
    """What to do, resolved from the arguments and one `now` (so every table sees the same cut-offs)."""

    catalog: str
    tables: tuple[str, ...]
    snapshots_before: datetime
    retain_last: int
    orphans_before: datetime
    dry_run: bool
    namespace_prefix: str = ""  # the environment's: `silver.order_lines` is `<prefix>silver.order_lines`


def plan_from_args(args: dict[str, str], now: datetime) -> Plan:
    tables = tuple(t.strip() for t in args["tables"].split(",") if t.strip())
    bad = [t for t in tables if not _TABLE.match(t)]
    if bad or not tables:
        raise ValueError(f"--tables must be namespace.table names, got {args['tables']!r}")
    if int(args["orphan_age_hours"]) < MIN_ORPHAN_AGE_HOURS:
        # Iceberg refuses shorter ages: a file that young may belong to a write in flight.
        raise ValueError(f"--orphan_age_hours must be >= {MIN_ORPHAN_AGE_HOURS}, got {args['orphan_age_hours']}")
    return Plan(
        catalog=args["catalog_name"],
        tables=tables,
        snapshots_before=now - timedelta(hours=int(args["snapshot_retention_hours"])),
        retain_last=max(1, int(args["retain_last"])),
        orphans_before=now - timedelta(hours=int(args["orphan_age_hours"])),
        dry_run=args["dry_run"].strip().lower() in ("1", "true", "yes", "on"),
        namespace_prefix=(args.get("namespace_prefix") or "").strip(),
    )


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def procedure_calls(plan: Plan, table: str) -> list[tuple[str, str]]:
    """(step, SQL) for the four Iceberg procedures on `table`, in the order they run."""
    call = f"CALL {plan.catalog}.system"
    table = physical(table, plan.namespace_prefix)
    return [
        (
            "rewrite_data_files",
            f"{call}.rewrite_data_files(table => '{table}', strategy => 'binpack', "
            "options => map('min-input-files', '5', 'partial-progress.enabled', 'true'))",
        ),
        ("rewrite_manifests", f"{call}.rewrite_manifests(table => '{table}')"),
        (
            "expire_snapshots",
            f"{call}.expire_snapshots(table => '{table}', older_than => TIMESTAMP '{_ts(plan.snapshots_before)}', "
            f"retain_last => {plan.retain_last})",
        ),
        (
            "remove_orphan_files",
            f"{call}.remove_orphan_files(table => '{table}', older_than => TIMESTAMP '{_ts(plan.orphans_before)}'"
            + (", dry_run => true)" if plan.dry_run else ")"),
        ),
    ]


def maintain_table(spark, plan: Plan, table: str) -> Iterator[dict[str, object]]:
    """Run every step on one table, yielding one report per step as it finishes."""
    for step, sql in procedure_calls(plan, table):
        if plan.dry_run and step != "remove_orphan_files":
            yield {"table": table, "step": step, "skipped": "dry_run"}
            continue
        rows = spark.sql(sql).collect()
        result: dict[str, object] = {"table": table, "step": step}
        if step == "remove_orphan_files":
            result["orphan_files"] = len(rows)
        elif rows:
            result.update({k: v for k, v in rows[0].asDict().items() if isinstance(v, int | float | str)})
        yield result


def maintain(spark, plan: Plan, _catalog: CatalogArgs) -> Answer:
    """Every table in turn, one JSON line per step; a table that fails does not stop the others."""
    failed: list[str] = []
    for table in plan.tables:
        try:
            for report in maintain_table(spark, plan, table):
                print(json.dumps(report, default=str), flush=True)
        except Exception as exc:  # one broken table must not stop the others' maintenance
            failed.append(table)
            print(json.dumps({"table": table, "error": f"{type(exc).__name__}: {exc}"}), flush=True)
    # exit 1, not a verdict: a failed table is an accident the next run (or a retry) may not meet
    return Answer(ok=not failed, log=f"maintenance failed for: {', '.join(failed)}" if failed else "", verdict=False)


def main(argv: Sequence[str] | None = None) -> int:
    prepare = functools.partial(plan_from_args, now=datetime.now(UTC))
    return run_job("maintain_tables", SPECS, argv, prepare, maintain, app_name="lakehouse-maintain-tables")


if __name__ == "__main__":
    sys.exit(main())
