"""Our thin wrapper of Great Expectations Core 1.x: run a suite dict on a Spark DataFrame.

Why a wrapper of ours and not the Airflow GX provider: the provider builds DataFrames when the
DAG is parsed and tracks GX's changing 1.x API; the gate must run inside the Spark job (Glue,
EMR Serverless or local), on a DataFrame the job has already read from the audit branch.

What it keeps small and fast:

- One *ephemeral* Data Context per job run (in-memory stores: nothing to set up on Glue), with
  one filesystem Data Docs site when a report folder is given. GX 1.x has no S3 docs store, so
  on AWS the job writes locally and uploads (`reports.py`).
- A Spark data source with `persist=False`: the job caches the batch itself and unpersists it;
  GX's own persist would never be released in a long-lived session. A one-row batch (the
  run's audit row) goes to a pandas data source instead: GX runs a Spark job or more per
  expectation, which is pure overhead for one row.
- Progress bars and usage analytics off: the first clutters job logs, the second would try the
  network from inside a VPC.

GX is imported here, at first use, never at module import of the job: argument errors then
fail in milliseconds, and DAG parsing (which never imports this) stays cheap. Importing it
costs about 2.5 s of CPU, a quarter of a 1M-row gate, so the gate starts it on a background
thread (`preload`) while the driver waits on the JVM (resolving and reading the branch), and
the runner joins that thread when it first needs GX. Not earlier, beside the session start:
that start is CPU-bound too, and the two together were slower than one after the other.
"""

from __future__ import annotations

import copy
import os
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

DOCS_SITE = "local_site"
BATCH_DEFINITION = "whole_dataframe"


_preload: threading.Thread | None = None
PRELOAD_SWITCH_INTERVAL_S = 0.0005


def preload() -> None:
    """Start importing GX on a daemon thread (once per process; a no-op when already imported).

    The main thread meanwhile only waits on py4j sockets, which release the GIL, so the import
    runs beside the JVM's work instead of after it. A failed import is not reported here: the
    runner imports again and raises the error where it is needed.
    """
    global _preload
    if _preload is None and "great_expectations" not in sys.modules:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        _preload = threading.Thread(target=_import_gx, name="gx-preload", daemon=True)
        _preload.start()


def _import_gx() -> None:
    # While this thread holds the GIL, every py4j reply the main thread waits for also waits up
    # to one switch interval (5 ms): hundreds of small calls resolving a branch became seconds.
    # A shorter interval for the length of the import keeps those calls at their own speed.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(PRELOAD_SWITCH_INTERVAL_S)
    try:
        import great_expectations  # noqa: F401
    except Exception:  # raised again, with its traceback, by the runner's own import
        pass
    finally:
        sys.setswitchinterval(interval)


class GxRunner:
    """One GX context for one validation run; `validate()` per (suite, batch), then `build_docs()`."""

    def __init__(self, docs_dir: Path | None = None) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        if _preload is not None:
            _preload.join()
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        self._gx = gx
        sites: dict[str, Any] = {}
        if docs_dir is not None:
            sites[DOCS_SITE] = {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            data_docs_sites=sites,
            progress_bars=ProgressBarsConfig(globally=False),
            analytics_enabled=False,
        )
        self.docs_dir = docs_dir
        self.context = gx.get_context(mode="ephemeral", project_config=config)
        self._datasources: dict[str, Any] = {}
        self._batch_definitions: dict[tuple[str, str], Any] = {}

    def _batch_definition(self, asset_name: str, dataframe):
        """The asset's whole-dataframe batch definition, on the Spark or the pandas data source."""
        engine = "pandas" if _is_pandas(dataframe) else "spark"
        if engine not in self._datasources:
            sources = self.context.data_sources
            # persist=False: the job caches the batch itself (see the module docstring)
            self._datasources[engine] = (
                sources.add_pandas(engine) if engine == "pandas" else sources.add_spark(engine, persist=False)
            )
        key = (engine, asset_name)
        if key not in self._batch_definitions:
            asset = self._datasources[engine].add_dataframe_asset(asset_name)
            self._batch_definitions[key] = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)
        return self._batch_definitions[key]

    def suite(self, suite_data: dict[str, Any], name: str):
        """A GX ExpectationSuite from our dict (a copy: GX fills in ids and defaults)."""
        data = copy.deepcopy(suite_data)
        data["name"] = name
        data.pop("id", None)
        return self._gx.ExpectationSuite(**data)

    def validate(
        self,
        suite_data: dict[str, Any],
        dataframe,
        *,
        asset_name: str,
        suite_name: str,
        parameters: dict[str, Any],
        result_format: dict[str, Any],
        register: bool = True,
    ) -> tuple[Any, str]:
        """Validate `dataframe` against the suite: (GX suite validation result, batch id).

        No result is stored: the caller decides what Data Docs show (`store`), so a second, more
        detailed look at failures completes the first instead of appearing beside it.
        `register` adds the suite to the context, where Data Docs render its page.
        """
        suite = self.suite(suite_data, suite_name)
        if register:
            suite = self.context.suites.add_or_update(suite)
        batch = self._batch_definition(asset_name, dataframe).get_batch(batch_parameters={"dataframe": dataframe})
        result = batch.validate(suite, expectation_parameters=parameters, result_format=result_format)
        return result, batch.id

    def store(self, result: Any, *, batch_id: str, run_name: str, run_time: datetime) -> None:
        """Keep `result` in the context's (in-memory) results store, where Data Docs read it.

        The same keys and meta a ValidationDefinition run writes, so the pages show the run name
        (our run id) and time.
        """
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        run_id = RunIdentifier(run_name=run_name, run_time=run_time)
        result.meta["run_id"] = run_id
        result.meta["validation_time"] = run_id.run_time
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
            run_id=run_id,
            batch_identifier=batch_id,
        )
        self.context.validation_results_store.set(key, result)

    def build_docs(self) -> Path | None:
        """Render Data Docs for every stored result; the index page, or None without a docs site."""
        if self.docs_dir is None:
            return None
        self.context.build_data_docs(site_names=[DOCS_SITE])
        return self.docs_dir / "index.html"


def _is_pandas(dataframe) -> bool:
    return type(dataframe).__module__.startswith("pandas")
