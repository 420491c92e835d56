"""`lakehouse reconcile --from H1 --to H2`: is every object of the raw zone in the tables?

Per arrival hour in [H1, H2), three sets of objects:

- **raw**: what the hour's prefix holds now (`lakehouse_core.landing.list_hour`);
- **in manifests**: what a run's manifest named for the hour, as its own object or as a
  straggler a later run claimed (manifests of the hours up to `straggler_hours` after H2 are read
  for those claims);
- **ingested**: objects with rows in `bronze.orders_raw` or `bronze.orders_quarantine` for the
  hour (lineage: `source_object`), and objects named by the manifest of an ingest run recorded
  as succeeded in `audit.ingest_runs` (an object of only whitespace has no row to show it).

An object in raw but never ingested is what the pipeline must not leave behind: exit 1, with the
objects named. It usually means a straggler still inside the window (the next hourly run takes
it), an hour that never ran or failed (run it: `lakehouse run-hour`), or an object older than the
window (re-run its hour). Firehose error objects of each hour are shown beside, never counted as
ingested. Works on a local raw zone and on `s3://` (settings' endpoint). Exit 0: all ingested;
1: objects missing; 2: bad arguments.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lakehouse.console import arg_hour, progress, table
from lakehouse_core.settings import Settings, load_settings

HOUR = timedelta(hours=1)
LINEAGE_TABLES = ("bronze.orders_raw", "bronze.orders_quarantine")
RUNS = "audit.ingest_runs"


@dataclass
class HourReconciliation:
    hour: datetime
    raw: set[str] = field(default_factory=set)
    in_manifests: set[str] = field(default_factory=set)
    ingested: set[str] = field(default_factory=set)
    firehose_errors: int = 0

    @property
    def missing(self) -> list[str]:
        """Objects in the raw zone that no run ingested."""
        return sorted(self.raw - self.ingested)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "reconcile",
        help="per arrival hour: objects in the raw zone vs in manifests vs ingested; exit 1 on any never ingested",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    p.add_argument("--from", dest="start", required=True, type=arg_hour, help="first arrival hour, UTC: 2026-11-01T08")
    p.add_argument("--to", dest="end", required=True, type=arg_hour, help="end hour, exclusive")
    p.set_defaults(func=run)


def hours_in(start: datetime, end: datetime) -> list[datetime]:
    return [start + HOUR * n for n in range(int((end - start) / HOUR))]


def reconcile(
    settings: Settings,
    start: datetime,
    end: datetime,
    lineage_tables: tuple[str, ...] = LINEAGE_TABLES,
    runs_table: str = RUNS,
) -> list[HourReconciliation]:
    """The three sets (and the Firehose error count) of every arrival hour in [start, end).

    The table names are parameters for tests, which write their own namespaces.
    """
    from lakehouse_core import landing

    hours = hours_in(start, end)
    manifests = [
        m for h in hours_in(start, end + HOUR * settings.straggler_hours) for m in landing.hour_manifests(settings, h)
    ]
    lineage = _lineage(settings, start, end, lineage_tables)
    succeeded = _succeeded_runs(settings, start, end + HOUR * settings.straggler_hours, runs_table)
    done = [m for m in manifests if m.get("run_id") in succeeded]
    report = []
    for hour in hours:
        report.append(
            HourReconciliation(
                hour,
                raw={o["uri"] for o in landing.list_hour(settings, hour)},
                in_manifests=landing.named_objects(manifests, hour),
                ingested=lineage.get(landing.iso_hour(hour), set()) | landing.named_objects(done, hour),
                firehose_errors=len(landing.list_firehose_errors(settings, hour)),
            )
        )
    return report


def _scan(settings: Settings, identifier: str, start: datetime, end: datetime, columns: tuple[str, ...]):
    """Rows of a table whose arrival hour is in [start, end), as Arrow; None when the table is missing."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError
    from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan

    from lakehouse_core.catalog import load_table

    try:
        table = load_table(settings, identifier)
    except (NoSuchTableError, NoSuchNamespaceError):
        return None
    window = And(GreaterThanOrEqual("arrival_hour", start.isoformat()), LessThan("arrival_hour", end.isoformat()))
    return table.scan(row_filter=window, selected_fields=columns).to_arrow()


def _lineage(settings: Settings, start: datetime, end: datetime, tables: tuple[str, ...]) -> dict[str, set[str]]:
    """source_object per arrival hour (ISO, Z) in bronze and quarantine."""
    from lakehouse_core import landing

    found: dict[str, set[str]] = {}
    for identifier in tables:
        rows = _scan(settings, identifier, start, end, ("arrival_hour", "source_object"))
        if rows is None:
            continue
        for hour, uri in zip(
            rows.column("arrival_hour").to_pylist(), rows.column("source_object").to_pylist(), strict=True
        ):
            found.setdefault(landing.iso_hour(hour), set()).add(uri)
    return found


def _succeeded_runs(settings: Settings, start: datetime, end: datetime, runs_table: str) -> set[str]:
    rows = _scan(settings, runs_table, start, end, ("run_id", "status"))
    if rows is None:
        return set()
    return {
        r
        for r, s in zip(rows.column("run_id").to_pylist(), rows.column("status").to_pylist(), strict=True)
        if s == "succeeded"
    }


def run(args: argparse.Namespace) -> int:
    start, end = args.start, args.end
    if end <= start:
        progress("reconcile: --to must be after --from (the range is [from, to))")
        return 2
    settings = load_settings()
    report = reconcile(settings, start, end)
    print(
        table(
            ("arrival hour", "raw", "in manifests", "ingested", "never ingested", "firehose errors"),
            [
                (
                    f"{r.hour:%Y-%m-%d %H}:00",
                    len(r.raw),
                    len(r.raw & r.in_manifests),
                    len(r.raw & r.ingested),
                    len(r.missing),
                    r.firehose_errors,
                )
                for r in report
            ],
        )
    )
    missing = [(r.hour, uri) for r in report for uri in r.missing]
    for hour, uri in missing:
        print(f"never ingested: {hour:%Y-%m-%dT%H} {uri}")
    if missing:
        progress(
            f"reconcile: {len(missing)} object(s) never ingested: a straggler the next hourly run will take, an hour "
            "that never ran or failed (`lakehouse run-hour <hour>`), or one older than the straggler window "
            "(re-run its hour); see docs/operations.md"
        )
        return 1
    progress(f"reconcile: every object of {len(report)} hour(s) is ingested")
    return 0
