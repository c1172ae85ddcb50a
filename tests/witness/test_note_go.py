"""Our signed notes and cosignatures against Go's golang.org/x/mod/sumdb/note, both ways."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.note import (
    COSIGNATURE_V1,
    cosign_text,
    cosignature_timestamp,
    note_verifier,
    open_note,
    parse_note,
    parse_verifier_key,
    raw_public_key,
    sign_note,
    with_signatures,
)
from bias_ledger.ledger.tlog_checkpoint import Checkpoint, parse_checkpoint
from tests.witness.helpers import b64, new_log_key, run_notetool, seed_of

ORIGIN = "example.com/audits"
TEXT = Checkpoint(ORIGIN, 20852163, bytes(range(32))).text()


def _key_name_and_id(vkey: str) -> str:
    return "+".join(vkey.split("+")[:2])


def test_go_opens_our_checkpoint_and_its_verifier_key(notetool: Path) -> None:
    key = Ed25519PrivateKey.generate()
    vkey = note_verifier(ORIGIN, key.public_key()).verifier_key()
    done = run_notetool(notetool, "open", vkey, stdin=sign_note(TEXT, ORIGIN, key))
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == TEXT + f"verified {_key_name_and_id(vkey)}\n"
    go_vkey = run_notetool(notetool, "vkey", ORIGIN, b64(raw_public_key(key.public_key())))
    assert go_vkey.stdout.decode().strip() == vkey


def test_we_open_goes_note_and_parse_its_keys(notetool: Path) -> None:
    skey, vkey = run_notetool(notetool, "genkey", ORIGIN).stdout.decode().split()
    signed = run_notetool(notetool, "sign", skey, stdin=TEXT.encode()).stdout
    opened = open_note(signed, [parse_verifier_key(vkey)])
    assert parse_checkpoint(opened.text) == parse_checkpoint(TEXT)
    assert opened.verified[0].key() == _key_name_and_id(vkey)


def test_same_key_signs_the_same_bytes_in_go_and_here(notetool: Path) -> None:
    key, verifier = new_log_key(ORIGIN)
    material = b64(bytes([1]) + seed_of(key))
    skey = f"PRIVATE+KEY+{ORIGIN}+{verifier.key_id:08x}+{material}"
    go_signed = run_notetool(notetool, "sign", skey, stdin=TEXT.encode())
    assert go_signed.returncode == 0, go_signed.stderr
    assert go_signed.stdout == sign_note(TEXT, ORIGIN, key)


def test_go_rejects_our_tampered_notes(notetool: Path) -> None:
    key = Ed25519PrivateKey.generate()
    vkey = note_verifier(ORIGIN, key.public_key()).verifier_key()
    signed = sign_note(TEXT, ORIGIN, key)
    tampered_size = signed.replace(b"20852163", b"20852164")
    other_key = sign_note(TEXT, ORIGIN, Ed25519PrivateKey.generate())
    for bad in (tampered_size, other_key):
        done = run_notetool(notetool, "open", vkey, stdin=bad)
        assert done.returncode == 1
        with pytest.raises(VerificationError):
            open_note(bad, [parse_verifier_key(vkey)])
    assert b"invalid signature" in run_notetool(notetool, "open", vkey, stdin=tampered_size).stderr
    assert b"no verifiable" in run_notetool(notetool, "open", vkey, stdin=other_key).stderr


def test_cosignatures_verify_across_implementations(notetool: Path) -> None:
    log_key, witness_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    witness = "witness.example/w1"
    checkpoint = sign_note(TEXT, ORIGIN, log_key)
    public_b64 = b64(raw_public_key(witness_key.public_key()))
    # Go's cosignature, checked here:
    go_line = run_notetool(
        notetool, "cosign", witness, b64(seed_of(witness_key)), "1679315147", stdin=checkpoint
    ).stdout
    cosigned = checkpoint + go_line
    verifier = note_verifier(witness, witness_key.public_key(), COSIGNATURE_V1)
    opened = open_note(cosigned, [verifier])
    assert cosignature_timestamp(opened.verified[0]) == 1679315147
    # Ours, checked by Go, byte-identical to Go's for the same key and time:
    ours = cosign_text(TEXT, witness, witness_key, 1679315147)
    assert ours.line().encode() == go_line
    with_ours = with_signatures(
        parse_note(checkpoint), [cosign_text(TEXT, witness, witness_key, 7)]
    )
    done = run_notetool(notetool, "check-cosig", witness, public_b64, stdin=with_ours.encode())
    assert (done.returncode, done.stdout) == (0, b"7\n"), done.stderr
    # Go's note.Open takes the cosigned checkpoint: the cosignature is an unknown key's line.
    log_vkey = note_verifier(ORIGIN, log_key.public_key()).verifier_key()
    opened_by_go = run_notetool(notetool, "open", log_vkey, stdin=with_ours.encode())
    assert opened_by_go.returncode == 0, opened_by_go.stderr
    assert opened_by_go.stdout.decode().endswith(f"verified {_key_name_and_id(log_vkey)}\n")
    # A cosignature on another checkpoint fails in both.
    moved = sign_note(Checkpoint(ORIGIN, 1, bytes(32)).text(), ORIGIN, log_key) + go_line
    assert run_notetool(notetool, "check-cosig", witness, public_b64, stdin=moved).returncode == 1
    with pytest.raises(VerificationError, match="invalid cosignature/v1 signature"):
        open_note(moved, [verifier])


@pytest.mark.parametrize(
    "mutation",
    [
        pytest.param(lambda n: n.replace(b"\n\n", b"\n"), id="no-blank-line"),
        pytest.param(lambda n: n.replace(b"\xe2\x80\x94 ", b"- "), id="hyphen-not-em-dash"),
        pytest.param(lambda n: n.replace(b"audits\n", b"audits\r\n", 1), id="carriage-return"),
        pytest.param(lambda n: n.replace(b"audits\n", b"aud\xffits\n", 1), id="invalid-utf8"),
        pytest.param(lambda n: n[:-1], id="no-final-newline"),
        pytest.param(lambda n: n + b"\n", id="trailing-blank-line"),
        pytest.param(lambda n: n.replace(b"audits ", b"aud its ", 1), id="space-in-key-name"),
        pytest.param(lambda n: n.rsplit(b" ", 1)[0] + b" AAAA\n", id="too-short-signature"),
        pytest.param(lambda n: n + n.split(b"\n\n")[1] * 100, id="over-100-signatures"),
    ],
)
def test_malformed_notes_are_rejected_here_and_by_go(notetool: Path, mutation: object) -> None:
    key, verifier = new_log_key(ORIGIN)
    assert callable(mutation)
    bad: bytes = mutation(sign_note(TEXT, ORIGIN, key))
    assert run_notetool(notetool, "open", verifier.verifier_key(), stdin=bad).returncode == 1
    with pytest.raises(VerificationError):
        open_note(bad, [verifier])
