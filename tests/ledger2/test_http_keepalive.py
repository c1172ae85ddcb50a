"""A kept-alive connection to ``python -m http.server --protocol HTTP/1.1`` (a real process on
127.0.0.1) is not stalled by a delayed ACK: that server sends headers and body in two writes
with Nagle's algorithm on, so without an immediate ACK each answer waited 40 ms."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from bias_ledger.ledger.tlog_entry import record_path
from bias_ledger.ledger.tlog_read import iter_records, read_signed_checkpoint
from bias_ledger.ledger.tlog_source import DirectorySource, HttpSource
from bias_ledger.ledger.tlog_verify import verify_log
from tests.ledger2.helpers import copied_v2
from tests.ledger2.static_server import static_server

READS = 100
"""Requests on one kept-alive connection: at 40 ms each, a stalled client needs 4 s."""


@pytest.mark.skipif(sys.platform != "linux", reason="TCP_QUICKACK is Linux's")
def test_a_kept_alive_http11_server_answers_without_delayed_ack_stalls(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 5)
    _, checkpoint = read_signed_checkpoint(DirectorySource(ledger))
    records = [item.entry for item in iter_records(DirectorySource(ledger), checkpoint.size)]
    path = record_path(records[0].record)
    expected = (ledger / path).read_bytes()
    with static_server(ledger, protocol="HTTP/1.1") as url:
        source = HttpSource(url)
        try:
            assert source.read(path) == expected  # the connection is open from here on
            started = time.monotonic()
            for _ in range(READS):
                assert source.read(path) == expected
            elapsed = time.monotonic() - started
            verified = verify_log(source, trusted=None, trust_log_keys=True)
        finally:
            source.close()
    assert verified.size == checkpoint.size
    # 40 ms per answer would be 4 s; loopback answers in about a millisecond, even loaded.
    assert elapsed < 2.0, f"{READS} kept-alive requests took {elapsed:.2f} s"
