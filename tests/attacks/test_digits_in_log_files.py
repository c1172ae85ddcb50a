"""Attack (no key needed): digits where the log's files hold numbers. A checkpoint whose tree
size has 5,000 digits (``int`` refused it with Python's digit limit: an internal error, and a
witness that parses ``old <size>`` the same way), and a partial-tile directory holding a file
named with a digit ``int`` does not take (``²``: ``str.isdigit`` says yes). Each is refused in
one line naming the file, as any other malformed checkpoint or missing tile."""

from __future__ import annotations

from pathlib import Path

import pytest

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.tlog_checkpoint import parse_size
from tests.attacks.cli import refused, run_cli
from tests.ledger.helpers import Signer
from tests.ledger2.helpers import copied_v2


def test_attack_checkpoint_size_of_thousands_of_digits(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 3)
    lines = (ledger / "checkpoint").read_text().split("\n")
    lines[1] = "9" * 5000
    (ledger / "checkpoint").write_text("\n".join(lines))
    trusted = Signer.allowed_signers(signer, tmp_path / "allowed_signers")
    said = refused(run_cli("verify", "--ledger", ledger, "--trusted-keys", trusted))
    assert said == (
        f"{ledger / 'checkpoint'}: tree size: expected a size of at most 2**63-1, got "
        f"{'9' * 20}... (5000 digits)"
    )


@pytest.mark.parametrize("text", ["9223372036854775808", "1" + "0" * 19, "9" * 4301])
def test_sizes_beyond_an_int64_are_refused_by_their_length_or_value(text: str) -> None:
    with pytest.raises(VerificationError, match="expected a size of at most 2\\*\\*63-1"):
        parse_size(text, "size")
    assert parse_size("9223372036854775807", "size") == 2**63 - 1


@pytest.mark.parametrize("tile", ["tile/0/000", "tile/entries/000"])
def test_attack_partial_tile_directory_with_a_superscript_digit(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, tile: str
) -> None:
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 3)
    partial = ledger / f"{tile}.p"
    (partial / "3").unlink()
    (partial / "\u00b2").write_bytes(b"")
    trusted = Signer.allowed_signers(signer, tmp_path / "allowed_signers")
    said = refused(run_cli("verify", "--ledger", ledger, "--trusted-keys", trusted))
    assert said == f"{partial / '3'}: tile missing", said
