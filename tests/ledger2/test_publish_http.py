"""publish writes a static C2SP tiles layout incrementally; verify reads it back from the
directory and over HTTP from a real static web server, with --since."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bias_ledger.errors import InputError, VerificationError
from bias_ledger.ledger import note
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record
from bias_ledger.ledger.tlog_checkpoint import parse_checkpoint
from bias_ledger.ledger.tlog_publish import publish
from bias_ledger.ledger.tlog_source import DirectorySource, HttpSource
from bias_ledger.ledger.tlog_tree import TileTree
from bias_ledger.ledger.tlog_verify import verify_log
from bias_ledger.ledger.trust import load_allowed_signers
from tests.ledger.helpers import cli_env, run_cli
from tests.ledger2.helpers import copied_v2
from tests.ledger2.static_server import static_server


def test_publish_is_a_verifiable_incremental_copy(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 260)
    site = tmp_path / "site"
    first = publish(ledger, site)
    assert (first.old_size, first.size, first.records_copied) == (0, 260, 260)
    assert (site / "checkpoint").read_bytes() == (ledger / "checkpoint").read_bytes()
    assert (site / "tile/0/000").read_bytes() == (ledger / "tile/0/000").read_bytes()
    assert (site / "tile/entries/001.p/4").exists()
    assert not (site / "ledger.json").exists() and not (site / "lock").exists()
    assert publish(ledger, site).records_copied == 0
    kept = (site / "checkpoint").read_bytes()
    append_record(ledger, RecordKind.GATE, {"note": "after publishing"}, signer.key)
    second = publish(ledger, site)
    assert (second.old_size, second.size, second.records_copied) == (260, 261, 1)
    assert second.tiles_written == 2  # the right-edge entry bundle and level-0 tile
    # the partial tile an older checkpoint names stays until its full tile exists
    assert (site / "tile/entries/001.p/4").exists() and (site / "tile/entries/001.p/5").exists()
    trusted = load_allowed_signers(signer.allowed_signers(tmp_path / "allowed"))
    with static_server(site) as url:
        source = HttpSource(url)
        try:
            result = verify_log(source, trusted=trusted, since=(kept, "kept"))
        finally:
            source.close()
    assert result.size == 261
    assert [step.what for step in result.steps][-1] == "since"


def test_publish_serves_the_partial_tiles_of_every_checkpoint_the_appends_signed(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # tlog-tiles: "Logs MUST serve partial tiles corresponding to tree sizes for which a
    # checkpoint was produced". Every append signs one (and sends it to the witnesses), so a
    # client holding the checkpoint of a size never published must find its tiles too.
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 260)
    site = tmp_path / "site"
    publish(ledger, site)
    signed: list[bytes] = []
    for number in range(6):
        append_record(ledger, RecordKind.GATE, {"note": f"unpublished {number}"}, signer.key)
        signed.append((ledger / "checkpoint").read_bytes())
    second = publish(ledger, site)
    assert second.tiles_written == 2 + 2 * 5  # the new edge, and widths 5 to 9 of both
    for width in range(1, 11):
        assert (site / f"tile/0/001.p/{width}").is_file()
        assert (site / f"tile/entries/001.p/{width}").is_file()
    with static_server(site) as url:
        source = HttpSource(url)
        try:
            for data in signed:
                checkpoint = parse_checkpoint(note.parse_note(data).text)
                # Over HTTP, with no full tile to cut from: each exact partial tile is read.
                assert TileTree(source, checkpoint.size).root() == checkpoint.root_hash
            ledger_tree = TileTree(DirectorySource(ledger), 266)
            for size in range(257, 266):
                assert TileTree(source, size).root() == ledger_tree.root(size)
        finally:
            source.close()


def test_publish_refuses_a_fork_and_a_path_inside_the_ledger(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 3)
    with pytest.raises(InputError, match="must not be inside the ledger"):
        publish(ledger, ledger / "public")
    site = tmp_path / "site"
    publish(ledger, site)
    fork = tmp_path / "fork"
    shutil.copytree(ledger, fork)
    append_record(ledger, RecordKind.GATE, {"note": "real"}, signer.key)
    append_record(fork, RecordKind.GATE, {"note": "rewritten"}, signer.key)
    publish(ledger, site)
    with pytest.raises(VerificationError, match="not a prefix of this ledger"):
        publish(fork, site)


def test_cli_verifies_a_published_log_over_http_and_detects_tampering(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 5)
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(ledger), BIAS_LEDGER_KEY=str(signer.path))
    site = tmp_path / "site"
    done = run_cli("publish", site, "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["size"] == 5
    allowed = signer.allowed_signers(tmp_path / "allowed")
    kept = tmp_path / "kept"
    kept.write_bytes((site / "checkpoint").read_bytes())
    with static_server(site) as url:
        done = run_cli("verify", url, "--trusted-keys", allowed, "--since", kept, "--json", env=env)
        assert done.returncode == 0, done.stderr + done.stdout
        report = json.loads(done.stdout)
        assert report["valid"] and report["size"] == 5
        untrusted = run_cli("verify", url, env=env)
        assert untrusted.returncode == 3
        assert "no trusted key given" in untrusted.stderr
        record = next((site / "records").iterdir())
        record.write_bytes(record.read_bytes().replace(b'"note":"record', b'"note":"RECORD'))
        bad = run_cli("verify", url, "--trusted-keys", allowed, env=env)
        assert bad.returncode == 3
        assert "does not hash to" in bad.stderr
    done = run_cli("verify", site, "--trusted-keys", allowed, env=env)
    assert done.returncode == 3 and "the record was altered" in done.stderr
