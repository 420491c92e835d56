"""`lakehouse unlock --hour H`: remove an arrival hour's claim left by a writer that died.

A run claims its hour while it writes (`lakehouse_core.hour_claims`) and releases it at the end; a
run killed before its release (a lost worker, `kill -9`) leaves the claim, and other runs of the
hour are refused until it expires (3 h, the DAG's run timeout). Check first that the named
owner is really gone (the Airflow UI, `ps`), then unlock. Exit 0: removed or nothing to remove.
"""

from __future__ import annotations

import argparse

from lakehouse.console import arg_hour, progress
from lakehouse_core.settings import load_settings


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "unlock",
        help="remove an arrival hour's claim (one writer per hour) that a dead run left behind",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    p.add_argument("--hour", required=True, type=arg_hour, help="UTC arrival hour, e.g. 2026-11-01T08")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lakehouse_core import hour_claims

    removed = hour_claims.remove(load_settings(), args.hour)
    if removed is None:
        progress(f"unlock: arrival hour {args.hour:%Y-%m-%dT%H} has no claim")
    else:
        progress(f"unlock: removed the claim of {removed.owner} ({removed.where}, since {removed.claimed_at:%H:%M:%S})")
    return 0
