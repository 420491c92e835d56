"""Every `make ...` command the README and docs/*.md show is one the Makefile runs (issue 30).

A command is checked where a reader would copy it from: an inline code span that starts with
`make `, or a line of a ```bash block. Each word after `make` must be a target of the Makefile
(a `tf-*` pattern must match one) or a `VAR=value` the target reads: `make -n` (print, run
nothing) of the target with the variable set to a marker must differ from it without, so the
value reaches the target's commands. `make compose-demo --hours 2` fails both ways.
(The task counts the docs give are checked against the real DAG in tests/integration/test_dag_integrity.py.)
"""

from __future__ import annotations

import fnmatch
import functools
import re
import subprocess
from pathlib import Path

import pytest

from lakehouse_core.settings import REPO_ROOT

pytestmark = pytest.mark.unit

DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
INLINE = re.compile(r"`(make [^`]+)`")
FENCE = re.compile(r"^\s*```(\w*)")
TARGET = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_./-]*)\s*:(?!=)", re.MULTILINE)
MARKER = "docs-check-marker"


def make_commands(path: Path) -> list[tuple[int, str]]:
    """(line number, command) for each `make ...` shown in `path`, comments and brackets removed."""
    found: list[tuple[int, str]] = []
    language = None  # inside a fenced block: its language
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if m := FENCE.match(line):
            language = None if language is not None else m.group(1)
            continue
        if language in ("bash", "sh", "shell"):
            command = line.split("#", 1)[0].strip()
            if command.startswith("make "):
                found.append((number, command))
        elif language is None:
            found += [(number, m.group(1)) for m in INLINE.finditer(line)]
    return [(n, re.sub(r"[\[\]]", "", c).strip()) for n, c in found]


@functools.cache
def makefile_targets() -> frozenset[str]:
    return frozenset(TARGET.findall((REPO_ROOT / "Makefile").read_text()))


@functools.cache
def dry_run(*words: str) -> str:
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", *words], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout + done.stderr


def problems(command: str) -> list[str]:
    """What is wrong with one `make ...` command; [] when the Makefile runs it as shown."""
    words = command.split()[1:]
    targets = [w for w in words if "=" not in w and not w.startswith("-")]
    found: list[str] = []
    for word in words:
        if word.startswith("-"):
            found.append(f"{word!r} is not an argument of make (a target or VAR=value)")
        elif "=" not in word and not fnmatch.filter(makefile_targets(), word):
            found.append(f"no target {word!r} in the Makefile")
    if found or not targets:
        return found or ["no target"]
    for word in words:
        if "=" in word:
            name = word.split("=", 1)[0]
            if dry_run(*targets) == dry_run(*targets, f"{name}={MARKER}"):
                found.append(f"{name}= does not change what `make {' '.join(targets)}` runs")
    return found


def all_commands() -> list[tuple[str, int, str]]:
    return [(path.relative_to(REPO_ROOT).as_posix(), n, c) for path in DOCS for n, c in make_commands(path)]


def test_the_docs_show_make_commands() -> None:
    commands = {c for _, _, c in all_commands()}
    assert {"make demo", "make test", "make compose-up", "make run-hour HOUR=2026-11-01T09"} <= commands


def test_every_make_command_in_the_docs_is_one_the_makefile_runs() -> None:
    wrong = [f"{path}:{n}: `{c}`: {'; '.join(p)}" for path, n, c in all_commands() if (p := problems(c))]
    assert wrong == []


def test_the_check_catches_what_issue_30_found() -> None:
    assert problems("make compose-demo --hours 2") == [
        "'--hours' is not an argument of make (a target or VAR=value)",
        "no target '2' in the Makefile",
    ]
    assert problems("make compose-demo HOURS=2") == ["HOURS= does not change what `make compose-demo` runs"]
    assert problems("make compose-prune") == ["no target 'compose-prune' in the Makefile"]
    assert problems("make tf-*") == [] and problems("make backfill FROM=2026-11-01T08 TO=2026-11-01T11") == []
