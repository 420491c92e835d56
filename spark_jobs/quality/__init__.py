"""The data-quality gate of write-audit-publish: Great Expectations on a run's Iceberg audit branch.

- `suites`: the suite files in `expectations/` (one per table), their conventions and run parameters.
- `batches`, `branches`: what is validated, read from the audit branch (Iceberg refs, touched days).
- `gx_runner`: our thin wrapper of GX Core 1.x (ephemeral context, Spark data source, Data Docs).
- `validate`: the gate (`run_validation`), results to `audit.dq_results`, a summary people act on.
- `publish`: fast-forward main to a validated branch, or discard it; sweep expired audit branches.
- `results`, `reports`: result rows and Data Docs locations (local folder or S3).

Spark jobs know nothing of Airflow; GX is imported inside the job only when a gate runs.
"""
