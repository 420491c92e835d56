"""`docker/base-image.sh` says which path it takes and why before it takes it (issue 30).

Without a Docker engine in this lane, `docker` and `debootstrap` are small stand-ins on PATH that
record their arguments and fail (so nothing is pulled or built); the registry is real HTTP on
127.0.0.1 (a server that answers 401, as a registry's /v2/ does without a token) or a port
nobody listens on. What is under test is the script's decision and what it prints.
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakehouse_core.settings import REPO_ROOT

pytestmark = pytest.mark.unit

SCRIPT = REPO_ROOT / "docker" / "base-image.sh"
FAKE_DOCKER = """#!/bin/sh
echo "$*" >> "$DOCKER_LOG"
case "$1 $2" in
  "image inspect") [ -n "$IMAGE_PRESENT" ] && exit 0; exit 1 ;;
  "info "*) exit 0 ;;
esac
exit 1
"""


@pytest.fixture
def stand_ins(tmp_path: Path) -> tuple[dict[str, str], Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "debootstrap").write_text("#!/bin/sh\necho debootstrap stand-in: not building\nexit 1\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    log = tmp_path / "docker.log"
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update({"PATH": f"{bin_dir}:{env['PATH']}", "DOCKER_LOG": str(log), "PROBE_SECONDS": "3"})
    return env, log


@pytest.fixture
def registry() -> Iterator[str]:
    """An HTTP server on 127.0.0.1 that answers /v2/ with 401, as Docker Hub does."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(401)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v2/"
    server.shutdown()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v2/"


def run(env: dict[str, str], **extra: str) -> list[str]:
    done = subprocess.run(
        ["bash", str(SCRIPT)], env={**env, **extra}, capture_output=True, text=True, timeout=120, check=False
    )
    return [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("base-image:")]


def test_no_registry_says_so_and_never_tries_a_pull(stand_ins) -> None:
    env, log = stand_ins
    url = closed_port_url()
    lines = run(env, REGISTRY_URL=url)
    assert lines[0] == (
        f"base-image: no registry reachable ({url} gave no answer within 3 s): "
        "building debian:bookworm-slim with debootstrap --variant=minbase bookworm from http://deb.debian.org/debian"
    )
    assert not [call for call in log.read_text().splitlines() if call.startswith("pull")]


def test_a_registry_that_answers_is_named_before_the_pull(stand_ins, registry: str) -> None:
    env, log = stand_ins
    lines = run(env, REGISTRY_URL=registry)
    assert lines[0].startswith(f"base-image: registry {registry} answers: pulling debian@sha256:")
    assert lines[1].startswith(f"base-image: the pull failed although {registry} answered: building debian:")
    pulls = [call for call in log.read_text().splitlines() if call.startswith("pull")]
    assert len(pulls) == 1 and "debian@sha256:" in pulls[0]  # by digest, as pinned


def test_an_image_already_here_is_all_it_says(stand_ins) -> None:
    env, log = stand_ins
    assert run(env, IMAGE_PRESENT="1", REGISTRY_URL=closed_port_url()) == [
        "base-image: debian:bookworm-slim is present; nothing to do"
    ]
    assert log.read_text().splitlines() == ["image inspect debian:bookworm-slim"]
