"""How an invoice is drawn: its size, its customer, its products and quantities.

Why a module of its own: this is the one place where customers choose products (the hook a
preference model plugs into); the catalogue says what exists, the hour planner says when.
Draws index precomputed tables with `getrandbits` (see `draws.lookup_table`) because they run a
million times an hour.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from lakehouse.generate.config import GUEST_SHARE, NULL_DESCRIPTION_SHARE
from lakehouse.generate.draws import QUANTITY_TABLE
from lakehouse.generate.records import fmt_ms

if TYPE_CHECKING:
    from lakehouse.generate.catalogue import Catalogue


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
