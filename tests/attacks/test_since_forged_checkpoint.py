"""Attack: ``verify --since KEPT`` fed a forged kept checkpoint (a bad signature, another origin,
a bigger size than the log, the same size with another root, a stranger's key) or a valid older
one whose consistency proof is withheld or altered. Real format-2 ledgers and bundles, real
signatures, the CLI in a fresh process: exit 3 with one line naming what failed, and a kept
checkpoint is believed (rollback, fork) only once its signature verifies."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.ledger.note import parse_note, sign_note
from bias_ledger.ledger.tlog_checkpoint import Checkpoint, parse_checkpoint
from tests.attacks.cli import refused, run_cli
from tests.ledger.helpers import Signer
from tests.ledger2.helpers import copied_v2


def _signed(text: str, origin: str, key: Ed25519PrivateKey) -> bytes:
    return sign_note(text, origin, key)


@pytest.fixture
def log(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Signer, Path]:
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 3)
    return ledger, signer, signer.allowed_signers(tmp_path / "allowed_signers")


def _body(ledger: Path) -> Checkpoint:
    return parse_checkpoint(parse_note((ledger / "checkpoint").read_bytes()).text)


def _kept(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "kept-checkpoint"
    path.write_bytes(data)
    return path


def _targets(ledger: Path, tmp_path: Path) -> list[Path]:
    """The ledger itself and its bundle (version 3)."""
    bundle = tmp_path / "bundle.tar"
    done = run_cli("export", "--all", "-o", bundle, ledger=ledger)
    assert done.returncode == 0, done.stderr
    return [ledger, bundle]


def _verify(target: Path, ledger: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    if target == ledger:
        return run_cli("verify", *args, ledger=ledger)
    return run_cli("verify", target, *args)


def test_attack_since_kept_checkpoint_with_a_broken_signature(
    log: tuple[Path, Signer, Path], tmp_path: Path
) -> None:
    ledger, _, trusted = log
    data = bytearray((ledger / "checkpoint").read_bytes())
    data[-6] ^= 0x01  # inside the base64 of the log's signature
    kept = _kept(tmp_path, bytes(data))
    for target in _targets(ledger, tmp_path):
        said = refused(_verify(target, ledger, "--trusted-keys", trusted, "--since", kept))
        assert str(kept) in said and "signature" in said, said


def test_attack_since_kept_checkpoint_of_another_origin(
    log: tuple[Path, Signer, Path], tmp_path: Path
) -> None:
    ledger, signer, trusted = log
    body = _body(ledger)
    other = Checkpoint("example.org/another-ledger", body.size, body.root_hash)
    kept = _kept(tmp_path, _signed(other.text(), other.origin, signer.key))
    for target in _targets(ledger, tmp_path):
        said = refused(_verify(target, ledger, "--trusted-keys", trusted, "--since", kept))
        assert "not the same ledger" in said, said


@pytest.mark.parametrize("signed_by", ["log-key", "stranger"])
def test_attack_since_kept_checkpoint_bigger_than_the_log(
    log: tuple[Path, Signer, Path], tmp_path: Path, signed_by: str
) -> None:
    ledger, signer, trusted = log
    body = _body(ledger)
    bigger = Checkpoint(body.origin, body.size + 5, bytes(32))
    key = signer.key if signed_by == "log-key" else Ed25519PrivateKey.generate()
    kept = _kept(tmp_path, _signed(bigger.text(), body.origin, key))
    for target in _targets(ledger, tmp_path):
        said = refused(_verify(target, ledger, "--trusted-keys", trusted, "--since", kept))
        if signed_by == "log-key":
            assert said.startswith("rollback: "), said
        else:  # an unsigned claim of rollback is not believed: the kept file is what failed
            assert not said.startswith("rollback"), said
            assert str(kept) in said and "signature" in said, said


@pytest.mark.parametrize("signed_by", ["log-key", "stranger"])
def test_attack_since_kept_checkpoint_same_size_other_root(
    log: tuple[Path, Signer, Path], tmp_path: Path, signed_by: str
) -> None:
    ledger, signer, trusted = log
    body = _body(ledger)
    forked = Checkpoint(body.origin, body.size, bytes(32))
    key = signer.key if signed_by == "log-key" else Ed25519PrivateKey.generate()
    kept = _kept(tmp_path, _signed(forked.text(), body.origin, key))
    for target in _targets(ledger, tmp_path):
        said = refused(_verify(target, ledger, "--trusted-keys", trusted, "--since", kept))
        if signed_by == "log-key":
            assert said.startswith("fork: "), said
        else:
            assert not said.startswith("fork"), said
            assert str(kept) in said and "signature" in said, said


def _older_checkpoint(ledger: Path, signer: Signer, size: int, tmp_path: Path) -> Path:
    """A real checkpoint of the first ``size`` records, signed by the log key (what a verifier
    kept back then): the proof of the log gives its root."""
    done = run_cli(
        "proof", "consistency", str(size), str(_body(ledger).size), "--json", ledger=ledger
    )
    assert done.returncode == 0, done.stderr
    import base64
    import json

    old_root = base64.b64decode(json.loads(done.stdout)["old_root"])
    older = Checkpoint(_body(ledger).origin, size, old_root)
    return _kept(tmp_path, _signed(older.text(), older.origin, signer.key))


def test_attack_since_older_checkpoint_without_or_with_a_wrong_consistency_proof(
    log: tuple[Path, Signer, Path], tmp_path: Path
) -> None:
    ledger, signer, trusted = log
    kept = _older_checkpoint(ledger, signer, 2, tmp_path)
    # The ledger itself proves it (it holds every entry); a bundle needs consistency.json.
    done = run_cli("verify", "--trusted-keys", trusted, "--since", kept, ledger=ledger)
    assert done.returncode == 0, done.stderr
    withheld = tmp_path / "withheld.tar"
    assert run_cli("export", "--all", "-o", withheld, ledger=ledger).returncode == 0
    said = refused(run_cli("verify", withheld, "--trusted-keys", trusted, "--since", kept))
    assert "consistency" in said, said
    proved = tmp_path / "proved.tar"
    done = run_cli("export", "--all", "-o", proved, "--consistent-with", kept, ledger=ledger)
    assert done.returncode == 0, done.stderr
    assert run_cli("verify", proved, "--trusted-keys", trusted, "--since", kept).returncode == 0
    # One hex digit of the proof changed in place (same size: the tar header is unchanged).
    data = bytearray(proved.read_bytes())
    with tarfile.open(proved) as archive:
        member = archive.getmember("consistency.json")
    text = bytes(data[member.offset_data : member.offset_data + member.size])
    at = (
        member.offset_data
        + text.index(b'"hashes"')
        + text[text.index(b'"hashes"') :].index(b'"', 10)
        + 1
    )
    data[at] = ord("0") if data[at] != ord("0") else ord("1")
    wrong = tmp_path / "wrong.tar"
    wrong.write_bytes(bytes(data))
    said = refused(run_cli("verify", wrong, "--trusted-keys", trusted, "--since", kept))
    assert "consistency" in said or "fork" in said, said
