"""`lakehouse bench-glue-start`: what a Glue job's Python install costs at every run start.

Glue pip-installs a job's `--additional-python-modules` each time the job starts, before Spark
runs a line. Before, every job named the same zip of every job's wheels (GX, numpy, pyarrow and
their closure, 38 wheels); now each job names only what Glue 5.1's image lacks for it
(`lakehouse.aws.bundle.glue_job_pins`): nothing for ingest, publish, maintenance and
recommendations, GX's closure beyond Glue's packages for the gate.

The nearest thing to a Glue start on this machine, per measured install:

1. a fresh Python 3.11 virtualenv with pip (`uv venv --seed`), holding the packages of Glue's
   image the jobs use at Glue's versions (`bundle.glue_image_pins`: numpy 2.3.4, pandas 2.3.3,
   pyarrow 22.0.0, ...), installed untimed;
2. timed: unpack the job's zip of wheels and `pip install --no-index --find-links <wheels> -r
   <its requirements>`, what Glue runs with `--python-modules-installer-option --no-index`.

Per hour the DAGs start ingest, gate and publish hourly, and maintenance twice and the
recommendations once a day. The result goes to docs/benchmarks.md ("Glue job start-up").
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

from lakehouse.aws import bundle as bundles
from lakehouse.benchmarks.docs import DOCS, replace_section
from lakehouse.console import progress, table
from lakehouse_core.settings import REPO_ROOT

SECTION = "## Glue job start-up: Python installs per run"
RUNS_PER_DAY = {  # orders_lakehouse hourly; maintain_silver once a day in it; the two daily DAGs
    "ingest_orders.py": 24,
    "validate_orders.py": 24,
    "publish_orders.py": 24,
    "maintain_tables.py": 2,
    "recommend_products.py": 1,
}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench-glue-start",
        help="time each Glue job's Python install at run start, whole zip vs per-job wheels (docs/benchmarks.md)",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--repeat", type=int, default=2, help="installs per wheel set; the median counts (default: 2)")
    p.add_argument("--no-docs", action="store_true", help="do not rewrite the section in docs/benchmarks.md")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = bench(args.repeat)
    print(render(result))
    if not args.no_docs:
        replace_section(SECTION, render(result))
        progress(f"bench-glue-start: results written to {DOCS.relative_to(REPO_ROOT)}")
    return 0


def bench(repeat: int) -> dict:
    image = bundles.glue_image_pins()
    bundles.fetch_wheels(image, bundles.JOBS_PYTHON, "cp311")  # Glue's own packages: never shipped
    whole = bundles.emr_image_pins()  # what the single zip held (it still goes into the EMR image)
    sets = {"whole zip (before, every job)": whole}
    for script in bundles.ENTRY_SCRIPTS:
        if bundles.glue_job_pins(script):
            sets[f"{script} (after)"] = bundles.glue_job_pins(script)
    seconds: dict[str, float] = {}
    sizes: dict[str, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-glue-start-") as tmp:
        for name, pins in sets.items():
            wheels = bundles._download(pins, bundles.JOBS_PYTHON, "cp311")
            archive = Path(tmp) / f"{len(sizes)}.gluewheels.zip"
            bundles.write_gluewheels(archive, pins, wheels)
            sizes[name] = (len(pins), archive.stat().st_size)
            times = [install_once(Path(tmp) / f"run-{len(sizes)}-{i}", image, archive) for i in range(repeat)]
            progress(f"bench-glue-start: {name}: {', '.join(f'{t:.1f} s' for t in times)}")
            seconds[name] = statistics.median(times)
    before = seconds["whole zip (before, every job)"]
    per_job = {}
    for script in bundles.ENTRY_SCRIPTS:
        after = seconds.get(f"{script} (after)", 0.0)  # no zip: Glue runs no pip at all
        per_job[script] = (before, after)
    per_hour_before = sum(before * RUNS_PER_DAY[s] for s in per_job) / 24
    per_hour_after = sum(after * RUNS_PER_DAY[s] for s, (_, after) in per_job.items()) / 24
    return {
        "sizes": sizes,
        "per_job": per_job,
        "per_hour": (per_hour_before, per_hour_after),
        "load": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d"),
        "repeat": repeat,
    }


def install_once(work: Path, image: list[str], archive: Path) -> float:
    """A fresh Glue-like venv (untimed), then the timed unpack + pip install of `archive`."""
    uv = str(REPO_ROOT / ".venv" / "bin" / "uv")
    venv = work / "venv"
    subprocess.run([uv, "venv", "-q", "--seed", "--python", bundles.JOBS_PYTHON, str(venv)], check=True)
    python = str(venv / "bin" / "python")
    found = str(bundles.CACHE / "wheels-cp311")
    seed = [uv, "pip", "install", "-q", "--python", python, "--offline", "--find-links", found]
    subprocess.run([*seed, *image], check=True)
    started = time.monotonic()
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(work / "unpacked")
    wheels = work / "unpacked" / "wheels"
    pip = [python, "-m", "pip", "install", "-q", "--no-index", "--find-links", str(wheels)]
    subprocess.run([*pip, "-r", str(wheels / "requirements.txt")], check=True)
    elapsed = time.monotonic() - started
    shutil.rmtree(work)
    return elapsed


def render(result: dict) -> str:
    one, five, fifteen = result["load"]
    before_hour, after_hour = result["per_hour"]
    rows = [
        (script, f"{RUNS_PER_DAY[script]}", f"{before:.1f}", f"{after:.1f}" if after else "0 (no pip)")
        for script, (before, after) in result["per_job"].items()
    ]
    sets = [(name, str(n), f"{size / 1e6:.1f} MB") for name, (n, size) in result["sizes"].items()]
    ratio = f"{before_hour / after_hour:.1f}x less" if after_hour else "all of it saved"
    return "\n".join(
        [
            SECTION,
            "",
            f"Measured {result['date']} by `lakehouse bench-glue-start` (median of {result['repeat']} installs per "
            f"wheel set; load average {one:.2f} / {five:.2f} / {fifteen:.2f} on 2 cores shared with other work). "
            "Each install: a fresh Python 3.11 venv already holding Glue 5.1's own numpy, pandas, pyarrow and "
            "friends (untimed), then the timed unpack of the job's zip of wheels and `pip install --no-index "
            "--find-links wheels -r wheels/requirements.txt`, as Glue does at every job start. Before, every job "
            "installed the same zip (which also replaced Glue's numpy and pyarrow with main.lock's); now only "
            "the gate has one.",
            "",
            "```",
            table(("wheel set", "wheels", "zip"), sets),
            "",
            table(("job", "runs/day", "before (s)", "after (s)"), rows),
            "```",
            "",
            f"Per hour (all jobs, runs/day / 24): **{before_hour:.1f} s before, {after_hour:.1f} s after** "
            f"({ratio}) of Glue start-up spent in pip, billed at the job's DPUs.",
        ]
    )
