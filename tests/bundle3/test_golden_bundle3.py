"""The committed bundle-format-3 fixture (tests/fixtures/bundle3, made by its generate.py)
verifies in this version, and a changed byte in it is refused."""

from __future__ import annotations

from pathlib import Path

from tests.bundle.helpers import cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "bundle3"


def test_the_committed_version3_bundle_verifies() -> None:
    code, output = cli(
        "verify", FIXTURE / "bundle.tar", "--trusted-keys", FIXTURE / "allowed_signers"
    )
    assert code == 0, output
    flat = " ".join(output.split())  # the terminal may wrap lines
    assert "version 3" in flat and "records 0, 1, 2" in flat, output


def test_the_committed_bundle_with_one_changed_record_byte_is_refused(tmp_path: Path) -> None:
    data = bytearray((FIXTURE / "bundle.tar").read_bytes())
    at = data.index(b"records/0.json\0") + 512 + 100  # a byte of the record's data
    data[at] ^= 0x01
    edited = tmp_path / "edited.tar"
    edited.write_bytes(bytes(data))
    code, output = cli("verify", edited, "--trusted-keys", FIXTURE / "allowed_signers")
    assert code == 3, output
    assert "record 0" in output and "altered" in output, output
