"""Spark programs of the lakehouse.

They know nothing of Airflow: every input is a `--snake_case` argument, identical on Glue 5,
EMR Serverless 7 and local `spark-submit`. Transforms are pure functions of DataFrames.
"""

# Every entry script imports this package first, so this check runs before any module written for
# Python 3.11 is compiled (`from datetime import UTC`, `int | float` at run time). It is the answer
# a job started on an older Python gets: EMR Serverless 7's own image runs 3.9 unless the
# application has our custom image (deploy/<env>.yaml `emr_serverless.image_uri`). This file must
# stay valid Python 3.9 (tests/unit/test_jobs_python.py runs the entry scripts under 3.9).
import sys as _sys

REQUIRED_PYTHON = (3, 11)  # Glue 5.x, our EMR Serverless image, every test
WRONG_PYTHON_EXIT = 2  # "could not run": never a verdict

if _sys.version_info[:2] < REQUIRED_PYTHON:
    _sys.stderr.write(
        "lakehouse Spark job: needs Python {}.{} or newer, but runs on Python {} ({}). On EMR Serverless "
        "the application must use the custom image (docker/emr-serverless/Dockerfile; deploy/<env>.yaml "
        "emr_serverless.image_uri) and the job the PYSPARK_PYTHON it names; on Glue, glue_version 5.x.\n".format(
            *REQUIRED_PYTHON, _sys.version.split()[0], _sys.executable
        )
    )
    raise SystemExit(WRONG_PYTHON_EXIT)
