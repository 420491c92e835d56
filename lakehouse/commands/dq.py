"""`lakehouse dq | validate | publish | discard`: the data-quality gate from a terminal.

- `dq --run-id X` prints the run's latest gate results from `audit.dq_results` and where its Data
  Docs are. It reads through pyiceberg (no JVM, about a second), so it is the quick look after a
  red quality_gate task. Without `--run-id` it lists the latest validated runs.
- `validate --run-id X [--hour H] [--branch B]` runs the gate job (`spark_jobs/validate_orders.py`)
  with local spark-submit and the DAG's own arguments (`lakehouse_core.spark_args.gate_args`).
- `publish --run-id X` and `discard --run-id X` run `spark_jobs/publish_orders.py`: manual
  recovery when a publish task did not run, or to drop a failed run's branch before its
  retention ends. Publish still requires the run's latest validation to have passed.

Exit codes: 0 success (gate passed, published, discarded), 1 the gate failed or publish was
refused, 2 bad usage or settings.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lakehouse.console import progress, table
from lakehouse.dq_results import attempts, blocking, details, format_runs, read_results, suite_order
from lakehouse_core.settings import REPO_ROOT, Settings, load_settings

VALIDATE_SCRIPT = REPO_ROOT / "spark_jobs" / "validate_orders.py"
PUBLISH_SCRIPT = REPO_ROOT / "spark_jobs" / "publish_orders.py"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "dq",
        help="show a run's data-quality gate results (audit.dq_results) and where its Data Docs are",
        description="Print the latest gate results of a run, or list recently validated runs. Reads the "
        "catalog through pyiceberg: no Spark needed.",
    )
    p.add_argument("--run-id", help="ingest run id (default: list the latest validated runs)")
    p.add_argument("--last", type=int, default=10, help="without --run-id: how many runs to list (default 10)")
    p.add_argument("--all", action="store_true", help="show every expectation, not only the failed ones")
    p.add_argument("--json", action="store_true", help="print the rows as JSON lines")
    p.set_defaults(func=run_dq)

    p = subparsers.add_parser(
        "validate",
        help="run the data-quality gate on a run's audit branch (local spark-submit)",
        description="Validate the silver rows a run wrote on its audit branch and its audit.ingest_runs "
        "row with the suites in expectations/; writes audit.dq_results and Data Docs. Exit 1 when the gate fails.",
    )
    p.add_argument("--run-id", required=True, help="ingest run id")
    p.add_argument("--hour", default="", help="arrival hour, ISO (default: from audit.ingest_runs)")
    p.add_argument("--branch", default="", help="audit branch (default: from audit.ingest_runs)")
    p.set_defaults(func=run_validate)

    for action, text in (
        ("publish", "fast-forward silver main to a run's validated audit branch (manual recovery)"),
        ("discard", "drop a run's audit branch; main is untouched (manual recovery)"),
    ):
        p = subparsers.add_parser(action, help=text, description=f"{text[0].upper()}{text[1:]}.")
        p.add_argument("--run-id", required=True, help="ingest run id")
        p.add_argument("--branch", default="", help="audit branch (default: the one the gate validated)")
        p.set_defaults(func=run_publish, action=action)


# ------------------------------------------------------------------------------ dq


def docs_location(settings: Settings, run_id: str, rows: Sequence[Mapping[str, Any]]) -> str:
    """Where the run's Data Docs are: as the gate recorded it, else where the gate writes them
    for these settings (`lakehouse_core.spark_backends.data_docs_uri`), if a local index is there."""
    from lakehouse_core.spark_backends import data_docs_uri
    from spark_jobs.quality.reports import run_folder

    for row in rows:
        recorded = details(row).get("docs")
        if recorded:
            return str(recorded)
    local = Path(run_folder(data_docs_uri(settings), run_id)) / "index.html"
    return str(local) if local.exists() else ""


def format_run(settings: Settings, run_id: str, rows: Sequence[Mapping[str, Any]], show_all: bool = False) -> str:
    """The report `lakehouse dq --run-id` prints: verdict, branch, failed (or all) expectations, docs."""
    groups = attempts(rows)
    latest = groups[-1]
    failed = [r for r in latest if blocking(r)]
    context = details(latest[0])
    verdict = "PASSED" if not failed else "FAILED"
    when = latest[0]["validated_at"]
    lines = [
        f"run {run_id}: gate {verdict} ({len(latest) - len(failed)} of {len(latest)} expectations passed; "
        f"validated {when:%Y-%m-%d %H:%M:%S} UTC, attempt {len(groups)} of {len(groups)})",
        f"branch {context.get('branch', '?')} at snapshot {context.get('branch_snapshot_id', '?')}; "
        f"main was at {context.get('main_snapshot_id') or 'no snapshot'}; "
        f"event days {', '.join(context.get('event_days', [])) or 'none'}",
    ]
    shown = latest if show_all else [r for r in latest if not r["success"]]
    if shown:
        lines.append("")
        lines.append(
            table(
                ("status", "table", "expectation", "column", "unexpected", "observed"),
                [
                    (
                        "ok" if r["success"] else ("FAIL" if blocking(r) else "warn"),
                        r["table_name"],
                        r["expectation"],
                        r["column_name"] or "",
                        _unexpected(r),
                        _short(r["observed_value"]),
                    )
                    for r in shown
                ],
            )
        )
    for r in [r for r in latest if not r["success"]]:
        for sample in details(r).get("sample_rows", [])[:3]:
            lines.append(f"sample ({r['expectation']}, {r['column_name'] or '-'}): {_short(json.dumps(sample), 200)}")
    docs = docs_location(settings, run_id, latest)
    lines.append("")
    lines.append(f"Data Docs: {docs}" if docs else "Data Docs: none recorded for this run")
    if failed:
        lines.append(f"next: fix the input and re-run the hour, or `lakehouse discard --run-id {run_id}`")
    return "\n".join(lines)


def _unexpected(row: Mapping[str, Any]) -> str:
    if row["unexpected_count"] is None:
        return ""
    percent = f" ({row['unexpected_percent']:.3g}%)" if row["unexpected_percent"] is not None else ""
    return f"{row['unexpected_count']} of {row['element_count']}{percent}"


def _short(text: str | None, limit: int = 60) -> str:
    if not text:
        return ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_dq(args: argparse.Namespace) -> int:
    settings = load_settings()
    progress(f"dq: reading audit.dq_results from catalog {settings.catalog_name!r}")
    rows = read_results(settings, args.run_id)
    if args.json:
        for row in sorted(rows, key=lambda r: (str(r["validated_at"]), suite_order(r))):
            print(json.dumps(row, default=str, sort_keys=True))
        return 0 if rows else 1
    if not args.run_id:
        if not rows:
            print("no validations recorded yet")
            return 0
        print(format_runs(rows, args.last))
        return 0
    if not rows:
        hint = f"not validated yet? run `lakehouse validate --run-id {args.run_id}`"
        print(f"run {args.run_id}: no gate results ({hint})")
        return 1
    print(format_run(settings, args.run_id, rows, show_all=args.all))
    return 1 if any(blocking(r) for r in attempts(rows)[-1]) else 0


# ------------------------------------------------------------------------------ Spark jobs


def _submit(settings: Settings, script: Path, job_args: Mapping[str, str]) -> int:
    if settings.spark_backend != "local":
        progress(f"{script.name} runs with local spark-submit only (LAKEHOUSE_SPARK_BACKEND={settings.spark_backend})")
        return 2
    from lakehouse.runtime import local_spark
    from spark_jobs.jobargs import to_argv

    progress(f"spark-submit {script.name} " + " ".join(to_argv(job_args)))
    return local_spark.run_job(settings, script, dict(job_args))


def run_validate(args: argparse.Namespace) -> int:
    from lakehouse_core.spark_args import gate_args

    settings = load_settings()
    job_args = gate_args(settings, run_id=args.run_id, arrival_hour=args.hour, audit_branch=args.branch)
    code = _submit(settings, VALIDATE_SCRIPT, job_args)
    progress(f"validate: gate {'passed' if code == 0 else 'failed' if code == 1 else f'could not run (exit {code})'}")
    return code


def run_publish(args: argparse.Namespace) -> int:
    from lakehouse_core.spark_args import publish_args

    settings = load_settings()
    job_args = publish_args(settings, run_id=args.run_id, action=args.action, audit_branch=args.branch)
    code = _submit(settings, PUBLISH_SCRIPT, job_args)
    outcome = "done" if code == 0 else "refused" if code == 1 else f"could not run (exit {code})"
    progress(f"{args.action}: {outcome}")
    return code
