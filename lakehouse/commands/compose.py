"""`lakehouse compose up|demo|status|down|clean`: the docker-compose stack (docker/compose.yaml) from the host.

The third way to run the pipeline, next to the embedded `local` one and `aws`: PostgreSQL, an
S3-compatible object store (SeaweedFS) and Airflow 3 as separate services (api-server,
scheduler, dag-processor, triggerer, LocalExecutor), running the same DAG files with
LAKEHOUSE_ENV=compose. The host talks to the stack only through the ports the stack publishes
on 127.0.0.1:

    lakehouse compose up       # docker/.env from .env.example (random secrets) if missing;
                               # refuses `change-me` secrets; `up --wait`; prints the UI address
                               # and where the login is kept (never the password itself)
    lakehouse compose demo     # Firehose hours into the object store, one Airflow backfill through
                               # the REST API (/api/v2, JWT from /auth/token), the `make demo` summary
    lakehouse compose status   # the services and their health
    lakehouse compose down [--volumes]
    lakehouse compose clean [--dry-run]  # down --volumes --rmi all, then the build cache no image uses

The images are built beforehand by docker/build-images.sh (BuildKit); `make compose-up` does both.

What the stack is and how hours run through it is `lakehouse.runtime.compose_stack`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lakehouse.console import parse_hour, progress
from lakehouse.runtime.compose_stack import (
    ADMIN_USER,
    ENV_FILE,
    HOUR,
    PROJECT,
    RUN_TIMEOUT_SECONDS,
    UP_TIMEOUT_SECONDS,
    PlaceholderSecrets,
    Stack,
    ensure_env_file,
    run_hours,
)
from lakehouse.runtime.local_airflow import DAG_ID

# ------------------------------------------------------------------------------ the CLI


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compose",
        help="the docker-compose stack: up, demo, status, down (images: docker/build-images.sh)",
        description=(
            "Run the pipeline as a multi-service stack (docker/compose.yaml): PostgreSQL, an S3-compatible object "
            "store and Airflow's api-server, scheduler, dag-processor and triggerer. Build the images first "
            "(docker/build-images.sh, or `make compose-up`, which does both)."
        ),
    )
    p.add_argument("--project-name", default=PROJECT, help=f"compose project name (default {PROJECT})")
    p.add_argument("--env-file", type=Path, default=ENV_FILE, help="secrets and ports (default docker/.env)")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    up = actions.add_parser("up", help="start the stack and wait until every service is healthy")
    up.add_argument("--timeout", type=int, default=UP_TIMEOUT_SECONDS, help="seconds to wait for health")
    up.set_defaults(func=run_up)

    from lakehouse.runtime.demo import DEMO_HOURS, DEMO_SEED, DEMO_START, HOURS_ONLY_EVENTS_PER_HOUR

    demo = actions.add_parser(
        "demo",
        help="generate Firehose hours into the object store, run them through Airflow's REST API, print a summary",
    )
    demo.add_argument("--start", default=DEMO_START.strftime("%Y-%m-%dT%H"), help="first arrival hour, UTC")
    demo.add_argument("--hours", type=int, default=DEMO_HOURS, help=f"arrival hours (default {DEMO_HOURS})")
    demo.add_argument("--events-per-hour", type=int, default=HOURS_ONLY_EVENTS_PER_HOUR)
    demo.add_argument("--seed", type=int, default=DEMO_SEED)
    demo.add_argument("--timeout", type=int, default=RUN_TIMEOUT_SECONDS, help="seconds to wait for the runs")
    demo.set_defaults(func=run_demo)

    status = actions.add_parser("status", help="the services, their state and health")
    status.set_defaults(func=run_status)

    down = actions.add_parser("down", help="stop and remove the containers (the data volumes stay)")
    down.add_argument("--volumes", action="store_true", help="delete the data volumes too")
    down.set_defaults(func=run_down)

    clean = actions.add_parser(
        "clean",
        help="remove the stack's containers, volumes and images, and the build cache no image uses",
    )
    clean.add_argument("--dry-run", action="store_true", help="print the commands instead of running them")
    clean.set_defaults(func=run_clean)


def _stack(args: argparse.Namespace) -> Stack:
    return Stack(project=args.project_name, env_file=args.env_file)


def run_up(args: argparse.Namespace) -> int:
    stack = _stack(args)
    if ensure_env_file(stack.env_file):
        progress(f"compose: wrote {stack.env_file} with new random secrets (git-ignored; keep it)")
    progress(f"compose: starting {stack.project} (postgres, objectstore, airflow-init, api-server, scheduler, ...)")
    try:
        seconds = stack.up(args.timeout)
    except PlaceholderSecrets as exc:
        progress(f"compose: refusing to start: {exc}")
        return 2
    except subprocess.CalledProcessError:
        progress("compose: the stack did not become healthy; `lakehouse compose status` and `docker logs` say why")
        return 1
    values = stack.values()
    print(f"\nstack up and healthy in {seconds:.0f} s")
    print(f"Airflow UI:    {stack.ui_url}   login {ADMIN_USER} / AIRFLOW_ADMIN_PASSWORD in {stack.env_file}")
    print(f"object store:  http://127.0.0.1:{values['S3_PORT']}   (S3 API; keys S3_ACCESS_KEY / S3_SECRET_KEY)")
    print(f"PostgreSQL:    127.0.0.1:{values['POSTGRES_PORT']}   (databases airflow, catalog, warehouse)")
    print(f"secrets:       {stack.env_file}")
    print("next:          make compose-demo")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from lakehouse.generate import GenerateConfig, generate
    from lakehouse.runtime.demo import print_summary

    try:
        start = parse_hour(args.start)
        config = GenerateConfig(
            start=start, hours=args.hours, events_per_hour=args.events_per_hour, faults="all", seed=args.seed
        )
    except ValueError as exc:
        progress(f"compose demo: {exc}")
        return 2
    stack = _stack(args)
    try:
        stack.values()
    except FileNotFoundError as exc:
        progress(f"compose demo: {exc}")
        return 2
    began = time.perf_counter()
    # The generator and the summary talk to the stack's object store and PostgreSQL as a
    # client on this host would: by the ports published on 127.0.0.1.
    os.environ.update({k: v for k, v in stack.host_environ().items() if k.startswith("AWS_")})
    settings = stack.settings()
    hours = f"{args.hours} hour(s) x {args.events_per_hour} events"
    progress(f"compose demo [1/3] generate: {hours} to {settings.raw_root}")
    truth = generate(config, settings.raw_root, progress=progress)
    progress(f"compose demo [2/3] {DAG_ID} through Airflow's REST API at {stack.ui_url}")
    results = run_hours(stack.api(), start, start + args.hours * HOUR, timeout=args.timeout)
    progress("compose demo [3/3] summary")
    print()
    print_summary(settings, truth, results)
    print(f"\ncompose demo finished in {time.perf_counter() - began:.0f} s; the runs are in the UI at {stack.ui_url}")
    ok = len(results) == args.hours and all(r.ok for r in results)
    if not ok:
        print("a DAG run failed: open its link above (task logs are in the UI)")
    return 0 if ok else 1


def run_status(args: argparse.Namespace) -> int:
    from lakehouse.console import table

    rows = [
        (c.get("Service", "?"), c.get("State", "?"), c.get("Health", "") or "-", _ports(c))
        for c in _stack(args).containers()
    ]
    print(table(("service", "state", "health", "published"), rows) if rows else "no containers")
    return 0


def _ports(container: Mapping[str, Any]) -> str:
    ports = container.get("Publishers") or []
    published = {f"{p['URL']}:{p['PublishedPort']}" for p in ports if p.get("PublishedPort")}
    return ", ".join(sorted(published)) or "-"


def run_down(args: argparse.Namespace) -> int:
    _stack(args).down(volumes=args.volumes)
    progress("compose: stack removed" + (" with its data volumes" if args.volumes else "; data volumes kept"))
    return 0


def run_clean(args: argparse.Namespace) -> int:
    """`down --volumes --rmi all` for this project, then the dangling build cache (see `Stack.clean_commands`)."""
    import shlex

    commands = _stack(args).clean_commands()
    for command in commands:
        progress(f"compose clean: {shlex.join(command)}")
        if not args.dry_run:
            subprocess.run(command, check=True)
    if not args.dry_run:
        progress("compose clean: the stack's containers, volumes, images and unused build cache are gone")
    return 0
