"""The warm Spark driver (`lakehouse.runtime.warm_spark`): jobs run in one session, and say how they ended.

A real driver under spark-submit (the CLI's way), real jobs as scripts with `main(argv)`:
output (Python's and the JVM's) comes back over the socket, exit codes are the job's own
(returned, `sys.exit`, an exception), jobs share the session, and a driver that is gone makes
the caller fall back to its own spark-submit.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakehouse.runtime import local_spark
from lakehouse_core.settings import Settings, load_settings

pytestmark = [pytest.mark.spark, pytest.mark.timeout(600)]

JOB = """
import sys
from pyspark.sql import SparkSession

def main(argv):
    spark = SparkSession.builder.getOrCreate()
    mode = argv[-1]
    print(f"job {mode} sees {spark.range(5).count()} rows, app {spark.sparkContext.appName}")
    print("to stderr too", file=sys.stderr)
    if mode == "exit":
        sys.exit(3)
    if mode == "raise":
        raise ValueError("a job's own error")
    return 0
"""


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, subprocess.Popen]]:
    home = tmp_path_factory.mktemp("warm")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
    base = load_settings({**env, "LAKEHOUSE_HOME": str(home / "lake")})
    from lakehouse_core.catalog import init_catalog

    init_catalog(base)
    folder = home / "driver"
    process = local_spark.start_warm_driver(base, folder, home / "driver.log")
    settings = load_settings({**env, "LAKEHOUSE_HOME": str(home / "lake"), "LAKEHOUSE_WARM_SPARK": str(folder)})
    try:
        yield settings, process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)
        process.wait()


def run(settings: Settings, script: Path, mode: str) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = local_spark.run_job(settings, script, ["--mode", mode], on_stdout=lines.append, on_stderr=lines.append)
    return code, lines


def test_jobs_run_in_the_warm_session_with_their_output_and_exit_codes(warm, tmp_path: Path) -> None:
    settings, _ = warm
    script = tmp_path / "job.py"
    script.write_text(JOB)

    code, lines = run(settings, script, "ok")
    assert code == 0, lines
    assert "job ok sees 5 rows, app lakehouse-warm-spark" in lines  # the driver's session, not a new one
    assert "to stderr too" in lines

    code, lines = run(settings, script, "exit")
    assert code == 3, lines

    code, lines = run(settings, script, "raise")
    assert code == 1
    assert any("ValueError: a job's own error" in line for line in lines), lines

    code, lines = run(settings, script, "ok")  # still serving after a failed job
    assert code == 0, lines


def test_a_gone_driver_falls_back_to_its_own_spark_submit(warm, tmp_path: Path) -> None:
    settings, process = warm
    os.killpg(process.pid, 9)
    process.wait()
    script = tmp_path / "job.py"
    script.write_text(JOB + "\nif __name__ == '__main__':\n    sys.exit(main(sys.argv))\n")

    code, lines = run(settings, script, "ok")

    assert code == 0, lines
    assert any("running job.py with its own spark-submit" in line for line in lines), lines
    assert any(line.startswith("job ok sees 5 rows, app job") for line in lines), lines
