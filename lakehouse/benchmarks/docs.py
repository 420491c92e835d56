"""docs/benchmarks.md is written by the benchmarks themselves: each owns one `## ` section."""

from __future__ import annotations

import re

from lakehouse_core.settings import REPO_ROOT

DOCS = REPO_ROOT / "docs" / "benchmarks.md"


def replace_section(heading: str, body: str) -> None:
    """Replace the section that starts with `heading` (a `## ` line), or append it."""
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    section = body.rstrip("\n") + "\n\n"
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text.rstrip("\n") + "\n")
