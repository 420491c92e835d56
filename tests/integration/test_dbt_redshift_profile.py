"""The `redshift` target of dbt/profiles.yml, rendered by dbt itself for Serverless and provisioned.

dbt-redshift guesses Serverless from the host name unless told, and an empty `cluster_id` is
not "no cluster": both must come out explicit from the variables startup.sh exports.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from lakehouse_core.settings import REPO_ROOT

pytestmark = pytest.mark.integration
DBT_PYTHON = REPO_ROOT / ".venv-dbt" / "bin" / "python"
RENDER = """
import json, os
from argparse import Namespace
from dbt.flags import set_from_args
from dbt_common.context import set_invocation_context
set_from_args(Namespace(), None)
set_invocation_context(os.environ)
from dbt.config.profile import Profile, read_profile
from dbt.config.renderer import ProfileRenderer
profile = Profile.from_raw_profiles(read_profile("dbt"), "lakehouse", ProfileRenderer({}), target_override="redshift")
c = profile.credentials
print(json.dumps({"cluster_id": c.cluster_id, "is_serverless": c.is_serverless,
                  "serverless_work_group": c.serverless_work_group, "method": c.method, "host": c.host}))
"""


def render(extra: dict[str, str]) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_")}
    env |= {"DBT_REDSHIFT_METHOD": "iam", **extra}
    done = subprocess.run([str(DBT_PYTHON), "-c", RENDER], env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_serverless_is_explicit_and_has_no_cluster_id() -> None:
    # A custom domain: nothing in the host says "serverless"
    creds = render({"DBT_REDSHIFT_HOST": "warehouse.example.com", "DBT_REDSHIFT_SERVERLESS_WORKGROUP": "lakehouse-dev"})
    assert creds == {
        "cluster_id": None,
        "is_serverless": True,
        "serverless_work_group": "lakehouse-dev",
        "method": "iam",
        "host": "warehouse.example.com",
    }


def test_provisioned_cluster_is_not_taken_for_serverless() -> None:
    creds = render({"DBT_REDSHIFT_HOST": "c1.abc.eu-west-1.redshift.amazonaws.com", "DBT_REDSHIFT_CLUSTER_ID": "c1"})
    assert (creds["cluster_id"], creds["is_serverless"], creds["serverless_work_group"]) == ("c1", False, None)
