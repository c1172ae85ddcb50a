"""The checkpoint is authenticated before anything it claims is read (C2SP tlog-tiles: "Clients
MUST NOT fetch arbitrary partial tiles without verifying a checkpoint with a size that requires
their existence"), and a fault found reading what an unsigned checkpoint claims is named as the
checkpoint's."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.errors import VerificationError
from bias_ledger.ledger import note
from bias_ledger.ledger.tlog_checkpoint import Checkpoint, parse_checkpoint
from bias_ledger.ledger.tlog_source import MAX_FETCH_BYTES, DirectorySource
from bias_ledger.ledger.tlog_verify import verify_log
from bias_ledger.ledger.trust import TrustedKeys, load_allowed_signers
from tests.ledger.helpers import Signer
from tests.ledger2.helpers import copied_v2


class _Reads(DirectorySource):
    """A directory source that remembers every path read."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.paths: list[str] = []

    def read(self, path: str, limit: int = MAX_FETCH_BYTES) -> bytes | None:
        self.paths.append(path)
        return super().read(path, limit)


@pytest.fixture
def built(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Signer]:
    return copied_v2(tmp_path_factory, tmp_path, 260)


def _trusted(path: Path, signer: Signer) -> TrustedKeys:
    return load_allowed_signers(signer.allowed_signers(path.parent / "allowed_signers"))


def _checkpoint(path: Path) -> Checkpoint:
    return parse_checkpoint(note.parse_note((path / "checkpoint").read_bytes()).text)


def _forge(path: Path, size: int) -> None:
    """Replace the checkpoint with one of ``size`` signed under the log's name by another key."""
    origin = _checkpoint(path).origin
    text = Checkpoint(origin, size, bytes(32)).text()
    (path / "checkpoint").write_bytes(note.sign_note(text, origin, Ed25519PrivateKey.generate()))


def _refused_as_the_checkpoints(ledger: Path, **options: Any) -> None:
    """Verify ``ledger``: the fault named is the checkpoint's signature, not the entries'."""
    with pytest.raises(VerificationError) as caught:
        verify_log(DirectorySource(ledger), **options)
    message = caught.value.message
    assert message.startswith(f"{ledger}/checkpoint: expected a signature by a ")
    assert "the checkpoint is not signed by this log's keys" in message
    assert "entries were altered" not in message
    assert "missing" not in message


@pytest.mark.parametrize("size", [4, 260, 300, 70_000])
def test_a_checkpoint_no_key_of_the_log_signed_is_named_as_the_fault(
    built: tuple[Path, Signer], size: int
) -> None:
    # No trusted key signed it, but a key the log rotated to might have: that key is known only
    # from the log's records, so they are read; the fault found is named as the checkpoint's,
    # whatever the forged size makes missing or wrong.
    ledger, signer = built
    _forge(ledger, size)
    _refused_as_the_checkpoints(ledger, trusted=_trusted(ledger, signer))


def test_a_trusted_keys_invalid_signature_is_refused_before_anything_else_is_read(
    built: tuple[Path, Signer],
) -> None:
    ledger, signer = built
    trusted = _trusted(ledger, signer)
    data = (ledger / "checkpoint").read_bytes()
    body, _, line = data.rstrip(b"\n").rpartition(b"\n")
    name, key_and_sig = line.rsplit(b" ", 1)
    raw = bytearray(base64.b64decode(key_and_sig))
    raw[-1] ^= 1
    (ledger / "checkpoint").write_bytes(body + b"\n" + name + b" " + base64.b64encode(raw) + b"\n")
    source = _Reads(ledger)
    with pytest.raises(VerificationError, match="invalid Ed25519 signature"):
        verify_log(source, trusted=trusted)
    assert source.paths == ["checkpoint"]


@pytest.mark.parametrize("size", [4, 260])
def test_with_the_logs_own_keys_a_forged_checkpoint_is_named_not_the_entries(
    built: tuple[Path, Signer], size: int
) -> None:
    # Trusting the log's own keys, the signers are known only from the records: the records
    # are read, and a wrong root is named as the checkpoint's fault. (A size beyond the log
    # fails on the first missing tile, before any signer is known: that message stands.)
    ledger, _ = built
    _forge(ledger, size)
    _refused_as_the_checkpoints(ledger, trusted=None, trust_log_keys=True)


def test_a_checkpoint_signed_by_the_trusted_key_still_verifies_and_reads_its_tiles(
    built: tuple[Path, Signer],
) -> None:
    ledger, signer = built
    source = _Reads(ledger)
    result = verify_log(source, trusted=_trusted(ledger, signer))
    assert result.size == 260
    assert any(path.startswith("tile/entries/") for path in source.paths)


def test_a_genuine_fault_under_a_signed_checkpoint_keeps_its_own_message(
    built: tuple[Path, Signer],
) -> None:
    ledger, signer = built
    tile = ledger / "tile/0/000"
    tile.write_bytes(bytes(32) + tile.read_bytes()[32:])
    with pytest.raises(VerificationError) as caught:
        verify_log(DirectorySource(ledger), trusted=_trusted(ledger, signer))
    assert "tile" in caught.value.message
    assert "not signed by this log's keys" not in caught.value.message
