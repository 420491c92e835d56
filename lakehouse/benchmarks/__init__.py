"""The `lakehouse bench-*` subcommands: each measures one thing in one run and owns one section of
docs/benchmarks.md."""
