"""The window of record requests in flight over HTTP (a real server on 127.0.0.1 that takes
10 ms an answer, as a distant one would): a server that closes every connection gets at most
``read_workers`` at once (``python -m http.server`` drops connections past its backlog of 5);
one that keeps connections alive gets up to ``kept_alive_workers``, which hides the latency."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bias_ledger.ledger.tlog_source import HttpSource
from bias_ledger.ledger.tlog_verify import verify_log
from tests.ledger2.helpers import copied_v2
from tests.ledger2.local_http import QuietHandler, serving

RECORDS = 24


class _Slow(QuietHandler):
    """Answers a record after 10 ms, counting the requests waiting for an answer at once."""

    lock: threading.Lock
    state: dict[str, int]

    def do_GET(self) -> None:
        if not self.path.startswith("/records/"):
            super().do_GET()
            return
        with self.lock:
            self.state["now"] += 1
            self.state["peak"] = max(self.state["peak"], self.state["now"])
        try:
            time.sleep(0.01)
        finally:
            # Counted until the answer starts: once its last byte is sent, the client may ask
            # again before this thread would get here, which would count one request twice.
            with self.lock:
                self.state["now"] -= 1
        super().do_GET()


@contextmanager
def _server(directory: Path, protocol: str) -> Iterator[tuple[str, dict[str, int]]]:
    state = {"now": 0, "peak": 0}
    fields = {"protocol_version": protocol, "lock": threading.Lock(), "state": state}
    with serving(directory, _Slow, **fields) as url:
        yield url, state


@pytest.mark.parametrize(
    ("protocol", "kept_alive"), [("HTTP/1.0", False), ("HTTP/1.1", True)], ids=["closes", "keeps"]
)
def test_requests_in_flight_follow_what_the_server_allows(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, protocol: str, kept_alive: bool
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, RECORDS)
    with _server(ledger, protocol) as (url, state):
        source = HttpSource(url)
        try:
            verified = verify_log(source, trusted=None, trust_log_keys=True)
        finally:
            source.close()
    assert verified.size == RECORDS
    assert source.kept_alive is kept_alive
    if kept_alive:
        assert HttpSource.read_workers < state["peak"] <= HttpSource.kept_alive_workers, state
    else:
        assert 1 <= state["peak"] <= HttpSource.read_workers, state
