"""Iceberg refs of a table, seen from Spark: which branches exist, where they point, what they added.

Write-audit-publish works on refs: the ingest commits silver changes to a per-run branch
(`audit_<run id>`), the gate reads that branch, publish fast-forwards `main` to it. Everything
here uses Iceberg's metadata tables (`refs`, `snapshots`, `all_entries`) through Spark SQL, so
it runs the same on the JDBC catalog and on Glue, with no pyiceberg on the Spark cluster.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import date

MAIN = "main"
# Iceberg branch names are free text, but ours go into SQL identifiers and strings.
_BRANCH_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}$")
WAP_CONFS = ("spark.wap.branch", "spark.wap.id")


def check_branch_name(branch: str) -> str:
    """`branch` if it may be an audit branch, else ValueError: the one check, for the ingest
    (which creates the branch), the gate and publish (which read and move it)."""
    if not _BRANCH_NAME.match(branch or "") or branch == MAIN:
        raise ValueError(
            f"audit branch {branch!r} is not a valid branch name (1-128 letters, digits, _ . -; "
            "not starting with . or -; not main)"
        )
    return branch


@dataclass(frozen=True)
class Ref:
    name: str
    kind: str  # BRANCH or TAG
    snapshot_id: int
    max_age_ms: int | None = None  # the ref age (`RETAIN n HOURS`); snapshot expiry drops older refs


def refs(spark, table: str) -> dict[str, Ref]:
    """Every ref of `table` (fully qualified, e.g. `lakehouse.silver.order_lines`), by name."""
    rows = spark.sql(f"SELECT name, type, snapshot_id, max_reference_age_in_ms FROM {table}.refs").collect()  # nosec B608  # table name from code
    return {r["name"]: Ref(r["name"], r["type"], int(r["snapshot_id"]), r["max_reference_age_in_ms"]) for r in rows}


def snapshot_parents(spark, table: str) -> dict[int, int | None]:
    rows = spark.sql(f"SELECT snapshot_id, parent_id FROM {table}.snapshots").collect()  # nosec B608  # table name from code
    return {int(r["snapshot_id"]): (int(r["parent_id"]) if r["parent_id"] is not None else None) for r in rows}


def ancestors(parents: dict[int, int | None], head: int | None) -> list[int]:
    """`head` and its ancestors, newest first (stops where expired history ends)."""
    chain: list[int] = []
    seen: set[int] = set()
    while head is not None and head not in seen:
        chain.append(head)
        seen.add(head)
        head = parents.get(head)
    return chain


def branch_only_snapshots(parents: dict[int, int | None], branch_head: int, main_head: int | None) -> list[int]:
    """Snapshots on the branch that `main` does not have: what the run committed (newest first)."""
    on_main = set(ancestors(parents, main_head))
    return [s for s in ancestors(parents, branch_head) if s not in on_main] if branch_head not in on_main else []


def is_ancestor(parents: dict[int, int | None], ancestor: int | None, head: int | None) -> bool:
    return ancestor is None or ancestor in set(ancestors(parents, head))


def touched_days(spark, table: str, snapshot_ids: list[int], day_field: str = "event_ts_day") -> list[date]:
    """Event days (partition values) of the data files the given snapshots added.

    Why from metadata: a MERGE rewrites whole files of the days it touches (copy-on-write), and
    these are exactly the days whose rows may have changed. Reading them from the manifests
    costs no data scan and prunes the later reads to those partitions. `all_entries` is used
    because `entries` cannot be time-travelled to a branch on every Iceberg version.
    """
    if not snapshot_ids:
        return []
    ids = ", ".join(str(int(s)) for s in snapshot_ids)
    rows = spark.sql(
        f"SELECT DISTINCT data_file.partition.{day_field} AS day FROM {table}.all_entries "  # nosec B608  # ids are int(), names from code
        f"WHERE status = 1 AND data_file.content = 0 AND snapshot_id IN ({ids})"
    ).collect()
    return sorted(r["day"] for r in rows if r["day"] is not None)


def without_wap(spark) -> contextlib.AbstractContextManager[None]:
    """Run with `spark.wap.branch`/`spark.wap.id` unset, then restore them.

    Why: an ingest in the same session may leave the WAP branch set, and then every read and
    write of a WAP-enabled table (all of ours) would silently go to that branch, including the
    gate's own results, which belong on `main`.
    """
    from spark_jobs.session import runtime_conf

    return runtime_conf(spark, dict.fromkeys(WAP_CONFS))
