"""`lakehouse bench-dags`: how long each DAG file takes to parse, the way Airflow parses it.

MWAA kills a DAG file import after 30 s; our budget is under 1 s per file. What counts is the
time Airflow's DAG processor spends importing the file, which it records per file
(`DagBag.dagbag_stats[*].duration`); this benchmark reads exactly that number.

Two numbers per file, each the median of `--runs` fresh processes:

- cold: the first parse in a new process that has imported Airflow (as a DAG-processor child
  has), so the file pays for its own imports (Cosmos, providers) and for rendering;
- warm: a second parse in the same process, imports cached: the steady-state cost of re-parsing.

It also reports the process's Airflow import time, which is paid once per process, not per file.
Bytecode: a deployed Airflow imports compiled `.pyc` files. Where `PYTHONDONTWRITEBYTECODE` is
set (or the virtualenv was installed without bytecode), every import would compile from
source and the numbers would measure the compiler; so the probes write their bytecode to a
temporary `PYTHONPYCACHEPREFIX`, filled by one discarded warm-up run per file.
Times depend on the machine; compare files with each other, and across commits on one machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from lakehouse_core.settings import REPO_ROOT

DAGS_FOLDER = REPO_ROOT / "dags"
BUDGET_SECONDS = 1.0

# Runs in a fresh interpreter: import Airflow, then parse one file twice with DagBag.
_PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
airflow_import = time.perf_counter() - t0
path = sys.argv[1]
durations = []
for _ in range(2):
    bag = DagBag(dag_folder=path, include_examples=False, safe_mode=True)
    (stat,) = bag.dagbag_stats  # one file: its own stat
    durations.append(stat.duration.total_seconds())
    errors = {str(k): str(v)[-400:] for k, v in bag.import_errors.items()}
print(json.dumps({"airflow_import": airflow_import, "cold": durations[0], "warm": durations[1],
                  "dags": sorted(bag.dag_ids), "tasks": sum(len(d.tasks) for d in bag.dags.values()),
                  "errors": errors}))
"""


@dataclass
class ParseTime:
    file: str
    dags: list[str]
    tasks: int
    cold_seconds: float
    warm_seconds: float
    airflow_import_seconds: float
    runs: int

    @property
    def within_budget(self) -> bool:
        return self.cold_seconds < BUDGET_SECONDS


def dag_files(folder: Path = DAGS_FOLDER) -> list[Path]:
    """Top-level DAG files (pipeline/ is a library, not DAGs)."""
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))


def probe_env(home: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("AIRFLOW_HOME", str(Path(home) / "airflow"))
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    env["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "ERROR"
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(home) / "pycache")
    return env


def measure(files: list[Path] | None = None, runs: int = 5) -> list[ParseTime]:
    """Median cold and warm parse time of each DAG file over `runs` fresh processes."""
    results: list[ParseTime] = []
    with tempfile.TemporaryDirectory() as home:
        env = probe_env(home)
        for path in files or dag_files():
            samples = [_probe(path, env) for _ in range(runs + 1)][1:]  # the first one fills the bytecode cache
            results.append(
                ParseTime(
                    file=path.name,
                    dags=samples[0]["dags"],
                    tasks=samples[0]["tasks"],
                    cold_seconds=statistics.median(s["cold"] for s in samples),
                    warm_seconds=statistics.median(s["warm"] for s in samples),
                    airflow_import_seconds=statistics.median(s["airflow_import"] for s in samples),
                    runs=runs,
                )
            )
    return results


def _probe(path: Path, env: dict[str, str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path)], env=env, capture_output=True, text=True, check=False, cwd=REPO_ROOT
    )
    if out.returncode != 0:
        raise RuntimeError(f"parsing {path.name} crashed:\n{out.stderr[-2000:]}")
    sample = json.loads(out.stdout.strip().splitlines()[-1])
    if sample["errors"]:
        raise RuntimeError(f"{path.name} failed to import: {sample['errors']}")
    return sample


def report(results: list[ParseTime]) -> str:
    from lakehouse.console import table

    rows = [
        [
            r.file,
            r.tasks,
            f"{r.cold_seconds:.3f}",
            f"{r.warm_seconds:.3f}",
            f"{r.airflow_import_seconds:.2f}",
            "yes" if r.within_budget else "NO",
        ]
        for r in results
    ]
    headers = ["DAG file", "tasks", "cold parse s", "warm parse s", "airflow import s", f"< {BUDGET_SECONDS:.0f} s"]
    return table(headers, rows)


def write_docs(results: list[ParseTime], runs: int) -> None:
    """The `## DAG parse` section of docs/benchmarks.md."""
    from datetime import UTC, datetime

    from lakehouse.benchmarks.docs import replace_section

    replace_section(
        "## DAG parse",
        "\n".join(
            [
                "## DAG parse",
                "",
                f"Measured by `lakehouse bench-dags` on {datetime.now(UTC):%Y-%m-%d} ({os.cpu_count()} cores): "
                f"the duration Airflow's DagBag records per file, median of {runs} fresh processes; cold = first "
                "parse in a process that imported Airflow (as a DAG-processor child), warm = re-parse. "
                f"Budget: under {BUDGET_SECONDS:g} s per file (MWAA's import timeout is 30 s).",
                "",
                "```",
                report(results),
                "```",
            ]
        ),
    )


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench-dags",
        help="measure each DAG file's parse time (cold and warm), as Airflow records it",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--runs", type=int, default=5, help="fresh processes per file (median reported)")
    p.add_argument("--json", dest="json_path", default="", help="also write the results as JSON to this file")
    p.add_argument("--no-docs", action="store_true", help="do not rewrite the DAG parse section of docs/benchmarks.md")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    results = measure(runs=max(1, args.runs))
    print(report(results))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps([asdict(r) for r in results], indent=2))
    if not args.no_docs:
        write_docs(results, args.runs)
    return 0 if all(r.within_budget for r in results) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="bench_dags")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    sys.exit(run(parser.parse_args(["bench-dags", *sys.argv[1:]])))
