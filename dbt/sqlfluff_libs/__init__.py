"""Stand-ins for dbt's Jinja context so sqlfluff's jinja templater renders the models without dbt.

`.sqlfluff` points `library_path` here; every public name below becomes a Jinja global while
linting. They render plausible Redshift SQL (the production dialect), not the exact SQL dbt
would compile: sqlfluff only needs valid SQL in the right shape to check layout and style.
Vars come from dbt_project.yml so Jinja logic that depends on them (dim_date) renders.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from types import SimpleNamespace


def _project_vars() -> dict:
    import yaml

    project = yaml.safe_load((Path(__file__).resolve().parents[1] / "dbt_project.yml").read_text())
    return project.get("vars") or {}


_VARS = _project_vars()


def var(name, default=None):
    return _VARS.get(name, default)


def env_var(name, default=""):
    return default


def ref(*names, **kwargs):
    return names[-1]


def source(source_name, table_name):
    return f"{source_name}.{table_name}"


def config(*args, **kwargs):
    return ""


def is_incremental():
    return True  # lint the incremental branch too


this = "this_model"
target = SimpleNamespace(type="redshift", name="redshift", schema="analytics", database="analytics")
modules = SimpleNamespace(datetime=datetime)


class _CrossDatabaseMacros:
    """dbt's cross-database macros (`dbt.date_trunc`, ...), rendered the Redshift way."""

    @staticmethod
    def date_trunc(datepart, date):
        return f"date_trunc('{datepart}', {date})"

    @staticmethod
    def dateadd(datepart, interval, from_date_or_timestamp):
        return f"dateadd({datepart}, {interval}, {from_date_or_timestamp})"

    @staticmethod
    def datediff(first_date, second_date, datepart):
        return f"datediff({datepart}, {first_date}, {second_date})"

    @staticmethod
    def bool_or(expression):
        return f"bool_or({expression})"

    @staticmethod
    def concat(fields):
        return " || ".join(fields)

    @staticmethod
    def cast(field, type_):
        return f"cast({field} as {type_})"

    @staticmethod
    def type_string():
        return "varchar"

    @staticmethod
    def generate_series(upper_bound):
        return f"select generated_number from numbers where generated_number <= {upper_bound}"


dbt = _CrossDatabaseMacros()
