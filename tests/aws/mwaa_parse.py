"""Parse a dags folder with Airflow's DagBag, as MWAA's DAG processor does; print one JSON line.

Runs under the MWAA-like virtualenv's Python with only the environment startup.sh left: the
project is not installed there, and the dags folder is the only place our code comes from.
"""

import json
import os
import sys
import time
from pathlib import Path

started = time.perf_counter()
from airflow.dag_processing.dagbag import BundleDagBag  # noqa: E402 (timed)

imported = time.perf_counter()
# What Airflow 3's DAG processor does for the dags-folder bundle: the bundle's folder goes on
# sys.path (that, and nothing else, is how `pipeline` and `spark_jobs` import on MWAA).
folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
bag = BundleDagBag(folder, bundle_path=folder, bundle_name="dags-folder")
parsed = time.perf_counter()
print(
    json.dumps(
        {
            "import_errors": {k: v[-2000:] for k, v in bag.import_errors.items()},
            "dags": {dag_id: sorted(t.task_id for t in dag.tasks) for dag_id, dag in bag.dags.items()},
            "operators": {dag_id: {t.task_id: type(t).__name__ for t in dag.tasks} for dag_id, dag in bag.dags.items()},
            "foreign_modules": sorted(
                m for m in sys.modules if m.split(".")[0] in ("lakehouse", "pyspark", "great_expectations", "tests")
            ),
            "file_seconds": {os.path.basename(s.file): s.duration.total_seconds() for s in bag.dagbag_stats},
            "airflow_import_seconds": imported - started,
            "parse_seconds": parsed - imported,
        }
    )
)
