"""Physical table names: an environment's namespace prefix.

Code names tables by their logical identifier (`silver.order_lines`). On AWS several
environments can share one account and so one Glue Data Catalog; each gets its own databases
(`dev_silver`, `prod_silver`) through a prefix. The prefix is passed, never remembered: a job
gets it as the `--namespace_prefix` argument every job takes and carries it in its request
(`TableNames`, from `spark_jobs.entry.CatalogArgs`); the Python side reads it from the settings
(`lakehouse_core.catalog.load_table`). Locally it is empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VALID = re.compile(r"^([a-z][a-z0-9_]*)?$")


def is_namespace_prefix(prefix: str) -> bool:
    """Empty, or lowercase letters, digits and _ starting with a letter (it heads Glue database
    names): the one rule, for the jobs' `--namespace_prefix` and the settings' LAKEHOUSE_NAMESPACE_PREFIX."""
    return bool(_VALID.match(prefix or ""))


def physical(identifier: str, prefix: str) -> str:
    """`silver.order_lines` -> `dev_silver.order_lines` (with prefix `dev_`)."""
    if not is_namespace_prefix(prefix):
        raise ValueError(f"namespace prefix {prefix!r} must be lowercase letters, digits and _ (e.g. dev_)")
    namespace, _, name = identifier.partition(".")
    if not name:
        raise ValueError(f"{identifier!r} is not namespace.table")
    return f"{prefix or ''}{namespace}.{name}"


@dataclass(frozen=True)
class TableNames:
    """Where a job's tables are: its Spark catalog and its environment's namespace prefix."""

    catalog: str
    prefix: str = ""

    def __post_init__(self) -> None:
        if not is_namespace_prefix(self.prefix):
            raise ValueError(f"namespace prefix {self.prefix!r} must be lowercase letters, digits and _ (e.g. dev_)")

    def physical(self, identifier: str) -> str:
        """`silver.order_lines` -> `dev_silver.order_lines`: the name inside the catalog."""
        return physical(identifier, self.prefix)

    def qualified(self, identifier: str) -> str:
        """`silver.order_lines` -> `lakehouse.dev_silver.order_lines`: the name Spark SQL reads."""
        return f"{self.catalog}.{self.physical(identifier)}"
