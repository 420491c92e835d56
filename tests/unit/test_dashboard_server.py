"""`lakehouse dashboard --serve` answers with the dashboard file and nothing else (a real server on 127.0.0.1)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakehouse.commands.dashboard import make_server

pytestmark = pytest.mark.unit


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    page = tmp_path / "dashboard.html"
    page.write_text("<html>orders</html>")
    (tmp_path / "secret.txt").write_text("not for the browser")
    (tmp_path / "sub").mkdir()
    server = make_server(page, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", page
    finally:
        server.shutdown()
        server.server_close()


def status(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def test_the_server_serves_exactly_the_dashboard_file(served: tuple[str, Path]) -> None:
    base, page = served
    assert status(f"{base}/dashboard.html") == (200, b"<html>orders</html>")
    assert status(f"{base}/") == (200, b"<html>orders</html>")
    for other in ("/secret.txt", "/sub/", "/sub", "/../secret.txt", "/dashboard.html/../secret.txt", "/%2e%2e/"):
        assert status(base + other)[0] == 404, other
    page.write_text("<html>rebuilt</html>")  # read per request: a rebuilt page shows on reload
    assert status(f"{base}/dashboard.html") == (200, b"<html>rebuilt</html>")
