"""`lakehouse dashboard`: write the local dashboard page, and optionally serve it on 127.0.0.1.

The page (lakehouse/dashboard) is one HTML file with everything inlined, so it also opens
straight from disk; `--serve` is for machines where a browser runs elsewhere (an SSH tunnel to
127.0.0.1) or where file:// pages are blocked.

Exit codes: 0 the page is written and every chart has data; 1 written, but a chart is empty
(named); 2 the marts are missing (run `make demo` first) or bad usage; 130 interrupted while
building. Stopping the server with Ctrl-C ends with 0.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import time
import urllib.parse
from pathlib import Path

from lakehouse.console import progress
from lakehouse_core.settings import load_settings

DEFAULT_PORT = 8050


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "dashboard",
        help="write the local dashboard (one offline HTML file from the marts); --serve serves it on 127.0.0.1",
        description=(
            "Build the orders dashboard from the local marts (DuckDB; PostgreSQL in compose) and the audit tables: "
            "the same visuals as the QuickSight dashboard, in one self-contained HTML file (Apache ECharts inlined, "
            "no network). Exit 1 when a chart has no data, 2 when there are no marts yet (run `make demo`)."
        ),
    )
    p.add_argument("--out", type=Path, help="where to write it (default: <LAKEHOUSE_HOME>/reports/dashboard.html)")
    p.add_argument("--serve", action="store_true", help="then serve it on http://127.0.0.1:PORT until Ctrl-C")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port for --serve (default {DEFAULT_PORT}; 0: any)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lakehouse.dashboard import build
    from lakehouse.dashboard.data import WarehouseMissingError

    settings = load_settings()
    progress("dashboard: reading the marts and the audit tables")
    started = time.perf_counter()
    try:
        built = build(settings, args.out.resolve() if args.out else None)
    except WarehouseMissingError as exc:
        progress(f"dashboard: {exc}")
        return 2
    progress(f"dashboard: written in {time.perf_counter() - started:.1f} s")
    print(f"dashboard: {built.path}")
    if built.empty:
        progress(f"dashboard: no data for {', '.join(built.empty)}")
    code = 1 if built.empty else 0
    if args.serve:
        serve(built.path, args.port)
    return code


def serve(path: Path, port: int) -> None:
    """Serve the page on 127.0.0.1 only (never the network) until Ctrl-C."""
    with make_server(path, port) as server:
        host, bound = server.server_address[:2]
        print(f"dashboard: serving http://{host}:{bound}/{path.name} (Ctrl-C stops)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            progress("dashboard: server stopped")


def make_server(path: Path, port: int) -> http.server.ThreadingHTTPServer:
    """An HTTP server on 127.0.0.1 that answers with exactly `path` (at / and /<its name>).

    Nothing else: no other file of its folder, no listings (`--out ~/d.html` must not serve the
    home directory). The file is read per request, so a rebuilt page shows on reload.
    """
    handler = functools.partial(_OneFileHandler, path.resolve())
    return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)


class _OneFileHandler(http.server.BaseHTTPRequestHandler):
    def __init__(self, page: Path, *args: object, **kwargs: object) -> None:
        self.page = page
        super().__init__(*args, **kwargs)  # handles the request

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, with_body: bool) -> None:
        if urllib.parse.urlsplit(self.path).path not in ("/", f"/{self.page.name}"):
            self.send_error(404)
            return
        try:
            data = self.page.read_bytes()
        except OSError:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if with_body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # one line per request is noise here
        pass
