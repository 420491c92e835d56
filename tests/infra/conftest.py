"""Fixtures of the Terraform lane: the terraform binary, its CLI configuration, a scratch copy of
the stack, and moto's server with the AWS provider pointed at it.

Terraform runs on a copy of `infra/` and `deploy/` in a temporary folder, so state, plans and
provider links never land in the working tree and the lane can run beside a developer's own
`terraform init`. The AWS provider reaches moto through an override file (`moto_override.tf`)
written into the copy only: the committed root has no emulator knobs.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra" / "terraform"
ENV_DIR = Path("infra") / "terraform" / "envs" / "dev"

# Every AWS service the dev root talks to, pointed at moto (MWAA and Redshift Serverless are only
# planned: their create calls never happen because enable_mwaa/enable_redshift are false).
EMULATED_ENDPOINTS = (
    "athena", "cloudwatch", "ec2", "ecr", "emrserverless", "firehose", "glue", "iam", "kms", "logs", "mwaa",
    "redshiftserverless", "s3", "secretsmanager", "sns", "sts",
)  # fmt: skip


def terraform_binary() -> str | None:
    """`terraform` on PATH, else the pinned one the tool environment carries (make tf-tools)."""
    found = shutil.which("terraform")
    if found:
        return found
    shim = REPO / ".venv-tools" / "bin" / "terraform"
    return str(shim) if shim.exists() else None


def provider_mirror_configured(rc: Path) -> bool:
    return "filesystem_mirror" in rc.read_text()


@dataclass
class Terraform:
    """Runs terraform in one working folder with the repository's CLI configuration."""

    binary: str
    workdir: Path
    env: dict[str, str]

    def run(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [self.binary, *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"terraform {' '.join(args)} exited {proc.returncode}\n--- stdout\n{proc.stdout[-6000:]}"
                f"\n--- stderr\n{proc.stderr[-6000:]}"
            )
        return proc

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args).stdout)


@pytest.fixture(scope="session")
def terraform_cli(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    """The terraform binary and an environment whose TF_CLI_CONFIG_FILE is the generated config."""
    binary = terraform_binary()
    if binary is None:
        pytest.skip("terraform is not installed: `make tf-tools` installs a pinned one (.ci/run does)")
    rc = tmp_path_factory.mktemp("tfcli") / "terraformrc"
    subprocess.run(["bash", str(INFRA / "bin" / "cli-config.sh"), str(rc)], check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    env.update(TF_CLI_CONFIG_FILE=str(rc), TF_IN_AUTOMATION="1", TF_INPUT="0", CHECKPOINT_DISABLE="1")
    # Never a real account: no profile, no shared credentials, only the override's test keys.
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    env["TF_CLI_ARGS"] = "-no-color"
    if not provider_mirror_configured(rc):
        pytest.skip(
            "no local mirror of the hashicorp/aws provider (TF_PLUGIN_MIRROR, /opt/tf-plugins) and "
            "registry.terraform.io is unreachable from this machine"
        )
    return binary, env


def copy_stack(dest: Path) -> Path:
    """Copy infra/terraform (no .terraform, no state) and deploy/ to dest; return the env folder.

    The committed provider lock file comes along: every `init` checks the provider it installs
    against its hashes.
    """
    ignore = shutil.ignore_patterns(".terraform", "*.tfstate*", ".terraformrc")
    shutil.copytree(INFRA, dest / "infra" / "terraform", ignore=ignore)
    shutil.copytree(REPO / "deploy", dest / "deploy", ignore=shutil.ignore_patterns("*.outputs.json"))
    return dest / ENV_DIR


def moto_override(endpoint: str) -> str:
    lines = "\n".join(f'    {name:<18} = "{endpoint}"' for name in EMULATED_ENDPOINTS)
    return f"""provider "aws" {{
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  endpoints {{
{lines}
  }}
}}
"""


@contextmanager
def moto_fidelity_fixes() -> Iterator[None]:
    """Correct three places where moto's emulation differs from AWS's documented behaviour, so that
    a plan after apply compares the stack with what AWS would return (each named; none touches our
    own configuration), and undo them afterwards (other tests share this process under xdist):

    - EMR Serverless: CreateApplication leaves an application CREATED (it starts on the first job
      run or StartApplication); moto reports STARTED at once, which the provider's create waiter
      rejects.
    - EMR Serverless: AWS reports an application's architecture (X86_64 unless chosen); moto
      leaves it out, so the provider would plan to set it forever.
    - EC2 security group rules: AWS keeps the description of a rule that references a security
      group or a prefix list; moto keeps it only for CIDR rules, so every such rule would show a
      description change forever.
    """
    import moto.emrserverless.models as emr
    from moto.ec2.models import security_groups as sg

    rule_cls, app_cls = sg.SecurityGroupRule, emr.Application
    saved = (emr.APPLICATION_STATUS, app_cls.__init__, rule_cls.__init__, rule_cls.__dict__["description"])
    original_app_init, original_rule_init = saved[1], saved[2]

    def app_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_app_init(self, *args, **kwargs)
        self.architecture = "X86_64"

    def rule_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_rule_init(self, *args, **kwargs)
        names = ("ip_range", "source_group", "prefix_list_id")
        given = dict(zip(names, args[5:8], strict=False)) | {k: kwargs[k] for k in names if k in kwargs}
        self._description = next(
            (d.get("Description") for d in given.values() if isinstance(d, dict) and d.get("Description")), None
        )

    emr.APPLICATION_STATUS = "CREATED"
    app_cls.__init__ = app_init
    rule_cls.__init__ = rule_init
    rule_cls.description = property(lambda self: getattr(self, "_description", None))
    try:
        yield
    finally:
        emr.APPLICATION_STATUS, app_cls.__init__, rule_cls.__init__, rule_cls.description = saved


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """moto's real HTTP server on 127.0.0.1 (a free port), in this process."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    with moto_fidelity_fixes():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
        server.stop()
