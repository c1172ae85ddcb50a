"""Attack: a published log whose ``checkpoint`` is far larger than a signed note can be (a
directory's file, an HTTP answer with an honest Content-Length, or one that never ends). It is
refused as such, exit 3 in one line, after reading at most the 64 KiB bound, not 64 MiB."""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.tlog_read import read_signed_checkpoint
from bias_ledger.ledger.tlog_source import MAX_CHECKPOINT_BYTES, MAX_FETCH_BYTES, HttpSource
from bias_ledger.ledger.tlog_verify import verify_log
from tests.attacks.cli import refused, run_cli
from tests.attacks.hostile_http import answer, endless, hostile_server
from tests.ledger2.helpers import copied_v2
from tests.ledger2.static_server import static_server

BOUND = f"a checkpoint is a signed note of at most {MAX_CHECKPOINT_BYTES} bytes (docs/FORMAT.md)"


def _published(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 3)
    site = tmp_path / "site"
    done = run_cli("publish", site, ledger=ledger)
    assert done.returncode == 0, done.stderr
    return site


def _padded(site: Path, size: int) -> int:
    """Grow the site's checkpoint to ``size`` bytes (signature-like lines after the real one)."""
    checkpoint = site / "checkpoint"
    data = checkpoint.read_bytes()
    line = b"\xe2\x80\x94 padding.example " + b"A" * 86 + b"\n"
    data += line * ((size - len(data)) // len(line) + 1)
    checkpoint.write_bytes(data[:size])
    return size


def test_attack_published_directory_with_an_oversized_checkpoint(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    site = _published(tmp_path, tmp_path_factory)
    assert run_cli("verify", site, "--trust-ledger-keys").returncode == 0
    with (site / "checkpoint").open("r+b") as handle:
        handle.truncate(48 << 20)  # sparse: 48 MiB, under the 64 MiB any file may hold
    said = refused(run_cli("verify", site, "--trust-ledger-keys"))
    assert said == (
        f"{site}/checkpoint: {48 << 20} bytes, more than the {MAX_CHECKPOINT_BYTES} it may "
        f"hold: {BOUND}"
    ), said


def test_attack_published_url_with_an_oversized_checkpoint(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    site = _published(tmp_path, tmp_path_factory)
    size = _padded(site, MAX_CHECKPOINT_BYTES + 1)
    with static_server(site) as url:
        said = refused(run_cli("verify", url, "--trust-ledger-keys"))
    assert said == (
        f"{url}checkpoint: Content-Length {size}, more than the {MAX_CHECKPOINT_BYTES} bytes "
        f"it may hold: {BOUND}"
    ), said


def test_a_checkpoint_at_the_bound_is_read_and_judged_as_a_note(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    site = _published(tmp_path, tmp_path_factory)
    _padded(site, MAX_CHECKPOINT_BYTES)
    with static_server(site) as url:
        said = refused(run_cli("verify", url, "--trust-ledger-keys"))
    # Read whole and parsed: refused for what it holds (too many signatures), not its size.
    assert "at most" not in said and "checkpoint" in said, said


def test_attack_checkpoint_answer_that_never_ends(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    site = _published(tmp_path, tmp_path_factory)

    def rule(handler: BaseHTTPRequestHandler, path: str, data: bytes | None) -> bool:
        if path == "checkpoint":
            endless(handler)
            return True
        return False

    with hostile_server(site, rule) as url:
        source = HttpSource(url, timeout=0.5, deadline=5.0)
        started = time.monotonic()
        try:
            with pytest.raises(VerificationError) as caught:
                read_signed_checkpoint(source)
        finally:
            source.close()
    assert time.monotonic() - started < 5.0
    assert caught.value.message == (
        f"{url}checkpoint: more than the {MAX_CHECKPOINT_BYTES} bytes it may hold: {BOUND}"
    )


def test_attack_tile_answer_claiming_more_than_a_file_may_hold(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    site = _published(tmp_path, tmp_path_factory)

    def rule(handler: BaseHTTPRequestHandler, path: str, data: bytes | None) -> bool:
        if path.startswith("tile/"):
            answer(handler, 200, b"", Content_Length=str(1 << 30))  # and then nothing
            return True
        return False

    with hostile_server(site, rule) as url:
        source = HttpSource(url, timeout=5.0, deadline=5.0)
        try:
            with pytest.raises(VerificationError) as caught:
                verify_log(source, trusted=None, trust_log_keys=True)
        finally:
            source.close()
    # Refused on its headers: no wait for a body that never comes.
    assert caught.value.message.endswith(
        f"Content-Length {1 << 30}, more than the {MAX_FETCH_BYTES} bytes it may hold"
    ), caught.value.message
