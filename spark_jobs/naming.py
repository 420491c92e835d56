"""Physical table names: an environment's namespace prefix.

Code names tables by their logical identifier (`silver.order_lines`). On AWS several
environments can share one account and so one Glue Data Catalog; each gets its own databases
(`dev_silver`, `prod_silver`) through a prefix. The prefix arrives once per job process, as the
`--namespace_prefix` argument every job takes (`jobargs.parse_job_args` sets it), and is applied
wherever a job turns a logical identifier into a table it reads or writes. Locally it is empty.
"""

from __future__ import annotations

import re

_VALID = re.compile(r"^([a-z][a-z0-9_]*)?$")
_prefix = ""


def is_namespace_prefix(prefix: str) -> bool:
    """Empty, or lowercase letters, digits and _ starting with a letter (it heads Glue database
    names): the one rule, for the jobs' `--namespace_prefix` and the settings' LAKEHOUSE_NAMESPACE_PREFIX."""
    return bool(_VALID.match(prefix or ""))


def set_namespace_prefix(prefix: str) -> None:
    global _prefix
    if not is_namespace_prefix(prefix):
        raise ValueError(f"namespace prefix {prefix!r} must be lowercase letters, digits and _ (e.g. dev_)")
    _prefix = prefix or ""


def namespace_prefix() -> str:
    return _prefix


def physical(identifier: str, prefix: str | None = None) -> str:
    """`silver.order_lines` -> `dev_silver.order_lines` (with prefix `dev_`)."""
    namespace, _, name = identifier.partition(".")
    if not name:
        raise ValueError(f"{identifier!r} is not namespace.table")
    return f"{_prefix if prefix is None else prefix}{namespace}.{name}"
