"""Watch one `airflow dags test` run from its log: a progress line while it runs, a failure report after.

The log is the run's own output (`lakehouse.runtime.local_airflow.run_hour` writes it), so everything here
reads lines Airflow and our jobs print anyway:

- `[DAG TEST] starting task_id=X` / `end task task_id=X`: which step runs, how many are done;
- the ingest job's `read N records` and `merging ... N new` lines, the gate's verdict line and
  dbt's `Finished running` summary: rows so far;
- a task's failure: the exception line Airflow logs, and the task's last lines.

The progress line is rewritten in place on a terminal and printed once per step elsewhere (CI
logs, pipes), so nothing repeats every second.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

STARTING = re.compile(r"\[DAG TEST\] starting task_id=(\S+)")
ENDING = re.compile(r"\[DAG TEST\] end task task_id=(\S+)")
READ = re.compile(r"read ([\d,]+) records: ([\d,]+) valid, ([\d,]+) quarantined")
MERGING = re.compile(r"merging into \S+ .*?: ([\d,]+) new")
GATE = re.compile(r"quality gate (PASSED|FAILED)")
DBT_DONE = re.compile(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+)")
RETRY = re.compile(r"new_state=up_for_retry|Marking task as UP_FOR_RETRY", re.IGNORECASE)
ERROR = re.compile(r"^\s*(?:[\w.]+\.)?(\w*(?:Error|Exception|Failed|Interrupt)\w*): (.+)$")
TAIL_LINES = 25
LINE_WIDTH = 240


@dataclass
class RunState:
    """What the log has said so far about one run."""

    step: str = "starting Airflow"
    done: int = 0
    rows: dict[str, str] = field(default_factory=dict)
    retrying: str = ""

    def describe(self) -> str:
        rows = ", ".join(f"{v} {k}" for k, v in self.rows.items())
        parts = [f"step {self.step}", f"{self.done} tasks done"]
        if rows:
            parts.append(rows)
        if self.retrying:
            parts.append(f"{self.retrying} failed, waiting for its retry")
        return " | ".join(parts)

    def feed(self, line: str) -> None:
        if m := STARTING.search(line):
            self.step = m.group(1)
            self.retrying = "" if self.retrying == m.group(1) else self.retrying
        elif m := ENDING.search(line):
            self.done += 1
        elif m := READ.search(line):
            self.rows["records read"] = m.group(1)
            self.rows["quarantined"] = m.group(3)
        elif m := MERGING.search(line):
            self.rows["new in silver"] = m.group(1)
        elif m := GATE.search(line):
            self.rows["gate"] = m.group(1).lower()
        elif m := DBT_DONE.search(line):
            self.rows["dbt nodes passed"] = m.group(1)
            self.rows["dbt errors"] = m.group(3)
        elif RETRY.search(line):
            self.retrying = self.step


class ProgressLine:
    """A thread that follows the log file and shows `RunState` as one line on stderr."""

    def __init__(self, log_file: Path, label: str, stream=None, interval: float = 1.0) -> None:
        self.log_file = log_file
        self.label = label
        self.stream = stream or sys.stderr
        self.interval = interval
        self.state = RunState()
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="progress-line", daemon=True)
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_printed = ""

    def __enter__(self) -> ProgressLine:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self._tty:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        return f"[{time.strftime('%H:%M:%S')}] {self.label} {elapsed:4.0f}s | {self.state.describe()}"

    def _run(self) -> None:
        position = 0
        while not self._stop.is_set():
            position = self._read(position)
            self._show()
            self._stop.wait(self.interval)
        self._read(position)

    def _read(self, position: int) -> int:
        try:
            with open(self.log_file, errors="replace") as log:
                log.seek(position)
                for line in log:
                    self.state.feed(line)
                return log.tell()
        except OSError:
            return position

    def _show(self) -> None:
        if self._tty:
            self.stream.write("\r\033[K" + self.line()[: max(40, _columns() - 1)])
            self.stream.flush()
            return
        # One line per step, not one per second; the dbt group's many tasks count as one step.
        key = (self.state.step.split(".", 1)[0], self.state.retrying)
        if str(key) != self._last_printed:
            self._last_printed = str(key)
            print(self.line(), file=self.stream, flush=True)


def _columns() -> int:
    import shutil

    return shutil.get_terminal_size((120, 20)).columns


# ------------------------------------------------------------------------------ after a failure


@dataclass(frozen=True)
class TaskFailure:
    task_id: str
    error: str
    tail: list[str]


def task_section(lines: list[str], task_id: str) -> list[str]:
    """The log lines of the last try of `task_id` (between its start and end markers)."""
    start = None
    for i, line in enumerate(lines):
        m = STARTING.search(line)
        if m and m.group(1) == task_id:
            start = i
    if start is None:
        return []
    for j in range(start + 1, len(lines)):
        m = ENDING.search(lines[j])
        if m and m.group(1) == task_id:
            return lines[start : j + 1]
    return lines[start:]


def error_line(section: list[str]) -> str:
    """The last `SomeError: message` line of a task's log (the exception that failed it)."""
    for line in reversed(section):
        m = ERROR.match(line.strip())
        if m and "Traceback" not in line:
            return f"{m.group(1)}: {m.group(2)}"[:LINE_WIDTH]
    return "(no exception line in the log; see the lines below)"


def failures(log_file: Path, failed_tasks: list[str]) -> list[TaskFailure]:
    try:
        lines = log_file.read_text(errors="replace").splitlines()
    except OSError:
        return []
    found = []
    for task_id in failed_tasks:
        section = task_section(lines, task_id) or lines
        noise = ("[DAG TEST]", "Task instance state updated", "Updating RenderedTaskInstanceFields")
        body = [line for line in section if not any(n in line for n in noise)]
        tail = [line[:LINE_WIDTH] for line in body[-TAIL_LINES:]]
        found.append(TaskFailure(task_id, error_line(section), tail))
    return found


def failure_report(log_file: Path, failed_tasks: list[str]) -> str:
    """What to print when a run failed: each failed task, its error and its last log lines."""
    out: list[str] = []
    for failure in failures(log_file, failed_tasks):
        out.append(f"task {failure.task_id} failed: {failure.error}")
        out.append(f"last lines of its log ({log_file}):")
        out.extend(f"    {line}" for line in failure.tail)
    return "\n".join(out)


def stamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H}:00"
