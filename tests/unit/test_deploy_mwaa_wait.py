"""`lakehouse deploy` waits (bounded) while MWAA is busy before it calls UpdateEnvironment.

MWAA answers UpdateEnvironment with a ValidationException while the environment is CREATING or
UPDATING (an update takes 20-30 minutes), so a deploy made during one used to fail half-way. The
client is a real boto3 MWAA client answered by botocore's Stubber (moto's MWAA keeps every
environment AVAILABLE, so it cannot show a status that changes); the wait's sleep is counted,
not slept.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from lakehouse.aws import deploy

pytestmark = pytest.mark.unit
NAME = "lakehouse-dev"


def mwaa_answering(*statuses: str):
    client = boto3.client("mwaa", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    for status in statuses:
        stub.add_response("get_environment", {"Environment": {"Name": NAME, "Status": status}}, {"Name": NAME})
    return client, stub


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(deploy, "sleep", slept.append)
    return slept


def test_an_update_under_way_is_waited_for(sleeps) -> None:
    client, stub = mwaa_answering("UPDATING", "UPDATING", "AVAILABLE")
    with stub:
        assert deploy.wait_for_mwaa(client, NAME) == "AVAILABLE"
        stub.assert_no_pending_responses()
    assert sleeps == [deploy.MWAA_POLL_SECONDS] * 2


def test_an_available_environment_is_not_waited_for(sleeps) -> None:
    client, stub = mwaa_answering("AVAILABLE")
    with stub:
        deploy.wait_for_mwaa(client, NAME)
    assert sleeps == []


def test_the_wait_is_bounded_and_says_what_to_do(sleeps, monkeypatch) -> None:
    monkeypatch.setattr(deploy, "MWAA_WAIT_POLLS", 3)
    client, stub = mwaa_answering(*["CREATING"] * 4)
    with stub, pytest.raises(deploy.DeployError, match=r"still CREATING after 1 minutes.*run `lakehouse deploy` again"):
        deploy.wait_for_mwaa(client, NAME)
    assert len(sleeps) == 3


def test_an_environment_being_deleted_is_not_updated(sleeps) -> None:
    client, stub = mwaa_answering("DELETING")
    with stub, pytest.raises(deploy.DeployError, match="DELETING: it cannot be updated"):
        deploy.wait_for_mwaa(client, NAME)
