"""The Redshift physical design of the marts, proven without a cluster.

`dbt/scripts/redshift_offline_ddl.py` (run with the dbt virtualenv's Python) runs
`dbt run --target redshift` with the Redshift driver replaced by a recorder, so dbt-redshift's own
materializations render the DDL they would send; it then checks the DDL against each model's
configs and parses all SQL with sqlglot's Redshift dialect. These tests read its report, check
the DDL text again independently, and show that removing a `dist`/`sort` config is caught.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lakehouse_core.settings import REPO_ROOT, load_settings

pytestmark = pytest.mark.integration

PROJECT = REPO_ROOT / "dbt"
CHECKER = PROJECT / "scripts" / "redshift_offline_ddl.py"

# The design, spelled out so a change to it shows in review: (dist DDL, sort DDL) per table mart.
EXPECTED_DDL = {
    "fct_order_lines": ("diststyle key distkey (invoice_no)", "compound sortkey(order_date,invoice_no)"),
    "fct_invoices": ("diststyle key distkey (invoice_no)", "compound sortkey(invoice_date,invoice_no)"),
    "dim_customers": ("diststyle all", "compound sortkey(customer_id)"),
    "dim_products": ("diststyle all", "compound sortkey(stock_code)"),
    "dim_date": ("diststyle all", "compound sortkey(date_day)"),
    "agg_daily_sales": ("diststyle key distkey (stock_code)", "compound sortkey(order_date,country,stock_code)"),
    "agg_customer_value": ("diststyle all", "compound sortkey(customer_id)"),
    "agg_product_affinity": ("diststyle key distkey (product_a)", "compound sortkey(product_a,recommendation_rank)"),
    "agg_hourly_transactions": ("diststyle all", "compound sortkey(transaction_hour)"),
    "agg_hourly_order_rate": ("diststyle all", "compound sortkey(arrival_hour)"),
    "agg_customer_recommendations": (
        "diststyle key distkey (customer_id)",
        "compound sortkey(customer_id,recommendation_rank)",
    ),
}


def _dbt_python() -> Path:
    python = Path(load_settings().dbt_executable).parent / "python"
    if not python.exists():
        pytest.fail(f"dbt virtualenv not found at {python.parent}; run `make setup`")
    return python


def run_checker(project_dir: Path, work_dir: Path) -> tuple[int, dict, str]:
    """(exit code, report, stderr) of the offline Redshift DDL checker on `project_dir`."""
    report_path = work_dir / "report.json"
    completed = subprocess.run(
        [
            str(_dbt_python()),
            str(CHECKER),
            "--project-dir",
            str(project_dir),
            "--report",
            str(report_path),
            "--work-dir",
            str(work_dir / "dbt"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if not report_path.exists():
        pytest.fail(f"checker wrote no report (exit {completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    return completed.returncode, json.loads(report_path.read_text()), completed.stderr


def _squash(sql: str) -> str:
    """Lower case, runs of whitespace collapsed, none after '(' or around ','."""
    sql = re.sub(r"\s+", " ", sql.lower())
    return re.sub(r"\s*,\s*", ",", re.sub(r"\(\s+", "(", sql))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    code, data, stderr = run_checker(PROJECT, tmp_path_factory.mktemp("redshift-ddl"))
    assert code == 0, f"checker found problems:\n{stderr}"
    return data


def test_every_table_mart_is_checked(report: dict) -> None:
    tables = {name for name, m in report["models"].items() if m["materialized"] in ("table", "incremental")}
    assert tables == set(EXPECTED_DDL), "a table mart was added or removed: update EXPECTED_DDL (the design)"
    assert report["ok"] and report["problems"] == []


@pytest.mark.parametrize("mart", sorted(EXPECTED_DDL))
def test_rendered_create_table_carries_the_declared_keys(report: dict, mart: str) -> None:
    entry = report["models"][mart]
    ddl = _squash(entry["ddl"])
    dist_ddl, sort_ddl = EXPECTED_DDL[mart]
    assert ddl.startswith("create table"), ddl[:200]
    assert dist_ddl in ddl, f"{mart}: expected `{dist_ddl}` in\n{entry['ddl'][:400]}"
    assert sort_ddl in ddl, f"{mart}: expected `{sort_ddl}` in\n{entry['ddl'][:400]}"
    # ... and those are exactly what the model's config declares
    config = entry["config"]
    assert config["sort_type"] == "compound"
    sort = [config["sort"]] if isinstance(config["sort"], str) else config["sort"]
    assert sort_ddl == f"compound sortkey({','.join(sort)})"
    assert dist_ddl == ("diststyle all" if config["dist"] == "all" else f"diststyle key distkey ({config['dist']})")
    assert entry["problems"] == []


def test_facts_are_distributed_on_a_key_and_sorted_by_date_first(report: dict) -> None:
    for name, entry in report["models"].items():
        if name.startswith("fct_"):
            assert entry["rendered"]["diststyle"] == "key", name
            assert re.search(r"_(date|day)$", entry["rendered"]["sortkey"][0]), name


def test_incremental_fact_uses_delete_insert_on_the_order_date(report: dict) -> None:
    entry = report["models"]["fct_order_lines"]
    assert entry["materialized"] == "incremental"
    assert entry["config"]["incremental_strategy"] == "delete+insert"
    assert entry["config"]["unique_key"] == "order_date"


def test_views_are_late_binding(report: dict) -> None:
    views = {name: m for name, m in report["models"].items() if m["materialized"] == "view"}
    assert views, "no views rendered"
    for name, entry in views.items():
        assert _squash(entry["ddl"]).rstrip("; ").endswith("with no schema binding"), name


def test_compiled_sql_of_every_model_parses_as_redshift(report: dict) -> None:
    # the checker parsed each with sqlglot (dialect "redshift") and reports failures as problems
    for name, entry in report["models"].items():
        assert entry["compiled_sql"], name
        assert not [p for p in entry["problems"] if "parse" in p or "sqlglot" in p], name
    # Redshift SQL, not DuckDB's: the cross-database macros rendered the Redshift forms
    staging = _squash(report["models"]["stg_order_lines"]["compiled_sql"])
    assert "silver_ext.order_lines" in staging.replace('"', "")
    assert "dateadd(" in _squash(report["models"]["dim_date"]["compiled_sql"])


def test_spectrum_external_schema_ddl(report: dict) -> None:
    ddl = _squash(report["spectrum_schema_ddl"])
    assert ddl.startswith("create external schema if not exists silver_ext from data catalog database 'silver'")
    assert "iam_role" in ddl


def test_checker_reports_a_mart_whose_dist_or_sort_config_was_removed(tmp_path: Path) -> None:
    project = tmp_path / "dbt"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    _remove_line(project / "models/marts/agg_daily_sales.yml", "      dist: stock_code\n")
    _remove_line(project / "models/marts/dim_date.yml", "      sort: [date_day]\n")

    code, data, stderr = run_checker(project, tmp_path / "work")

    assert code == 1, stderr
    assert "agg_daily_sales: declares no `dist` config" in data["problems"]
    assert "dim_date: declares no `sort` config" in data["problems"]
    # the DDL really lost the key: no diststyle for agg_daily_sales, no sortkey for dim_date
    assert data["models"]["agg_daily_sales"]["rendered"]["diststyle"] is None
    assert data["models"]["dim_date"]["rendered"]["sortkey"] == []
    # and nothing else is reported
    reported = {p.split(":", 1)[0] for p in data["problems"]}
    assert reported == {"agg_daily_sales", "dim_date"}


def _remove_line(path: Path, line: str) -> None:
    text = path.read_text()
    assert line in text, f"{path.name} no longer contains {line!r}; update this test"
    path.write_text(text.replace(line, "", 1))
