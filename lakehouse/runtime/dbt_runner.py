"""`lakehouse dbt`: build the warehouse (the dbt project in `dbt/`) from the silver Iceberg tables.

dbt lives in its own virtualenv (as on MWAA, where `startup.sh` makes it), so this module never
imports dbt: it runs `settings.dbt_executable` as a subprocess.

On the `local` target the warehouse is a DuckDB file, `<home>/warehouse.duckdb`. DuckDB's Iceberg
extension cannot be installed offline, so before dbt runs, `export_silver` reads
`silver.order_lines` through pyiceberg (the same SQL catalog Spark writes) and replaces the
DuckDB table `silver.order_lines` with it in one transaction; the dbt source reads that table.
On `compose` the warehouse is PostgreSQL (the Redshift stand-in of docker-compose) and the same
copy goes there (`lakehouse.runtime.warehouse_export`). On `redshift` nothing is exported: the source is
a Spectrum external schema over the Glue database. Which warehouse, and whether it gets a copy,
is `pipeline.warehouse`'s to say (`warehouse_for(settings)`).

    lakehouse dbt                      # export silver, then `dbt build` on the settings' target
    lakehouse dbt -- parse             # any dbt command line after `--` (writes dbt/target/manifest.json)
    lakehouse dbt --no-export -- test --select marts
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from lakehouse.console import progress
from lakehouse_core.settings import REPO_ROOT, Settings
from pipeline.dbt_cosmos import dbt_env
from pipeline.dbt_project import manifest_path
from pipeline.warehouse import WAREHOUSES, warehouse_for

DBT_PROJECT_DIR = REPO_ROOT / "dbt"
# What `dbt parse` reads: when one of these is newer than the manifest, the manifest is stale.
MANIFEST_INPUTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests")
DEFAULT_DBT_ARGS = ("build",)
EXPORTING_COMMANDS = frozenset({"build", "run", "test", "show", "retry"})


class DbtRunnerError(RuntimeError):
    """The warehouse build cannot start (no silver table, no dbt executable, ...)."""


def dbt_environment(
    settings: Settings, project_dir: Path = DBT_PROJECT_DIR, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Environment for the dbt subprocess: project and profiles dir, target and DuckDB path from settings."""
    env = dict(os.environ if base is None else base)
    env.update(dbt_env(settings))  # the same variables Cosmos gives the DAG's dbt tasks
    env.update({"DBT_PROJECT_DIR": str(project_dir), "DBT_PROFILES_DIR": str(project_dir)})
    return env


def run_dbt(settings: Settings, args: Sequence[str] = DEFAULT_DBT_ARGS, project_dir: Path = DBT_PROJECT_DIR) -> int:
    """Run `dbt <args>` on the project with its own profiles.yml; returns dbt's exit code.

    Target and warehouse path come from `settings`; `--target` in `args` still wins (dbt's own rule).
    """
    executable = Path(settings.dbt_executable)
    if not executable.exists():
        raise DbtRunnerError(
            f"dbt executable {executable} not found; run `make setup` (it creates .venv-dbt) "
            "or set LAKEHOUSE_DBT_EXECUTABLE"
        )
    args = list(args) or list(DEFAULT_DBT_ARGS)
    run_env = dbt_environment(settings, project_dir)
    target = _target_from_args(args, settings.dbt_target)
    progress(f"dbt: {' '.join(['dbt', *args])} (target {target}, project {project_dir})")
    started = time.perf_counter()
    completed = subprocess.run([str(executable), *args], env=run_env, cwd=REPO_ROOT, check=False)
    progress(f"dbt: exit code {completed.returncode} after {time.perf_counter() - started:.1f}s")
    return completed.returncode


def manifest_is_stale(project_dir: Path = DBT_PROJECT_DIR) -> bool:
    """True when the manifest Cosmos renders from is missing or older than a dbt source file."""
    manifest = manifest_path(project_dir)
    if not manifest.is_file():
        return True
    built = manifest.stat().st_mtime
    for name in MANIFEST_INPUTS:
        root = project_dir / name
        files = [root] if root.is_file() else (p for p in root.rglob("*") if p.is_file())
        if any(f.stat().st_mtime > built for f in files):
            return True
    return False


def ensure_manifest(settings: Settings, project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """`dbt parse` when the manifest is stale, so the DAG always renders the current models."""
    manifest = manifest_path(project_dir)
    if manifest_is_stale(project_dir) and run_dbt(settings, ["parse"], project_dir) != 0:
        raise DbtRunnerError(f"`dbt parse` failed; the DAG cannot render dbt tasks without {manifest}")
    return manifest


def _target_from_args(args: Sequence[str], default: str) -> str:
    for i, arg in enumerate(args):
        if arg in ("--target", "-t") and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--target="):
            return arg.split("=", 1)[1]
    return default


def _needs_silver(args: Sequence[str], settings: Settings) -> bool:
    """Only commands that query the source on a copying target need the export (not parse, ls, docs...)."""
    command = next((a for a in args if not a.startswith("-")), DEFAULT_DBT_ARGS[0])
    warehouse = WAREHOUSES.get(_target_from_args(args, settings.dbt_target))
    return command in EXPORTING_COMMANDS and warehouse is not None and warehouse.copies_silver


def build_warehouse(settings: Settings, args: Sequence[str] = DEFAULT_DBT_ARGS, export: bool = True) -> int:
    """Export silver (local target, commands that read it) and run dbt; what the demo and the local DAG call."""
    if export and _needs_silver(args, settings):
        warehouse = warehouse_for(settings)
        started = time.perf_counter()
        rows = warehouse.export_silver()
        elapsed = time.perf_counter() - started
        progress(f"dbt: exported silver ({rows} rows) to {warehouse.location} in {elapsed:.1f}s")
    return run_dbt(settings, args)


def daily_sales_preview(settings: Settings, limit: int = 10) -> tuple[list[str], list[tuple]]:
    """(headers, rows): the latest days of marts.agg_daily_sales, biggest net revenue first.

    Read from the target's warehouse (`pipeline.warehouse`): the DuckDB file (`local`) or PostgreSQL (`compose`).
    """
    sql = f"""
        select order_date, country, stock_code, sold_quantity, cancelled_quantity, net_revenue, currency
        from marts.agg_daily_sales
        order by order_date desc, net_revenue desc, country, stock_code
        limit {int(limit)}
    """  # nosec B608  # limit is int()
    return warehouse_for(settings).query(sql)
