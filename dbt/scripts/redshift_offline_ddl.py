"""Render the SQL dbt-redshift would run for every model, with no cluster, and check it.

Run it with the dbt virtualenv's Python (it imports dbt):

    .venv-dbt/bin/python dbt/scripts/redshift_offline_ddl.py --project-dir dbt [--report out.json]

How: `dbt run --target redshift` runs in this process with `redshift_connector.connect` replaced
by a recorder. dbt-redshift's real materializations (table, incremental, view) render and "execute"
their statements; the recorder keeps each one (dbt's query comment names the model) and answers
every introspective query with an empty result, so the warehouse looks empty and every model
takes its first-build path: `create table ... diststyle ... sortkey(...) as (...)` for tables
and incrementals, `create view ... with no schema binding` for views. Nothing leaves the process.

Then it checks, per model:
  - every table/incremental model under models/marts declares `dist`, `sort` and `sort_type`,
    and the reason in `meta.redshift_physical_design` (its YAML); facts (`fct_`) are distributed
    on a key and sorted by a date first; dimensions (`dim_`) are `dist='all'`;
  - the rendered CREATE TABLE carries exactly those keys: `diststyle all|even` or
    `diststyle key distkey (<col>)`, and `<sort_type> sortkey(<cols>)`;
  - every view is late-binding (`with no schema binding`);
  - the compiled SELECT of every model and every rendered DDL statement parse with sqlglot's
    Redshift dialect into real statements (not its opaque fallback).
It also renders `create_spectrum_schema` (the external schema DDL).

Prints one line per model (and writes the full JSON report to --report); exits 1 on any problem.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import threading
from pathlib import Path

NODE_ID = re.compile(r'"node_id":\s*"([^"]+)"')
DIST = re.compile(r"\bdiststyle\s+(all|even|key)\b(?:\s+distkey\s*\(\s*([^)]*?)\s*\))?", re.IGNORECASE)
SORT = re.compile(r"\b(compound|interleaved)\s+sortkey\s*\(\s*([^)]*?)\s*\)", re.IGNORECASE)
CREATE_TABLE = re.compile(r"^\s*(?:/\*.*?\*/\s*)?create\s+(?:temporary\s+)?table\b", re.IGNORECASE | re.DOTALL)
CREATE_VIEW = re.compile(r"^\s*(?:/\*.*?\*/\s*)?create\s+view\b", re.IGNORECASE | re.DOTALL)
QUERY_COMMENT = re.compile(r"^\s*/\*.*?\*/\s*", re.DOTALL)
DATE_COLUMN = re.compile(r"(_date|_day|_hour|_at|_ts)$")

# A Redshift profile that never connects: the recorder below stands in for the driver.
OFFLINE_ENV = {
    "DBT_REDSHIFT_METHOD": "database",
    "DBT_REDSHIFT_HOST": "offline.invalid",
    "DBT_REDSHIFT_USER": "offline",
    "DBT_ENV_SECRET_REDSHIFT_PASSWORD": "offline",
    "DBT_REDSHIFT_DATABASE": "analytics",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_VERSION_CHECK": "false",
}


class Recorder:
    """What the fake driver saw: (node id or None, sql), in order."""

    def __init__(self) -> None:
        self.statements: list[tuple[str | None, str]] = []
        self._lock = threading.Lock()

    def add(self, sql: str) -> None:
        match = NODE_ID.search(sql[:2000])
        with self._lock:
            self.statements.append((match.group(1) if match else None, sql))

    def for_node(self, unique_id: str) -> list[str]:
        return [sql for node, sql in self.statements if node == unique_id]


class _Cursor:
    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self.description = None  # every query returns "no rows": the warehouse is empty
        self.rowcount = -1

    def execute(self, sql, *args, **kwargs):
        self._recorder.add(sql)
        return self

    def fetchone(self):
        return None

    def fetchall(self):
        return []

    def fetchmany(self, size=None):
        return []

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


class _Connection:
    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self.autocommit = True

    def cursor(self) -> _Cursor:
        return _Cursor(self._recorder)

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


def _columns(text: str) -> list[str]:
    return [c.strip().strip('"').lower() for c in text.split(",") if c.strip()]


def parse_physical_design(ddl: str) -> dict[str, object]:
    """diststyle / distkey / sort type / sort keys of one CREATE TABLE statement.

    Read from sqlglot's Redshift syntax tree; sqlglot does not model INTERLEAVED sort keys (it
    falls back to an opaque command), so those are read with a regular expression instead.
    """
    import sqlglot
    from sqlglot import exp

    found: dict[str, object] = {"diststyle": None, "distkey": None, "sort_type": None, "sortkey": [], "via": "sqlglot"}
    tree = sqlglot.parse_one(ddl, read="redshift")
    if isinstance(tree, exp.Create) and tree.args.get("properties") is not None:
        for prop in tree.args["properties"].expressions:
            if isinstance(prop, exp.DistStyleProperty):
                found["diststyle"] = prop.this.name.lower()
            elif isinstance(prop, exp.DistKeyProperty):
                found["distkey"] = prop.this.name.lower()
            elif isinstance(prop, exp.SortKeyProperty):
                found["sort_type"] = "compound" if prop.args.get("compound") else None
                found["sortkey"] = [col.name.lower() for col in prop.this]
        return found
    found["via"] = "regex"
    if dist := DIST.search(ddl):
        found["diststyle"] = dist.group(1).lower()
        found["distkey"] = dist.group(2).strip().strip('"').lower() if dist.group(2) else None
    if sort := SORT.search(ddl):
        found["sort_type"] = sort.group(1).lower()
        found["sortkey"] = _columns(sort.group(2))
    return found


def expected_physical_design(config: dict) -> dict[str, object]:
    """What dbt-redshift should render for a model's dist/sort/sort_type config."""
    dist = config.get("dist")
    sort = config.get("sort")
    if isinstance(sort, str):
        sort = [sort]
    expected: dict[str, object] = {"diststyle": None, "distkey": None, "sort_type": None, "sortkey": []}
    if dist:
        dist = str(dist).strip().lower()
        if dist in ("all", "even"):
            expected["diststyle"] = dist
        elif dist != "auto":
            expected["diststyle"], expected["distkey"] = "key", dist
    if sort:
        expected["sort_type"] = str(config.get("sort_type") or "compound").lower()
        expected["sortkey"] = [str(c).lower() for c in sort]
    return expected


def redshift_parse_problems(what: str, sql: str) -> list[str]:
    """sqlglot must parse `sql` as Redshift into real statements (not opaque fallback commands)."""
    import sqlglot
    from sqlglot import exp

    try:
        statements = [s for s in sqlglot.parse(sql, read="redshift") if s is not None]
    except sqlglot.errors.ParseError as exc:
        return [f"{what} does not parse as Redshift: {str(exc).splitlines()[0]}"]
    if not statements:
        return [f"{what} is empty"]
    opaque = [s for s in statements if isinstance(s, exp.Command)]
    if opaque:
        return [f"{what} has syntax sqlglot's Redshift dialect does not understand: {opaque[0].sql()[:80]}"]
    return []


def policy_problems(name: str, config: dict) -> list[str]:
    """The project's physical-design rules for a table mart (DESIGN.md, "Warehouse (dbt)")."""
    issues = [f"declares no `{key}` config" for key in ("dist", "sort", "sort_type") if not config.get(key)]
    if not (config.get("meta") or {}).get("redshift_physical_design"):
        issues.append("gives no reason for its keys (meta.redshift_physical_design)")
    dist = str(config.get("dist") or "").strip().lower()
    sort = config.get("sort") or []
    sort = [sort] if isinstance(sort, str) else list(sort)
    if name.startswith("fct_"):
        if dist in ("", "all", "even", "auto"):
            issues.append(f"is a fact but is not distributed on a join key (dist={dist or None!r})")
        if sort and not DATE_COLUMN.search(str(sort[0])):
            issues.append(f"is a fact but its first sort key {sort[0]!r} is not a date")
    if name.startswith("dim_") and dist and dist != "all":
        issues.append(f"is a dimension but dist={dist!r}; small dimensions use dist='all'")
    return issues


def check_project(project_dir: Path, work_dir: Path) -> dict:
    import redshift_connector
    from dbt.cli.main import dbtRunner

    recorder = Recorder()
    redshift_connector.connect = lambda *a, **kw: _Connection(recorder)  # the cluster is not needed
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    os.environ["DBT_REDSHIFT_METHOD"] = "database"  # never try IAM (it would call AWS)

    common = [
        "--project-dir", str(project_dir),
        "--profiles-dir", str(project_dir),
        "--target", "redshift",
        "--target-path", str(work_dir / "target"),
        "--log-path", str(work_dir / "logs"),
        "--no-partial-parse",
    ]  # fmt: skip
    runner = dbtRunner()
    problems: list[str] = []
    result = runner.invoke(["run", *common, "--threads", "1", "--quiet"])
    if not result.success:
        problems.append(f"dbt run --target redshift (offline) failed: {result.exception or result.result}")
    # read before run-operation rewrites target/manifest.json (without compiled SQL)
    manifest = json.loads((work_dir / "target" / "manifest.json").read_text())
    spectrum = runner.invoke(["run-operation", "create_spectrum_schema", *common, "--quiet"])
    spectrum_sql = [
        QUERY_COMMENT.sub("", sql, count=1).strip()
        for _, sql in recorder.statements
        if "create external schema" in sql.lower()
    ]
    if not spectrum.success or not spectrum_sql:
        problems.append("create_spectrum_schema rendered no CREATE EXTERNAL SCHEMA statement")

    models: dict[str, dict] = {}
    for unique_id, node in sorted(manifest["nodes"].items()):
        if node["resource_type"] != "model":
            continue
        name, config = node["name"], node["config"]
        materialized = config.get("materialized")
        is_mart = node["original_file_path"].startswith("models/marts/")
        statements = [QUERY_COMMENT.sub("", sql, count=1) for sql in recorder.for_node(unique_id)]
        entry: dict[str, object] = {
            "path": node["original_file_path"],
            "materialized": materialized,
            "config": {
                k: config.get(k) for k in ("dist", "sort", "sort_type", "bind", "incremental_strategy", "unique_key")
            },
            "problems": [],
        }
        issues: list[str] = entry["problems"]  # type: ignore[assignment]

        compiled = node.get("compiled_code")
        entry["compiled_sql"] = compiled
        if compiled is None:
            issues.append("no compiled SQL (the model did not run)")
        else:
            issues.extend(redshift_parse_problems("compiled SQL", compiled))

        if materialized in ("table", "incremental"):
            ddl = next((s for s in statements if CREATE_TABLE.match(s)), None)
            entry["ddl"] = ddl
            if is_mart:
                issues.extend(policy_problems(name, config))
            if ddl is None:
                issues.append("no CREATE TABLE statement was rendered")
            else:
                issues.extend(redshift_parse_problems("rendered DDL", ddl))
                found, expected = parse_physical_design(ddl), expected_physical_design(config)
                entry["rendered"] = found
                for key in ("diststyle", "distkey", "sort_type", "sortkey"):
                    if found[key] != expected[key]:
                        issues.append(f"rendered {key} {found[key]!r} but the config declares {expected[key]!r}")
        elif materialized == "view":
            ddl = next((s for s in statements if CREATE_VIEW.match(s)), None)
            entry["ddl"] = ddl
            if ddl is None:
                issues.append("no CREATE VIEW statement was rendered")
            else:
                issues.extend(redshift_parse_problems("rendered DDL", ddl))
                if "with no schema binding" not in ddl.lower():
                    issues.append("view is not late-binding (needs bind=false over Spectrum sources)")
        models[name] = entry
        problems.extend(f"{name}: {issue}" for issue in issues)

    return {
        "ok": not problems,
        "problems": problems,
        "models": models,
        "spectrum_schema_ddl": spectrum_sql[0] if spectrum_sql else None,
    }


def summary(report: dict) -> str:
    """One line per model: what dbt-redshift would create, and whether it passed."""
    lines = []
    for name, entry in report["models"].items():
        rendered = entry.get("rendered") or {}
        if entry["materialized"] == "view":
            design = "view, late-binding" if not entry["problems"] else "view"
        elif rendered:
            dist = f"distkey({rendered['distkey']})" if rendered["distkey"] else f"diststyle {rendered['diststyle']}"
            design = f"{dist}  {rendered['sort_type']} sortkey({', '.join(rendered['sortkey'])})"
        else:
            design = "-"
        status = "ok" if not entry["problems"] else "PROBLEM"
        lines.append(f"{status:8} {name:26} {entry['materialized']:12} {design}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project-dir", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--report", type=Path, help="also write the full JSON report (DDL, compiled SQL) here")
    parser.add_argument("--work-dir", type=Path, help="dbt target/log folder (default: a temporary one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="redshift-ddl-") as tmp:
        report = check_project(args.project_dir.resolve(), (args.work_dir or Path(tmp)).resolve())
    if args.report:
        args.report.write_text(json.dumps(report, indent=2, default=str))
    print(summary(report))
    for problem in report["problems"]:
        print(f"redshift-ddl: {problem}", file=sys.stderr)
    print(
        f"redshift-ddl: {len(report['models'])} models checked, {len(report['problems'])} problems",
        file=sys.stderr,
    )
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
