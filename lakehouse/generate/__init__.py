"""`lakehouse generate`: a Kinesis Data Firehose simulator for the orders raw zone.

Why it exists: the pipeline must be exercised end to end without an AWS account, and its
tests need data whose every quirk is known in advance. This package writes order-line events
(the UCI "Online Retail" shape) exactly as Firehose lands them in S3 -- GZIP objects under
UTC *arrival*-hour prefixes, several objects per hour because Firehose flushes its buffer on
size or on time, JSON records concatenated with no delimiter (or newline-terminated when the
stream's newline processor is on) -- and, with `--faults all`, injects the faults a real
stream produces: duplicates (at-least-once delivery, also across hours), late events (and
one per hour older than the lateness window), malformed JSON, a JSON value that is not an
object, missing fields, wrong types, oversize records, unknown extra fields and one truncated
gzip object. Next to the data it writes a ground-truth file with the exact counts
the ingest job must reconcile to (records read = bronze rows + quarantined, silver = distinct
valid event ids), so tests check numbers, not impressions.

One module a job:
- `config`: the record contract, fault rates, `GenerateConfig`;
- `catalogue`: the fixed products and customers; `sampling`: how an invoice draws from them
  (customer, products, quantities);
- `records`: timestamp/uuid/JSON text for the hot loop;
- `firehose`: the per-hour buffer (flush on size or time, object names);
- `faults`: the injected broken records; `truth`: the ground truth;
- `hours`: plans each arrival hour, and `generate` (re-exported here) writes a run;
- `writer`: gzip and put in worker threads;
- `output`: a local folder or `s3://`; `cli`: the command.

Determinism: every random choice comes from `random.Random` seeded from `--seed` and the
arrival hour, uuids are drawn from it (never `uuid4`), and gzip headers carry mtime 0, so
re-running a command rewrites byte-identical objects at the same keys (an idempotent demo).

Speed: 1M events per hour must take well under a minute on 2 cores, so the hot loop builds
each record from precomputed JSON fragments (one f-string per record, no dict, no
`json.dumps`), and compression plus writing run in worker threads (zlib releases the GIL).
"""

from __future__ import annotations

from lakehouse.generate.catalogue import Catalogue, catalogue
from lakehouse.generate.cli import register, run
from lakehouse.generate.config import (
    EVENT_FIELDS,
    FAULT_MODES,
    MAX_RECORD_BYTES,
    NOT_AN_OBJECT_VALUES,
    QUARANTINE_REASONS,
    REQUIRED_FIELDS,
    GenerateConfig,
)
from lakehouse.generate.hours import generate

__all__ = [
    "EVENT_FIELDS",
    "FAULT_MODES",
    "MAX_RECORD_BYTES",
    "NOT_AN_OBJECT_VALUES",
    "QUARANTINE_REASONS",
    "REQUIRED_FIELDS",
    "Catalogue",
    "GenerateConfig",
    "catalogue",
    "generate",
    "register",
    "run",
]
