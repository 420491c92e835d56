"""Local tooling of the lakehouse: the `lakehouse` command (doctor, init, generate, demo, ...)."""
