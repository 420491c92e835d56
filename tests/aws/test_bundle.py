"""`lakehouse bundle`: what goes to S3 is complete, offline-installable and reproducible."""

from __future__ import annotations

import ast
import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from lakehouse.aws import bundle as bundles
from lakehouse.aws import deploy_config, spark_runtimes
from lakehouse_core.settings import REPO_ROOT
from tests.aws.conftest import deploy_dir

pytestmark = pytest.mark.aws

OUR_ROOTS = (REPO_ROOT, REPO_ROOT / "dags")


def test_requirements_install_offline_under_the_bundled_constraints(glue_bundle) -> None:
    lines = (glue_bundle.mwaa / "requirements.txt").read_text().splitlines()
    assert f'--constraint "{deploy_config.MWAA_DAGS}/constraints.txt"' in lines
    assert "--no-index" in lines
    assert f"--find-links {deploy_config.MWAA_PLUGINS}/wheels" in lines
    assert (glue_bundle.dags / "constraints.txt").is_file()
    assert not any("https://" in line for line in lines)  # no internet needed
    with zipfile.ZipFile(glue_bundle.mwaa / "plugins.zip") as zf:
        names = zf.namelist()
    on_image = {bundles._name(p) for p in bundles.MWAA_IMAGE}
    pins = [line for line in lines if "==" in line and bundles._name(line) not in on_image]
    assert pins
    for pin in pins:  # each requirement has its wheel (the image's packages are not shipped)
        name = bundles._name(pin)
        assert any(bundles._name(n.split("/")[-1].split("-")[0]) == name for n in names if n.startswith("wheels/")), pin
    assert "dbt/requirements.txt" in names
    assert not any(n.startswith("wheels/apache_airflow-") for n in names)  # on MWAA's image already


def test_requirements_hash_every_wheel_pip_installs(glue_bundle) -> None:
    """Hash-checking mode: each wheel of plugins.zip (wheels/ for requirements.txt, dbt/wheels/ for
    startup.sh) is on its file's one line with its own sha256; nothing else is hashed."""
    mwaa_requirements = (glue_bundle.mwaa / "requirements.txt").read_text()
    with zipfile.ZipFile(glue_bundle.mwaa / "plugins.zip") as zf:
        for folder, text in (("wheels/", mwaa_requirements), ("dbt/wheels/", zf.read("dbt/requirements.txt").decode())):
            assert "--require-hashes" in text.splitlines()
            hashed = {
                bundles._name(line): line.split(" --hash=sha256:") for line in text.splitlines() if "--hash=" in line
            }
            wheels = [n for n in zf.namelist() if n.startswith(folder) and n.endswith(".whl")]
            assert wheels and len(hashed) == len(wheels)
            for name in wheels:
                package, version = bundles._wheel_key(name.rsplit("/", 1)[1])
                pin, digest = hashed[package]
                assert pin.endswith(f"=={version}") and digest == hashlib.sha256(zf.read(name)).hexdigest(), name


def test_dags_folder_is_self_contained(glue_bundle) -> None:
    dags = glue_bundle.dags
    ignored = (dags / ".airflowignore").read_text().split()
    assert {"pipeline/", "lakehouse_core/", "spark_jobs/", "dbt/"} <= set(ignored)
    assert (dags / "dbt" / "target" / "manifest.json").is_file()
    manifest = json.loads((dags / "dbt" / "target" / "manifest.json").read_text())
    assert manifest["metadata"]["adapter_type"] == "redshift"
    # the silver source reads the Spectrum schema the deploy configuration names (over <prefix>silver)
    silver = [n for n in manifest["sources"].values() if n["source_name"] == "silver"]
    assert silver and {n["schema"] for n in silver} == {"spectrum_silver"}
    assert not list(dags.rglob("lakehouse/**/*.py")), "the laptop tooling is not shipped"


def _ours(module: str) -> bool:
    """A module of this repository: its top-level package is a folder of the repository or of dags/."""
    top = module.split(".")[0]
    return any((root / top / "__init__.py").is_file() or (root / f"{top}.py").is_file() for root in OUR_ROOTS)


def _module(dags: Path, module: str) -> bool:
    """A module file in the bundle's dags folder or in this repository."""
    return _shipped(dags, module) or any(_shipped(root, module) for root in OUR_ROOTS)


def _shipped(dags: Path, module: str) -> bool:
    path = dags.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


# The laptop runtime (local Spark and JVM, DuckDB and compose's PostgreSQL): never shipped. Shipped
# code names it only inside the local implementations' function bodies, run where LAKEHOUSE_ENV is
# local or compose; the MWAA-like DAG run (test_dag_on_aws_apis) shows no task reaches it on AWS.
LAPTOP_RUNTIME = "lakehouse.runtime"


def _imports(tree: ast.AST, in_function: bool = False):
    """(node, whether it sits in a function body) for every import in the tree."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, in_function
        yield from _imports(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))


def scan_imports(dags: Path) -> tuple[list[str], list[str]]:
    """`file: module` for each import of this repository's code anywhere in the DAG code under
    `dags` (task callables and branches that DAG parsing never runs included) with no file there;
    and, apart, the laptop runtime named inside a function body (the only place it may be named)."""
    missing, laptop = [], []
    for path in sorted(dags.rglob("*.py")):
        package = path.relative_to(dags).parent.parts
        for node, in_function in _imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                parts = [*package[: len(package) - node.level + 1], node.module] if node.level else [node.module]
                base = ".".join(p for p in parts if p)
                # `from a import b`: b is a module of a (shipped, or in the repository), or a name a defines
                modules = [f"{base}.{a.name}" if _module(dags, f"{base}.{a.name}") else base for a in node.names]
            relative = isinstance(node, ast.ImportFrom) and node.level > 0
            for m in modules:
                if not (relative or _ours(m)) or _shipped(dags, m):
                    continue
                runtime = m == LAPTOP_RUNTIME or m.startswith(LAPTOP_RUNTIME + ".")
                (laptop if runtime and in_function else missing).append(f"{path.relative_to(dags)}: {m}")
    return missing, sorted(set(laptop))


def test_the_dag_code_imports_only_modules_the_bundle_ships(glue_bundle, tmp_path) -> None:
    """The bundle's dags folder is the only place MWAA finds our code: every module of this
    repository that the DAG code imports, at any depth, is a file there, except the laptop runtime
    named in the local implementations' bodies, which are exactly these. (A text search of one
    DAG file for "from lakehouse" stood here: it missed `import lakehouse`, every other file and
    every moved module.) The scan is checked too, on a copy with a stray module's imports."""
    missing, laptop = scan_imports(glue_bundle.dags)
    assert missing == []
    assert laptop == [
        "pipeline/spark_tasks.py: lakehouse.runtime.jvm",
        "pipeline/spark_tasks.py: lakehouse.runtime.local_spark",
        "pipeline/warehouse.py: lakehouse.runtime.local_warehouse",
        "pipeline/warehouse.py: lakehouse.runtime.warehouse_export",
    ]
    copy = tmp_path / "dags"
    shutil.copytree(glue_bundle.dags, copy, ignore=shutil.ignore_patterns("dbt"))
    stray = (
        "import lakehouse.runtime.jvm\n"
        "def task():\n    import lakehouse.cli\n    from spark_jobs.gone import x\n    from .gone import y\n"
        "    from lakehouse.runtime import local_spark\n"
    )
    (copy / "pipeline" / "stray.py").write_text(stray)
    missing, laptop_in_copy = scan_imports(copy)
    assert missing == [
        "pipeline/stray.py: lakehouse.runtime.jvm",
        "pipeline/stray.py: lakehouse.cli",
        "pipeline/stray.py: spark_jobs.gone",
        "pipeline/stray.py: pipeline.gone",
    ]
    assert sorted(set(laptop_in_copy) - set(laptop)) == ["pipeline/stray.py: lakehouse.runtime.local_spark"]


def test_startup_script_never_stops_the_environment(glue_bundle) -> None:
    script = (glue_bundle.mwaa / "startup.sh").read_text()
    code = [line.split("#", 1)[0] for line in script.splitlines()]
    assert not any("set -e" in line or line.strip().startswith("exit") for line in code)
    assert subprocess.run(["bash", "-n", str(glue_bundle.mwaa / "startup.sh")]).returncode == 0
    assert "PIP_USER=false" in script and "--no-index" in script


def test_spark_artifacts(glue_bundle) -> None:
    out = glue_bundle.artifacts
    assert sorted(p.name for p in (out / "spark_jobs").iterdir()) == sorted(bundles.ENTRY_SCRIPTS)
    with zipfile.ZipFile(out / "spark_jobs.zip") as zf:
        names = set(zf.namelist())
    expected = {p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "spark_jobs").rglob("*.py")}
    assert names == {n for n in expected if "__pycache__" not in n}
    assert sorted(p.name for p in (out / "expectations").iterdir()) == sorted(
        p.name for p in (REPO_ROOT / "expectations").glob("*.json")
    )
    requirements = (out / "python" / "spark-jobs-requirements.txt").read_text().split()
    assert any(r.startswith("great-expectations==") for r in requirements)
    assert not any(r.startswith(("pyspark==", "py4j==")) for r in requirements)  # the platform's own
    # Glue: one zip of wheels per job that needs anything beyond Glue 5.1's packages, laid out as
    # Glue's docs say (wheels/requirements.txt + wheels/*.whl); today only the gate (GX)
    glue_zips = sorted(p.name for p in (out / "python" / "glue").iterdir())
    assert glue_zips == ["validate-orders.gluewheels.zip"]
    with zipfile.ZipFile(out / "python" / "glue" / "validate-orders.gluewheels.zip") as zf:
        names = zf.namelist()
        pins = zf.read("wheels/requirements.txt").decode().split()
    assert all(n.startswith("wheels/") for n in names)
    assert len([n for n in names if n.endswith(".whl")]) == len(pins)
    assert any(p.startswith("great-expectations==") for p in pins)
    on_glue = {bundles._pin_key(p) for p in spark_runtimes.GLUE_PROVIDED["5.1"]}
    assert not [p for p in pins if bundles._pin_key(p) in on_glue]  # pip on Glue would only reinstall those
    assert not any(p.startswith(("numpy==", "pandas==", "pyarrow==")) for p in pins)  # Glue's own versions


def test_bundle_is_reproducible(glue_bundle, mwaa_constraints, tmp_path) -> None:
    """Same sources, same bytes: a deploy after a rebuild uploads nothing."""
    again = bundles.build("dev", tmp_path / "again", mwaa_constraints, deploy_dir=deploy_dir(tmp_path))
    assert again.files() == glue_bundle.files()


def test_entry_scripts_import_under_the_jobs_python_with_only_the_shipped_wheels(glue_bundle, tmp_path) -> None:
    """Glue 5 and our EMR Serverless image run Python 3.11: a fresh 3.11 venv with pyspark (the
    platform's) and the shipped wheels only, the job package from spark_jobs.zip, imports every
    module of the package and answers --help for every entry script."""
    uv = str(REPO_ROOT / ".venv" / "bin" / "uv")
    venv = tmp_path / "jobs-venv"
    wheels = tmp_path / "wheels"
    with zipfile.ZipFile(glue_bundle.artifacts / "python" / "spark-jobs-py311.zip") as zf:
        zf.extractall(wheels)
    subprocess.run([uv, "venv", "-q", "--python", "3.11", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    pyspark = next(p for p in bundles._lock_pins(REPO_ROOT / "requirements" / "main.lock") if p.startswith("pyspark=="))
    requirements = str(glue_bundle.artifacts / "python" / "spark-jobs-requirements.txt")
    install = [uv, "pip", "install", "-q", "--python", python, "--offline", "--find-links", str(wheels)]
    subprocess.run([*install, "-r", requirements, pyspark], check=True)
    check = f"""
import pkgutil, importlib, runpy, sys
sys.path.insert(0, {str(glue_bundle.artifacts / "spark_jobs.zip")!r})
import spark_jobs
assert spark_jobs.__file__.startswith({str(glue_bundle.artifacts)!r}), spark_jobs.__file__
for info in pkgutil.walk_packages(spark_jobs.__path__, "spark_jobs."):
    importlib.import_module(info.name)
import great_expectations, pyspark
print(sys.version_info[:2], len(list(pkgutil.walk_packages(spark_jobs.__path__))))
"""
    done = subprocess.run([python, "-I", "-c", check], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("(3, 11)")
    for script in bundles.ENTRY_SCRIPTS:
        path = glue_bundle.artifacts / "spark_jobs" / script
        code = f"import sys; sys.path.insert(0, {str(glue_bundle.artifacts / 'spark_jobs.zip')!r}); "
        code += f"sys.argv = [{script!r}, '--help']; import runpy; runpy.run_path({str(path)!r}, run_name='__main__')"
        done = subprocess.run([python, "-I", "-c", code], capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0 and "usage:" in done.stdout, (script, done.stderr[-2000:])


def test_each_glue_job_imports_with_glues_packages_and_only_its_own_wheels(glue_bundle, tmp_path) -> None:
    """A Glue 5.1 stand-in: Python 3.11 with pyspark and the packages of Glue's image the jobs use
    (numpy 2.3.4, pandas, pyarrow 22, ...: `bundle.glue_image_pins`). The jobs with no zip of
    wheels answer --help there as they are; the gate imports GX only after its own
    `.gluewheels.zip` is installed the way Glue installs it (pip, --no-index, its requirements)."""
    uv, venv = str(REPO_ROOT / ".venv" / "bin" / "uv"), tmp_path / "glue-venv"
    subprocess.run([uv, "venv", "-q", "--seed", "--python", "3.11", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    pyspark = next(p for p in bundles._lock_pins(REPO_ROOT / "requirements" / "main.lock") if p.startswith("pyspark=="))
    image = bundles.glue_image_pins()
    bundles.fetch_wheels(image, bundles.JOBS_PYTHON, "cp311")  # Glue's own packages: never shipped
    seed = [
        uv,
        "pip",
        "install",
        "-q",
        "--python",
        python,
        "--offline",
        "--find-links",
        str(bundles.CACHE / "wheels-cp311"),
    ]
    subprocess.run([*seed, *image, pyspark], check=True)
    package = str(glue_bundle.artifacts / "spark_jobs.zip")

    def run(script: str) -> subprocess.CompletedProcess[str]:
        path = glue_bundle.artifacts / "spark_jobs" / script
        code = f"import sys, runpy; sys.path.insert(0, {package!r}); sys.argv = [{script!r}, '--help']; "
        code += f"runpy.run_path({str(path)!r}, run_name='__main__')"
        return subprocess.run([python, "-I", "-c", code], capture_output=True, text=True, cwd=tmp_path)

    for script in bundles.ENTRY_SCRIPTS:
        if not bundles.GLUE_JOB_REQUIREMENTS[script]:
            done = run(script)
            assert done.returncode == 0 and "usage:" in done.stdout, (script, done.stderr[-2000:])
    gx = [python, "-I", "-c", f"import sys; sys.path.insert(0, {package!r}); import great_expectations"]
    assert subprocess.run(gx, capture_output=True).returncode != 0  # not on Glue's image
    unpacked = tmp_path / "gate"
    with zipfile.ZipFile(glue_bundle.artifacts / bundles.glue_wheels_key("validate_orders.py")) as zf:
        zf.extractall(unpacked)
    gate_pip = [python, "-m", "pip", "install", "-q", "--no-index", "--find-links", str(unpacked / "wheels")]
    subprocess.run([*gate_pip, "-r", str(unpacked / "wheels" / "requirements.txt")], check=True)
    done = subprocess.run(gx, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    probe = "import numpy, pyarrow; print(numpy.__version__, pyarrow.__version__)"
    versions = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert versions == ["2.3.4", "22.0.0"]  # the gate's wheels did not replace Glue's own
    done = run("validate_orders.py")
    assert done.returncode == 0 and "usage:" in done.stdout, done.stderr[-2000:]


def test_bundle_cli_lists_what_it_built(tmp_path, mwaa_constraints, capsys) -> None:
    from lakehouse.cli import main

    folder = deploy_dir(tmp_path)
    args = ["bundle", "--env", "dev", "--out", str(tmp_path / "b"), "--constraints", mwaa_constraints]
    args += ["--outputs", str(folder / "dev.outputs.json"), "--no-wheels"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "mwaa/startup.sh" in out and "artifacts/spark_jobs.zip" in out and "built in" in out
    assert main(["bundle", "--env", "nope", "--out", str(tmp_path / "c")]) == 1
    assert "no deploy configuration" in capsys.readouterr().err


def test_missing_terraform_outputs_name_the_command(tmp_path) -> None:
    folder = deploy_dir(tmp_path)
    (folder / "dev.outputs.json").unlink()
    with pytest.raises(deploy_config.DeployConfigError, match="terraform -chdir=infra/terraform/envs/dev output -json"):
        deploy_config.load("dev", folder).runtime_env()
    assert Path(folder / "dev.yaml").is_file()
