"""The laptop's tooling: the `lakehouse` command (`cli.py`), grouped by job: `commands/`,
`runtime/` (the laptop runtime), `generate/`, `dashboard/`, `benchmarks/`, `aws/`."""
