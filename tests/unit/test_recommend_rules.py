"""The recommendation side's rules and the simulator's learnable structure, without a JVM.

- the Spark job's non-product codes are the dbt seed's (one rule for marts and recommender);
- customers' tastes are stable and their baskets follow them in the real generator's output
  (the Firehose objects), seasons shift baskets, and the same seed gives the same history;
- the job's arguments are validated before any Spark session exists.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lakehouse import generate as gen
from lakehouse.generate import histories
from lakehouse.generate import preferences as prefs
from lakehouse_core.settings import REPO_ROOT
from spark_jobs import recommend_products
from spark_jobs.recommend.lines import NON_PRODUCT_STOCK_CODES

pytestmark = pytest.mark.unit


def test_non_product_codes_are_the_dbt_seeds() -> None:
    with (REPO_ROOT / "dbt" / "seeds" / "non_product_stock_codes.csv").open() as f:
        seed = {row["stock_code"] for row in csv.DictReader(f)}
    assert seed == NON_PRODUCT_STOCK_CODES


def test_tastes_are_a_pure_function_of_the_customer() -> None:
    """Computed again by another interpreter (another hash seed, the global `random` state moved
    first): the same tastes, so no process state, cache or hash order takes part."""
    customers = ["17850", "12583", "0", "guest-like-999999"]
    here = [list(prefs.customer_tastes(c)) for c in customers]
    elsewhere = (
        "import json, random; random.seed(7); random.random()\n"
        "from lakehouse.generate import preferences as p\n"
        f"print(json.dumps([list(p.customer_tastes(c)) for c in {customers!r}]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run([sys.executable, "-c", elsewhere], env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == here
    primary, secondary = prefs.customer_tastes("17850")
    assert primary != secondary and {primary, secondary} <= {*prefs.THEMES, prefs.DEFAULT_THEME}
    themes = Counter(prefs.customer_tastes(str(i))[0] for i in range(2000))
    assert len(themes) == len(prefs.THEMES) + 1, "every theme is someone's favourite"


def test_every_product_has_a_theme_and_non_products_have_none() -> None:
    tastes = gen.catalogue().tastes
    products = [p for p in gen.catalogue().products if p.fixed_quantity is None]
    assert set(tastes.theme_of) == {p.stock_code for p in products}
    assert not set(tastes.theme_of) & {"POST", "M", "D", "DOT"}
    assert prefs.product_theme("RED RETROSPOT LUNCH BOX") == "RETROSPOT"
    assert prefs.product_theme("WHITE METAL LANTERN") == prefs.DEFAULT_THEME
    assert min(Counter(tastes.theme_of.values()).values()) >= 5


def _generated_lines(tmp_path: Path, seed: int) -> list[dict]:
    config = gen.GenerateConfig(start=datetime(2026, 11, 1, tzinfo=UTC), hours=6, events_per_hour=1500, seed=seed)
    gen.generate(config, str(tmp_path / f"raw{seed}"))
    lines = []
    for path in sorted((tmp_path / f"raw{seed}").rglob("*.gz")):
        text = gzip.decompress(path.read_bytes()).decode()
        decoder, i = json.JSONDecoder(), 0  # concatenated framing: records with no separator
        while i < len(text):
            record, i = decoder.raw_decode(text, i)
            lines.append(record)
    return lines


def test_generated_baskets_follow_the_customers_tastes(tmp_path: Path) -> None:
    lines = _generated_lines(tmp_path, seed=5)
    theme_of = gen.catalogue().tastes.theme_of
    known = [r for r in lines if r["customer_id"] and r["stock_code"] in theme_of]
    guests = [r for r in lines if not r["customer_id"] and r["stock_code"] in theme_of]
    in_taste = sum(theme_of[r["stock_code"]] in prefs.customer_tastes(r["customer_id"]) for r in known) / len(known)
    # a guest's line matches two random themes about 2/18 of the time; a customer's most of the time
    assert in_taste > 0.55
    theme_share = Counter(theme_of[r["stock_code"]] for r in guests)
    assert max(theme_share.values()) / len(guests) < 0.3, "guests shop the global mix"
    # November: CHRISTMAS baskets for everyone on top of their tastes
    christmas = sum(theme_of[r["stock_code"]] == "CHRISTMAS" for r in known) / len(known)
    assert christmas > 0.15


def test_same_seed_same_history_and_the_season_moves_baskets() -> None:
    start = datetime(2026, 7, 1, tzinfo=UTC)
    a = histories.simulate_order_lines(seed=1, customers=200, lines=5000, start=start, days=30)
    b = histories.simulate_order_lines(seed=1, customers=200, lines=5000, start=start, days=30)
    assert a == b
    c = histories.simulate_order_lines(seed=2, customers=200, lines=5000, start=start, days=30)
    assert a["stock_code"] != c["stock_code"]
    theme_of = gen.catalogue().tastes.theme_of
    july = Counter(theme_of.get(code) for code in a["stock_code"])
    december = Counter(
        theme_of.get(code)
        for code in histories.simulate_order_lines(
            seed=1, customers=200, lines=5000, start=datetime(2026, 12, 1, tzinfo=UTC), days=30
        )["stock_code"]
    )
    assert july["STRAWBERRY"] > 2 * december["STRAWBERRY"]
    assert december["CHRISTMAS"] > 2 * july["CHRISTMAS"]
    assert any(q < 0 for q in a["quantity"]) and None in a["customer_id"], "cancellations and guests included"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--as_of", "yesterday"], "--as_of 'yesterday' is not a date"),
        (["--as_of", "2026-11-02", "--seed", "x"], "--seed 'x' is not a valid int"),
        (["--as_of", "2026-11-02", "--holdout_days", "400"], "holdout_days < lookback_days"),
        (["--as_of", "2026-11-02", "--min_lift", "-1"], "min_lift must be >= 0"),
    ],
)
def test_bad_job_arguments_exit_2_without_spark(argv, message, capsys) -> None:
    assert recommend_products.main(argv) == 2
    assert message in capsys.readouterr().err
