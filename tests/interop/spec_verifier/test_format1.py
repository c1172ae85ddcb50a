"""Format 1: the golden ledger and bundle (tests/fixtures/format1) and FORMAT.md section 9's
worked example verify with the spec-only verifier; tampered copies do not."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import REPO
from .merkle import blake3_256, leaf_hash, node_hash
from .note import parse_checkpoint
from .records import check_header
from .sshsig import SpecError, dearmor, fingerprint, verify_sshsig, wire_of_line
from .test_bundle2 import rezip
from .trust import read_allowed_signers
from .v1 import split_checkpoint, verify_bundle1, verify_ledger1
from .zipcheck import read_bundle

GOLDEN = REPO / "tests" / "fixtures" / "format1"


def trusted() -> dict[bytes, str]:
    return read_allowed_signers(GOLDEN / "allowed_signers")


def test_the_golden_ledger_and_bundle_verify_following_the_rotation() -> None:
    ledger = verify_ledger1(GOLDEN / "ledger", trusted())
    bundle = verify_bundle1((GOLDEN / "bundle.zip").read_bytes(), trusted())
    assert ledger.checkpoint == bundle.checkpoint
    assert ledger.checkpoint.size == 7 and bundle.indexes == tuple(range(7))
    (key_a,) = trusted()
    assert ledger.checkpoint_signer != fingerprint(key_a)  # B, reached through record 4
    kept = parse_checkpoint(split_checkpoint((GOLDEN / "kept-checkpoint-3").read_bytes())[0])
    assert kept.size == 3 and kept.origin == ledger.checkpoint.origin


def _lines(change: Callable[[list[bytes]], None]) -> Callable[[Path], None]:
    def apply(ledger: Path) -> None:
        lines = (ledger / "records.log").read_bytes().split(b"\n")
        change(lines)
        (ledger / "records.log").write_bytes(b"\n".join(lines))

    return apply


def _flip_record(lines: list[bytes]) -> None:
    lines[3] = lines[3].replace(b'"index":3', b'"index":4', 1)


def _drop(lines: list[bytes]) -> None:
    del lines[2]


def _swap(lines: list[bytes]) -> None:
    lines[1], lines[2] = lines[2], lines[1]


def _signature(ledger: Path) -> None:
    data = (ledger / "checkpoint").read_bytes()
    at = data.index(b"-----END") - 6
    (ledger / "checkpoint").write_bytes(data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :])


TAMPER: dict[str, tuple[Callable[[Path], None], str]] = {
    "flipped record byte": (_lines(_flip_record), "record 3: index|SSHSIG"),
    "removed record": (_lines(_drop), "record 2"),
    "reordered records": (_lines(_swap), "record 1"),
    "checkpoint signature": (_signature, "armoured signature|SSHSIG"),
}


@pytest.mark.parametrize("case", sorted(TAMPER))
def test_tampered_golden_ledgers_are_rejected(tmp_path: Path, case: str) -> None:
    ledger = tmp_path / "ledger"
    shutil.copytree(GOLDEN / "ledger", ledger)
    change, expected = TAMPER[case]
    change(ledger)
    with pytest.raises(SpecError, match=expected):
        verify_ledger1(ledger, trusted())


def test_an_interrupted_append_is_not_a_record(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    shutil.copytree(GOLDEN / "ledger", ledger)
    with (ledger / "records.log").open("ab") as log:
        log.write(b'{"format_version":1,"ind')
    assert verify_ledger1(ledger, trusted()).checkpoint.size == 7


def test_a_tampered_golden_bundle_is_rejected() -> None:
    members = read_bundle((GOLDEN / "bundle.zip").read_bytes())
    verify_bundle1(rezip(members), trusted())
    members["records/5.json"] = members["records/5.json"].replace(b'"index":5', b'"index":6')
    with pytest.raises(SpecError, match="records/5.json: BLAKE3"):
        verify_bundle1(rezip(members), trusted())


def test_the_format1_worked_example_of_section_9() -> None:
    text = (REPO / "docs" / "FORMAT.md").read_text(encoding="utf-8")
    block = text.split("## 9. Worked example", 1)[1].split("```text\n", 1)[1]
    head, _, checkpoint = block.split("\n```", 1)[0].partition("checkpoint: ")
    ex = dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)
    wire = wire_of_line(ex["public_key"])
    assert fingerprint(wire) == ex["fingerprint"]
    origin = "example.org/credit-audits/0123456789abcdef"
    leaves, previous = [], None
    for n in (0, 1):
        record = ex[f"record_{n}_bytes"].encode()
        blob = base64.b64decode(ex[f"record_{n}_signature_base64"])
        _, key = check_header(record, blob, index=n, origin=origin, previous=previous, version=1)
        assert key == wire
        previous = ex[f"record_{n}_hash"]
        line = record + b"\t" + ex[f"record_{n}_signature_base64"].encode()
        leaves.append(leaf_hash(blake3_256, line))
        assert leaves[-1].hex() == ex[f"leaf_{n}_hash"]
    assert node_hash(blake3_256, *leaves).hex() == ex["root_hash"]
    body, armour = split_checkpoint(checkpoint.rstrip("\n").encode() + b"\n")
    assert parse_checkpoint(body).root.hex() == ex["root_hash"]
    assert verify_sshsig(dearmor(armour.decode()), body) == wire
