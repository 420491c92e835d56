"""Learnable structure for the simulator: customers with stable tastes, themed baskets, seasons.

Why: a recommender measured on data without structure measures noise. Before this module every
order line drew its product from one global popularity table, so the best possible model was
"recommend the best sellers" and no evaluation could show anything else. Real retail histories
(the UCI set included) are shaped by who buys: a customer comes back for the same kind of thing.
This module gives the simulator that shape, with parameters small enough to read:

- **Themes** (the product categories): a product's theme is the first design theme in its
  description (RETROSPOT, WOODLAND, CHRISTMAS, ...); the few real UCI items without one share
  the theme "CLASSIC". Non-product codes (POST, M, ...) have no theme. About 18 themes of about
  15 products each.
- **Tastes** (stable per customer): every known customer has a primary and a secondary theme,
  drawn from their customer id alone (`TASTE_SEED`), like their country: the same customer
  keeps the same tastes in every run, every hour and every seed, so a history is consistent.
- **Themed baskets**: an invoice of a known customer is one basket with one theme: the
  season's theme with the month's `SEASONAL_BASKET_SHARE`, else the primary theme with
  `PRIMARY_SHARE`, the secondary with `SECONDARY_SHARE`, or no theme (the global mix). Within a
  themed basket a line is a product of the theme with `THEMED_LINE_SHARE` (weighted by the
  catalogue's popularity), otherwise a draw from the global mix (so postage and best sellers
  still appear everywhere).
- **Seasonality**: CHRISTMAS baskets rise in October to December, STRAWBERRY in summer, WOODLAND
  in autumn (`SEASONS`); the month is the event's UTC month.
- Guest checkouts (no customer id) keep the global mix: nobody knows who they are.

Determinism: tastes depend on the customer id only; which basket theme and which products an
invoice gets are drawn from the generator's seeded `random.Random` of the hour, so the same
seed gives the same bytes (the simulator's contract) and another seed another history with the
same tastes. The structure is what a recommender can learn (a customer's themes from their
past baskets) and what a popularity baseline cannot (it recommends the same list to all).

`lakehouse.generate.histories.simulate_order_lines` draws a silver-shaped history straight from
the same model (no Firehose objects, no ingest).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from lakehouse.generate.draws import lookup_table

THEMES: tuple[str, ...] = (
    "RETROSPOT",
    "POLKADOT",
    "VINTAGE PAISLEY",
    "REGENCY",
    "SPACEBOY",
    "DOLLY GIRL",
    "WOODLAND",
    "SKULLS",
    "ENGLISH ROSE",
    "STRAWBERRY",
    "BIRDHOUSE",
    "CHRISTMAS",
    "UNION JACK",
    "VINTAGE DOILY",
    "BAROQUE",
    "FLORAL",
    "HEART",
)
DEFAULT_THEME = "CLASSIC"  # real UCI items whose description names no theme
TASTE_SEED = "customer-tastes-v1"
PRIMARY_SHARE = 0.60  # of a known customer's baskets outside the seasonal share
SECONDARY_SHARE = 0.25  # the rest (0.15) is the global mix
THEMED_LINE_SHARE = 0.80  # of the lines of a themed basket; the rest from the global mix
# Month (1-12) -> (theme, share of baskets that month that are that theme's, whoever buys).
SEASONS: dict[int, tuple[str, float]] = {
    6: ("STRAWBERRY", 0.15),
    7: ("STRAWBERRY", 0.20),
    8: ("STRAWBERRY", 0.15),
    9: ("WOODLAND", 0.10),
    10: ("CHRISTMAS", 0.10),
    11: ("CHRISTMAS", 0.25),
    12: ("CHRISTMAS", 0.30),
}
TABLE_BITS = 12  # a themed basket's lookup table has 4096 slots (one `getrandbits(12)` per line)


def product_theme(description: str) -> str:
    """The design theme a description names first (by position), or DEFAULT_THEME."""
    found = [(description.find(theme), theme) for theme in THEMES if theme in description]
    return min(found)[1] if found else DEFAULT_THEME


def customer_tastes(customer_id: str) -> tuple[str, str]:
    """(primary, secondary) theme of a customer: a pure function of the id, two different themes."""
    themes = (*THEMES, DEFAULT_THEME)
    rng = random.Random(f"{TASTE_SEED}:{customer_id}")
    primary, secondary = rng.sample(themes, 2)
    return primary, secondary


@lru_cache(maxsize=4096)
def _month(hour_index: int) -> int:
    return datetime.fromtimestamp(hour_index * 3600, UTC).month


@dataclass(frozen=True)
class _Basket:
    """The products of one basket: a lookup table sampled with `getrandbits(bits)`."""

    table: Sequence[Any]
    bits: int


class Tastes:
    """The preference model over one catalogue's products.

    `products`: the catalogue's entries (anything with `.stock_code`, `.description` and
    `.fixed_quantity`, which is set for non-product codes); `global_table`: the catalogue's
    popularity lookup table (`table[getrandbits(global_bits)]` draws one line), whose slot counts
    are the popularity weights the themed tables reuse.
    """

    def __init__(self, products: Sequence[Any], global_table: Sequence[Any], global_bits: int = 16) -> None:
        self.global_basket = _Basket(global_table, global_bits)
        slots = Counter(id(p) for p in global_table)
        weights = [slots.get(id(p), 0) / len(global_table) for p in products]
        self.theme_of = {p.stock_code: product_theme(p.description) for p in products if p.fixed_quantity is None}
        self.baskets: dict[str, _Basket] = {}
        for theme in (*THEMES, DEFAULT_THEME):
            in_theme = [
                w if self.theme_of.get(p.stock_code) == theme else 0.0 for p, w in zip(products, weights, strict=True)
            ]
            mass = sum(in_theme)
            if not mass:
                continue
            share = THEMED_LINE_SHARE
            mix = [share * t / mass + (1 - share) * w for t, w in zip(in_theme, weights, strict=True)]
            self.baskets[theme] = _Basket(lookup_table(list(products), mix, TABLE_BITS), TABLE_BITS)
        self._tastes: dict[str, tuple[str, str]] = {}

    def tastes(self, customer_id: str) -> tuple[str, str]:
        found = self._tastes.get(customer_id)
        if found is None:
            found = self._tastes[customer_id] = customer_tastes(customer_id)
        return found

    def basket_theme(self, customer_id: str, event_ms: int, rand: Callable[[], float]) -> str | None:
        """The theme of one basket of `customer_id` at `event_ms` (None: the global mix); one draw."""
        r = rand()
        season = SEASONS.get(_month(event_ms // 3_600_000))
        if season is not None:
            theme, share = season
            if r < share:
                return theme
            r = (r - share) / (1 - share)
        primary, secondary = self.tastes(customer_id)
        if r < PRIMARY_SHARE:
            return primary
        if r < PRIMARY_SHARE + SECONDARY_SHARE:
            return secondary
        return None

    def basket(self, customer_id: str, event_ms: int, rand: Callable[[], float]) -> tuple[Sequence[Any], int]:
        """(lookup table, bits) the lines of one basket are drawn from."""
        theme = self.basket_theme(customer_id, event_ms, rand)
        chosen = self.baskets.get(theme) if theme else None
        basket = chosen or self.global_basket
        return basket.table, basket.bits


__all__ = [
    "DEFAULT_THEME",
    "SEASONS",
    "THEMES",
    "Tastes",
    "customer_tastes",
    "product_theme",
]
