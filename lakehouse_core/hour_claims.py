"""One writer per arrival hour: a claim an hour's run takes before it lists the hour and holds
until it has published, so two runs of one hour never interleave their writes.

Why: `max_active_runs=1` serializes the scheduler's runs, but not a backfill beside them, nor
`lakehouse run-hour` / `lakehouse ingest` beside `lakehouse airflow`. Two runs of one hour would
each replace the hour's bronze and quarantine (the last writer wins, whatever its manifest saw)
and race to publish. An Airflow pool covers neither the CLI nor the span of several tasks
(ingest, gate, publish), so the guard lives where every writer passes: the claim is an object
beside the manifests, created atomically, naming its owner:

- locally, a file created with `O_CREAT | O_EXCL` (`<home>/locks/orders/<YYYYMMDDHH>.json`);
- on S3, an object written with `If-None-Match: *` (S3's conditional write: exactly one of two
  concurrent creators succeeds), `<raw root>/_locks/orders/<YYYYMMDDHH>.json`. An expired claim
  is taken over with `If-Match: <its ETag>`, so two takers cannot both win.

The owner is the Airflow run (`<dag id>/<run id>`: a retry of the run's task re-enters its own
claim) or a CLI process. A second run of the hour is refused with `HourBusy`, which names the
holder; in the DAG the plan task's retries (2, 4, 8 minutes) make that a wait. The claim expires
after `CLAIM_TTL` (the DAG's `dagrun_timeout`: no run of the hour can still be writing), so a
writer killed before its release blocks the hour for at most that long; `lakehouse unlock`
removes it at once. The DAG releases in a teardown task after publish, which runs whether the
run succeeded, failed or skipped its Spark steps.

Standard library at import (DAG parse time); boto3 only when the raw zone is on S3.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lakehouse_core.settings import Settings

TABLE_PREFIX = "orders"
CLAIM_TTL = timedelta(hours=3)  # = orders_lakehouse's dagrun_timeout


class HourBusy(RuntimeError):
    """Another run holds the arrival hour; the message names it and says what to do."""


@dataclass(frozen=True)
class Claim:
    hour: datetime
    owner: str
    claimed_at: datetime
    expires_at: datetime
    where: str = ""  # host and pid of the process that took it

    @property
    def expired(self) -> bool:
        return datetime.now(UTC) >= self.expires_at

    def body(self) -> bytes:
        return json.dumps(
            {
                "arrival_hour": f"{self.hour:%Y-%m-%dT%H:%M:%SZ}",
                "owner": self.owner,
                "claimed_at": self.claimed_at.isoformat(),
                "expires_at": self.expires_at.isoformat(),
                "where": self.where,
            }
        ).encode()

    @classmethod
    def parse(cls, hour: datetime, data: bytes) -> Claim:
        raw = json.loads(data)
        return cls(
            hour,
            raw["owner"],
            datetime.fromisoformat(raw["claimed_at"]),
            datetime.fromisoformat(raw["expires_at"]),
            raw.get("where", ""),
        )


def claim_uri(settings: Settings, hour: datetime) -> str:
    name = f"{hour.astimezone(UTC):%Y%m%d%H}.json"
    root = settings.raw_root.rstrip("/")
    if root.startswith("s3://"):
        return f"{root}/_locks/{TABLE_PREFIX}/{name}"
    return str(settings.home / "locks" / TABLE_PREFIX / name)


def acquire(settings: Settings, hour: datetime, owner: str, ttl: timedelta = CLAIM_TTL) -> Claim:
    """Claim the hour for `owner` (again, if it holds it already); `HourBusy` if another run holds it."""
    now = datetime.now(UTC)
    mine = Claim(hour, owner, now, now + ttl, f"{socket.gethostname()} pid {os.getpid()}")
    store = _store(settings, hour)
    held, tag = store.create(mine.body())
    if held is None:
        return mine
    current = Claim.parse(hour, held)
    if current.owner == owner:
        return current
    if current.expired and store.replace(mine.body(), tag):
        return mine
    raise HourBusy(
        f"arrival hour {hour:%Y-%m-%dT%H}:00 is being written by {current.owner} ({current.where}) since "
        f"{current.claimed_at:%Y-%m-%d %H:%M:%S} UTC; its claim {store.uri} expires at "
        f"{current.expires_at:%Y-%m-%d %H:%M:%S} UTC. Wait for that run to finish; if it is dead, "
        f"`lakehouse unlock --hour {hour:%Y-%m-%dT%H}` removes the claim."
    )


def try_acquire(settings: Settings, hour: datetime, owner: str) -> bool:
    """`acquire`, as a yes/no (for an earlier hour's stragglers: a busy hour waits for the next run)."""
    try:
        acquire(settings, hour, owner)
    except HourBusy:
        return False
    return True


def release(settings: Settings, hours: list[datetime], owner: str) -> list[datetime]:
    """Drop the owner's claims of these hours (another owner's claim stays); returns the hours released."""
    released = []
    for hour in hours:
        store = _store(settings, hour)
        held, _ = store.read()
        if held is not None and Claim.parse(hour, held).owner == owner:
            store.delete()
            released.append(hour)
    return released


def release_window(settings: Settings, hour: datetime, window_hours: int, owner: str) -> list[datetime]:
    """Release the owner's claims of `hour` and of the `window_hours` before it (where a run
    claims the hours whose stragglers it reads: `lakehouse_core.landing.land_hour`)."""
    return release(settings, [hour - timedelta(hours=n) for n in range(window_hours + 1)], owner)


def release_abandoned(settings: Settings, hour: datetime, window_hours: int, owner_prefix: str) -> list[datetime]:
    """Release claims whose owner starts with `owner_prefix` (`lakehouse run-hour` interrupted: its
    teardown never ran)."""
    released = []
    for earlier in [hour - timedelta(hours=n) for n in range(window_hours + 1)]:
        current = holder(settings, earlier)
        if current is not None and current.owner.startswith(owner_prefix):
            released += release(settings, [earlier], current.owner)
    return released


def run_owner(context: Any) -> str:
    """The owner name of an Airflow run's claims: `<dag id>/<run id>` (every task of the run agrees)."""
    ti = context["ti"]
    return f"{ti.dag_id}/{context['run_id']}"


def holder(settings: Settings, hour: datetime) -> Claim | None:
    held, _ = _store(settings, hour).read()
    return None if held is None else Claim.parse(hour, held)


def remove(settings: Settings, hour: datetime) -> Claim | None:
    """Remove the hour's claim whoever holds it (`lakehouse unlock`); returns what was removed."""
    current = holder(settings, hour)
    if current is not None:
        _store(settings, hour).delete()
    return current


# --- where a claim is kept ---------------------------------------------------------------


def _store(settings: Settings, hour: datetime) -> Any:
    uri = claim_uri(settings, hour)
    if uri.startswith("s3://"):
        return _S3Claim(uri, settings.s3_endpoint, settings.aws_region)
    return _FileClaim(uri)


@dataclass
class _FileClaim:
    uri: str

    def create(self, body: bytes) -> tuple[bytes | None, str]:
        """Create the claim; (None, "") on success, else (what is held, a tag for `replace`)."""
        path = Path(self.uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return self.read()
        with os.fdopen(fd, "wb") as out:
            out.write(body)
        return None, ""

    def read(self) -> tuple[bytes | None, str]:
        try:
            data = Path(self.uri).read_bytes()
        except FileNotFoundError:
            return None, ""
        return data, data.decode()

    def replace(self, body: bytes, tag: str) -> bool:
        _, now = self.read()
        if now != tag:  # someone else took it over meanwhile
            return False
        tmp = Path(f"{self.uri}.{os.getpid()}.tmp")
        tmp.write_bytes(body)
        os.replace(tmp, self.uri)
        return True

    def delete(self) -> None:
        Path(self.uri).unlink(missing_ok=True)


@dataclass
class _S3Claim:
    uri: str
    endpoint: str
    region: str

    def _client(self) -> Any:
        import boto3

        from spark_jobs import objectstore

        endpoint = objectstore.s3_endpoint(self.endpoint)
        return boto3.client("s3", region_name=self.region, endpoint_url=endpoint or None)

    def _where(self) -> tuple[str, str]:
        bucket, _, key = self.uri.removeprefix("s3://").partition("/")
        return bucket, key

    def create(self, body: bytes) -> tuple[bytes | None, str]:
        from botocore.exceptions import ClientError

        bucket, key = self._where()
        try:
            self._client().put_object(
                Bucket=bucket, Key=key, Body=body, IfNoneMatch="*", ContentType="application/json"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise
            return self.read()
        return None, ""

    def read(self) -> tuple[bytes | None, str]:
        from botocore.exceptions import ClientError

        bucket, key = self._where()
        try:
            found = self._client().get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None, ""
            raise
        return found["Body"].read(), found["ETag"]

    def replace(self, body: bytes, tag: str) -> bool:
        from botocore.exceptions import ClientError

        bucket, key = self._where()
        try:
            self._client().put_object(Bucket=bucket, Key=key, Body=body, IfMatch=tag, ContentType="application/json")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise
        return True

    def delete(self) -> None:
        bucket, key = self._where()
        self._client().delete_object(Bucket=bucket, Key=key)
