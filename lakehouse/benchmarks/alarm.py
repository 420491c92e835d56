"""`lakehouse bench-alarm`: how well the transaction-rate alarm catches what the simulator injected.

Why: an alarm's thresholds are a trade between missed outages and pages for nothing; the only
honest way to set them is to count both against known truth. This measures, on histories the
simulator makes with its retail daily/weekly shape (`--shape retail`):

1. *with anomalies*: `HISTORIES` runs of `DAYS` days, each with `ANOMALIES_PER_KIND` outages (about 5%
   of the hour's volume), spikes (about 4x) and silent hours (no object), at random hours after
   the first week (the model's minimum history);
2. *clean*: `CLEAN_HISTORIES` runs of the same length without anomalies.

Each history is generated (`lakehouse.generate`, newline framing), read into a DuckDB file's
`silver.order_lines` with DuckDB's JSON reader (the arrival hour from the object's prefix, as
the ingest does), and the real dbt models (`+agg_hourly_order_rate`) are built on it with the
settings' thresholds. No Spark: the alarm reads silver, and silver of a fault-free history is
its records. The model's `alarm_kind` is then compared with the ground truth: an outage is caught
by `drop` or `zero`, a silent hour by `zero` (or `drop`), a spike by `spike`; any alarm on
another hour is false. A sweep re-applies the model's rule to its own scores for other
thresholds (no rebuild), which is how the defaults were chosen. The section in
docs/benchmarks.md is rewritten (unless --no-docs).

The helpers (`history`, `load_silver`, `build_rate_model`) also make the integration test's
warehouse (tests/integration/test_rate_alarm.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lakehouse_core.settings import Settings, load_settings

HEADING = "## Transaction-rate alarm"
HOUR_PREFIX = r"orders/(\d{4}/\d{2}/\d{2}/\d{2})/"  # the arrival hour in an object's key
START = datetime(2026, 10, 5, tzinfo=UTC)  # a Monday
DAYS = 28
EVENTS_PER_HOUR = 300  # order lines an average hour (about 55 orders); the night has about a tenth
HISTORIES = 3
CLEAN_HISTORIES = 2
ANOMALIES_PER_KIND = 4
SWEEP = (3.0, 3.5, 4.0, 4.5, 5.0, 6.0)
CAUGHT_BY = {"outage": ("drop", "zero"), "silent": ("zero", "drop"), "spike": ("spike",)}


def place_anomalies(seed: int, start: datetime, days: int, per_kind: int, skip_days: int = 8):
    """`per_kind` hours of each kind, at random after `skip_days` (the model's history), 3+ hours apart."""
    from lakehouse.generate.volume import ANOMALY_KINDS, Anomaly

    rng = random.Random(f"bench-alarm:{seed}")
    hours: list[datetime] = []
    while len(hours) < per_kind * len(ANOMALY_KINDS):
        hour = start + timedelta(hours=rng.randrange(skip_days * 24, days * 24))
        if all(abs((hour - h).total_seconds()) >= 3 * 3600 for h in hours):
            hours.append(hour)
    kinds = [kind for kind in ANOMALY_KINDS for _ in range(per_kind)]
    return tuple(sorted((Anomaly(h, k) for h, k in zip(hours, kinds, strict=True)), key=lambda a: a.hour))


def history(out: Path, seed: int, anomalies=(), days: int = DAYS, events_per_hour: int = EVENTS_PER_HOUR) -> dict:
    """Generate `days` of retail-shaped arrival hours under `out`; returns the ground truth."""
    from lakehouse.generate import GenerateConfig, generate

    config = GenerateConfig(
        start=START,
        hours=days * 24,
        events_per_hour=events_per_hour,
        seed=seed,
        framing="newline",
        shape="retail",
        anomalies=tuple(anomalies),
    )
    return generate(config, str(out))


def load_silver(settings: Settings, raw: Path) -> int:
    """The generated objects as `silver.order_lines` in the settings' DuckDB file (what ingest would publish
    for a fault-free history: one row per record, arrival hour from the prefix); returns the rows."""
    import duckdb

    from pipeline.warehouse import duckdb_path

    path = duckdb_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    from lakehouse.generate.config import EVENT_DUCKDB_TYPES as columns

    spec = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"
    with duckdb.connect(str(path)) as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute("create schema if not exists silver")
        con.execute(
            f"""
            create or replace table silver.order_lines as
            select
                {", ".join(columns)},
                starts_with(invoice_no, 'C') as is_cancellation,
                filename as source_object,
                cast(strptime(regexp_extract(filename, '{HOUR_PREFIX}', 1), '%Y/%m/%d/%H') as timestamptz)
                    as arrival_hour,
                'bench-alarm' as run_id,
                now() as ingested_at,
                cast(0 as bigint) as record_index
            from read_json('{raw}/orders/*/*/*/*/*.gz', format = 'newline_delimited', compression = 'gzip',
                           filename = true, columns = {spec})
            """
        )
        return con.execute("select count(*) from silver.order_lines").fetchone()[0]


def build_rate_model(settings: Settings, work: Path) -> int:
    """`dbt build` of agg_hourly_order_rate and what it reads (models and seeds; tests are the test suite's)."""
    from lakehouse.runtime.dbt_runner import run_dbt
    from pipeline.rate_alarm import dbt_vars

    args = ["build", "--select", "+agg_hourly_order_rate", "--resource-type", "model", "--resource-type", "seed"]
    args += ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    overrides = dbt_vars(settings)
    if overrides:
        import json

        args += ["--vars", json.dumps(overrides)]
    return run_dbt(settings, args)


def rate_rows(settings: Settings) -> list[dict[str, Any]]:
    from pipeline.warehouse import warehouse_for

    sql = "select * from marts.agg_hourly_order_rate where is_closed order by arrival_hour"
    return warehouse_for(settings).query(sql).dicts()


def lake_settings(home: Path) -> Settings:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "DBT_"))}
    keep = {
        k: v for k, v in os.environ.items() if k.startswith("LAKEHOUSE_RATE_ALARM_") or k == "LAKEHOUSE_DBT_EXECUTABLE"
    }
    return load_settings({**env, **keep, "LAKEHOUSE_ENV": "local", "LAKEHOUSE_HOME": str(home)})


def kind_at(row: dict[str, Any], drop: float, spike: float, settings: Settings) -> str | None:
    """The model's rule (agg_hourly_order_rate.sql `final`), re-applied to its score for a sweep."""
    if row["history_points"] < settings.rate_alarm_min_points:
        return None
    expected, observed, score = row["expected_order_count"] or 0, row["order_count"], row["order_score"]
    busy = expected >= settings.rate_alarm_zero_min_expected
    if observed == 0 and busy:
        return "zero"
    if score is None:
        return None
    if score <= -drop or (busy and observed <= settings.rate_alarm_drop_fraction * expected):
        return "drop"
    if score >= spike:
        return "spike"
    return None


@dataclass
class Tally:
    caught: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CAUGHT_BY, 0))
    injected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CAUGHT_BY, 0))
    true_alarms: int = 0
    false_alarms: int = 0
    clean_false_alarms: int = 0
    clean_hours_judged: int = 0
    missed: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)

    def precision(self) -> float:
        total = self.true_alarms + self.false_alarms
        return self.true_alarms / total if total else 1.0

    def recall(self, kind: str) -> float:
        return self.caught[kind] / self.injected[kind] if self.injected[kind] else 1.0

    def false_per_week(self) -> float:
        weeks = self.clean_hours_judged / (24 * 7)
        return self.clean_false_alarms / weeks if weeks else 0.0


def score_history(tally: Tally, rows, truth: dict, kinds) -> None:
    """Add one anomalous history's alarms (`kinds`: the alarm per row) to the tally."""
    injected = {
        datetime.fromisoformat(a["arrival_hour"].replace("Z", "+00:00")): a["kind"] for a in truth["rate"]["anomalies"]
    }
    for row, kind in zip(rows, kinds, strict=True):
        hour = row["arrival_hour"].replace(tzinfo=UTC)
        expected = injected.get(hour)
        if expected is not None:
            tally.injected[expected] += 1
            if kind in CAUGHT_BY[expected]:
                tally.caught[expected] += 1
                tally.true_alarms += 1
            else:
                tally.missed.append(f"{expected}@{hour:%Y-%m-%dT%H} ({kind or 'no alarm'}, score {row['order_score']})")
                if kind:
                    tally.false_alarms += 1
        elif kind:
            tally.false_alarms += 1
            tally.false.append(f"{kind}@{hour:%Y-%m-%dT%H}")


def score_clean(tally: Tally, rows, kinds, settings: Settings) -> None:
    for row, kind in zip(rows, kinds, strict=True):
        if row["history_points"] >= settings.rate_alarm_min_points:
            tally.clean_hours_judged += 1
            if kind:
                tally.clean_false_alarms += 1
                tally.false.append(f"clean {kind}@{row['arrival_hour']:%Y-%m-%dT%H}")


def measure(work: Path) -> dict[str, Any]:
    from lakehouse.console import progress

    anomalous, clean = [], []
    settings = None
    started = time.perf_counter()
    for index in range(HISTORIES + CLEAN_HISTORIES):
        seed = 100 + index
        is_clean = index >= HISTORIES
        anomalies = () if is_clean else place_anomalies(seed, START, DAYS, ANOMALIES_PER_KIND)
        home = work / f"history-{seed}"
        settings = lake_settings(home)
        progress(
            f"bench-alarm: history {index + 1}/{HISTORIES + CLEAN_HISTORIES} (seed {seed}, {len(anomalies)} anomalies)"
        )
        truth = history(home / "raw", seed, anomalies)
        lines = load_silver(settings, home / "raw")
        code = build_rate_model(settings, home / "dbt")
        if code != 0:
            raise RuntimeError(f"dbt build failed (exit {code}); logs in {home / 'dbt' / 'logs'}")
        rows = rate_rows(settings)
        (clean if is_clean else anomalous).append((rows, truth, lines))
    assert settings is not None
    sweep = {}
    for threshold in SWEEP:
        tally = Tally()
        for rows, truth, _ in anomalous:
            score_history(tally, rows, truth, [kind_at(r, threshold, threshold, settings) for r in rows])
        for rows, _, _ in clean:
            score_clean(tally, rows, [kind_at(r, threshold, threshold, settings) for r in rows], settings)
        sweep[threshold] = tally
    model = Tally()  # the model's own alarm_kind, at the settings' thresholds
    for rows, truth, _ in anomalous:
        score_history(model, rows, truth, [r["alarm_kind"] for r in rows])
    for rows, _, _ in clean:
        score_clean(model, rows, [r["alarm_kind"] for r in rows], settings)
    orders = [r["order_count"] for rows, _, _ in anomalous + clean for r in rows]
    return {
        "settings": settings,
        "model": model,
        "sweep": sweep,
        "lines": sum(lines for _, _, lines in anomalous + clean),
        "hours": len(orders),
        "mean_orders": sum(orders) / len(orders),
        "seconds": time.perf_counter() - started,
    }


def report(result: dict[str, Any]) -> str:
    from lakehouse.console import table

    s, model = result["settings"], result["model"]

    def row(name: str, t: Tally) -> tuple:
        return (
            name,
            f"{t.recall('outage'):.2f} ({t.caught['outage']}/{t.injected['outage']})",
            f"{t.recall('silent'):.2f} ({t.caught['silent']}/{t.injected['silent']})",
            f"{t.recall('spike'):.2f} ({t.caught['spike']}/{t.injected['spike']})",
            f"{t.precision():.2f} ({t.true_alarms}/{t.true_alarms + t.false_alarms})",
            f"{t.false_per_week():.2f} ({t.clean_false_alarms} in {t.clean_hours_judged / 168:.1f} wk)",
        )

    headers = (
        "thresholds",
        "recall outage",
        "recall silent",
        "recall spike",
        "precision",
        "false alarms / week (clean)",
    )
    rows = [row(f"model (drop {s.rate_alarm_drop_score:g}, spike {s.rate_alarm_spike_score:g})", model)]
    rows += [row(f"sweep {t:g}", tally) for t, tally in result["sweep"].items()]
    text = table(headers, rows)
    if model.missed:
        text += "\nmissed: " + "; ".join(model.missed)
    if model.false:
        text += "\nfalse alarms: " + "; ".join(model.false)
    return text


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench-alarm",
        help="precision/recall of the transaction-rate alarm on simulated histories with injected anomalies",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--no-docs", action="store_true", help="do not rewrite the alarm section of docs/benchmarks.md")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-alarm-") as tmp:
        try:
            result = measure(Path(tmp))
        except RuntimeError as exc:
            print(f"lakehouse bench-alarm: {exc}")
            return 1
    text = report(result)
    print(text)
    if not args.no_docs:
        from lakehouse.benchmarks.docs import replace_section

        s = result["settings"]
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        k = ANOMALIES_PER_KIND
        body = (
            f"{HEADING}\n\nMeasured by `lakehouse bench-alarm` (`make bench-alarm`) on {datetime.now(UTC):%Y-%m-%d} "
            f"({os.cpu_count()} cores, {platform.machine()}, load average {load}; {result['seconds']:.0f} s). "
            f"{HISTORIES} simulated histories of {DAYS} days with {k} outages (5% of the hour's volume), "
            f"{k} spikes (4x) and {k} silent hours (no object) each, at random hours after the first week, "
            f"and {CLEAN_HISTORIES} clean histories of {DAYS} days: {result['hours']:,} hours, "
            f"{result['lines']:,} order lines, {result['mean_orders']:.0f} orders in a mean hour (the simulator's "
            "`--shape retail`: a night at about a tenth of midday, a quiet Saturday, 8% day-to-day and Poisson "
            "hour-to-hour noise). Each history is generated, read into DuckDB as silver and built by the real dbt "
            "models (`+agg_hourly_order_rate`); the model's `alarm_kind` is compared with the ground truth. The sweep "
            "re-applies the model's rule to its scores at other thresholds (drop = spike).\n\n"
            f"Settings: window {s.rate_alarm_window_days} days, at least {s.rate_alarm_min_points} days of history, "
            f"hour-of-week baseline from {s.rate_alarm_week_min_points} points, `zero` when "
            f"{s.rate_alarm_zero_min_expected:g}+ orders are expected (and `drop` at {s.rate_alarm_drop_fraction:g} "
            "of them). Targets: recall 1.0 on outages and silent hours, precision >= 0.9, <= 1 false alarm a week "
            "on clean history.\n\n```\n" + text + "\n```\n"
        )
        replace_section(HEADING, body)
    return 0
