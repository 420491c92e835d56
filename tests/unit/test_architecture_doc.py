"""Every repository path, file and module docs/architecture.md names exists (issue 28).

The doc is the map a new reader trusts; a name that moved or never existed sends them looking
for it. The rule, token by token (a token: a whitespace-separated word of an inline code span,
with `<placeholder>` parts such as `<home>/x` or `<run id>` making it a pattern, not a name; and a
word of the prose outside code spans that has a file extension; fenced blocks are diagrams and
are not read):

1. **A path** (a token with `/`, or a file name: a token ending in one of `EXTENSIONS`) must be
   a tracked file or directory of the repository (`git ls-files`): at its root (`dags/x.py`,
   `spark_jobs/`), or, when the doc names it inside a folder it has just named (`scripts/x.py`
   in the dbt row, `airflow/` in the docker row), as the tail of a tracked path. A glob
   (`expectations/*.json`) must match a tracked file. A bare file name (`main.lock`) must be
   the name of a tracked file; a file the build generates (not tracked) may be named only in
   `GENERATED`, each with the tracked file that writes it (which must mention the name).
   URIs (`s3://...`) and patterns are not paths. In a table row whose first cell is a folder
   (`| `mwaa/` | ... |`), a code span naming a relative path must be in that folder or beside
   it (`startup.sh` in the `mwaa/` row means `mwaa/startup.sh`).
2. **A module name** (a dotted token, a trailing call `(...)` ignored) is checked when its first
   part is one of the project's packages (`pipeline`, `lakehouse`, `spark_jobs`), the last part
   of one of their modules (`spark_backends.x`, `quality.batches.x`, `framing.Scan`), or a class
   defined in one (`LocalSpark.catalog_args`): the longest module prefix must exist, and each
   remaining part must be defined there (a top-level def, class, assignment or import, then a
   method or attribute of that class). Other dotted tokens (tables such as `silver.order_lines`,
   libraries such as `pyarrow.fs`) are not project names and are not checked.
3. **A link** `[text](target)` that is not a URL must point at an existing file (relative to
   docs/, anchor ignored).
"""

from __future__ import annotations

import ast
import fnmatch
import functools
import re
import subprocess
from pathlib import Path, PurePosixPath

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "architecture.md"
PACKAGES = {
    "lakehouse": REPO / "lakehouse",
    "lakehouse_core": REPO / "lakehouse_core",
    "spark_jobs": REPO / "spark_jobs",
    "pipeline": REPO / "dags" / "pipeline",
}
EXTENSIONS = frozenset(
    {"py", "md", "sql", "yml", "yaml", "json", "sh", "toml", "lock", "txt", "tf", "cfg", "ini", "html", "zip", "js"}
)
# Files the build writes (not in git) that the doc may name, each with the tracked file that writes it.
GENERATED = {
    "startup.sh": "lakehouse/aws/bundle.py",
    "plugins.zip": "lakehouse/aws/bundle.py",
    "spark_jobs.zip": "lakehouse/aws/bundle.py",
    "index.html": "spark_jobs/quality/reports.py",
}
PLACEHOLDER = re.compile(r"<[^<>`]*>")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
FILE_WORD = re.compile(r"[A-Za-z0-9_][\w./*-]*\.(?:" + "|".join(sorted(EXTENSIONS)) + r")\b")
DOTTED = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?:\(.*\))?$")


@functools.cache
def tracked() -> tuple[frozenset[str], frozenset[str]]:
    """(files, directories) git tracks, as POSIX paths from the repository root."""
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    files = frozenset(listed.split("\n")) - {""}
    dirs = frozenset(str(parent) for f in files for parent in PurePosixPath(f).parents if str(parent) != ".")
    return files, dirs


def doc_lines() -> list[tuple[int, str]]:
    """(line number, text) of the doc outside fenced blocks."""
    lines, fenced = [], False
    for number, line in enumerate(DOC.read_text().splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def row_folder(line: str) -> str | None:
    """The folder a table row is about, when its first cell is one: `| `mwaa/` | ... |` -> "mwaa"."""
    m = re.match(r"^\|\s*`([\w./-]+/)`\s*\|", line)
    return m.group(1).rstrip("/") if m else None


def tokens() -> list[tuple[int, str, str | None]]:
    """(line, token, the row's folder): the words of code spans that are no patterns, and
    file-like words of the prose."""
    found = []
    for number, line in doc_lines():
        folder = row_folder(line)
        for span in CODE_SPAN.findall(line):
            found += [(number, word, folder) for word in PLACEHOLDER.sub("<>", span).split() if "<" not in word]
        prose = CODE_SPAN.sub(" ", LINK.sub("]", line))  # a link's text is checked as a name, its target below
        found += [(number, word, None) for word in FILE_WORD.findall(prose)]
    return found


def _is_path(token: str) -> bool:
    if "://" in token or token.endswith("://"):
        return False
    name = token.rstrip("/").rpartition("/")[2]
    return "/" in token or ("." in name.lstrip(".") and name.rpartition(".")[2] in EXTENSIONS)


def path_problem(token: str, folder: str | None = None) -> str | None:
    """Why `token` names no tracked path (None when it does). In a table row about `folder`, a
    relative name must be in that folder (or beside it): `startup.sh` in the `mwaa/` row is
    `mwaa/startup.sh`, which a generated file is not."""
    files, dirs = tracked()
    path = token.strip(".,;:()").rstrip("/")
    if folder and path.split("/")[0] not in {p.split("/")[0] for p in files}:
        parent = str(PurePosixPath(folder).parent)
        places = [f"{folder}/{path}"] + ([f"{parent}/{path}"] if parent != "." else [path])
        if any(place in files or place in dirs for place in places):
            return None
        if "*" not in path:
            return f"not in {folder}/ (nor beside it)"
    if "*" in path:
        hit = any(fnmatch.fnmatch(f, path) for f in files) or any(fnmatch.fnmatch(f, f"*/{path}") for f in files)
        return None if hit else "the glob matches no tracked file"
    if path in files or path in dirs:
        return None
    if "/" not in path and not token.endswith("/"):  # a bare file name
        if any(PurePosixPath(f).name == path for f in files):
            return None
        if path in GENERATED:
            writer = GENERATED[path]
            return None if path in (REPO / writer).read_text() else f"{writer} does not write it"
        return "no tracked file has this name (a generated file belongs in GENERATED)"
    if any(f.endswith("/" + path) for f in files) or any(d.endswith("/" + path) for d in dirs):
        return None  # named inside the folder the row or sentence names
    return "not a tracked file or directory"


@functools.cache
def modules() -> dict[str, ast.Module]:
    """Dotted module name -> its AST, for every module of the project's packages."""
    found = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = (package, *path.relative_to(folder).with_suffix("").parts)
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = ast.parse(path.read_text())
    return found


def _names(body: list[ast.stmt]) -> dict[str, ast.stmt]:
    """The names a module or class body defines (def, class, assignment, import)."""
    names: dict[str, ast.stmt] = {}
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names[node.name] = node
        elif isinstance(node, ast.Assign):
            names |= {t.id: node for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0]: node for a in node.names}
    return names


def _defined(body: list[ast.stmt], parts: list[str]) -> bool:
    for i, part in enumerate(parts):
        node = _names(body).get(part)
        if node is None:
            return False
        if i < len(parts) - 1:
            if not isinstance(node, ast.ClassDef):
                return False
            body = node.body
    return True


def _in_module(module: str, rest: list[str]) -> bool:
    """`module.rest...` names a module, or something `module` defines."""
    while rest and f"{module}.{rest[0]}" in modules():
        module, rest = f"{module}.{rest[0]}", rest[1:]
    return not rest or _defined(modules()[module].body, rest)


def module_problem(name: str) -> str | None:
    """Why the dotted `name` is not in the project (None when it is, or when it is no project name)."""
    parts = name.split(".")
    if parts[0] in PACKAGES:
        return None if parts[0] in modules() and _in_module(parts[0], parts[1:]) else "no such module or name"
    for width in range(len(parts) - 1, 0, -1):  # a module's tail: `quality.batches`, `framing`
        tail = ".".join(parts[:width])
        owners = [m for m in modules() if m.endswith("." + tail)]
        if owners:
            hit = any(_in_module(m, parts[width:]) for m in owners)
            return None if hit else f"not defined in {' or '.join(owners)}"
    classes = [m for m, tree in modules().items() if isinstance(_names(tree.body).get(parts[0]), ast.ClassDef)]
    if classes:
        hit = any(_defined(modules()[m].body, parts) for m in classes)
        return None if hit else f"{parts[0]} ({' or '.join(classes)}) has no {'.'.join(parts[1:])}"
    return None  # a table, a library: not a project name


def test_the_rules_catch_what_they_should() -> None:
    """Each rule on names that do and do not exist (so a rule that passes everything fails here)."""
    assert path_problem("lakehouse_core/settings.py") is None and path_problem("spark_jobs/") is None
    assert path_problem("scripts/redshift_offline_ddl.py") is None  # under dbt/
    assert path_problem("mwaa/startup.sh") is not None and path_problem("DESIGN.md") is not None
    assert path_problem("startup.sh") is None and path_problem("startup.sh", folder="mwaa") is not None
    assert (
        path_problem("requirements.txt", folder="mwaa") is None
        and path_problem("vendor/", "lakehouse/dashboard") is None
    )
    assert path_problem("expectations/*.json") is None and path_problem("expectations/*.yaml") is not None
    assert (
        module_problem("lakehouse_core.settings") is None
        and module_problem("lakehouse_core.settings.load_settings") is None
    )
    assert module_problem("lakehouse_core.spark_backends.LocalSpark.catalog_conf") is None
    assert module_problem("spark_backends.data_docs_uri") is None and module_problem("LocalSpark.catalog_args") is None
    assert (
        module_problem("pipeline.nothing") is not None and module_problem("lakehouse_core.settings.nothing") is not None
    )
    assert module_problem("transforms.nothing") is not None and module_problem("LocalSpark.nothing") is not None
    assert module_problem("silver.order_lines") is None and module_problem("pyarrow.fs") is None  # not ours
    assert _is_path("main.lock") and not _is_path("s3://bucket/x") and not _is_path("silver.order_lines")


def test_every_path_and_module_the_doc_names_exists() -> None:
    wrong = []
    for number, token, folder in tokens():
        word = token.strip(",;:")
        if _is_path(word):
            problem = path_problem(word, folder)
        elif m := DOTTED.match(word.strip(".")):
            problem = module_problem(m.group(1))
        else:
            continue
        if problem:
            wrong.append(f"docs/architecture.md:{number}: {word}: {problem}")
    assert not wrong, "\n".join(wrong)


def test_every_link_of_the_doc_resolves() -> None:
    wrong = []
    for number, line in doc_lines():
        for target in LINK.findall(line):
            if "://" in target or target.startswith(("#", "mailto:")):
                continue
            if not (DOC.parent / target.partition("#")[0]).exists():
                wrong.append(f"docs/architecture.md:{number}: {target}")
    assert not wrong, "\n".join(wrong)
