"""The product catalogue and the customer base, fixed for every run (independent of --seed).

Why fixed: a stock code must keep its description and price, and a customer their country,
across runs and hours, so that dimension models built downstream are stable. This module
says *who and what exists* (with their popularity); `sampling` says how an invoice draws
from it.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import cached_property, lru_cache

from lakehouse.generate.draws import cumulative, lookup_table
from lakehouse.generate.preferences import THEMES, Tastes  # the design themes products are named after

# Real UCI items (code, description, price) keep the data recognisable; the rest is synthesised.
_KNOWN_PRODUCTS: tuple[tuple[str, str, float], ...] = (
    ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 2.55),
    ("71053", "WHITE METAL LANTERN", 3.39),
    ("84406B", "CREAM CUPID HEARTS COAT HANGER", 2.75),
    ("84029G", "KNITTED UNION FLAG HOT WATER BOTTLE", 3.39),
    ("84029E", "RED WOOLLY HOTTIE WHITE HEART.", 3.39),
    ("22752", "SET 7 BABUSHKA NESTING BOXES", 7.65),
    ("21730", "GLASS STAR FROSTED T-LIGHT HOLDER", 4.25),
    ("22633", "HAND WARMER UNION JACK", 1.85),
    ("22632", "HAND WARMER RED POLKA DOT", 1.85),
    ("22423", "REGENCY CAKESTAND 3 TIER", 12.75),
    ("85099B", "JUMBO BAG RED RETROSPOT", 2.083),
    ("84879", "ASSORTED COLOUR BIRD ORNAMENT", 1.69),
    ("47566", "PARTY BUNTING", 4.95),
    ("20725", "LUNCH BAG RED RETROSPOT", 1.65),
    ("22720", "SET OF 3 CAKE TINS PANTRY DESIGN", 4.95),
    ("23203", "JUMBO BAG DOILEY PATTERNS", 2.083),
    ("22386", "JUMBO BAG PINK POLKADOT", 2.08),
    ("21212", "PACK OF 72 RETROSPOT CAKE CASES", 0.55),
    ("22197", "POPCORN HOLDER", 0.85),
    ("23084", "RABBIT NIGHT LIGHT", 2.08),
    ("22457", "NATURAL SLATE HEART CHALKBOARD", 2.95),
    ("22469", "HEART OF WICKER SMALL", 1.65),
    ("22470", "HEART OF WICKER LARGE", 2.95),
    ("21034", "REX CASH+CARRY JUMBO SHOPPER", 0.95),
    ("22960", "JAM MAKING SET WITH JARS", 4.25),
    ("22086", "PAPER CHAIN KIT 50'S CHRISTMAS", 2.95),
    ("79321", "CHILLI LIGHTS", 4.95),
    ("22411", "JUMBO SHOPPER VINTAGE RED PAISLEY", 2.08),
    ("21931", "JUMBO STORAGE BAG SUKI", 2.08),
    ("84946", "ANTIQUE SILVER T-LIGHT GLASS", 1.25),
    ("22112", "CHOCOLATE HOT WATER BOTTLE", 4.95),
    ("22835", "HOT WATER BOTTLE I AM SO POORLY", 4.65),
    ("23298", "SPOTTY BUNTING", 4.95),
    ("23209", "LUNCH BAG VINTAGE DOILY", 1.65),
    ("20727", "LUNCH BAG  BLACK SKULL.", 1.65),
    ("22382", "LUNCH BAG SPACEBOY DESIGN", 1.65),
    ("20728", "LUNCH BAG CARS BLUE", 1.65),
    ("22666", "RECIPE BOX PANTRY YELLOW DESIGN", 2.95),
    ("22178", "VICTORIAN GLASS HANGING T-LIGHT", 1.25),
    ("21754", "HOME BUILDING BLOCK WORD", 5.95),
)
# Non-product codes: postage, manual adjustments, discounts, fees. Description casing as in UCI.
_NON_PRODUCTS: tuple[tuple[str, str, float, float], ...] = (
    ("POST", "POSTAGE", 18.0, 0.0030),
    ("M", "Manual", 2.55, 0.0008),
    ("D", "Discount", 5.76, 0.0002),
    ("DOT", "DOTCOM POSTAGE", 569.77, 0.0004),
    ("BANK CHARGES", "Bank Charges", 15.0, 0.0001),
    ("C2", "CARRIAGE", 50.0, 0.0003),
    ("AMAZONFEE", "AMAZON FEE", 1_867.86, 0.0001),
)
_COLOURS = ("RED", "PINK", "BLUE", "WHITE", "IVORY", "GREEN", "BLACK", "CREAM", "SILVER", "GOLD")
_ITEMS = (
    "LUNCH BOX",
    "TEA CUP AND SAUCER",
    "CAKE STAND",
    "JUMBO BAG",
    "NAPKINS",
    "PAPER PLATES",
    "STORAGE TIN",
    "PHOTO FRAME",
    "CANDLE",
    "T-LIGHT HOLDER",
    "HOT WATER BOTTLE",
    "DOORMAT",
    "ALARM CLOCK",
    "WALL CLOCK",
    "MUG",
    "TRINKET BOX",
    "BUNTING",
    "NOTEBOOK",
    "PURSE",
    "CUSHION COVER",
    "CHARLOTTE BAG",
    "WATER BOTTLE",
    "GIFT WRAP",
    "CAKE CASES",
    "BISCUIT TIN",
    "SHOPPING BAG",
    "FRIDGE MAGNET",
)
_PRICES = (0.29, 0.39, 0.42, 0.55, 0.65, 0.72, 0.85, 1.25, 1.45, 1.65, 1.69, 1.95, 2.1, 2.46, 2.55, 2.95)
_PRICES += (3.25, 3.75, 4.25, 4.95, 5.95, 7.95, 8.5, 9.95, 12.75, 14.95, 0.125, 1.063, 2.083, 4.125)
# Country shares of invoices; UCI is about 90% United Kingdom.
_COUNTRIES: tuple[tuple[str, float], ...] = (
    ("United Kingdom", 0.900),
    ("Germany", 0.020),
    ("France", 0.018),
    ("EIRE", 0.016),
    ("Spain", 0.005),
    ("Netherlands", 0.005),
    ("Belgium", 0.004),
    ("Switzerland", 0.004),
    ("Portugal", 0.003),
    ("Australia", 0.003),
    ("Norway", 0.002),
    ("Italy", 0.002),
    ("Channel Islands", 0.002),
    ("Finland", 0.0015),
    ("Cyprus", 0.0012),
    ("Sweden", 0.0010),
    ("Austria", 0.0008),
    ("Denmark", 0.0008),
    ("Japan", 0.0007),
    ("Poland", 0.0006),
    ("USA", 0.0005),
    ("Israel", 0.0005),
    ("Singapore", 0.0004),
    ("Iceland", 0.0004),
    ("Canada", 0.0003),
    ("Greece", 0.0003),
    ("Malta", 0.0003),
    ("United Arab Emirates", 0.0002),
    ("Lithuania", 0.0002),
    ("Brazil", 0.0002),
)


@dataclass(frozen=True)
class Product:
    """A catalogue entry as pre-rendered JSON fragments, so the hot loop only concatenates."""

    stock_code: str
    description: str
    unit_price: float
    fixed_quantity: int | None  # non-product codes are always quantity 1
    head: str  # '"stock_code":..,"description":..,"quantity":'
    head_null: str  # the same with "description":null
    tail: str  # ',"unit_price":..,"currency":"GBP",'


class Catalogue:
    """Products and customers, fixed for every run (independent of --seed).

    Why fixed: a stock code must keep its description and price, and a customer their country,
    across runs and hours, so that dimension models built downstream are stable.
    """

    SEED = "uci-online-retail-catalogue-v1"

    def __init__(self, n_products: int = 300, n_customers: int = 4000) -> None:
        rng = random.Random(self.SEED)
        items: list[tuple[str, str, float, int | None, float]] = [
            (code, desc, price, None, 1.0) for code, desc, price in _KNOWN_PRODUCTS
        ]
        codes = {code for code, *_ in items} | {code for code, *_ in _NON_PRODUCTS}
        descriptions = {desc for _, desc, *_ in items}
        while len(items) < n_products:
            if rng.random() < 0.15:
                code = f"{rng.randrange(84000, 90000)}{rng.choice('ABCDEFG')}"
            else:
                code = str(rng.randrange(20600, 23400))
            shape = rng.random()
            theme, item = rng.choice(THEMES), rng.choice(_ITEMS)
            if shape < 0.5:
                desc = f"{rng.choice(_COLOURS)} {theme} {item}"
            elif shape < 0.75:
                desc = f"{theme} {item}"
            else:
                desc = f"{rng.choice(('SET OF', 'PACK OF'))} {rng.choice((3, 4, 6, 12, 20, 60))} {theme} {item}"
            if code in codes or desc in descriptions:
                continue
            codes.add(code)
            descriptions.add(desc)
            items.append((code, desc, rng.choice(_PRICES), None, 1.0))
        # Popularity: Zipf-like; the real UCI best sellers lead, the synthesised rest in shuffled order.
        known = len(_KNOWN_PRODUCTS)
        rest = list(range(known, len(items)))
        rng.shuffle(rest)
        weights = [0.0] * len(items)
        for rank, i in enumerate([*range(known), *rest], start=1):
            weights[i] = 1.0 / (rank + 10) ** 0.9
        product_mass = sum(weights)
        non_product_share = sum(share for *_, share in _NON_PRODUCTS)
        scale = product_mass / (1.0 - non_product_share)
        for code, desc, price, share in _NON_PRODUCTS:
            items.append((code, desc, price, 1, 0.0))
            weights.append(share * scale)
        self.products: list[Product] = [
            self._product(code, desc, price, fixed) for code, desc, price, fixed, _ in items
        ]
        self.product_table = lookup_table(self.products, weights, 16)

        countries = [name for name, _ in _COUNTRIES]
        country_cw = cumulative(share for _, share in _COUNTRIES)
        guest_heads = [f'"customer_id":null,"country":{json.dumps(c)},' for c in countries]
        self.guest_table = lookup_table(guest_heads, (share for _, share in _COUNTRIES), 12)
        ids = rng.sample(range(12346, 18288), n_customers)
        homes = rng.choices(countries, cum_weights=country_cw, k=n_customers)
        customer_heads = [
            f'"customer_id":"{cid}","country":{json.dumps(home)},' for cid, home in zip(ids, homes, strict=True)
        ]
        popularity = [rng.paretovariate(1.5) for _ in range(n_customers)]
        self.customer_table = lookup_table(customer_heads, popularity, 16)
        self.customer_countries = dict(zip((str(i) for i in ids), homes, strict=True))
        # the id behind each pre-rendered customer fragment: the key of a customer's tastes
        self.customer_of_head = dict(zip(customer_heads, (str(i) for i in ids), strict=True))

    @cached_property
    def tastes(self) -> Tastes:
        """Customers' stable theme preferences and the seasons (`lakehouse.generate.preferences`)."""
        return Tastes(self.products, self.product_table, 16)

    @staticmethod
    def _product(code: str, desc: str, price: float, fixed: int | None) -> Product:
        head = f'"stock_code":{json.dumps(code)},"description":{json.dumps(desc)},"quantity":'
        head_null = f'"stock_code":{json.dumps(code)},"description":null,"quantity":'
        tail = f',"unit_price":{json.dumps(price)},"currency":"GBP",'
        return Product(code, desc, price, fixed, head, head_null, tail)


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The one shared catalogue (built once per process, in about 0.1 s)."""
    return Catalogue()
