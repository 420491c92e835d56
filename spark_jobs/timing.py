"""`timed()`: how long a block took, recorded under a name.

Why: the gate reports where its time goes step by step (the benchmark reads these), and a
hand-written `mark = perf_counter() ... timings[x] = perf_counter() - mark` pair per step is
easy to get wrong when steps move (a mark reset in the wrong place times two steps as one).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def timed(timings: dict[str, float], name: str) -> Iterator[None]:
    """Add the seconds the `with` block took to `timings[name]` (also when it raises).

    Adds rather than overwrites, so a step split over two blocks (e.g. around a `try`) is one
    number.
    """
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - started
