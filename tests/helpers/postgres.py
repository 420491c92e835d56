"""A throwaway PostgreSQL server (`initdb` cluster on a free port) and a way to run SQL on it.

PostgreSQL stands in for Redshift in docker-compose; the integration tests start their own.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakehouse_core.settings import load_settings


def _postgres_binaries() -> tuple[str, str] | None:
    for folder in [None, *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]:
        initdb = shutil.which("initdb", path=folder)
        pg_ctl = shutil.which("pg_ctl", path=folder)
        if initdb and pg_ctl:
            return initdb, pg_ctl
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[dict[str, str]]:
    """A server for the block: connection parameters (host, port, user; trust auth). Skips the
    test when the server binaries are missing, or when running as root with no `postgres` user."""
    binaries = _postgres_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    initdb, pg_ctl = binaries
    run_as: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="dbt-postgres-"))
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run the server as")
        run_as = ["runuser", "-u", "postgres", "--"]
        os.chown(folder, user.pw_uid, user.pw_gid)
    port = _free_port()
    data = folder / "data"
    subprocess.run(
        [*run_as, initdb, "-D", str(data), "-U", "lakehouse", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*run_as, pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield {"host": "127.0.0.1", "port": str(port), "user": "lakehouse"}
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


# psycopg2 lives in the dbt virtualenv (dbt-postgres needs it), not in the main one.
_SQL_RUNNER = """
import json, sys
import psycopg2
params, statements = json.loads(sys.argv[1]), json.loads(sys.argv[2])
con = psycopg2.connect(**params)
con.autocommit = True
rows = []
with con.cursor() as cur:
    for sql, args in statements:
        cur.execute(sql, args)
        rows = cur.fetchall() if cur.description else []
print(json.dumps(rows, default=str))
"""


def postgres_sql(params: dict[str, str], *statements: tuple[str, list]) -> list[list]:
    """Run statements with psycopg2 (dbt virtualenv); the rows of the last one."""
    python = Path(load_settings().dbt_executable).parent / "python"
    completed = subprocess.run(
        [str(python), "-c", _SQL_RUNNER, json.dumps(params), json.dumps(statements)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(completed.stdout)
