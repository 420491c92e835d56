"""`lakehouse bundle`: build what goes to AWS, laid out exactly as it is uploaded.

```
build/bundle/<env>/
  mwaa/                      -> s3://<mwaa bucket>/            (MWAA deploys only this)
    dags/                      the DAG files, pipeline/, lakehouse_core/, spark_jobs/ (imported to render the
                               Glue/EMR arguments), dbt/ with target/manifest.json (parsed for
                               the redshift target), constraints.txt, .airflowignore
    requirements.txt           --constraint on the bundled file, --no-index from plugins' wheels,
                               --require-hashes: every wheel pip installs pinned with its sha256
    plugins.zip                wheels/ (what MWAA's image lacks), dbt/ (dbt's wheels + hashed pins)
    startup.sh                 exports from deploy/<env>.yaml + Terraform outputs; dbt venv
  artifacts/                 -> s3://<artifacts bucket>/
    spark_jobs/<entry>.py      one entry script per Spark program
    spark_jobs.zip             the package the entry scripts import (--extra-py-files / --py-files)
    expectations/*.json        the GX suites the gate reads
    python/glue/<job>.gluewheels.zip   per Glue job that needs more than Glue 5.1 has (today
                               only the gate: GX): wheels/requirements.txt + wheels/*.whl, the
                               "zip of wheels" for --additional-python-modules (Glue 5.0+)
    python/spark-jobs-py311.zip   every job's wheels (GX, numpy, pyarrow; pinned by main.lock),
                               for the EMR image, which brings no Python packages of its own
    emr/Dockerfile             the custom EMR Serverless 7 image (Python 3.11 + those wheels)
  BUNDLE.json                every file with its size and sha256 (what deploy compares)
```

Why it is built this way:
- MWAA runs only what is in its bucket, with the `dags/` folder on `sys.path` and no way to set
  PYTHONPATH: everything a DAG imports must be inside `dags/`.
- Environments in private subnets have no PyPI: requirements install with `--no-index` from
  wheels in plugins.zip (the form AWS documents), under the constraints file shipped in `dags/`;
  the startup script installs dbt from wheels too.
- Wheels are downloaded for the target platform (CPython 3.12 on MWAA, 3.11 on Glue 5 and our
  EMR image, manylinux x86_64) and cached under `build/cache/`, so a rebuild is offline and quick.
  Every wheel is checked against the sha256 the hashed locks allow (`verify_wheels`) before it
  is zipped, and the downloaded constraints file against its pinned digest (lakehouse/pins.py).
- On MWAA, pip checks them again: requirements.txt and dbt/requirements.txt name every wheel pip
  installs with its sha256 (pip's hash-checking mode), so bytes changed after the build (in the
  bucket, in plugins.zip) are refused at install, not run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lakehouse import pins
from lakehouse.aws import deploy_config, spark_runtimes
from lakehouse.console import progress
from lakehouse_core.settings import REPO_ROOT

BUILD_ROOT = REPO_ROOT / "build"
CACHE = BUILD_ROOT / "cache"
MWAA_PYTHON = "3.12"  # MWAA's Airflow 3.x images
JOBS_PYTHON = "3.11"  # Glue 5, and the Python our EMR Serverless image brings
# glibc 2.34 on Amazon Linux 2023 (Glue 5, EMR 7); MWAA's image is newer. manylinux_2_28 wheels
# run on both and exist for every package we ship.
WHEEL_PLATFORMS = ("manylinux_2_28_x86_64", "manylinux2014_x86_64", "manylinux_2_17_x86_64")
CONSTRAINTS_URL = "https://raw.githubusercontent.com/apache/airflow/constraints-3.2.1/constraints-3.12.txt"
CONSTRAINTS_NAME = "constraints.txt"
# On MWAA's 3.2.1 image already (with their whole closure): never shipped as wheels.
MWAA_IMAGE = ("apache-airflow==3.2.1", "apache-airflow-providers-amazon==9.25.0")
DBT_ON_MWAA = ("dbt-core", "dbt-redshift")
# What the Spark jobs import beyond pyspark (and the boto3 every platform has); pinned by main.lock.
JOBS_REQUIREMENTS = ("great-expectations", "numpy", "pyarrow")
# What each program needs on Glue beyond what Glue's image has (spark_runtimes.GLUE_PROVIDED: numpy,
# pandas, pyarrow, boto3, ...). Glue pip-installs a job's --additional-python-modules at every run
# start, so each job gets only its own set: ingest, publish, maintenance and recommendations
# import numpy/pyarrow (provided), the gate Great Expectations (and what it needs beyond Glue's).
GLUE_JOB_REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "ingest_orders.py": (),
    "validate_orders.py": ("great-expectations",),
    "publish_orders.py": (),
    "maintain_tables.py": (),
    "recommend_products.py": (),
}
GLUE_WHEELS_DIR = "python/glue"  # under the artifacts root
# Top-level files of the dbt project that go to MWAA (target/ is made fresh, logs never go).
DBT_PARTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests", "packages.yml")
ENTRY_SCRIPTS = (
    "ingest_orders.py",
    "validate_orders.py",
    "publish_orders.py",
    "maintain_tables.py",
    "recommend_products.py",
)
AIRFLOWIGNORE = """\
# Not DAG files: MWAA's DAG processor must not scan them (helpers, the Spark package, dbt).
pipeline/
lakehouse_core/
spark_jobs/
dbt/
constraints.txt
"""


class BundleError(RuntimeError):
    """The bundle cannot be built; the message says what is missing and how to get it."""


@dataclass(frozen=True)
class Bundle:
    root: Path
    env_name: str

    @property
    def mwaa(self) -> Path:
        return self.root / "mwaa"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    @property
    def dags(self) -> Path:
        return self.mwaa / "dags"

    def files(self) -> list[tuple[str, int, str]]:
        """(path relative to the bundle, size, sha256) of every file, sorted."""
        rows = []
        for path in sorted(p for p in self.root.rglob("*") if p.is_file() and p.name not in ("BUNDLE.json", MARKER)):
            rows.append((path.relative_to(self.root).as_posix(), path.stat().st_size, sha256(path)))
        return rows


def build(
    env_name: str,
    out: Path | None = None,
    constraints: str = "",
    wheels: bool = True,
    deploy_dir: Path = deploy_config.DEPLOY_DIR,
    outputs: Path | None = None,
) -> Bundle:
    """Build the bundle of `env_name` into `out` (default `build/bundle/<env>`), from scratch."""
    config = deploy_config.load(env_name, deploy_dir, outputs)
    runtime = config.runtime_env()  # validates: fails before anything is written
    bundle = Bundle(out or BUILD_ROOT / "bundle" / env_name, env_name)
    fresh_root(bundle.root)
    steps = [
        ("dags folder", lambda: _dags(bundle)),
        ("constraints", lambda: _constraints(bundle, constraints)),
        ("dbt project + manifest (redshift target)", lambda: _dbt(bundle, runtime)),
        ("startup.sh", lambda: _startup(bundle, runtime)),
        ("Spark artifacts", lambda: _spark_artifacts(bundle)),
    ]
    if wheels:
        steps += [
            ("plugins.zip (MWAA wheels, dbt wheels) + hashed requirements.txt", lambda: _plugins(bundle)),
            ("Spark jobs' Python wheels", lambda: _jobs_wheels(bundle)),
        ]
    else:
        steps.append(("requirements.txt (no wheels: no hashes, not deployable)", lambda: _requirements(bundle, None)))
    for name, step in steps:
        started = time.monotonic()
        step()
        progress(f"bundle: {name} ({time.monotonic() - started:.1f} s)")
    write_listing(bundle)
    return bundle


MARKER = ".lakehouse-bundle"  # in every bundle folder this command made: the only kind it deletes


def fresh_root(root: Path) -> None:
    """An empty `root` for a new bundle, marked as ours. A folder this command made before (its
    marker is there) or an empty one is replaced; anything else is refused, never deleted:
    `--out ~` must not wipe a home directory."""
    if root.is_dir() and any(root.iterdir()) and not (root / MARKER).is_file():
        raise BundleError(f"{root} exists and was not made by `lakehouse bundle` (no {MARKER}): not deleting it")
    if root.exists() and not root.is_dir():
        raise BundleError(f"{root} exists and is not a folder: not deleting it")
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / MARKER).write_text("made by `lakehouse bundle`; the folder is replaced on the next build\n")


def write_listing(bundle: Bundle) -> None:
    """BUNDLE.json: every file with its size and sha256, what `lakehouse deploy` compares."""
    listing = [{"path": p, "bytes": n, "sha256": h} for p, n, h in bundle.files()]
    (bundle.root / "BUNDLE.json").write_text(json.dumps({"environment": bundle.env_name, "files": listing}, indent=1))


# --- MWAA -------------------------------------------------------------------------------------


def _dags(bundle: Bundle) -> None:
    dags = bundle.dags
    for dag_file in sorted((REPO_ROOT / "dags").glob("*.py")):
        _copy(dag_file, dags / dag_file.name)
    _copy_package(REPO_ROOT / "dags" / "pipeline", dags / "pipeline")
    _copy_package(REPO_ROOT / "lakehouse_core", dags / "lakehouse_core")
    _copy_package(REPO_ROOT / "spark_jobs", dags / "spark_jobs")
    (dags / ".airflowignore").write_text(AIRFLOWIGNORE)


def _constraints(bundle: Bundle, source: str) -> None:
    """MWAA's Airflow constraints, shipped in dags/ so installs need no internet."""
    target = bundle.dags / CONSTRAINTS_NAME
    source = source or os.environ.get("LAKEHOUSE_MWAA_CONSTRAINTS", "") or CONSTRAINTS_URL
    if source.startswith("http://"):
        raise BundleError(f"{source}: https only (the constraints decide what MWAA installs)")
    if source.startswith("https://"):
        cached = CACHE / "constraints-3.2.1-3.12.txt"
        if cached.is_file() and pins.constraints_digest(cached.read_text()) != pins.MWAA_CONSTRAINTS_PINS_SHA256:
            raise BundleError(f"{cached}: its pins are not MWAA's 3.2.1 constraints (lakehouse/pins.py); delete it")
        if not cached.is_file():
            import urllib.request

            try:
                with urllib.request.urlopen(source, timeout=30) as response:  # nosec B310  # https only, checked above
                    data = response.read()
            except OSError as exc:
                raise BundleError(
                    f"cannot download MWAA's constraints from {source} ({exc}); pass --constraints PATH "
                    "(or LAKEHOUSE_MWAA_CONSTRAINTS) with a copy of that file"
                ) from None
            if pins.constraints_digest(data.decode()) != pins.MWAA_CONSTRAINTS_PINS_SHA256:
                raise BundleError(f"{source}: its pins are not MWAA's 3.2.1 constraints (lakehouse/pins.py)")
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(data)
        source = str(cached)
    path = Path(source)
    if not path.is_file():
        raise BundleError(f"constraints file {path} does not exist")
    text = path.read_text()
    if "constraints-3.2.1" not in text or "apache-airflow-providers-amazon==" not in text:
        raise BundleError(f"{path} does not look like Airflow 3.2.1's constraints file ({CONSTRAINTS_URL})")
    _copy(path, target)


def _dbt(bundle: Bundle, runtime: dict[str, str]) -> None:
    """The dbt project and a manifest parsed for the redshift target, with the runtime's variables.

    Parsing with the exports startup.sh will set proves the redshift profile renders with them.
    """
    source, target = REPO_ROOT / "dbt", bundle.dags / "dbt"
    for part in DBT_PARTS:
        path = source / part
        if path.is_dir():
            shutil.copytree(path, target / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif path.is_file():
            _copy(path, target / part)
    dbt = REPO_ROOT / ".venv-dbt" / "bin" / "dbt"
    if not dbt.exists():
        raise BundleError(f"{dbt} is missing: run `make setup`")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "LAKEHOUSE_"))}
    env |= runtime | {"DBT_TARGET": runtime.get("LAKEHOUSE_DBT_TARGET", "redshift")}
    env |= {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_VERSION_CHECK": "false"}
    command = [str(dbt), "parse", "--project-dir", str(target), "--profiles-dir", str(target), "--no-partial-parse"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False, cwd=target)
    if done.returncode != 0:
        raise BundleError(f"dbt parse for the redshift target failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
    _normalise_manifest(target / "target" / "manifest.json", target)
    for scratch in ("logs", "target/partial_parse.msgpack", "target/perf_info.json", "target/graph.gpickle"):
        path = target / scratch
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


VOLATILE_MANIFEST_KEYS = ("created_at", "generated_at", "invocation_id", "invocation_started_at", "run_started_at")


def _normalise_manifest(path: Path, project_dir: Path) -> None:
    """Same dbt sources, same bytes: no parse timestamps or invocation ids, MWAA's project path.

    `lakehouse deploy` uploads only what changed; a manifest that changed on every build would
    be re-uploaded (and re-synced to every MWAA container) each time.
    """

    def scrub(node: object) -> object:
        if isinstance(node, dict):
            return {k: (None if k in VOLATILE_MANIFEST_KEYS else scrub(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [scrub(v) for v in node]
        return node

    text = path.read_text().replace(str(project_dir), f"{deploy_config.MWAA_DAGS}/dbt")
    path.write_text(json.dumps(scrub(json.loads(text)), sort_keys=True, separators=(",", ":")))


REQUIREMENTS_HEADER = """\
# Built by `lakehouse bundle` from mwaa/requirements.txt. Installs with no internet: the
# constraints ship in dags/, the wheels MWAA's image lacks in plugins.zip.
"""
CLOSURE_NOTE = "# their closure beyond MWAA's image: the other wheels of plugins.zip"
HASHED_HEADER = """\
# Hash-checking mode (--require-hashes): pip installs a wheel of plugins.zip only if its sha256 is
# the one on its line, the wheel the bundle checked against requirements/*.lock. A line without a
# hash is a package MWAA's image already has (pip never downloads it: nothing to check).
"""


def _requirements(bundle: Bundle, shipped: list[Path] | None) -> None:
    """mwaa/requirements.txt with the bundled constraints and the plugins' wheels (no PyPI)."""
    top_level = _requirement_lines(REPO_ROOT / "mwaa" / "requirements.txt")
    (bundle.mwaa / "requirements.txt").write_text(requirements_text(top_level, shipped))


def requirements_text(top_level: list[str], shipped: list[Path] | None) -> str:
    """MWAA's requirements.txt: `top_level` (mwaa/requirements.txt) and, with `shipped` (the wheels
    in plugins.zip/wheels), every one of them pinned with its sha256.

    MWAA runs `pip3 install --constraint <its essential constraints> -r requirements.txt`
    (aws/amazon-mwaa-docker-images: safe-pip-install). One `--hash` turns on pip's hash-checking
    mode for the whole install, so every package pip fetches must have its line and hash: the
    closure beyond the image, which is exactly what plugins.zip holds. What the image has is
    already installed and never fetched, so its lines need none (the constraints pin their
    versions). `shipped=None` (`--no-wheels`) writes the pins alone: such a bundle has no
    plugins.zip and cannot be deployed.
    """
    options = [f'--constraint "{deploy_config.MWAA_DAGS}/{CONSTRAINTS_NAME}"', "--no-index"]
    options.append(f"--find-links {deploy_config.MWAA_PLUGINS}/wheels")
    if shipped is None:
        return REQUIREMENTS_HEADER + "\n".join([*options, *top_level]) + "\n"
    wheels = {_wheel_key(w.name): w for w in shipped}
    by_name = {key[0]: key for key in wheels}
    lines = []
    for requirement in top_level:
        key = by_name.get(_name(requirement))
        if key is not None and key != _pin_key(requirement.split(";", 1)[0]):
            raise BundleError(f"{requirement}: plugins.zip has {wheels[key].name}, another version")
        lines.append(requirement if key is None else f"{requirement} --hash=sha256:{sha256(wheels.pop(key))}")
    closure = [f"{name}=={version} --hash=sha256:{sha256(wheels[(name, version)])}" for name, version in sorted(wheels)]
    body = [*options, "--require-hashes", *lines, CLOSURE_NOTE]
    return REQUIREMENTS_HEADER + HASHED_HEADER + "\n".join([*body, *closure]) + "\n"


def dbt_mwaa_pins(dbt_lock: Path) -> list[str]:
    """dbt-core and dbt-redshift at the lock's versions: MWAA needs neither DuckDB nor sqlfluff."""
    locked = {_name(p): p for p in _lock_pins(dbt_lock)}
    return [locked[name] for name in DBT_ON_MWAA]


def _requirement_lines(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            lines.append(line)
    return lines


STARTUP = """\
#!/usr/bin/env bash
# MWAA startup script for the `{env}` environment. Generated by `lakehouse bundle` from
# deploy/{env}.yaml and Terraform's outputs: edit those, not this file.
#
# MWAA *sources* this script and saves the exported variables when it ends, so nothing here may
# stop it early: no `set -e`, no `exit`. A failed dbt install is logged, the variables are still
# saved, and the dbt tasks then fail with the missing executable's path in their log.

# --- settings the DAGs read (lakehouse_core/settings.py) and dbt's profiles.yml reads ---
{exports}

# --- dbt in its own virtualenv (dbt-core cannot resolve under Airflow's constraints) ---
# From the wheels in plugins.zip: no PyPI at boot, so private subnets without NAT work.
lakehouse_install_dbt() {{
  local venv="{dbt_venv}" wheels="${{AIRFLOW_HOME:-{airflow_home}}}/plugins/dbt"
  if [ -x "$venv/bin/dbt" ]; then return 0; fi
  python3 -m venv "$venv" || return 1
  PIP_USER=false "$venv/bin/pip" install --quiet --no-index --find-links "$wheels/wheels" \\
    --requirement "$wheels/requirements.txt" || return 1
}}
# Only where tasks run: MWAA 3.x starts this script in each container, as `worker`, `hybrid`
# (scheduler and worker in one), `scheduler` (with the DAG processor and triggerer, which never run
# dbt) and `webserver`. Unset (a local run of this script) counts as a worker.
case "${{MWAA_AIRFLOW_COMPONENT:-worker}}" in
  worker|hybrid)
    if lakehouse_install_dbt; then
      echo "lakehouse startup: dbt ready at $LAKEHOUSE_DBT_EXECUTABLE"
    else
      echo "lakehouse startup: dbt install FAILED; dbt tasks will fail until the next start" >&2
    fi
    ;;
esac
"""


def startup_script(env_name: str, runtime: dict[str, str]) -> str:
    protected = sorted(name for name in runtime if deploy_config.mwaa_protected(name))
    if protected:
        raise BundleError(f"startup.sh must not export {', '.join(protected)}: MWAA sets and protects them")
    exports = dict(runtime)
    home_expr = "${AIRFLOW_HOME:-" + deploy_config.MWAA_AIRFLOW_HOME + "}"
    # The dbt venv follows AIRFLOW_HOME (MWAA: /usr/local/airflow) so the script runs anywhere.
    dbt_venv = deploy_config.DBT_VENV.replace(deploy_config.MWAA_AIRFLOW_HOME, home_expr)
    exports["LAKEHOUSE_DBT_EXECUTABLE"] = f"{dbt_venv}/bin/dbt"
    lines = [f"export {name}={_shell_value(value)}" for name, value in sorted(exports.items())]
    return STARTUP.format(
        env=env_name, exports="\n".join(lines), dbt_venv=dbt_venv, airflow_home=deploy_config.MWAA_AIRFLOW_HOME
    )


def _shell_value(value: str) -> str:
    """Double-quoted, so `${AIRFLOW_HOME:-...}` expands and nothing else does."""
    if "${AIRFLOW_HOME" in value:
        return f'"{value}"'
    return "'" + value.replace("'", "'\\''") + "'"


def _startup(bundle: Bundle, runtime: dict[str, str]) -> None:
    path = bundle.mwaa / "startup.sh"
    path.write_text(startup_script(bundle.env_name, runtime))
    path.chmod(0o755)


def _plugins(bundle: Bundle) -> None:
    """plugins.zip: wheels/ for requirements.txt (minus what Airflow itself brings), dbt/ for startup.sh."""
    constraints = bundle.dags / CONSTRAINTS_NAME
    requirements = _requirement_lines(REPO_ROOT / "mwaa" / "requirements.txt")
    wanted = _compile(requirements, MWAA_PYTHON, constraints, "mwaa-requirements")
    on_image = _compile(list(MWAA_IMAGE), MWAA_PYTHON, constraints, "mwaa-image")
    extra = [pin for pin in wanted if _name(pin) not in {_name(p) for p in on_image}]
    mwaa_wheels = _download(extra, MWAA_PYTHON, "cp312")
    dbt_lock = REPO_ROOT / "requirements" / "dbt.lock"
    dbt_pins = _compile(dbt_mwaa_pins(dbt_lock), MWAA_PYTHON, dbt_lock, "mwaa-dbt")
    dbt_wheels = _download(dbt_pins, MWAA_PYTHON, "cp312")
    with zipfile.ZipFile(bundle.mwaa / "plugins.zip", "w", zipfile.ZIP_STORED) as zf:
        for wheel in mwaa_wheels:
            _zip_add(zf, wheel, f"wheels/{wheel.name}")
        for wheel in dbt_wheels:
            _zip_add(zf, wheel, f"dbt/wheels/{wheel.name}")
        zf.writestr(_zip_info("dbt/requirements.txt"), hashed_pins(dbt_wheels))
    _requirements(bundle, mwaa_wheels)


def hashed_pins(wheels: list[Path]) -> str:
    """A requirements file for a fresh virtualenv (startup.sh's dbt): every wheel pinned with its
    sha256, so pip's hash-checking mode refuses any other bytes."""
    lines = [f"{_name(n)}=={v} --hash=sha256:{sha256(w)}" for w in wheels for n, v in [_wheel_key(w.name)]]
    return "--require-hashes\n" + "\n".join(sorted(lines)) + "\n"


# --- Spark ------------------------------------------------------------------------------------


def _spark_artifacts(bundle: Bundle) -> None:
    out = bundle.artifacts
    for script in ENTRY_SCRIPTS:
        _copy(REPO_ROOT / "spark_jobs" / script, out / "spark_jobs" / script)
    with zipfile.ZipFile(out / "spark_jobs.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for path in _package_files(REPO_ROOT / "spark_jobs"):
            _zip_add(zf, path, path.relative_to(REPO_ROOT).as_posix())
    for suite in sorted((REPO_ROOT / "expectations").glob("*.json")):
        _copy(suite, out / "expectations" / suite.name)


def jobs_pins() -> list[str]:
    """What the Spark jobs need beyond Spark, with its whole closure pinned to main.lock."""
    locked = {_name(p): p for p in _lock_pins(REPO_ROOT / "requirements" / "main.lock")}
    missing = [n for n in JOBS_REQUIREMENTS if n not in locked]
    if missing:
        raise BundleError(f"requirements/main.lock has no pin for {', '.join(missing)}")
    return [locked[n] for n in JOBS_REQUIREMENTS]


def _jobs_wheels(bundle: Bundle) -> None:
    """Every job's wheels for the EMR image; per Glue job, only what Glue lacks (`glue_job_pins`)."""
    pins = emr_image_pins()
    wheels = _download(pins, JOBS_PYTHON, "cp311")
    target = bundle.artifacts / "python" / "spark-jobs-py311.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zf:
        for wheel in wheels:
            _zip_add(zf, wheel, wheel.name)
    (bundle.artifacts / "python" / "spark-jobs-requirements.txt").write_text("\n".join(pins) + "\n")
    emr = bundle.artifacts / "emr"
    _copy(REPO_ROOT / "docker" / "emr-serverless" / "Dockerfile", emr / "Dockerfile")
    for script in ENTRY_SCRIPTS:
        job_pins = glue_job_pins(script)
        if job_pins:
            write_gluewheels(
                bundle.artifacts / glue_wheels_key(script), job_pins, _download(job_pins, JOBS_PYTHON, "cp311")
            )


def emr_image_pins() -> list[str]:
    """The jobs' whole closure pinned by main.lock, minus Spark (the platform's own)."""
    pins = _compile(jobs_pins(), JOBS_PYTHON, REPO_ROOT / "requirements" / "main.lock", "spark-jobs")
    return [p for p in pins if _name(p) not in ("pyspark", "py4j")]


def glue_wheels_key(script: str) -> str:
    """Where a Glue job's zip of wheels goes, relative to the artifacts root (`<job>.gluewheels.zip`,
    the name form of Glue's documentation)."""
    return f"{GLUE_WHEELS_DIR}/{Path(script).stem.replace('_', '-')}.gluewheels.zip"


def glue_job_pins(script: str, glue_version: str = spark_runtimes.GLUE_VERSION) -> list[str]:
    """What `script` needs on Glue `glue_version` beyond the image's own packages, pinned.

    Resolved under Glue's provided versions (so GX runs on Glue's numpy/pandas/pyarrow instead of
    pip replacing them at every start) and main.lock for the rest; what Glue has at that version
    is left out.
    """
    requirements = GLUE_JOB_REQUIREMENTS[script]
    if not requirements:
        return []
    on_glue = {_pin_key(p) for p in spark_runtimes.GLUE_PROVIDED[glue_version]}
    pins = _glue_closure(list(requirements), glue_version, Path(script).stem)
    return [p for p in pins if _pin_key(p) not in on_glue]


def glue_image_pins(glue_version: str = spark_runtimes.GLUE_VERSION) -> list[str]:
    """The packages of Glue's image the jobs use (numpy, pandas, pyarrow, ...): what a Glue-like
    test environment (and the start-up benchmark) must hold before a job's own wheels go in."""
    on_glue = {_pin_key(p) for p in spark_runtimes.GLUE_PROVIDED[glue_version]}
    return [p for p in _glue_closure(list(JOBS_REQUIREMENTS), glue_version, "all-jobs") if _pin_key(p) in on_glue]


def _glue_closure(requirements: list[str], glue_version: str, name: str) -> list[str]:
    """`requirements` and their closure, pinned: Glue's version where its image has the package,
    main.lock's otherwise; never pyspark (the platform's)."""
    provided = {_name(p): p for p in spark_runtimes.GLUE_PROVIDED[glue_version]}
    locked = {_name(p): p for p in _lock_pins(REPO_ROOT / "requirements" / "main.lock")}
    constraints = CACHE / "compiled" / f"glue-{glue_version}-constraints.txt"
    constraints.parent.mkdir(parents=True, exist_ok=True)
    merged = {**locked, **provided}  # Glue's version wins where both pin a package
    constraints.write_text("\n".join(merged[n] for n in sorted(merged)) + "\n")
    wanted = [merged.get(_name(r), r) for r in requirements]
    pins = _compile(wanted, JOBS_PYTHON, constraints, f"glue-{glue_version}-{name}")
    return [p for p in pins if _name(p) not in ("pyspark", "py4j")]


def write_gluewheels(target: Path, pins: list[str], wheels: list[Path]) -> None:
    """A "zip of wheels" as Glue's docs lay it out: `wheels/requirements.txt` and `wheels/*.whl`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(_zip_info("wheels/requirements.txt"), "\n".join(pins) + "\n")
        for wheel in wheels:
            _zip_add(zf, wheel, f"wheels/{wheel.name}")


# --- wheels -----------------------------------------------------------------------------------


def _uv() -> str:
    uv = REPO_ROOT / ".venv" / "bin" / "uv"
    return str(uv) if uv.exists() else (shutil.which("uv") or "uv")


def _compile(requirements: list[str], python: str, constraints: Path, name: str) -> list[str]:
    """Pinned closure of `requirements` for `python` on manylinux x86_64 (uv; cached by input)."""
    key = hashlib.sha256("\n".join([*requirements, python, sha256(constraints)]).encode()).hexdigest()[:16]
    cached = CACHE / "compiled" / f"{name}-{key}.txt"
    if not cached.is_file():
        source = CACHE / "compiled" / f"{name}-{key}.in"
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text("\n".join(requirements) + "\n")
        command = [
            _uv(), "pip", "compile", str(source), "-c", str(constraints), "--python-version", python,
            "--python-platform", "x86_64-manylinux_2_28", "--no-header", "--no-annotate", "--quiet",
            "-o", str(cached),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BundleError(f"resolving {name} for Python {python} failed:\n{done.stderr[-3000:]}")
    return _lock_pins(cached)


def _download(pins: Iterable[str], python: str, abi: str) -> list[Path]:
    """Wheels of exactly these pins for the target, each checked against the locks: what ships."""
    return verify_wheels(fetch_wheels(pins, python, abi))


def fetch_wheels(pins: Iterable[str], python: str, abi: str) -> list[Path]:
    """Wheels of exactly these pins for the target (pip download; cached in build/cache/wheels-<abi>).

    Unchecked: only for what never ships (the tests' stand-in of Glue's own image packages).
    """
    folder = CACHE / f"wheels-{abi}"
    folder.mkdir(parents=True, exist_ok=True)
    pins = sorted(set(pins))
    have = {_wheel_key(w.name): w for w in folder.glob("*.whl")}
    todo = [p for p in pins if _pin_key(p) not in have]
    if todo:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
        command += ["--python-version", python, "--implementation", "cp", "--abi", abi, "--abi", "abi3"]
        command += ["--abi", "none", "--dest", str(folder)]
        for platform in WHEEL_PLATFORMS:
            command += ["--platform", platform]
        done = subprocess.run([*command, *todo], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BundleError(
                f"downloading wheels for Python {python} failed (PyPI must be reachable the first time; "
                f"later builds use build/cache):\n{done.stderr[-3000:]}"
            )
        have = {_wheel_key(w.name): w for w in folder.glob("*.whl")}
    missing = [p for p in pins if _pin_key(p) not in have]
    if missing:
        raise BundleError(f"no wheel found for {', '.join(missing)} (Python {python}, manylinux x86_64)")
    return [have[_pin_key(p)] for p in pins]


LOCKS = (REPO_ROOT / "requirements" / "main.lock", REPO_ROOT / "requirements" / "dbt.lock")


def verify_wheels(wheels: list[Path], locks: Iterable[Path] = LOCKS) -> list[Path]:
    """The wheels, each checked against the sha256 values the hashed locks allow for its version.

    Everything shipped to MWAA, Glue and EMR goes through here: a wheel in build/cache that was
    tampered with, or a version no lock pins, stops the bundle with the file named.
    """
    allowed = pins.lock_hashes(*locks)
    for wheel in wheels:
        hashes = allowed.get(_wheel_key(wheel.name))
        if not hashes:
            raise BundleError(f"{wheel}: {wheel.name} is pinned by no lock ({', '.join(str(p) for p in locks)})")
        actual = sha256(wheel)
        if actual not in hashes:
            raise BundleError(
                f"{wheel}: sha256 {actual} is not one the locks allow for {wheel.name}; delete it and rebuild"
            )
    return wheels


def _lock_pins(path: Path) -> list[str]:
    """`name==version` lines of a uv/pip lock (no extras, markers or hashes)."""
    pins = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip().rstrip("\\").strip()  # a hashed lock continues the line
        if "==" in line and not line.startswith("-"):
            name, version = line.split(";", 1)[0].split("==", 1)
            pins.append(f"{name.split('[', 1)[0].strip()}=={version.strip()}")
    return pins


def _name(pin: str) -> str:
    return pin.split("==", 1)[0].split("[", 1)[0].strip().lower().replace("_", "-").replace(".", "-")


def _pin_key(pin: str) -> tuple[str, str]:
    name, version = pin.split("==", 1)
    return _name(name), version.strip()


def _wheel_key(filename: str) -> tuple[str, str]:
    name, version = filename.split("-")[:2]
    return _name(name), version


# --- files ------------------------------------------------------------------------------------

FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # zip entries get a fixed time: same inputs, same bytes


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, FIXED_TIME)
    info.external_attr = 0o644 << 16
    return info


def _zip_add(zf: zipfile.ZipFile, path: Path, name: str) -> None:
    info = _zip_info(name)
    info.compress_type = zf.compression
    zf.writestr(info, path.read_bytes())


def _package_files(package: Path) -> list[Path]:
    return sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)


def _copy_package(source: Path, target: Path) -> None:
    for path in _package_files(source):
        _copy(path, target / path.relative_to(source))


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
