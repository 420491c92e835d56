"""The local Airflow's admin login: random per Airflow home, mode 600, never admin/admin.

The login file is the one Airflow's simple auth manager reads (tests/e2e/test_airflow_standalone.py
shows the server refusing admin/admin and accepting the kept password). Here: what `lakehouse
airflow` writes, keeps and replaces, and that a non-loopback bind is refused before anything starts.
"""

from __future__ import annotations

import argparse
import json
import stat
from pathlib import Path

import pytest

from lakehouse.commands import airflow as airflow_cmd
from lakehouse.runtime import local_airflow
from lakehouse_core.settings import load_settings

pytestmark = pytest.mark.unit


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    base = {"LAKEHOUSE_HOME": str(tmp_path / "lake"), **extra}
    return local_airflow.airflow_env(load_settings(base), base=base)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_home_gets_a_random_password_readable_by_its_owner_only(tmp_path: Path) -> None:
    first = local_airflow.write_login(_env(tmp_path))
    assert first.created and first.password not in ("", "admin") and len(first.password) >= 20
    assert _mode(first.path) == 0o600
    assert json.loads(first.path.read_text()) == {"admin": first.password}
    again = local_airflow.write_login(_env(tmp_path))
    assert (again.password, again.created) == (first.password, False)  # kept: printed once only
    other = local_airflow.write_login(_env(tmp_path / "other"))
    assert other.password != first.password  # per home


def test_the_old_admin_admin_file_is_replaced(tmp_path: Path) -> None:
    env = _env(tmp_path)
    path = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"admin": "admin"}))  # what earlier versions wrote, world-readable
    path.chmod(0o644)
    login = local_airflow.write_login(env)
    assert login.created and login.password != "admin"
    assert local_airflow.read_password(path) == login.password and _mode(path) == 0o600


def test_the_users_own_password_is_used(tmp_path: Path) -> None:
    env = _env(tmp_path)
    login = local_airflow.write_login(env, "a-long-own-secret")
    assert (login.password, login.created) == ("a-long-own-secret", False)
    assert local_airflow.read_password(login.path) == "a-long-own-secret" and _mode(login.path) == 0o600


@pytest.mark.parametrize("password", ["", "admin"])
def test_a_network_bind_without_an_own_password_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], password: str
) -> None:
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "lake"))
    monkeypatch.setenv("LAKEHOUSE_AIRFLOW_HOST", "0.0.0.0")
    monkeypatch.setenv("LAKEHOUSE_AIRFLOW_PASSWORD", password)
    assert airflow_cmd.run_standalone(argparse.Namespace(port=8099)) == 2
    assert "LAKEHOUSE_AIRFLOW_PASSWORD" in capsys.readouterr().err
    assert not (tmp_path / "lake" / "airflow" / local_airflow.PASSWORDS_FILE).exists()  # nothing started
