"""Run `orders_lakehouse` once with `dag.test()` inside the MWAA-like virtualenv; print one JSON line.

Usage: mwaa_dag_run.py <logical date ISO> <regex of task ids to mark success instead of running>
"""

import json
import os
import sys
from datetime import datetime
from pathlib import Path

from airflow.dag_processing.dagbag import BundleDagBag

folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
bag = BundleDagBag(folder, bundle_path=folder, bundle_name="dags-folder")
if bag.import_errors:
    print(json.dumps({"import_errors": bag.import_errors}))
    sys.exit(1)
dag = bag.dags["orders_lakehouse"]
run = dag.test(logical_date=datetime.fromisoformat(sys.argv[1]), mark_success_pattern=sys.argv[2])
tis = run.get_task_instances()
plan = next((ti for ti in tis if ti.task_id == "landing_manifest"), None)
print(
    json.dumps(
        {
            "state": str(run.state),
            "tasks": {ti.task_id: str(ti.state) for ti in tis},
            "local_spark_modules": sorted(m for m in sys.modules if m.split(".")[0] in ("pyspark", "py4j")),
            "laptop_modules": sorted(m for m in sys.modules if m.split(".")[0] == "lakehouse"),
        }
    )
)
