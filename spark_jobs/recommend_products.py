"""Spark job: train and publish product recommendations (`gold.product_recommendations`,
`gold.similar_products`), measured against popularity and co-purchase baselines.

Arguments (the same on Glue, EMR Serverless and local spark-submit): the catalog ones every job
takes, `--as_of YYYY-MM-DD` (train on silver purchases strictly before that UTC day; the DAG
passes its data interval's end), `--holdout_days`, `--lookback_days`, `--seed` and the ALS
parameters, `--top_k`, `--similar_k`, `--min_lift` (how far above popularity's precision@k the
model must be), `--run_id`. See `spark_jobs.recommend.job` for what a run does.

Exit codes: 0 published; 1 refused by the quality check (the previous tables stay; on Glue and
EMR a marked error, so the operators do not retry a verdict); 2 bad arguments or an engine error.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date

from spark_jobs.entry import Answer, CatalogArgs, run_job
from spark_jobs.jobargs import CATALOG_ARGS, JobArg

APP_NAME = "lakehouse-recommend-products"
SPECS = (
    *CATALOG_ARGS,
    JobArg("as_of", "train on purchases strictly before this UTC day (YYYY-MM-DD)"),
    JobArg("run_id", "run id recorded in audit.recommendation_runs", ""),
    JobArg("holdout_days", "evaluate on the last N days before --as_of", "7"),
    JobArg("lookback_days", "train on at most this many days before --as_of", "365"),
    JobArg("top_k", "recommendations per customer (and the k of the metrics)", "10"),
    JobArg("similar_k", "similar products per product", "10"),
    JobArg("min_lift", "required relative margin of precision@k over popularity (0.1 = 10%%)", "0"),
    JobArg("min_co_invoices", "affinity baseline: shared invoices a pair needs (as dbt's var)", "2"),
    JobArg("seed", "ALS seed", "42"),
    JobArg("rank", "ALS latent factors", "16"),
    JobArg("max_iter", "ALS iterations", "10"),
    JobArg("reg_param", "ALS regularisation", "0.5"),
    JobArg("alpha", "ALS implicit confidence scale", "5"),
)


def params_from_args(args: dict[str, str]):  # -> spark_jobs.recommend.job.RunParams
    """The run's parameters; ValueError with the argument's name when one is malformed."""
    from spark_jobs.recommend.job import RunParams
    from spark_jobs.recommend.models import AlsParams

    def number(name: str, kind):
        try:
            return kind(args[name])
        except ValueError:
            raise ValueError(f"--{name} {args[name]!r} is not a valid {kind.__name__}") from None

    try:
        as_of = date.fromisoformat(args["as_of"].strip()[:10])
    except ValueError:
        raise ValueError(f"--as_of {args['as_of']!r} is not a date (YYYY-MM-DD)") from None
    als = AlsParams(
        rank=number("rank", int),
        max_iter=number("max_iter", int),
        reg_param=number("reg_param", float),
        alpha=number("alpha", float),
        seed=number("seed", int),
    )
    return RunParams(
        as_of=as_of,
        run_id=args["run_id"] or f"recommend_{as_of:%Y%m%d}",
        holdout_days=number("holdout_days", int),
        lookback_days=number("lookback_days", int),
        top_k=number("top_k", int),
        similar_k=number("similar_k", int),
        min_lift=number("min_lift", float),
        min_co_invoices=number("min_co_invoices", int),
        als=als,
    )


def recommend(spark, params, catalog: CatalogArgs) -> Answer:
    from spark_jobs.recommend.job import run

    result = run(spark, catalog.tables, params, progress=lambda m: print(m, flush=True))
    reason = f"recommendations for {params.as_of} refused: {'; '.join(result.reasons)}"
    return Answer(ok=result.published, text=result.summary(), reason=reason)


def main(argv: Sequence[str] | None = None, spark=None) -> int:
    """Parse, run, report. `spark`: an existing session (tests); else one is built."""
    return run_job(
        "recommend_products", SPECS, argv, params_from_args, recommend, app_name=APP_NAME, spark=spark,
        failure="the run could not complete; the published tables are unchanged",
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
