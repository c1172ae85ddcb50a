"""The spec-only verifier accepts the tool's format-2 ledger and published log, and rejects
tampered copies; the tool rejects the same copies (both read the same spec)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Made, cli_env, run_cli_batch
from .log2 import verify_log
from .records import parse_entry
from .sshsig import SpecError, armor, fingerprint, wire_of_line
from .tiles import split_bundle
from .trust import read_allowed_signers


def key_fingerprint(key: Path) -> str:
    return fingerprint(wire_of_line(key.with_suffix(".pub").read_text()))


def entry_bundle(ledger: Path) -> Path:
    return ledger / "tile/entries/000.p/5"


def entries_of(ledger: Path) -> list[bytes]:
    return split_bundle(entry_bundle(ledger).read_bytes(), "bundle", 5)


def write_entries(ledger: Path, entries: list[bytes]) -> None:
    entry_bundle(ledger).write_bytes(b"".join(len(e).to_bytes(2, "big") + e for e in entries))


def record_file(ledger: Path, index: int) -> Path:
    return ledger / "records" / f"{parse_entry(entries_of(ledger)[index], 'e').record}.json"


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_the_tools_ledger_verifies_from_the_spec_following_its_rotation(made: Made) -> None:
    result = verify_log(made.ledger, read_allowed_signers(made.trusted1))
    assert result.checkpoint.size == 5
    assert result.checkpoint.origin.startswith("spec.example/audits/")
    assert result.signers == (key_fingerprint(made.key1), key_fingerprint(made.key2))
    # 10.6: after a rotation the new key signs the checkpoints.
    assert result.checkpoint_signer == key_fingerprint(made.key2)
    assert result.invalid == {}
    assert result.tiles == 1
    # 10.1: nothing but these names in a format-2 ledger directory.
    known = {"ledger.json", "checkpoint", "tile", "records", "lock", "witnesses.json"}
    assert {p.name for p in made.ledger.iterdir()} <= known | {
        "witnesses.json",
        "witness-state.json",
    }


def test_the_published_log_verifies_and_extends_the_kept_checkpoint(made: Made) -> None:
    trusted = read_allowed_signers(made.trusted1)
    result = verify_log(made.published, trusted, published=True, since=made.kept)
    assert result.checkpoint == verify_log(made.ledger, trusted).checkpoint
    # 10.10: the ledger's checkpoint, tiles and records, nothing else.
    assert sorted(p.name for p in made.published.iterdir()) == ["checkpoint", "records", "tile"]
    assert (made.published / "checkpoint").read_bytes() == (made.ledger / "checkpoint").read_bytes()
    assert sorted(p.name for p in (made.published / "records").iterdir()) == sorted(
        p.name for p in (made.ledger / "records").iterdir()
    )


def test_without_the_first_key_nothing_is_trusted(made: Made) -> None:
    only_new = made.root / "only-key2"
    only_new.write_text(f"x {made.key2.with_suffix('.pub').read_text()}")
    with pytest.raises(SpecError, match="record 0: signed by .* not trusted"):
        verify_log(made.ledger, read_allowed_signers(only_new))


def test_a_record_signature_checks_with_ssh_keygen_too(made: Made, tmp_path: Path) -> None:
    entry = parse_entry(entries_of(made.ledger)[3], "entry 3")
    (tmp_path / "sig").write_text(armor(entry.signature))
    done = subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", str(made.trusted12), "-I", "spec@example.org"]
        + ["-n", "bias-ledger", "-s", str(tmp_path / "sig")],
        input=record_file(made.ledger, 3).read_bytes(),
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr


def _record(ledger: Path) -> None:
    path = record_file(ledger, 1)
    flip(path, path.read_bytes().index(b'"ok"') + 1)


def _entry(ledger: Path) -> None:
    entries = entries_of(ledger)
    entries[1] = entries[1].replace(b'"kind":"approval"', b'"kind":"approvam"')
    write_entries(ledger, entries)


def _tile(ledger: Path) -> None:
    flip(ledger / "tile/0/000.p/5", 40)


def _signature(ledger: Path) -> None:
    lines = (ledger / "checkpoint").read_text().split("\n")
    name, encoded = lines[-2].rsplit(" ", 1)
    encoded = encoded[:10] + ("A" if encoded[10] != "A" else "B") + encoded[11:]
    (ledger / "checkpoint").write_text("\n".join([*lines[:-2], f"{name} {encoded}", ""]))


def _removed(ledger: Path) -> None:
    record_file(ledger, 2).unlink()


def _reordered(ledger: Path) -> None:
    entries = entries_of(ledger)
    entries[1], entries[2] = entries[2], entries[1]
    write_entries(ledger, entries)


TAMPER: dict[str, tuple[Callable[[Path], None], str]] = {
    "flipped record byte": (_record, "record 1: BLAKE3"),
    "flipped entry byte": (_entry, "record 1: kind"),
    "flipped tile byte": (_tile, "tile/0/000.p/5: hashes differ"),
    "checkpoint signature": (_signature, "checkpoint: the signature by .* does not verify"),
    "removed record": (_removed, "missing"),
    "reordered entries": (_reordered, "entry 1: says index 2"),
}


def tampered(made: Made, target: Path, case: str) -> Path:
    ledger = target / case.replace(" ", "-")
    shutil.copytree(made.ledger, ledger)
    TAMPER[case][0](ledger)
    return ledger


@pytest.mark.parametrize("case", sorted(TAMPER))
def test_tampered_copies_are_rejected(made: Made, tmp_path: Path, case: str) -> None:
    with pytest.raises(SpecError, match=TAMPER[case][1]):
        verify_log(tampered(made, tmp_path, case), read_allowed_signers(made.trusted1))


def test_the_tool_rejects_the_same_tampered_copies(made: Made, tmp_path: Path) -> None:
    trusted = ["--trusted-keys", str(made.trusted1)]
    commands = [["verify", "--ledger", str(made.ledger), *trusted]]
    commands += [
        ["verify", "--ledger", str(tampered(made, tmp_path, case)), *trusted]
        for case in sorted(TAMPER)
    ]
    assert run_cli_batch(commands, cli_env(tmp_path), tmp_path) == [0] + [3] * len(TAMPER)


# options -> the tool's exit code (0 valid, 3 invalid, 2: the file trusts no key for bias-ledger)
WINDOWS = {
    'valid-before="20200101"': 3,
    'valid-after="20990101",namespaces="bias-ledger"': 3,
    'valid-after="20200101"': 0,
    'namespaces="git"': 2,
}


def test_allowed_signers_options_limit_trust_in_both_verifiers(made: Made, tmp_path: Path) -> None:
    """Section 7: namespaces= is honoured, valid-after/valid-before checked against timestamps."""
    line = made.trusted1.read_text()
    commands, expected = [], []
    for number, (options, code) in enumerate(WINDOWS.items()):
        path = tmp_path / f"trusted-{number}"
        path.write_text(line.replace("spec@example.org ", f"spec@example.org {options} ", 1))
        trusted = read_allowed_signers(path)
        if code == 0:
            assert verify_log(made.ledger, trusted).checkpoint.size == 5
        else:
            with pytest.raises(SpecError, match="record 0: "):
                verify_log(made.ledger, trusted)
        commands.append(["verify", "--ledger", str(made.ledger), "--trusted-keys", str(path)])
        expected.append(code)
    assert run_cli_batch(commands, cli_env(tmp_path), tmp_path) == expected
