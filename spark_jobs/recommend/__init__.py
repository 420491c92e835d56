"""Product recommendations: implicit-feedback ALS on silver's purchases, measured against baselines.

Modules, in the order a run uses them:

- `lines`: which silver rows are purchases (the dbt marts' rule: sales of products by known
  customers; cancellations, stock write-offs and non-product codes left out);
- `models`: interactions, ALS (Spark MLlib, implicit), the popularity and co-purchase affinity
  baselines, item-to-item similar products;
- `evaluate`: the time-based holdout and precision@k, recall@k, coverage;
- `checks`: the quality check a run must pass before it may publish;
- `job`: one run end to end (train, evaluate, check, publish or refuse, audit).

Everything but `job` is a pure function of DataFrames (or numpy arrays), testable alone.
"""
