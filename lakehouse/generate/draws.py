"""Weighted draws by table lookup, and the invoice-size tables every draw of the simulator uses.

Why a module of its own: the catalogue (products, customers), the preference model (themed
baskets) and the invoice sampler all draw through `lookup_table`; kept here, at the bottom, none
of them imports another to get it (the three used to import each other in a circle).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Any

_QUANTITIES = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 25, 32, 36, 48, 50, 72, 96, 100, 144)
_QUANTITY_WEIGHTS = (18, 10, 7, 6, 3, 12, 4, 6, 14, 2, 2, 5, 2, 1, 2, 1.5, 1, 0.8, 0.6, 0.4, 0.4)
_LINES = tuple(range(1, 31))
_LINE_WEIGHTS = tuple(0.82**k for k in range(30))  # skewed small: mean about 5 lines


def cumulative(weights: Iterable[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def lookup_table(values: list[Any], weights: Iterable[float], bits: int) -> list[Any]:
    """A 2**bits-entry table whose slots follow the weights: `table[getrandbits(bits)]` samples it.

    Why: `random.choices(cum_weights=...)` costs about 0.7 us per draw; indexing a table with
    `getrandbits` costs under 0.1 us, which matters a million times an hour. A weight is
    rounded to 1/2**bits; every value with a positive weight keeps at least one slot.
    """
    weights = list(weights)
    cum = cumulative(weights)
    total, size = cum[-1], 1 << bits
    slots = [min(bisect.bisect(cum, (i + 0.5) * total / size), len(values) - 1) for i in range(size)]
    present = set(slots)
    missing = [i for i, w in enumerate(weights) if w > 0 and i not in present]
    for k, i in enumerate(missing):  # rare values rounded to nothing: give each one slot
        slots[(k * 7919 + 1) % size] = i
    return [values[i] for i in slots]


QUANTITY_TABLE = lookup_table(list(_QUANTITIES), _QUANTITY_WEIGHTS, 10)
LINES_TABLE = lookup_table(list(_LINES), _LINE_WEIGHTS, 12)
