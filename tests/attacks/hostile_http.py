"""A hostile static server on 127.0.0.1 for attack tests: it serves a published log's files,
but a rule can make any path redirect, lie about its length, drip, never end or differ."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

Rule = Callable[[BaseHTTPRequestHandler, str, bytes | None], bool]
"""``(handler, path, file bytes or None) -> handled``: a rule answers the request itself
(returning True) or leaves it to the honest server."""


def _trickle(handler: BaseHTTPRequestHandler, start: bytes, byte: bytes, seconds: float) -> None:
    """``start``, then ``byte`` every ``seconds``, forever (until the client leaves)."""
    try:
        handler.wfile.write(start)
        while True:
            handler.wfile.write(byte)
            handler.wfile.flush()
            time.sleep(seconds)
    except OSError:
        return


def drip(handler: BaseHTTPRequestHandler, seconds: float = 0.05, length: int = 1 << 20) -> None:
    """Headers, then one byte of body every ``seconds``, forever (until the client leaves). The
    ``length`` it claims should be under the limit of the file asked for (a record's is its
    entry's size), so that only the deadline ends it."""
    handler.send_response(200)
    handler.send_header("Content-Length", str(length))
    handler.end_headers()
    _trickle(handler, b"", b"x", seconds)


def drip_headers(handler: BaseHTTPRequestHandler, seconds: float = 0.05) -> None:
    """A status line, then a header that never ends, one byte every ``seconds``."""
    _trickle(handler, b"HTTP/1.1 200 OK\r\nX-Slow: ", b"a", seconds)


def endless(handler: BaseHTTPRequestHandler) -> None:
    """A body with no length that never ends, as fast as the client reads it."""
    handler.send_response(200)
    handler.send_header("Connection", "close")
    handler.end_headers()
    block = b"\0" * 65536
    try:
        while True:
            handler.wfile.write(block)
    except OSError:
        return


def answer(handler: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    if "Content_Length" not in headers:
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    try:
        handler.wfile.write(body)
    except OSError:
        return


@contextmanager
def hostile_server(directory: Path, rule: Rule | None = None) -> Iterator[str]:
    """Serve ``directory`` on a free loopback port with ``rule`` applied (to a POST, with the
    request body as the data); yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.lstrip("/")
            target = directory / path
            data = target.read_bytes() if ".." not in path and target.is_file() else None
            if rule is not None and rule(self, path, data):
                self.close_connection = True
                return
            if data is None:
                answer(self, 404, b"not found\n")
            else:
                answer(self, 200, data)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if rule is None or not rule(self, self.path.lstrip("/"), body):
                answer(self, 404, b"not found\n")
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
