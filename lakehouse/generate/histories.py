"""Silver-shaped order histories drawn straight from the simulator's model (no Firehose objects,
no ingest), for the recommendation tests and `make bench-recommend`, which need histories of a
chosen size and number of customers quickly.

Why a module of its own: it stands on the catalogue and its preference model
(`preferences.Tastes`); inside `preferences` it had to import the catalogue that imports
`preferences` (an import circle).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from lakehouse.generate.catalogue import catalogue
from lakehouse.generate.draws import LINES_TABLE, QUANTITY_TABLE, lookup_table


def simulate_order_lines(
    *,
    seed: int,
    customers: int,
    lines: int,
    start: datetime,
    days: int,
    cancellation_share: float = 0.02,
    guest_share: float = 0.10,
) -> dict[str, list[Any]]:
    """A silver-shaped order history drawn from the same model, as columns (for Arrow/Spark).

    `customers` synthetic ids ("C" + 6 digits, so they never collide with the simulator's
    catalogue ids) with Pareto-skewed activity; invoices uniform over `days` from `start`; an
    invoice's line count from the simulator's table. Cancellations (a 'C' invoice, negative
    quantities) and guest checkouts are included so consumers must handle them.
    Deterministic for (seed, customers, lines, start, days).
    """
    if customers < 1 or lines < 1 or days < 1:
        raise ValueError("customers, lines and days must be >= 1")
    cat = catalogue()
    tastes = cat.tastes
    rng = random.Random(f"{seed}:simulate_order_lines")
    bits, rand = rng.getrandbits, rng.random
    ids = [f"C{100000 + i}" for i in range(customers)]
    activity = lookup_table(ids, [rng.paretovariate(1.5) for _ in ids], 16)
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    start_ms = int(start.timestamp() * 1000)
    span_ms = days * 86_400_000
    columns: dict[str, list[Any]] = {
        name: []
        for name in ("event_id", "invoice_no", "invoice_line", "stock_code", "quantity", "customer_id", "event_ts")
    }
    invoice = 500_000
    written = 0
    while written < lines:
        invoice += 1
        n = min(LINES_TABLE[bits(12)], lines - written)
        event_ms = start_ms + int(rand() * span_ms)
        cancelled = rand() < cancellation_share
        customer = None if rand() < guest_share else activity[bits(16)]
        table, nbits = tastes.basket(customer, event_ms, rand) if customer else (cat.product_table, 16)
        ts = datetime.fromtimestamp(event_ms / 1000, UTC)
        for line in range(1, n + 1):
            product = table[bits(nbits)]
            quantity = product.fixed_quantity or QUANTITY_TABLE[bits(10)]
            columns["event_id"].append(f"{seed}-{invoice}-{line}")
            columns["invoice_no"].append(f"C{invoice}" if cancelled else str(invoice))
            columns["invoice_line"].append(line)
            columns["stock_code"].append(product.stock_code)
            columns["quantity"].append(-quantity if cancelled else quantity)
            columns["customer_id"].append(customer)
            columns["event_ts"].append(ts)
        written += n
    return columns
