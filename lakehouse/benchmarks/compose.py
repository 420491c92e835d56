"""`lakehouse bench-compose`: what the docker-compose stack costs in time, measured in one run.

    lakehouse bench-compose            # warm: builds with the layer and download caches as they are
    lakehouse bench-compose --cold     # first drops the three images and BuildKit's cache (all of it:
                                       # every project's build cache on this engine), then builds
    lakehouse bench-compose --no-build # the stack only: up, the hours, down (images as built)

Measured, each once, on a throwaway compose project (its own env file, free ports, `down -v` at
the end, so a running `lakehouse` stack is left alone):

- image build, cold (with `--cold`): nothing cached, every package downloaded;
- image build, warm: the same build again, every layer cached (what `make compose-up` costs
  when nothing changed);
- image build, downloads cached: every layer rebuilt (`--no-cache`) while apt, pip and uv
  downloads come from BuildKit's cache mounts (what a changed lock file costs, at most);
- `up --wait`: from nothing to every service healthy (fresh volumes: initdb, migration);
- the demo's hours (`--hours`, default 3): ~5,000 events each with every fault, one backfill
  through the REST API, each run from its start to its end as Airflow records them, and where
  the first hour's time went (`phases`: before the Spark steps, ingest, gate, publish, up to
  dbt, the dbt build, dbt's per-model tasks, the rest), from the task instances' own times.

The numbers go to the `## Compose` section of docs/benchmarks.md (`--no-docs` to skip). Bare
times depend on the machine and what else runs on it; the section says which machine it was.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lakehouse.console import progress, table
from lakehouse_core.settings import REPO_ROOT

IMAGES = ("postgres", "objectstore", "airflow")
BUILD_SCRIPT = REPO_ROOT / "docker" / "build-images.sh"
DEMO_EVENTS = 5000


@dataclass
class Measure:
    what: str
    seconds: float
    note: str = ""


def _build(extra_env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run([str(BUILD_SCRIPT)], check=True, env={**os.environ, **(extra_env or {})})
    return time.perf_counter() - started


def _image_size(name: str) -> str:
    out = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Size}}", f"lakehouse/{name}:local"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return f"{int(out) / 1e9:.2f} GB"


def phases(tasks: Mapping[str, Mapping[str, Any]], run_start: datetime, run_end: datetime) -> list[Measure]:
    """Where one hourly run's time went, from its task instances' start and end (`/taskInstances`).

    `tasks`: task_id -> {"start_date", "end_date"} (datetimes or ISO strings, None when it did
    not run). The rows add up to the run's time: each phase ends where the next one starts.
    """

    def at(task_id: str, key: str) -> datetime | None:
        value = (tasks.get(task_id) or {}).get(key)
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value

    dbt = [t for t in tasks if t.startswith("dbt.") and at(t, "end_date")]
    build = next((t for t in dbt if t.endswith("dbt_producer_watcher")), None)
    dbt_start = min((at(t, "start_date") for t in dbt), default=None)
    dbt_end = max((at(t, "end_date") for t in dbt), default=None)
    marks = [
        ("start to the ingest (wait, claim, manifest, tables)", run_start),
        ("ingest (Spark)", at("ingest", "start_date")),
        ("quality_gate (Spark + GX)", at("quality_gate", "start_date")),
        ("publish (Spark)", at("publish", "start_date")),
        ("publish to dbt (export_silver, gaps)", at("publish", "end_date")),
        (f"dbt: {'the one `dbt build`' if build else 'models and tests'}", dbt_start),
        ("dbt: the per-model tasks after the build", at(build, "end_date") if build else None),
        ("dbt to the run's end (marts_published, rate_alarm)", dbt_end),
    ]
    marks = [(what, when) for what, when in marks if when is not None]
    bounds = [when for _, when in marks[1:]] + [run_end]
    return [
        Measure(f"  {what}", max((end - begin).total_seconds(), 0.0))
        for (what, begin), end in zip(marks, bounds, strict=True)
    ]


def run_phases(api, run_id: str, dag_id: str = "orders_lakehouse") -> list[Measure]:
    """`phases` of one DAG run, read through the REST API."""
    import urllib.parse

    quoted = urllib.parse.quote(run_id, safe="")
    run = api.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quoted}")
    instances = api.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quoted}/taskInstances", query={"limit": 1000})
    tasks = {ti["task_id"]: ti for ti in instances["task_instances"]}
    parse = datetime.fromisoformat
    return phases(tasks, parse(run["start_date"].replace("Z", "+00:00")), parse(run["end_date"].replace("Z", "+00:00")))


def measure(cold: bool, build: bool = True, hours: int = 3) -> list[Measure]:
    from lakehouse.generate import GenerateConfig, generate
    from lakehouse.runtime.compose_stack import HOUR, Stack, ensure_env_file, run_hours
    from lakehouse.runtime.demo import DEMO_START

    results: list[Measure] = []
    if cold:
        progress("bench-compose: dropping the images and BuildKit's cache")
        subprocess.run(["docker", "image", "rm", "-f", *(f"lakehouse/{i}:local" for i in IMAGES)], check=False)
        subprocess.run(["docker", "builder", "prune", "--all", "--force"], check=True, capture_output=True)
        results.append(Measure("image build, cold (3 images, nothing cached)", _build()))
    if build:
        results.append(Measure("image build, warm (every layer cached)", _build()))
        results.append(
            Measure(
                "image build, every layer rebuilt, downloads cached",
                _build({"DOCKER_BUILD_EXTRA": "--no-cache"}),
                "what a changed lock file costs at most",
            )
        )
    sizes = ", ".join(f"{name} {_image_size(name)}" for name in IMAGES)

    with tempfile.TemporaryDirectory(prefix="bench-compose-") as folder:
        env_file = Path(folder) / "compose.env"
        ports = {name: str(_free_port()) for name in ("AIRFLOW_PORT", "POSTGRES_PORT", "S3_PORT")}
        ensure_env_file(env_file, overrides=ports)
        stack = Stack(project=f"lakehouse-bench-{os.getpid()}", env_file=env_file)
        saved = dict(os.environ)
        os.environ.update({k: v for k, v in stack.host_environ().items() if k.startswith("AWS_")})
        try:
            results.append(Measure("`up --wait`: fresh volumes to every service healthy", stack.up()))
            config = GenerateConfig(start=DEMO_START, hours=hours, events_per_hour=DEMO_EVENTS, faults="all", seed=7)
            generate(config, stack.settings().raw_root)
            api = stack.api()
            started = time.perf_counter()
            runs = run_hours(api, DEMO_START, DEMO_START + hours * HOUR)
            backfill = time.perf_counter() - started
            for number, hour in enumerate(runs, 1):
                what = f"hourly DAG run {number} of {hours} ({DEMO_EVENTS:,} events, {len(hour.tasks)} tasks)"
                results.append(Measure(what, hour.seconds, f"{hour.state}, arrival hour {hour.hour:%H}:00"))
                if number == 1:
                    results.extend(run_phases(api, hour.run_id))
            results.append(Measure(f"the {hours} hours as one backfill (REST API to its end)", backfill))
            started = time.perf_counter()
            stack.down(volumes=True)
            results.append(Measure("`down --volumes`", time.perf_counter() - started))
        finally:
            os.environ.clear()
            os.environ.update(saved)
            stack.down(volumes=True)
    results.append(Measure("image sizes", 0.0, sizes))
    return results


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def report(results: list[Measure]) -> str:
    return table(
        ("measure", "value", "note"),
        [(m.what, f"{m.seconds:.0f} s" if m.seconds or m.what.startswith("  ") else "-", m.note) for m in results],
    )


def write_docs(results: list[Measure], load: tuple[float, float], command: str = " --cold") -> None:
    from lakehouse.benchmarks.docs import replace_section

    replace_section(
        "## Compose",
        "\n".join(
            [
                "## Compose",
                "",
                f"Measured by `lakehouse bench-compose{command}` on {datetime.now(UTC):%Y-%m-%d} "
                f"({os.cpu_count()} cores, "
                "Docker engine 20.10 with BuildKit, base image made by debootstrap). One run each, on a shared "
                f"machine: 1-minute load average {load[0]:.1f} at the start, {load[1]:.1f} at the end (2 cores). "
                "Bare times stretch with the load; compare the rows with each other.",
                "",
                "```",
                report(results),
                "```",
            ]
        ),
    )


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench-compose",
        help="docker-compose stack: cold/warm image build, `up` time, one hour's DAG run",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    p.add_argument("--cold", action="store_true", help="drop the images and BuildKit's whole cache first")
    p.add_argument("--no-build", action="store_true", help="skip the image builds: up, the hours, down")
    p.add_argument("--hours", type=int, default=3, help="arrival hours to run (default 3, the demo's)")
    p.add_argument("--no-docs", action="store_true", help="do not rewrite the Compose section of docs/benchmarks.md")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    load_before = os.getloadavg()[0]
    results = measure(args.cold, build=not args.no_build, hours=args.hours)
    load = (load_before, os.getloadavg()[0])
    print(report(results))
    print(f"load average: {load[0]:.1f} at the start, {load[1]:.1f} at the end")
    if not args.no_docs:
        flags = "".join(f for f, on in ((" --cold", args.cold), (" --no-build", args.no_build)) if on)
        write_docs(results, load, flags + (f" --hours {args.hours}" if args.hours != 3 else ""))
    return 0
