"""The quickstart's setup on a machine without the SQLite JDBC package: a working catalog, or a clear no.

Each test runs `lakehouse doctor --fix` (what `make setup` runs) in a mount namespace where
`/usr/share/java` is an empty folder, so the Debian package `.ci/run` installed is not there for
it: the same machine, as a fresh one without the package would be. apt is told not to help
(`--apt no`: the test must not reach Debian's mirrors); the Maven repository is a folder served
on 127.0.0.1 (or nothing listening there).

1. Nothing to be had: the command exits non-zero within 30 s and names what to install.
2. A Maven repository that has `org.xerial:sqlite-jdbc`: setup fetches the jar (checking the
   SHA-256 it is told to expect) into the jars folder, doctor is green, and local Spark creates an Iceberg table in the
   JDBC catalog that pyiceberg then reads, all inside the namespace, with the JNI folders hidden
   too: the jar is used directly, its native library inside it, no `java.library.path`. The
   served jar is this machine's driver laid out as upstream's is (classes + native library under
   `org/sqlite/native/<OS>/<arch>/`), since the test cannot reach Maven Central.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import platform
import shutil
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakehouse.runtime import jvm
from lakehouse_core.settings import REPO_ROOT, load_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

FRESH_TIMEOUT = 30  # the bound for "a non-zero exit naming what to install"
HIDE_JAVA = 'mount -t tmpfs tmpfs /usr/share/java && exec "$@"'
# Also the JNI folders, so the driver must bring its native library itself (as upstream's jar does).
HIDE_JAVA_AND_JNI = (
    "mount -t tmpfs tmpfs /usr/share/java && "
    "for d in /usr/lib/x86_64-linux-gnu/jni /usr/lib/aarch64-linux-gnu/jni /usr/lib/jni; do "
    '[ -d "$d" ] && mount -t tmpfs tmpfs "$d"; done; exec "$@"'
)


def _can_hide_packages() -> bool:
    if sys.platform != "linux" or os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", HIDE_JAVA, "sh", "true"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


needs_namespace = pytest.mark.skipif(not _can_hide_packages(), reason="needs root and unshare to hide the package")


def without_package(
    command: list[str], env: dict[str, str], timeout: float, hide: str = HIDE_JAVA
) -> subprocess.CompletedProcess:
    """Run `command` where /usr/share/java (the Debian jar) is empty."""
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", hide, "sh", *command],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def fresh_env(tmp_path: Path, repository: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
    env.update(
        {
            "LAKEHOUSE_HOME": str(tmp_path / "lake"),
            "LAKEHOUSE_JARS_DIR": str(tmp_path / "jars"),
            "LAKEHOUSE_MAVEN_REPOSITORY": repository,
        }
    )
    return env


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when this returns: nothing listens there


@pytest.fixture
def maven_repository(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(URL, jar sha256) of a Maven layout holding sqlite-jdbc, served on 127.0.0.1 (the jar: this machine's driver)."""
    part, native_dir = jvm.find_sqlite_jdbc(load_settings())
    if not part.ok or not part.path.endswith(".jar"):
        pytest.skip("no SQLite JDBC jar on this machine to serve (.ci/run installs one)")
    group, artifact, version = jvm.SQLITE_JDBC_COORDINATES.split(":")
    folder = tmp_path / "repo" / group.replace(".", "/") / artifact / version
    folder.mkdir(parents=True)
    jar = folder / f"{artifact}-{version}.jar"
    shutil.copyfile(part.path, jar)
    if native_dir:  # Debian's jar keeps its native library outside: put it where upstream's jar has it
        arch = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}[platform.machine()]
        with zipfile.ZipFile(jar, "a") as archive:
            archive.write(Path(native_dir) / "libsqlitejdbc.so", f"org/sqlite/native/Linux/{arch}/libsqlitejdbc.so")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "repo"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hashlib.sha256(jar.read_bytes()).hexdigest()
    finally:
        server.shutdown()
        server.server_close()


@needs_namespace
def test_setup_without_any_source_fails_fast_naming_what_to_install(tmp_path: Path) -> None:
    env = fresh_env(tmp_path, f"http://127.0.0.1:{closed_port()}/maven2")
    done = without_package(
        [sys.executable, "-m", "lakehouse.cli", "doctor", "--fix", "--apt", "no"], env, timeout=FRESH_TIMEOUT
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "MISSING sqlite jdbc" in out
    assert "apt-get install libxerial-sqlite-jdbc-java" in out  # what to install
    assert "LAKEHOUSE_SQLITE_JDBC_JAR" in out and f"sqlite-jdbc-{jvm.SQLITE_JDBC_VERSION}.jar" in out
    assert "could not download it" in out  # it tried the repository and said so


SMOKE = """
import sys
from pathlib import Path
from lakehouse.runtime import local_spark
from lakehouse_core.catalog import init_catalog, open_catalog
from lakehouse_core.settings import load_settings

settings = load_settings()
init_catalog(settings)
job = Path(sys.argv[1])
job.write_text(
    "from pyspark.sql import SparkSession\\n"
    "spark = SparkSession.builder.getOrCreate()\\n"
    "spark.sql('create table if not exists lakehouse.audit.setup_smoke (id int) using iceberg')\\n"
    "spark.sql('insert into lakehouse.audit.setup_smoke values (1), (2)')\\n"
)
from spark_jobs.session import catalog_conf
from spark_jobs.jobargs import jdbc_catalog_uri
uri, user, password = jdbc_catalog_uri(settings.catalog_uri)
conf = catalog_conf("local", settings.catalog_name, settings.warehouse, uri, user, password)
code = local_spark.run_job(settings, job, [], extra_conf=conf)
rows = open_catalog(settings).load_table("audit.setup_smoke").scan().to_arrow().num_rows
print(f"smoke exit {code}, rows {rows}")
sys.exit(0 if code == 0 and rows == 2 else 1)
"""


@needs_namespace
def test_setup_fetches_the_driver_from_a_maven_repository_and_the_catalog_works(
    tmp_path: Path, maven_repository: tuple[str, str]
) -> None:
    url, served_sha256 = maven_repository  # this machine's build of the jar, not upstream's (pinned)
    env = fresh_env(tmp_path, url) | {"LAKEHOUSE_SQLITE_JDBC_SHA256": served_sha256}
    cli = [sys.executable, "-m", "lakehouse.cli", "doctor", "--fix", "--apt", "no"]
    done = without_package(cli, env, timeout=120, hide=HIDE_JAVA_AND_JNI)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert f"ok      sqlite jdbc      sqlite-jdbc-{jvm.SQLITE_JDBC_VERSION}.jar in {tmp_path / 'jars'}" in out

    smoke_job = [sys.executable, "-c", SMOKE, str(tmp_path / "smoke_job.py")]
    smoke = without_package(smoke_job, env, timeout=240, hide=HIDE_JAVA_AND_JNI)
    assert smoke.returncode == 0, smoke.stdout[-3000:] + smoke.stderr[-3000:]
    assert "smoke exit 0, rows 2" in smoke.stdout


def test_a_jar_that_is_not_the_pinned_one_is_not_used(tmp_path: Path, maven_repository: tuple[str, str]) -> None:
    """The served jar is not upstream's (lakehouse/pins.py): refused, nothing written; named: used."""
    from lakehouse.runtime import jars

    url, served_sha256 = maven_repository
    said: list[str] = []
    env = fresh_env(tmp_path, url)
    assert not jars.maven_download(load_settings(env), tmp_path / "jars", said.append)
    assert "not the pinned one" in said[-1] and not (tmp_path / "jars").exists()
    env["LAKEHOUSE_SQLITE_JDBC_SHA256"] = served_sha256
    assert jars.maven_download(load_settings(env), tmp_path / "jars", said.append)
    assert (tmp_path / "jars" / f"sqlite-jdbc-{jvm.SQLITE_JDBC_VERSION}.jar").is_file()


def test_the_maven_fallback_is_https_only(tmp_path: Path) -> None:
    from lakehouse.runtime import jars

    said: list[str] = []
    settings = load_settings(fresh_env(tmp_path, "http://repo1.maven.org/maven2"))
    assert not jars.maven_download(settings, tmp_path / "jars", said.append)
    assert "https only" in said[-1]
