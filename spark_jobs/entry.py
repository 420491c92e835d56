"""How every Spark job starts and ends: the one entry harness of `spark_jobs/*.py`.

Why one: the five entry scripts (ingest, validate, publish, maintain, recommend) each turned the
catalog arguments into Spark conf, built a session and mapped outcomes to exit codes, in two
different ways. Here, once:

- `CatalogArgs`: the catalog arguments every job takes (`jobargs.CATALOG_ARGS`), resolved: the
  platform, the JDBC form of the catalog URI and its credentials, the namespace prefix. Its
  `spark_conf()` registers the catalog (empty when the launcher configures it: on Glue/EMR it may
  pass the conf itself, and a bare local spark-submit without --catalog_uri has none to give);
  its `tables` names the job's tables with this run's prefix (`naming.TableNames`).
- `run_job`: parse -> prepare (a `ValueError` is a bad argument: exit 2 before any JVM starts)
  -> session -> work -> print the answer -> exit 0, or 1 as a verdict (on Glue/EMR the marked
  `Verdict` error, `jobargs.verdict_exit`), or 2 when the work could not run.

Exit codes: 0 done; 1 the job's answer is no (the gate failed, publish refused, ...); 2 could not
run (bad arguments, an engine or catalog error), never read as a verdict.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from spark_jobs.jobargs import JobArg, jdbc_catalog_uri, parse_job_args, resolve_platform, verdict_exit
from spark_jobs.naming import TableNames

DONE, NO, COULD_NOT_RUN = 0, 1, 2

Job = TypeVar("Job")


@dataclass(frozen=True)
class CatalogArgs:
    """The catalog arguments of one job run, resolved (see the module's docstring)."""

    platform: str  # local | glue | emr
    catalog_name: str
    warehouse: str = ""
    catalog_uri: str = ""  # local: the JDBC form
    jdbc_user: str = ""
    jdbc_password: str = ""
    namespace_prefix: str = ""

    def __post_init__(self) -> None:
        TableNames(self.catalog_name, self.namespace_prefix)  # a bad prefix is a bad argument, said now

    @classmethod
    def from_args(cls, args: Mapping[str, str | None]) -> CatalogArgs:
        values = {k: ("" if v is None else str(v).strip()) for k, v in args.items()}
        platform = resolve_platform(values.get("environment", ""), values.get("platform", ""))
        uri, user, password = values.get("catalog_uri", ""), "", ""
        if platform == "local" and uri:
            uri, user, password = jdbc_catalog_uri(
                uri,
                values.get("catalog_jdbc_user") or values.get("jdbc_user", ""),
                values.get("catalog_jdbc_password") or values.get("jdbc_password", ""),
            )
        return cls(
            platform=platform,
            catalog_name=values["catalog_name"],
            warehouse=values.get("warehouse", ""),
            catalog_uri=uri,
            jdbc_user=user,
            jdbc_password=password,
            namespace_prefix=values.get("namespace_prefix", ""),
        )

    @property
    def tables(self) -> TableNames:
        return TableNames(self.catalog_name, self.namespace_prefix)

    def spark_conf(self) -> dict[str, str]:
        """Spark conf registering the Iceberg catalog; empty when there is nothing to register it from."""
        from spark_jobs.session import catalog_conf

        if not self.warehouse:
            return {}
        if self.platform != "local":
            return catalog_conf(self.platform, self.catalog_name, self.warehouse)
        if not self.catalog_uri:
            return {}
        uri, user, password = self.catalog_uri, self.jdbc_user, self.jdbc_password
        return catalog_conf("local", self.catalog_name, self.warehouse, uri, user, password)


def job_session(app_name: str, catalog: CatalogArgs):  # -> pyspark.sql.SparkSession
    """The job's session, with the catalog its arguments name (the JVM starts here, after parsing)."""
    from spark_jobs.session import get_session

    return get_session(app_name, catalog.spark_conf())


@dataclass(frozen=True)
class Answer:
    """What a job's work ends with: printed on stdout, then the exit code.

    `ok` False is exit 1: a verdict (`reason` is the message Glue/EMR report, marked so the
    operators do not retry it) unless `verdict` is False (maintenance: a table that failed is
    an accident a retry may fix).
    """

    ok: bool
    text: str = ""
    reason: str = ""
    log: str = ""  # a line for stderr after the answer (timings)
    verdict: bool = True


def run_job(
    prog: str,
    specs: Sequence[JobArg],
    argv: Sequence[str] | None,
    prepare: Callable[[dict[str, str]], Job],
    work: Callable[[Any, Job, CatalogArgs], Answer],
    *,
    app_name: str | Callable[[Job], str],
    spark: Any = None,
    failure: str | Callable[[Job], str] | None = "could not run",
    known_errors: tuple[type[Exception], ...] = (),
) -> int:
    """Run one job the way every entry script does; returns its exit code (see the module's docstring).

    The catalog arguments are resolved first, then `prepare` turns the parsed arguments into the
    job's request (a `ValueError` in either: bad argument, 2). `work(spark, request, catalog)`
    does it. An error in the work is "could not run" (2): a
    `known_errors` one is said in one line, any other with its traceback. `failure` None lets
    errors propagate instead (the ingest: the platform reports the traceback, Airflow retries).
    `spark`: a session to use (tests, the warm driver); else one is built from the arguments.
    """
    args = parse_job_args(specs, argv, prog=prog)
    if failure is None:
        catalog, job = CatalogArgs.from_args(args), prepare(args)
        return _finish(work(spark or job_session(_text(app_name, job), catalog), job, catalog), args)
    try:
        catalog, job = CatalogArgs.from_args(args), prepare(args)
    except ValueError as exc:
        print(f"{prog}: bad argument: {exc}", file=sys.stderr)
        return COULD_NOT_RUN
    spark = spark or job_session(_text(app_name, job), catalog)
    try:
        answer = work(spark, job, catalog)
    except known_errors as exc:
        print(f"{prog}: {_text(failure, job)}: {exc}", file=sys.stderr)
        return COULD_NOT_RUN
    except Exception:  # Spark, catalog or GX errors: 2, so nobody reads an accident as a verdict (1)
        traceback.print_exc()
        print(f"{prog}: {_text(failure, job)} (error above)", file=sys.stderr)
        return COULD_NOT_RUN
    return _finish(answer, args)


def _text(value: str | Callable[[Any], str], job: Any) -> str:
    return value if isinstance(value, str) else value(job)


def _finish(answer: Answer, args: Mapping[str, str]) -> int:
    if answer.text:
        print(answer.text, flush=True)
    if answer.log:
        print(answer.log, file=sys.stderr, flush=True)
    if answer.ok:
        return DONE
    return verdict_exit(NO, args, answer.reason) if answer.verdict else NO
