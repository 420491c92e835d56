"""The data contract's limits and the gate's thresholds, each defined once.

Why a module of its own: the ingest (which quarantines what is outside the event window), the
quality gate (whose range checks use the same window), the settings (LAKEHOUSE_* overrides, read
at DAG parse time) and the simulator all need the same defaults. `spark_jobs` ships to Glue/EMR
without `pipeline`, so the owner lives here and `lakehouse_core.settings` imports it. Standard library
only: the DAG files import the settings at parse time.
"""

from __future__ import annotations

LATENESS_HOURS = 48  # how long before its arrival hour an event may be (else late_beyond_window)
CLOCK_SKEW_MINUTES = 5  # how far after its arrival hour's end an event may be (else future_event)
QUARANTINE_MAX_SHARE = 0.01  # quarantined / read above this fails the gate
# The decoded size beyond which an object is quarantined whole (`object_too_large`) rather than
# decoded: 4x Firehose's largest buffer (128 MiB, applied before compression), so no real
# delivery comes near it, while a gzip bomb stops here instead of exhausting the worker.
MAX_OBJECT_BYTES = 512 * 1024 * 1024
