"""`lakehouse bench-demo`: how long a newcomer waits, and where that time goes.

Times, on this machine, as a person would run them:

1. `make demo` from an empty lakehouse (setup already done): the first ten minutes' main event;
2. `make demo` again (idempotent: it must be no slower);
3. one hourly DAG run (`lakehouse run-hour`, the demo's middle hour again), alone;
4. `make test` (optional, `--with-tests`; about ten minutes).

For each DAG run it reads the run's own log (`[DAG TEST] starting/end task` lines) and splits the
time into Airflow's start-up, each Spark step, the dbt build, the dbt model tasks and the rest,
so the section in docs/benchmarks.md says where the time goes. The machine's load average is
recorded next to every number: on a shared machine the same run takes twice as long under load.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lakehouse.console import progress, table
from lakehouse_core.settings import REPO_ROOT, load_settings

HEADING = "## Pipeline runs (demo, hourly run, tests)"
MARK = re.compile(r"^(\S+Z) .*\[DAG TEST\] (starting|end task) task_id=(\S+)")
STEPS = ("wait_for_hour", "ingest", "quality_gate", "publish", "dbt.dbt_producer_watcher")


@dataclass
class Breakdown:
    """Seconds per part of one `airflow dags test` run, from its log."""

    total: float
    parts: dict[str, float] = field(default_factory=dict)


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def breakdown(log_file: Path, total: float) -> Breakdown:
    """Split a run's wall time: start-up, the main steps, dbt model tasks, other tasks, shut-down."""
    starts: dict[str, datetime] = {}
    spans: dict[str, float] = {}
    first = last = None
    for line in log_file.read_text(errors="replace").splitlines():
        m = MARK.match(line)
        if not m:
            continue
        moment = datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
        first, last = first or moment, moment
        if m.group(2) == "starting":
            starts[m.group(3)] = moment
        elif m.group(3) in starts:
            spans[m.group(3)] = spans.get(m.group(3), 0.0) + (moment - starts[m.group(3)]).total_seconds()
    if first is None or last is None:
        return Breakdown(total, {"(no task ran)": total})
    in_tasks = (last - first).total_seconds()
    parts = {step: spans.pop(step, 0.0) for step in STEPS}
    dbt_tasks = [v for k, v in spans.items() if k.startswith("dbt.")]
    parts["dbt model/test tasks"] = sum(dbt_tasks)
    parts["other tasks"] = sum(v for k, v in spans.items() if not k.startswith("dbt."))
    parts["between tasks"] = in_tasks - sum(parts.values())
    parts["Airflow start + shut-down"] = total - in_tasks
    return Breakdown(total, parts)


def timed(command: list[str], log: Path) -> tuple[float, int]:
    started = time.perf_counter()
    with open(log, "w") as out:
        code = subprocess.run(command, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    return time.perf_counter() - started, code


def demo_hour_logs(home: Path) -> list[Path]:
    return sorted((home / "airflow" / "logs" / "dags-test").glob("orders_lakehouse-*.log"))


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    work = settings.home / "bench"
    rows: list[tuple[str, str, str, str]] = []
    breakdowns: dict[str, Breakdown] = {}

    progress("bench-demo: make demo from an empty lakehouse")
    for name in ("raw", "warehouse", "catalog.db", "warehouse.duckdb", "manifests", "reports", "airflow"):
        path = settings.home / name
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    for label in ("make demo (first)", "make demo (again)"):
        load = _load()
        seconds, code = timed(["make", "demo"], work / "demo.log")
        rows.append((label, f"{seconds:.0f} s", "ok" if code == 0 else f"exit {code}", load))
        for log in demo_hour_logs(settings.home):
            hour_seconds = _hour_seconds(work / "demo.log", log)
            breakdowns[f"{label}: {log.stem.split('-')[-1]}"] = breakdown(log, hour_seconds)
        if code != 0:
            break

    progress("bench-demo: one hourly run (lakehouse run-hour 2026-11-01T09)")
    load = _load()
    seconds, code = timed([sys.executable, "-m", "lakehouse.cli", "run-hour", "2026-11-01T09"], work / "hour.log")
    rows.append(("one hourly DAG run (run-hour, warm Spark driver)", f"{seconds:.0f} s", _ok(code), load))
    hour_log = settings.home / "airflow" / "logs" / "dags-test" / "orders_lakehouse-20261101T09.log"
    breakdowns["run-hour 2026-11-01T09"] = breakdown(hour_log, _hour_seconds(work / "hour.log", hour_log))
    if args.cold_spark:
        load = _load()
        command = [sys.executable, "-m", "lakehouse.cli", "run-hour", "2026-11-01T09", "--cold-spark"]
        seconds, code = timed(command, work / "hour-cold.log")
        rows.append(("one hourly DAG run (run-hour --cold-spark)", f"{seconds:.0f} s", _ok(code), load))
        breakdowns["run-hour --cold-spark"] = breakdown(hour_log, _hour_seconds(work / "hour-cold.log", hour_log))

    if args.with_tests:
        progress("bench-demo: make test")
        load = _load()
        seconds, code = timed(["make", "test", "PYTEST_ARGS=--durations=12"], work / "test.log")
        rows.append(("make test (two workers)", f"{seconds:.0f} s", _ok(code), load))

    body = _section(rows, breakdowns, work / "test.log" if args.with_tests else None)
    print(body)
    if args.write_docs:
        from lakehouse.benchmarks.docs import replace_section

        replace_section(HEADING, body)
        progress("bench-demo: docs/benchmarks.md updated")
    return 0 if all(r[2] == "ok" for r in rows) else 1


def _ok(code: int) -> str:
    return "ok" if code == 0 else f"exit {code}"


def _hour_seconds(cli_log: Path, hour_log: Path) -> float:
    """The `-> state in Ns` the CLI printed for the hour of `hour_log` (its wall time)."""
    stamp = hour_log.stem.split("-")[-1]  # 20261101T09
    label = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:00"
    found = re.findall(rf"{re.escape(label)} -> \w+ in (\d+)s", cli_log.read_text(errors="replace"))
    return float(found[-1]) if found else 0.0


def _section(rows, breakdowns: dict[str, Breakdown], test_log: Path | None) -> str:
    when = time.strftime("%Y-%m-%d")
    lines = [
        HEADING,
        "",
        f"Measured by `make bench-demo` on {when} ({os.cpu_count()} cores, Python {sys.version.split()[0]}); "
        "`load` is the 1/5/15-minute load average when the step started (2 cores: above 2 means other "
        "work was competing for them).",
        "",
        "```",
        table(("what", "time", "result", "load"), rows),
        "```",
        "",
        "Where each DAG run's time goes (seconds, from the run's log; dbt = one `dbt build` in the "
        "watcher task, then a task per model and test reading its outcome):",
        "",
        "```",
    ]
    parts = list(next(iter(breakdowns.values())).parts) if breakdowns else []
    headers = ("run", "total", *[p.replace("dbt.dbt_producer_watcher", "dbt build") for p in parts])
    body = [(name, f"{b.total:.0f}", *[f"{b.parts.get(p, 0):.1f}" for p in parts]) for name, b in breakdowns.items()]
    lines += [table(headers, body), "```"]
    if test_log and test_log.exists():
        text = test_log.read_text(errors="replace")
        slowest = re.search(r"=+ slowest \d+ durations =+\n(.*?)\n\n", text, re.S)
        summary = [line for line in text.splitlines() if re.search(r"\d+ passed", line)]
        lines += ["", "`make test`: " + (summary[-1].strip("= ") if summary else "see the log")]
        if slowest:
            lines += ["", "Its slowest steps (`--durations`):", "", "```", slowest.group(1).strip(), "```"]
    return "\n".join(lines) + "\n"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench-demo",
        help="time make demo (twice), one hourly run and optionally make test; where the time goes",
        description=(
            "Empties the local lakehouse, runs `make demo` twice, one `lakehouse run-hour`, optionally "
            "`make test`, and writes the times with a per-step breakdown to docs/benchmarks.md."
        ),
    )
    p.add_argument("--with-tests", action="store_true", help="also time `make test` (about ten minutes)")
    p.add_argument("--cold-spark", action="store_true", help="also time the hourly run with one spark-submit per job")
    p.add_argument("--no-docs", dest="write_docs", action="store_false", help="print only")
    p.set_defaults(func=run)
