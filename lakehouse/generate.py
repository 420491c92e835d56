"""`lakehouse generate`: a Kinesis Data Firehose simulator for the orders raw zone.

Why it exists: the pipeline must be exercised end to end without an AWS account, and its
tests need data whose every quirk is known in advance. This module writes order-line events
(the UCI "Online Retail" shape) exactly as Firehose lands them in S3 -- GZIP objects under
UTC *arrival*-hour prefixes, several objects per hour because Firehose flushes its buffer on
size or on time, JSON records concatenated with no delimiter (or newline-terminated when the
stream's newline processor is on) -- and, with `--faults all`, injects the faults a real
stream produces: duplicates (at-least-once delivery, also across hours), late events (and
one per hour older than the lateness window), malformed JSON, a JSON value that is not an
object, missing fields, wrong types, oversize records, unknown extra fields and one truncated
gzip object. Next to the data it writes a ground-truth file with the exact counts
the ingest job must reconcile to (records read = bronze rows + quarantined, silver = distinct
valid event ids), so tests check numbers, not impressions.

Determinism: every random choice comes from `random.Random` seeded from `--seed` and the
arrival hour, uuids are drawn from it (never `uuid4`), and gzip headers carry mtime 0, so
re-running a command rewrites byte-identical objects at the same keys (an idempotent demo).
An hour's own events depend only on (seed, arrival hour, config), not on the run's start.

Speed: 1M events per hour must take well under a minute on 2 cores, so the hot loop builds
each record from precomputed JSON fragments (one f-string per record, no dict, no
`json.dumps`), and compression plus writing run in worker threads (zlib releases the GIL).
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import heapq
import json
import os
import random
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from lakehouse.console import arg_hour
from lakehouse.customer_preferences import Tastes, customer_id_of
from pipeline.settings import FRAMINGS, load_settings

FAULT_MODES = ("none", "all")
# Quarantine reason codes: a contract shared with the ingest job (bronze.orders_quarantine.reason_code).
QUARANTINE_REASONS = (
    "malformed_json",
    "missing_required_field",
    "wrong_type",
    "oversize_record",
    "corrupt_object",
    "not_an_object",
    "late_beyond_window",
)
# Written out here rather than imported from spark_jobs.ingest.contract on purpose: the
# simulator is the tests' independent oracle, so a drift between producer and consumer shows
# up as a failing reconciliation instead of changing both sides at once.
REQUIRED_FIELDS = (
    "event_id",
    "invoice_no",
    "invoice_line",
    "stock_code",
    "quantity",
    "unit_price",
    "currency",
    "country",
    "event_ts",
)
EVENT_FIELDS = (
    "event_id",
    "invoice_no",
    "invoice_line",
    "stock_code",
    "description",
    "quantity",
    "unit_price",
    "currency",
    "customer_id",
    "country",
    "event_ts",
    "emitted_at",
    "schema_version",
)
MAX_RECORD_BYTES = 1_024_000  # Firehose's record limit, 1,000 KiB
TABLE_PREFIX = "orders"
DELIVERY_STREAM_VERSION = 1
GROUND_TRUTH_DIR = "_ground_truth"
GZIP_LEVEL = 5  # 1-6 keep 1M events well under a minute; 5 is close to 6's ratio at less cost
GROUND_TRUTH_VERSION = 1

# Fault rates and per-hour counts with --faults all.
DUPLICATE_SHARE = 0.01
LATE_SHARE = 0.02
MALFORMED_PER_HOUR = 2
MISSING_PER_HOUR = 2
WRONG_TYPE_PER_HOUR = 2
OVERSIZE_PER_HOUR = 1
NOT_AN_OBJECT_PER_HOUR = 1
LATE_BEYOND_WINDOW_PER_HOUR = 1
NOT_AN_OBJECT_VALUES = ("[1, 2, 3]", "42", '"ORDER"', "null", "true")  # the hour picks one
LATENESS_HOURS = 48  # the pipeline's default lateness window (LAKEHOUSE_LATENESS_HOURS)
EXTRA_FIELD_PER_HOUR = 3
CORRUPT_OBJECT_EVENTS = 5
MIN_EVENTS_WITH_FAULTS = 10

# Domain rates (UCI Online Retail).
CANCELLATION_SHARE = 0.02  # of invoices
GUEST_SHARE = 0.25  # invoices without customer_id
NULL_DESCRIPTION_SHARE = 0.003  # of lines

HOUR_MS = 3_600_000
_MMSS = tuple(f"{m:02d}:{s:02d}" for m in range(60) for s in range(60))


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class GenerateConfig:
    """What to generate. `start` is the first UTC arrival hour; validated on construction."""

    start: datetime
    hours: int = 3
    events_per_hour: int = 2000
    seed: int = 7
    stream_name: str = "orders-stream"
    framing: str = "concatenated"
    faults: str = "none"
    buffer_mib: float = 5.0
    buffer_seconds: int = 300
    gzip_level: int = GZIP_LEVEL
    lateness_hours: int = LATENESS_HOURS  # the pipeline's window: one event per hour is made older

    def __post_init__(self) -> None:
        start = self.start if self.start.tzinfo else self.start.replace(tzinfo=UTC)
        start = start.astimezone(UTC)
        if (start.minute, start.second, start.microsecond) != (0, 0, 0):
            raise ValueError(f"start {start.isoformat()} is not on the hour (arrival hours start at :00)")
        object.__setattr__(self, "start", start)
        if self.hours < 1:
            raise ValueError("hours must be >= 1")
        if self.framing not in FRAMINGS:
            raise ValueError(f"framing must be one of {', '.join(FRAMINGS)}")
        if self.faults not in FAULT_MODES:
            raise ValueError(f"faults must be one of {', '.join(FAULT_MODES)}")
        minimum = MIN_EVENTS_WITH_FAULTS if self.faults == "all" else 1
        if self.events_per_hour < minimum:
            raise ValueError(f"events_per_hour must be >= {minimum} with faults={self.faults}")
        if not 0 < self.buffer_mib <= 128:
            raise ValueError("buffer_mib must be > 0 and <= 128 (Firehose's range)")
        if not 1 <= self.buffer_seconds <= 900:
            raise ValueError("buffer_seconds must be between 1 and 900 (Firehose's range)")
        if not 1 <= self.gzip_level <= 9:
            raise ValueError("gzip_level must be between 1 and 9")
        if self.lateness_hours < 0:
            raise ValueError("lateness_hours must be >= 0")
        if not self.stream_name or "/" in self.stream_name:
            raise ValueError("stream_name must be a non-empty name without '/'")

    @property
    def ground_truth_key(self) -> str:
        """Where the ground truth goes, relative to the output root (outside `orders/`)."""
        return f"{GROUND_TRUTH_DIR}/{TABLE_PREFIX}-{self.start:%Y%m%d%H}-{self.hours}h.json"


# --------------------------------------------------------------------------- small helpers


def _iso_z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=8192)
def _hour_text(hour_index: int) -> str:
    return datetime.fromtimestamp(hour_index * 3600, UTC).strftime("%Y-%m-%dT%H:")


def _fmt_ms(epoch_ms: int) -> str:
    """Epoch milliseconds -> '2026-11-01T08:26:13.123Z', without a datetime per call (hot path)."""
    hour, rem = divmod(epoch_ms, HOUR_MS)
    sec, milli = divmod(rem, 1000)
    return f"{_hour_text(hour)}{_MMSS[sec]}.{milli:03d}Z"


def _uuid4_text(getrandbits: Callable[[int], int]) -> str:
    """A version-4-shaped uuid drawn from a seeded generator (uuid4() would break determinism)."""
    x = getrandbits(128)
    h = f"{x:032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[x & 3]}{h[17:20]}-{h[20:]}"


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"))


def _event_id_of(record: str) -> str:
    """Every generated record starts with '{"event_id":"<36 chars>"', so slicing avoids a parse."""
    return record[13:49]


# --------------------------------------------------------------------------- the catalogue

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
_THEMES = (
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
_QUANTITIES = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 25, 32, 36, 48, 50, 72, 96, 100, 144)
_QUANTITY_WEIGHTS = (18, 10, 7, 6, 3, 12, 4, 6, 14, 2, 2, 5, 2, 1, 2, 1.5, 1, 0.8, 0.6, 0.4, 0.4)
_LINES = tuple(range(1, 31))
_LINE_WEIGHTS = tuple(0.82**k for k in range(30))  # skewed small: mean about 5 lines
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


def _cumulative(weights: Iterable[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _lookup_table(values: list[Any], weights: Iterable[float], bits: int) -> list[Any]:
    """A 2**bits-entry table whose slots follow the weights: `table[getrandbits(bits)]` samples it.

    Why: `random.choices(cum_weights=...)` costs about 0.7 us per draw; indexing a table with
    `getrandbits` costs under 0.1 us, which matters a million times an hour. A weight is
    rounded to 1/2**bits; every value with a positive weight keeps at least one slot.
    """
    weights = list(weights)
    cum = _cumulative(weights)
    total, size = cum[-1], 1 << bits
    slots = [min(bisect.bisect(cum, (i + 0.5) * total / size), len(values) - 1) for i in range(size)]
    present = set(slots)
    missing = [i for i, w in enumerate(weights) if w > 0 and i not in present]
    for k, i in enumerate(missing):  # rare values rounded to nothing: give each one slot
        slots[(k * 7919 + 1) % size] = i
    return [values[i] for i in slots]


@dataclass(frozen=True)
class _Product:
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
            theme, item = rng.choice(_THEMES), rng.choice(_ITEMS)
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
        self.products: list[_Product] = [
            self._product(code, desc, price, fixed) for code, desc, price, fixed, _ in items
        ]
        self.product_table = _lookup_table(self.products, weights, 16)

        countries = [name for name, _ in _COUNTRIES]
        country_cw = _cumulative(share for _, share in _COUNTRIES)
        guest_heads = [f'"customer_id":null,"country":{json.dumps(c)},' for c in countries]
        self.guest_table = _lookup_table(guest_heads, (share for _, share in _COUNTRIES), 12)
        ids = rng.sample(range(12346, 18288), n_customers)
        homes = rng.choices(countries, cum_weights=country_cw, k=n_customers)
        customer_heads = [
            f'"customer_id":"{cid}","country":{json.dumps(home)},' for cid, home in zip(ids, homes, strict=True)
        ]
        popularity = [rng.paretovariate(1.5) for _ in range(n_customers)]
        self.customer_table = _lookup_table(customer_heads, popularity, 16)
        self.customer_countries = dict(zip((str(i) for i in ids), homes, strict=True))

    @cached_property
    def tastes(self) -> Tastes:
        """Customers' stable theme preferences and seasons (hook: lakehouse.customer_preferences)."""
        return Tastes(self.products, self.product_table, 16)

    @staticmethod
    def _product(code: str, desc: str, price: float, fixed: int | None) -> _Product:
        head = f'"stock_code":{json.dumps(code)},"description":{json.dumps(desc)},"quantity":'
        head_null = f'"stock_code":{json.dumps(code)},"description":null,"quantity":'
        tail = f',"unit_price":{json.dumps(price)},"currency":"GBP",'
        return _Product(code, desc, price, fixed, head, head_null, tail)

    def invoice_lines(
        self, rng: random.Random, invoice_no: str, n_lines: int, event_ms: int, max_emit_delay_ms: int
    ) -> list[str]:
        """The JSON text of one invoice's lines: shared invoice_no, event_ts, customer and country.

        The producer sends an invoice's lines in one batch, so they share `emitted_at` too
        (a little after `event_ts`, never after the arrival `max_emit_delay_ms` later).
        """
        bits = rng.getrandbits
        rand = rng.random
        guest = rand() < GUEST_SHARE
        who = self.guest_table[bits(12)] if guest else self.customer_table[bits(16)]
        # --- hook: customer preferences (lakehouse.customer_preferences) --------------------------
        # A known customer's invoice is a basket with a theme (their tastes, or the season's);
        # guests shop the global popularity mix.
        if guest:
            products, product_bits = self.product_table, 16
        else:
            products, product_bits = self.tastes.basket(customer_id_of(who) or "", event_ms, rand)
        # --- end of hook ----------------------------------------------------------------------------
        sign = -1 if invoice_no[0] == "C" else 1
        emitted = _fmt_ms(event_ms + int(rand() * min(max_emit_delay_ms, 2000)))
        middle = f'{who}"event_ts":"{_fmt_ms(event_ms)}","emitted_at":"{emitted}","schema_version":1}}'
        prefix = f'","invoice_no":"{invoice_no}","invoice_line":'
        quantities = _QUANTITY_TABLE
        out = []
        for i in range(1, n_lines + 1):
            p = products[bits(product_bits)]
            q = quantities[bits(10)] if p.fixed_quantity is None else p.fixed_quantity
            x = bits(128)  # _uuid4_text, inlined: this loop runs once per event
            h = f"{x:032x}"
            head = p.head_null if rand() < NULL_DESCRIPTION_SHARE else p.head
            out.append(
                f'{{"event_id":"{h[:8]}-{h[8:12]}-4{h[13:16]}-{"89ab"[x & 3]}{h[17:20]}-{h[20:]}'
                f"{prefix}{i},{head}{q * sign}{p.tail}{middle}"
            )
        return out


_QUANTITY_TABLE = _lookup_table(list(_QUANTITIES), _QUANTITY_WEIGHTS, 10)
_LINES_TABLE = _lookup_table(list(_LINES), _LINE_WEIGHTS, 12)


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The one shared catalogue (built once per process, in about 0.1 s)."""
    return Catalogue()


# --------------------------------------------------------------------------- output sinks


class _Sink:
    """Where objects go: a local folder or an S3 prefix. Keys are relative to the output root."""

    location: str

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        raise NotImplementedError

    def list_keys(self, prefix: str) -> set[str] | None:
        """Keys under `prefix` (relative), or None when listing is not possible."""
        raise NotImplementedError


class _LocalSink(_Sink):
    def __init__(self, root: str) -> None:
        self.root = Path(root.removeprefix("file://")).expanduser().resolve()
        self.location = str(self.root)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        # Write then rename: a reader polling the folder never sees half an object.
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def list_keys(self, prefix: str) -> set[str] | None:
        folder = self.root / prefix
        if not folder.is_dir():
            return set()
        return {f"{prefix}{p.name}" for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}


class _S3Sink(_Sink):
    def __init__(self, uri: str) -> None:
        import boto3  # lazy: a second of import time that local runs do not need
        from botocore.config import Config

        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        if not bucket:
            raise ValueError(f"{uri!r} names no bucket (expected s3://bucket/prefix)")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.location = f"s3://{bucket}" + (f"/{self.prefix}" if self.prefix else "")
        # Custom endpoints (moto, MinIO) do not resolve bucket subdomains: use path-style there.
        custom = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        config = Config(s3={"addressing_style": "path"}, max_pool_connections=8) if custom else None
        self.client = boto3.client("s3", config=config)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)

    def list_keys(self, prefix: str) -> set[str] | None:
        from botocore.exceptions import BotoCoreError, ClientError

        keys: set[str] = set()
        strip = len(self._key(""))
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(prefix)
            ):
                keys.update(obj["Key"][strip:] for obj in page.get("Contents", []))
        except (BotoCoreError, ClientError):
            return None  # no ListBucket permission: skip the check, do not fail the run
        return keys


def open_sink(out: str) -> _Sink:
    """A sink for `out`: `s3://bucket/prefix` or a local folder."""
    return _S3Sink(out) if out.startswith("s3://") else _LocalSink(out)


# --------------------------------------------------------------------------- one arrival hour


@dataclass(frozen=True)
class _Special:
    """A record outside the plain stream: a fault, a late event or a duplicate, with its label."""

    kind: str  # duplicate | late | extra_field | one of QUARANTINE_REASONS
    event_id: str | None
    detail: str | None = None


class _HourBuffer:
    """Firehose's buffer for one arrival hour: flush on size (uncompressed) or on time.

    The buffer opens with its first record; it is flushed when it reaches the size hint
    (including the record that crossed it) or when `buffer_seconds` have passed since it
    opened. The object's name carries the flush time; the hour's last buffer is flushed
    before the hour ends, so every object of an hour lies under that hour's prefix.
    """

    def __init__(self, run: _Run, hour_start: datetime, key_rng: random.Random) -> None:
        self.run = run
        self.hour_start = hour_start
        self.prefix = f"{TABLE_PREFIX}/{hour_start:%Y/%m/%d/%H}/"
        self.key_rng = key_rng
        self.limit = int(run.config.buffer_mib * 1024 * 1024)
        self.interval_ms = run.config.buffer_seconds * 1000
        self.newline = run.config.framing == "newline"
        self.records: list[str] = []
        self.size = 0
        self.opened_ms = 0
        self.labels: list[tuple[int, _Special]] = []
        self.objects: list[dict[str, Any]] = []
        self.injected: list[tuple[str, int, _Special]] = []  # (key, record_index, label)

    def object_key(self, at_ms: int) -> str:
        at = self.hour_start + timedelta(milliseconds=min(at_ms, HOUR_MS - 1))
        name = f"{self.run.config.stream_name}-{DELIVERY_STREAM_VERSION}-{at:%Y-%m-%d-%H-%M-%S}"
        return f"{self.prefix}{name}-{_uuid4_text(self.key_rng.getrandbits)}.gz"

    def add_lines(self, at_ms: int, lines: list[str]) -> None:
        """Plain records arriving together (one producer batch); the hot path."""
        if self.records and at_ms >= self.opened_ms + self.interval_ms:
            self.flush(self.opened_ms + self.interval_ms)
        if not self.records:
            self.opened_ms = at_ms
        records, extra, limit = self.records, 1 if self.newline else 0, self.limit
        size = self.size
        for line in lines:
            records.append(line)
            size += len(line) + extra
            if size >= limit:
                self.size = size
                self.flush(at_ms)
                records, size = self.records, 0
                self.opened_ms = at_ms
        self.size = size

    def add_special(self, at_ms: int, text: str, label: _Special) -> None:
        if self.records and at_ms >= self.opened_ms + self.interval_ms:
            self.flush(self.opened_ms + self.interval_ms)
        if not self.records:
            self.opened_ms = at_ms
        self.labels.append((len(self.records), label))
        self.add_lines(at_ms, [text])

    def close(self) -> None:
        if self.records:
            self.flush(min(self.opened_ms + self.interval_ms, HOUR_MS - 1))

    def flush(self, at_ms: int) -> None:
        key = self.object_key(at_ms)
        body = "\n".join(self.records) + "\n" if self.newline else "".join(self.records)
        entry = {"key": key, "bytes": 0, "records": len(self.records), "corrupt": False}
        self.objects.append(entry)
        self.injected.extend((key, index, label) for index, label in self.labels)
        self.run.submit(entry, key, body)
        self.records, self.size, self.labels = [], 0, []


class _Run:
    """One `generate` call: plans each hour, streams it through the buffer, writes objects."""

    def __init__(self, config: GenerateConfig, sink: _Sink, progress: Callable[[str], None] | None) -> None:
        self.config = config
        self.sink = sink
        self.progress = progress
        self.cat = catalogue()
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="generate-write")
        self.pending: deque[tuple[dict[str, Any], Future[int]]] = deque()
        self.carry: list[str] = []  # records to re-send in the next hour (cross-hour duplicates)
        self.silver_by_day: dict[str, int] = {}
        self.injected: dict[str, list[Any]] = {
            "duplicates": [],
            "late_events": [],
            "extra_field_records": [],
            "quarantined": [],
            "events_in_corrupt_objects": [],
        }

    # ---- writing (worker threads: gzip and I/O release the GIL)

    def _compress_and_put(self, key: str, body: str, truncate: bool) -> int:
        data = gzip.compress(body.encode("utf-8"), compresslevel=self.config.gzip_level, mtime=0)
        if truncate:
            data = data[: len(data) // 2]
        self.sink.put(key, data)
        return len(data)

    def submit(self, entry: dict[str, Any], key: str, body: str, truncate: bool = False) -> None:
        while len(self.pending) >= 4:  # bound memory: at most a few buffers in flight
            self._settle_one()
        self.pending.append((entry, self.pool.submit(self._compress_and_put, key, body, truncate)))

    def _settle_one(self) -> None:
        entry, future = self.pending.popleft()
        entry["bytes"] = future.result()

    def settle(self) -> None:
        while self.pending:
            self._settle_one()

    # ---- planning

    def _invoice_numbers(self, hour_index: int) -> Callable[[bool], str]:
        """Sequential 6-digit invoice numbers; each arrival hour gets its own block of the range."""
        per_hour = max(1000, -(-self.config.events_per_hour // 2000) * 1000)
        counter = iter(range(hour_index * per_hour, hour_index * per_hour + 10**9))

        def next_number(cancel: bool) -> str:
            number = 100000 + next(counter) % 900000
            return f"C{number}" if cancel else str(number)

        return next_number

    def generate(self) -> dict[str, Any]:
        cfg = self.config
        hours = []
        try:
            for h in range(cfg.hours):
                began = time.perf_counter()
                hour = self._hour(h)
                hours.append(hour)
                if self.progress:
                    gz = sum(o["bytes"] for o in hour["objects"])
                    self.progress(
                        f"hour {hour['arrival_hour']}: {len(hour['objects'])} objects, {hour['records']:,} records, "
                        f"{gz / 1e6:,.1f} MB gzip ({time.perf_counter() - began:.1f} s)"
                    )
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)
        return self._truth(hours)

    def _hour(self, h: int) -> dict[str, Any]:
        cfg = self.config
        faults = cfg.faults == "all"
        hour_start = cfg.start + timedelta(hours=h)
        hour_iso = _iso_z(hour_start)
        base_ms = int(hour_start.timestamp()) * 1000
        rng = random.Random(f"{cfg.seed}:{hour_iso}:events")
        buf = _HourBuffer(self, hour_start, random.Random(f"{cfg.seed}:{hour_iso}:keys"))
        existing = self.sink.list_keys(buf.prefix)
        next_invoice = self._invoice_numbers(int(hour_start.timestamp()) // 3600)
        cat = self.cat

        n = cfg.events_per_hour
        n_late = round(n * LATE_SHARE) if faults else 0
        n_extra = EXTRA_FIELD_PER_HOUR if faults else 0
        n_main = n - n_late - n_extra
        # About 1% of each hour's records are re-sent copies: half of them (when a next hour
        # exists) are re-sent in the next hour, the rest in this one; copies arriving from the
        # previous hour count towards this hour's share.
        n_dup = max(1, round(n * DUPLICATE_SHARE)) if faults else 0
        n_carry = 0 if h == cfg.hours - 1 else n_dup // 2
        n_same = max(0, n_dup - len(self.carry)) if faults else 0
        dup_sources = rng.sample(range(n_main), min(n_main, n_same + n_carry))
        same_hour = set(dup_sources[:n_same])
        carry_next = set(dup_sources[n_same:])

        def on_time(n_lines: int = 1) -> tuple[int, list[str]]:
            arrival = rng.randrange(HOUR_MS)
            delay = min(arrival, 1000 + int(rng.expovariate(1 / 20000)))
            lines = cat.invoice_lines(
                rng, next_invoice(rng.random() < CANCELLATION_SHARE), n_lines, base_ms + arrival - delay, delay
            )
            return arrival, lines

        # Specials are merged into the plain stream in arrival order (a heap keyed by arrival).
        specials: list[tuple[int, int, str, _Special]] = []
        seq = iter(range(1 << 62))
        for text in self.carry:  # Firehose retries from the previous hour: verbatim copies
            specials.append((rng.randrange(900_000), next(seq), text, _Special("duplicate", _event_id_of(text))))
        self.carry = []
        day = hour_start.strftime("%Y-%m-%d")
        self.silver_by_day[day] = self.silver_by_day.get(day, 0) + n - n_late
        late_left = n_late
        while late_left > 0:
            k = min(late_left, rng.choice((1, 1, 2, 3)))
            event_ms = base_ms - rng.randrange(HOUR_MS, 6 * HOUR_MS + 1)
            event_day = _fmt_ms(event_ms)[:10]
            self.silver_by_day[event_day] = self.silver_by_day.get(event_day, 0) + k
            for text in cat.invoice_lines(rng, next_invoice(False), k, event_ms, 2000):
                specials.append((rng.randrange(HOUR_MS), next(seq), text, _Special("late", _event_id_of(text))))
            late_left -= k
        if faults:
            for at, text, label in self._fault_records(rng, on_time, base_ms, next_invoice):
                specials.append((at, next(seq), text, label))
        heapq.heapify(specials)

        # The plain stream: invoices sorted by arrival; event_ts a few seconds to minutes earlier.
        counts: list[int] = []
        total = 0
        while total < n_main:
            for _ in range(max(16, (n_main - total) // 4)):
                c = _LINES_TABLE[rng.getrandbits(12)]
                counts.append(c)
                total += c
                if total >= n_main:
                    break
        if counts:
            counts[-1] -= total - n_main
        rand = rng.random
        arrivals = sorted(int(rand() * HOUR_MS) for _ in counts)
        index = 0
        add_lines = buf.add_lines
        for arrival, n_lines in zip(arrivals, counts, strict=True):
            while specials and specials[0][0] <= arrival:
                at, _, text, label = heapq.heappop(specials)
                buf.add_special(at, text, label)
            delay = 1000 + int(rng.expovariate(1 / 20000))
            if delay > arrival:
                delay = int(arrival * rand())
            lines = cat.invoice_lines(
                rng, next_invoice(rand() < CANCELLATION_SHARE), n_lines, base_ms + arrival - delay, delay
            )
            add_lines(arrival, lines)
            for i in range(index, index + n_lines):
                if i in same_hour:  # re-sent verbatim a little later in the same hour
                    text = lines[i - index]
                    again = min(HOUR_MS - 1, arrival + rng.randrange(1000, 900_000))
                    heapq.heappush(specials, (again, next(seq), text, _Special("duplicate", _event_id_of(text))))
                elif i in carry_next:
                    self.carry.append(lines[i - index])
            index += n_lines
        while specials:
            at, _, text, label = heapq.heappop(specials)
            buf.add_special(at, text, label)
        buf.close()

        corrupt_entries = []
        if faults and h == cfg.hours // 2:
            corrupt_entries.append(self._corrupt_object(rng, buf, on_time))
        self.settle()
        return self._hour_truth(hour_start, buf, corrupt_entries, n, existing)

    def _fault_records(
        self,
        rng: random.Random,
        on_time: Callable[..., tuple[int, list[str]]],
        base_ms: int,
        next_invoice: Callable[[bool], str],
    ) -> list[tuple[int, str, _Special]]:
        """The hour's broken and unusual records, each built from a fresh valid one."""
        out: list[tuple[int, str, _Special]] = []

        def fresh() -> tuple[int, dict[str, Any], str]:
            at, lines = on_time()
            return at, json.loads(lines[0]), lines[0]

        extras = (("promo_code", "XMAS10"), ("gift_wrap", True), ("loyalty_tier", "gold"))
        for i in range(EXTRA_FIELD_PER_HOUR):
            at, rec, _ = fresh()
            name, value = extras[i % len(extras)]
            rec[name] = value
            out.append((at, _dumps(rec), _Special("extra_field", rec["event_id"], name)))
        # Malformed, but braces stay balanced and no string holds a brace: a framer still finds the end.
        breakers = (
            ("missing_comma", ',"unit_price":', '"unit_price":'),
            ("unquoted_key", '"country":', "country:"),
            ("trailing_comma", ',"schema_version":1}', ',"schema_version":1,}'),
            ("single_quotes", '"currency":"GBP"', "'currency':'GBP'"),
            ("missing_value", ',"invoice_line":', ',"invoice_line":,"line":'),
        )
        for variant, old, new in rng.sample(breakers, MALFORMED_PER_HOUR):
            at, rec, text = fresh()
            broken = text.replace(old, new, 1)
            _assert_malformed(broken)
            out.append((at, broken, _Special("malformed_json", rec["event_id"], variant)))
        droppable = ("event_id", "invoice_no", "quantity", "unit_price", "event_ts", "country", "stock_code")
        for name in rng.sample(droppable, MISSING_PER_HOUR):
            at, rec, _ = fresh()
            event_id = rec.pop(name) if name == "event_id" else rec["event_id"]
            rec.pop(name, None)
            out.append((at, _dumps(rec), _Special("missing_required_field", event_id, name)))
        wrong = (("quantity", "six"), ("unit_price", "abc"), ("event_ts", "yesterday"))
        for name, value in rng.sample(wrong, WRONG_TYPE_PER_HOUR):
            at, rec, _ = fresh()
            rec[name] = value
            out.append((at, _dumps(rec), _Special("wrong_type", rec["event_id"], f"{name}={value!r}")))
        for _ in range(OVERSIZE_PER_HOUR):
            at, rec, text = fresh()
            filler = " ".join(["WHITE HANGING HEART T-LIGHT HOLDER"] * (MAX_RECORD_BYTES // 34 + 100))
            rec["description"] = filler
            big = _dumps(rec)
            out.append((at, big, _Special("oversize_record", rec["event_id"], f"{len(big)} bytes")))
        for _ in range(NOT_AN_OBJECT_PER_HOUR):  # a producer bug: a bare JSON value between records
            at, _ = on_time()
            value = rng.choice(NOT_AN_OBJECT_VALUES)
            out.append((at, value, _Special("not_an_object", None, value)))
        for _ in range(LATE_BEYOND_WINDOW_PER_HOUR):  # a replay of an old event: valid, but too late
            at = rng.randrange(HOUR_MS)
            event_ms = base_ms - (self.config.lateness_hours + 1) * HOUR_MS - rng.randrange(23 * HOUR_MS)
            (line,) = self.cat.invoice_lines(rng, next_invoice(False), 1, event_ms, 2000)
            out.append((at, line, _Special("late_beyond_window", _event_id_of(line), _fmt_ms(event_ms))))
        return out

    def _corrupt_object(
        self, rng: random.Random, buf: _HourBuffer, on_time: Callable[..., tuple[int, list[str]]]
    ) -> dict[str, Any]:
        """A separate small object of fresh events whose gzip stream is cut in half."""
        at, lines = on_time(CORRUPT_OBJECT_EVENTS)
        key = buf.object_key(min(HOUR_MS - 1, at + rng.randrange(1000, 60_000)))
        body = "\n".join(lines) + "\n" if buf.newline else "".join(lines)
        # records 0: nothing can be framed from it (one quarantine row for the object instead)
        entry = {"key": key, "bytes": 0, "records": 0, "corrupt": True}
        self.submit(entry, key, body, truncate=True)
        self.injected["events_in_corrupt_objects"].extend(_event_id_of(t) for t in lines)
        return entry

    # ---- ground truth

    def _hour_truth(
        self,
        hour_start: datetime,
        buf: _HourBuffer,
        corrupt_entries: list[dict[str, Any]],
        n: int,
        existing: set[str] | None,
    ) -> dict[str, Any]:
        quarantine = dict.fromkeys(QUARANTINE_REASONS, 0)
        counts = {"duplicate": 0, "late": 0, "extra_field": 0}
        for key, index, label in sorted(buf.injected, key=lambda item: (item[0], item[1])):
            if label.kind in quarantine:
                quarantine[label.kind] += 1
                self.injected["quarantined"].append(
                    {
                        "arrival_hour": _iso_z(hour_start),
                        "key": key,
                        "record_index": index,
                        "reason": label.kind,
                        "event_id": label.event_id,
                        "detail": label.detail,
                    }
                )
            else:
                counts[label.kind] += 1
                listing = {"duplicate": "duplicates", "late": "late_events", "extra_field": "extra_field_records"}
                self.injected[listing[label.kind]].append(label.event_id)
        for entry in corrupt_entries:
            quarantine["corrupt_object"] += 1
            self.injected["quarantined"].append(
                {
                    "arrival_hour": _iso_z(hour_start),
                    "key": entry["key"],
                    "record_index": None,
                    "reason": "corrupt_object",
                    "event_id": None,
                    "detail": f"gzip stream truncated to {entry['bytes']} bytes",
                }
            )
        objects = sorted(buf.objects + corrupt_entries, key=lambda o: o["key"])
        records = sum(o["records"] for o in buf.objects)
        quarantined = sum(quarantine.values())
        truth = {
            "arrival_hour": _iso_z(hour_start),
            "prefix": buf.prefix,
            "objects": objects,
            "records": records,
            "records_read": records + len(corrupt_entries),
            "bronze_rows": records - (quarantined - len(corrupt_entries)),
            "quarantine": quarantine,
            "quarantine_rows": quarantined,
            "duplicates": counts["duplicate"],
            "late_events": counts["late"],
            "extra_field_records": counts["extra_field"],
            "new_unique_events": n,
            "records_in_corrupt_objects": CORRUPT_OBJECT_EVENTS * len(corrupt_entries),
        }
        assert truth["bronze_rows"] == n + counts["duplicate"], "generator bookkeeping is off"
        if existing:
            foreign = existing - {o["key"] for o in objects}
            if foreign and self.progress:
                self.progress(
                    f"warning: {buf.prefix} already held {len(foreign)} other object(s) (another seed or "
                    "config?); the ground truth counts only this run's objects"
                )
        return truth

    def _truth(self, hours: list[dict[str, Any]]) -> dict[str, Any]:
        cfg = self.config
        summed = (
            "records",
            "records_read",
            "bronze_rows",
            "quarantine_rows",
            "duplicates",
            "late_events",
            "extra_field_records",
            "new_unique_events",
            "records_in_corrupt_objects",
        )
        totals: dict[str, Any] = {"objects": sum(len(hr["objects"]) for hr in hours)}
        totals["objects_corrupt"] = sum(o["corrupt"] for hr in hours for o in hr["objects"])
        totals["bytes"] = sum(o["bytes"] for hr in hours for o in hr["objects"])
        totals.update({name: sum(hr[name] for hr in hours) for name in summed})
        totals["quarantine"] = {r: sum(hr["quarantine"][r] for hr in hours) for r in QUARANTINE_REASONS}
        return {
            "ground_truth_version": GROUND_TRUTH_VERSION,
            "out": self.sink.location,
            "ground_truth_key": cfg.ground_truth_key,
            "config": {
                "seed": cfg.seed,
                "stream": cfg.stream_name,
                "framing": cfg.framing,
                "faults": cfg.faults,
                "start": _iso_z(cfg.start),
                "hours": cfg.hours,
                "events_per_hour": cfg.events_per_hour,
                "buffer_mib": cfg.buffer_mib,
                "buffer_seconds": cfg.buffer_seconds,
                "compression": "GZIP",
                "gzip_level": cfg.gzip_level,
            },
            "hours": hours,
            "totals": totals,
            "expected": {
                "records_read": totals["records_read"],
                "bronze_rows": totals["bronze_rows"],
                "quarantine_rows": totals["quarantine_rows"],
                "quarantine_by_reason": totals["quarantine"],
                "duplicates": totals["duplicates"],
                "silver_rows": totals["new_unique_events"],
                "silver_rows_by_event_day": dict(sorted(self.silver_by_day.items())),
                "injected": self.injected,
            },
        }


def _assert_malformed(text: str) -> None:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return
    raise AssertionError(f"meant to be malformed but parses: {text[:120]}")


# --------------------------------------------------------------------------- public API


def generate(config: GenerateConfig, out: str, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write `config.hours` arrival hours of Firehose objects under `out`; return the ground truth.

    `out` is a local folder or `s3://bucket/prefix` (endpoint from AWS_ENDPOINT_URL). The ground
    truth is also written to `<out>/<config.ground_truth_key>`. `progress` gets one line per hour.

    Ground truth, per arrival hour (`hours[]`): `objects` [{key (relative to `out`), bytes
    (gzip), records (framed records; 0 for the corrupt object), corrupt}], `records`,
    `records_read` (records + one per corrupt object), `bronze_rows` (valid records, duplicates
    included), `quarantine` {reason: rows}, `quarantine_rows`, `duplicates` (valid copies of an
    event id delivered earlier in the run), `late_events`, `extra_field_records`,
    `new_unique_events`, `records_in_corrupt_objects`. Invariants: records_read == bronze_rows +
    quarantine_rows; bronze_rows - duplicates == new_unique_events. `totals` sums the hours;
    `expected` holds what the ingest must produce (bronze, quarantine and silver rows, silver
    rows by event day) and `injected`: the event ids of duplicates, late events, extra-field
    records and lost events, and each quarantined record as {arrival_hour, key, record_index
    (0-based position in its object; null for an object-level row), reason, event_id, detail}.
    """
    sink = open_sink(out)
    truth = _Run(config, sink, progress).generate()
    sink.put(config.ground_truth_key, (json.dumps(truth, indent=1) + "\n").encode(), "application/json")
    return truth


# --------------------------------------------------------------------------- CLI


def _arg_positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be >= 1")
    return value


def _arg_positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be > 0")
    return value


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "generate",
        help="write simulated Firehose objects (gzip JSON order events) to the raw zone",
        description=(
            "Simulate Kinesis Data Firehose delivering order-line events (UCI Online Retail shape) to the "
            "raw zone: orders/YYYY/MM/DD/HH/<stream>-1-<flush time>-<uuid>.gz under UTC arrival hours, "
            "several objects per hour (buffer size/interval), optionally with injected faults. Writes a "
            "ground-truth JSON under _ground_truth/ with the counts the ingest must reconcile to. "
            "Deterministic: the same command rewrites byte-identical objects."
        ),
    )
    p.add_argument(
        "--start",
        type=arg_hour,
        default=None,
        help="first UTC arrival hour, e.g. 2026-11-01T08 (default: the last HOURS complete hours)",
    )
    p.add_argument("--hours", type=_arg_positive_int, default=3, help="number of arrival hours (default: %(default)s)")
    p.add_argument(
        "--events-per-hour", type=_arg_positive_int, default=2000, help="new events per hour (default: %(default)s)"
    )
    p.add_argument("--seed", type=int, default=7, help="random seed; same seed, same bytes (default: %(default)s)")
    p.add_argument(
        "--framing",
        choices=FRAMINGS,
        default="concatenated",
        help="concatenated: JSON records back to back (Firehose's default); newline: each record ends "
        "with \\n (default: %(default)s)",
    )
    p.add_argument(
        "--faults",
        choices=FAULT_MODES,
        default="none",
        help="all: duplicates, late events (one per hour beyond LAKEHOUSE_LATENESS_HOURS), malformed/missing/"
        "wrong-type/oversize/extra-field records, a JSON value that is not an object, one truncated gzip object "
        "(default: %(default)s)",
    )
    p.add_argument("--out", default=None, help="local folder or s3://bucket/prefix (default: LAKEHOUSE_RAW_ROOT)")
    p.add_argument(
        "--buffer-mib",
        type=_arg_positive_float,
        default=5.0,
        help="Firehose buffer size, uncompressed (default: %(default)s MiB)",
    )
    p.add_argument(
        "--buffer-seconds",
        type=_arg_positive_int,
        default=300,
        help="Firehose buffer interval (default: %(default)s s)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    start = args.start
    if start is None:
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        start = now - timedelta(hours=args.hours)
    try:
        config = GenerateConfig(
            start=start,
            hours=args.hours,
            events_per_hour=args.events_per_hour,
            seed=args.seed,
            stream_name=settings.stream_name,
            framing=args.framing,
            faults=args.faults,
            buffer_mib=args.buffer_mib,
            buffer_seconds=args.buffer_seconds,
            lateness_hours=settings.lateness_hours,  # the event made too late is late for this pipeline
        )
    except ValueError as exc:
        print(f"lakehouse generate: {exc}", file=sys.stderr)
        return 2
    out = args.out or settings.raw_root

    from lakehouse.console import progress, table

    began = time.perf_counter()
    try:
        truth = generate(config, out, progress=progress)
    except ValueError as exc:  # e.g. an s3:// URI without a bucket
        print(f"lakehouse generate: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # I/O or S3 failure: say what failed, not a traceback
        if not _is_io_error(exc):
            raise
        print(f"lakehouse generate: writing to {out} failed: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - began
    _print_summary(truth, elapsed, table)
    return 0


def _is_io_error(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return True
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return False
    return isinstance(exc, BotoCoreError | ClientError)


def _print_summary(truth: dict[str, Any], elapsed: float, table: Callable[..., str]) -> None:
    cfg, totals = truth["config"], truth["totals"]
    print(
        f"generated {cfg['hours']} arrival hour(s) from {cfg['start']} in {elapsed:.1f} s "
        f"(seed {cfg['seed']}, framing {cfg['framing']}, faults {cfg['faults']})"
    )
    rows = [
        (
            hr["arrival_hour"],
            len(hr["objects"]),
            hr["records"],
            hr["bronze_rows"],
            hr["quarantine_rows"],
            hr["duplicates"],
            hr["late_events"],
        )
        for hr in truth["hours"]
    ]
    rows.append(
        (
            "total",
            totals["objects"],
            totals["records"],
            totals["bronze_rows"],
            totals["quarantine_rows"],
            totals["duplicates"],
            totals["late_events"],
        )
    )
    print(table(("arrival hour", "objects", "records", "bronze", "quarantine", "duplicates", "late"), rows))
    if cfg["faults"] != "none":
        injected = {
            "duplicates": totals["duplicates"],
            "late": totals["late_events"],
            "extra_field": totals["extra_field_records"],
            **{reason: count for reason, count in totals["quarantine"].items() if count},
        }
        print("faults injected: " + ", ".join(f"{name} {count}" for name, count in injected.items()))
    print(f"expected silver rows: {truth['expected']['silver_rows']:,}")
    print(f"objects:      {truth['out']}/{TABLE_PREFIX}/")
    print(f"ground truth: {truth['out']}/{truth['ground_truth_key']}")
