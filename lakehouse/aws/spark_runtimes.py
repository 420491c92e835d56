"""Which Spark, Iceberg and Python each environment runs: the one table, and the releases we deploy.

The tests run Spark 3.5.6 with the Iceberg 1.9.2 runtime on Python 3.11 (local and compose). On
AWS the platform brings Spark and Iceberg, so the release we ask for decides them; Iceberg's
branches, `fast_forward`, `RETAIN n HOURS` and `.refs` (the write-audit-publish flow and table
maintenance) are exactly what moved between Iceberg releases. We therefore deploy only releases
on the same Spark, and the Iceberg line closest to ours:

- Glue 5.1 (not 5.0, which runs Spark 3.5.4 and Iceberg 1.7.1), AWS's migration guide
  "Migrating AWS Glue for Spark jobs to AWS Glue version 5.1";
- EMR 7.12.0 / 7.13.0 (Spark 3.5.6, Iceberg 1.10.0; 7.11.0 has Iceberg 1.9.1), AWS's EMR
  release guide ("Spark release history", "Iceberg release history"). Python on EMR is our
  image's 3.11 (EMR's own is 3.9: `docker/emr-serverless/Dockerfile`).

`deploy/<env>.yaml`, `lakehouse deploy`'s defaults and the EMR image's base release must name a
release in this table (`lakehouse bundle` refuses others; tests/unit/test_spark_runtimes.py checks
the files, and that docs/deploy-aws.md shows this table).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Runtime:
    """One environment's Spark stack: the versions its jobs run on."""

    environment: str  # local, compose, glue, emr
    release: str  # what the deploy configuration names ("" where we bring Spark ourselves)
    spark: str
    iceberg: str
    python: str
    source: str  # where the versions come from


TESTED = Runtime("local", "", "3.5.6", "1.9.2", "3.11", "requirements/main.lock: pyspark, the Iceberg jar's wheel")
RUNTIMES = (
    TESTED,
    Runtime("compose", "", "3.5.6", "1.9.2", "3.11", "the same lock in docker/airflow (Debian 12's Python)"),
    Runtime("glue", "5.1", "3.5.6", "1.10.0", "3.11", "AWS Glue 5.1 release notes"),
    Runtime("emr", "emr-7.12.0", "3.5.6-amzn-1", "1.10.0-amzn-0", "3.11", "EMR release guide; our image's Python"),
    Runtime("emr", "emr-7.13.0", "3.5.6-amzn-2", "1.10.0-amzn-1", "3.11", "EMR release guide; our image's Python"),
)
GLUE_VERSION = "5.1"  # what `lakehouse deploy` asks for when deploy/<env>.yaml says nothing
EMR_RELEASE = "emr-7.12.0"  # deploy/dev.yaml's, and the EMR image's default base


class UnsupportedRelease(ValueError):
    """A Glue version or EMR release outside the table: its Spark or Iceberg is not what we test."""


def runtime(environment: str, release: str) -> Runtime:
    """The table's row for `release` on `environment` (glue, emr); refuses one we do not deploy."""
    for row in RUNTIMES:
        if row.environment == environment and row.release == str(release):
            return row
    known = ", ".join(r.release for r in RUNTIMES if r.environment == environment)
    raise UnsupportedRelease(
        f"{environment} release {release!r} is not one we deploy (known: {known}): its Spark/Iceberg differ "
        f"from what the tests run (Spark {TESTED.spark}, Iceberg {TESTED.iceberg}); see docs/deploy-aws.md, "
        '"Spark, Iceberg and Python per environment"'
    )


def markdown_table() -> str:
    """The table as docs/deploy-aws.md shows it."""
    lines = ["| environment | release | Spark | Iceberg | Python | from |", "|---|---|---|---|---|---|"]
    for row in RUNTIMES:
        release = f"`{row.release}`" if row.release else "-"
        lines.append(f"| {row.environment} | {release} | {row.spark} | {row.iceberg} | {row.python} | {row.source} |")
    return "\n".join(lines)


# The Python packages Glue 5.1's image already has (AWS Glue docs, "Python modules already provided
# in AWS Glue", Glue 5.1; as recorded by the aws-glue-toolkit project's glue-5.1.json, which reads
# them from the public aws-glue-libs:5.1 image). A job's wheel set leaves out what is here at the
# same version: pip on Glue would only reinstall it.
GLUE_PROVIDED: dict[str, tuple[str, ...]] = {
    "5.1": (
        "aiobotocore==2.25.1", "aiohappyeyeballs==2.6.1", "aiohttp==3.13.2", "aioitertools==0.12.0",
        "aiosignal==1.4.0", "appdirs==1.4.4", "attrs==25.4.0", "boto3==1.40.61", "botocore==1.40.61",
        "certifi==2025.10.5", "charset-normalizer==3.4.4", "choreographer==1.2.0", "contourpy==1.3.3",
        "cycler==0.12.1", "distlib==0.4.0", "filelock==3.20.0", "fonttools==4.60.1", "frozenlist==1.8.0",
        "fsspec==2025.10.0", "idna==3.11", "iniconfig==2.3.0", "jmespath==1.0.1", "kaleido==1.2.0",
        "kiwisolver==1.4.9", "logistro==2.0.1", "matplotlib==3.10.7", "multidict==6.7.0", "narwhals==2.10.2",
        "numpy==2.3.4", "orjson==3.11.4", "packaging==25.0", "pandas==2.3.3", "pillow==12.0.0", "pip==24.0",
        "platformdirs==4.5.0", "plotly==6.4.0", "pluggy==1.6.0", "propcache==0.4.1", "pyarrow==22.0.0",
        "Pygments==2.19.2", "pyparsing==3.2.5", "pytest-timeout==2.4.0", "pytest==8.4.2",
        "python-dateutil==2.9.0.post0", "pytz==2025.2", "requests==2.32.5", "s3fs==2025.10.0",
        "s3transfer==0.14.0", "seaborn==0.13.2", "setuptools==79.0.1", "simplejson==3.20.2", "six==1.17.0",
        "tenacity==9.1.2", "typing_extensions==4.15.0", "tzdata==2025.2", "urllib3==2.5.0", "uv==0.9.7",
        "virtualenv==20.35.4", "wrapt==1.17.3", "yarl==1.22.0",
    ),
}  # fmt: skip
