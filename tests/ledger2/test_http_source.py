"""The HTTP source against real servers on 127.0.0.1: kept-alive connections are reused, one
the server dropped is reopened, and anything but 200 or 404 (a redirect too) is refused."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bias_ledger.errors import InputError, VerificationError
from bias_ledger.ledger.tlog_source import HttpSource
from bias_ledger.ledger.tlog_verify import verify_log
from tests.ledger2.helpers import copied_v2
from tests.ledger2.local_http import QuietHandler, serving


class _Handler(QuietHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, unlike python -m http.server
    connections: list[int]
    drop_after_each: bool = False
    status: int = 0

    def setup(self) -> None:
        super().setup()
        self.connections.append(1)

    def do_GET(self) -> None:
        if self.path.startswith("http://"):  # a request made to this server as a proxy
            self.connections.append(2)
            self.path = urllib.parse.urlsplit(self.path).path
        if self.status:
            self.send_response(self.status)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()
        if self.drop_after_each:
            # Closed without saying so (no "Connection: close"): the client learns it only
            # when it sends its next request on this connection.
            self.close_connection = True


@contextmanager
def _server(directory: Path, **options: Any) -> Iterator[tuple[str, list[int]]]:
    connections: list[int] = []
    with serving(directory, _Handler, connections=connections, **options) as url:
        yield url, connections


def test_a_keep_alive_server_serves_the_whole_log_over_few_connections(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 60)
    with _server(ledger) as (url, connections):
        source = HttpSource(url)
        verified = verify_log(source, trusted=None, trust_log_keys=True)
        source.close()
    assert verified.size == 60
    # At most the window in flight (twice the kept-alive workers) plus the first request's
    # connection, each reused: 60 records and the tiles over far fewer connections.
    assert 1 <= len(connections) <= 2 * HttpSource.kept_alive_workers + 1, connections


def test_connections_the_server_dropped_are_reopened(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 5)
    with _server(ledger, drop_after_each=True) as (url, connections):
        source = HttpSource(url)
        assert source.read("checkpoint") == (ledger / "checkpoint").read_bytes()
        assert source.read("ledger.json") == (ledger / "ledger.json").read_bytes()
        assert source.read("no/such/file") is None
        source.close()
    assert len(connections) == 3


@pytest.mark.parametrize("status", [301, 500])
def test_a_redirect_or_an_error_status_is_refused(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, status: int
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 5)
    with _server(ledger, status=status) as (url, _):
        source = HttpSource(url)
        with pytest.raises(VerificationError, match=rf"{url}checkpoint: HTTP {status}"):
            source.read("checkpoint")
        source.close()


def test_nothing_listening_is_one_line_naming_the_url() -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = HttpSource(f"http://127.0.0.1:{port}/log")
    # No server answered: the verification could not be done (an input error, exit 2).
    with pytest.raises(InputError, match=rf"http://127.0.0.1:{port}/log/checkpoint: cannot conn"):
        source.read("checkpoint")


def test_through_a_proxy_the_environment_names_requests_go_there(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 5)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with _server(ledger) as (proxy, seen):
        monkeypatch.setenv("http_proxy", proxy)
        source = HttpSource("http://log.example.invalid/")
        assert source.read("checkpoint") == (ledger / "checkpoint").read_bytes()
        assert source.read("no/such/file") is None
        source.close()
    assert seen.count(2) == 2, seen
