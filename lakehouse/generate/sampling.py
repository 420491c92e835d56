"""How an invoice is drawn: its size, its customer, its products and quantities.

Why a module of its own: this is the one place where customers choose products (the hook a
preference model plugs into); the catalogue says what exists, the hour planner says when.
Draws index precomputed tables with `getrandbits` (see `lookup_table`) because they run a
million times an hour.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from lakehouse.generate.config import GUEST_SHARE, NULL_DESCRIPTION_SHARE
from lakehouse.generate.records import fmt_ms

if TYPE_CHECKING:
    from lakehouse.generate.catalogue import Catalogue

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


def invoice_lines(
    cat: Catalogue, rng: random.Random, invoice_no: str, n_lines: int, event_ms: int, max_emit_delay_ms: int
) -> list[str]:
    """The JSON text of one invoice's lines: shared invoice_no, event_ts, customer and country.

    The customer is drawn first (a guest or one of the catalogue's customers, by popularity),
    then the basket (a known customer's tastes or the season, `preferences.Tastes.basket`),
    then each line's product and quantity. The producer sends an invoice's lines in one
    batch, so they share `emitted_at` too (a little after `event_ts`, never after the arrival
    `max_emit_delay_ms` later).
    """
    bits = rng.getrandbits
    rand = rng.random
    guest = rand() < GUEST_SHARE
    who = cat.guest_table[bits(12)] if guest else cat.customer_table[bits(16)]
    # A known customer's invoice is a basket with a theme (their tastes, or the season's:
    # `lakehouse.generate.preferences`); guests shop the global popularity mix.
    if guest:
        products, product_bits = cat.product_table, 16
    else:
        products, product_bits = cat.tastes.basket(cat.customer_of_head[who], event_ms, rand)
    sign = -1 if invoice_no[0] == "C" else 1
    emitted = fmt_ms(event_ms + int(rand() * min(max_emit_delay_ms, 2000)))
    middle = f'{who}"event_ts":"{fmt_ms(event_ms)}","emitted_at":"{emitted}","schema_version":1}}'
    prefix = f'","invoice_no":"{invoice_no}","invoice_line":'
    quantities = QUANTITY_TABLE
    out = []
    for i in range(1, n_lines + 1):
        p = products[bits(product_bits)]
        q = quantities[bits(10)] if p.fixed_quantity is None else p.fixed_quantity
        x = bits(128)  # records.uuid4_text, inlined: this loop runs once per event
        h = f"{x:032x}"
        head = p.head_null if rand() < NULL_DESCRIPTION_SHARE else p.head
        out.append(
            f'{{"event_id":"{h[:8]}-{h[8:12]}-4{h[13:16]}-{"89ab"[x & 3]}{h[17:20]}-{h[20:]}'
            f"{prefix}{i},{head}{q * sign}{p.tail}{middle}"
        )
    return out
