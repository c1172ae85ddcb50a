"""Signed notes: round trips (hypothesis), the spec's rules for unknown keys, tampered notes."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.note import (
    COSIGNATURE_V1,
    ED25519,
    NoteSignature,
    NoteVerifier,
    cosign_text,
    cosignature_timestamp,
    note_verifier,
    open_note,
    parse_note,
    parse_verifier_key,
    sign_note,
    sign_text,
    with_signatures,
)

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
NAME = "example.com/log"
VERIFIER = note_verifier(NAME, KEY.public_key())

# Note text: any characters but controls (newline allowed), ending in a newline.
texts = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters=[chr(c) for c in range(32)])
    | st.just("\n"),
    max_size=200,
).map(lambda text: text + "\n")
names = st.text(
    st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc"), blacklist_characters="+"),
    min_size=1,
    max_size=30,
).filter(lambda name: not any(char.isspace() for char in name))


@settings(max_examples=60, deadline=None)
@given(text=texts, name=names)
def test_sign_then_open_round_trips(text: str, name: str) -> None:
    signed = sign_note(text, name, KEY)
    opened = open_note(signed, [note_verifier(name, KEY.public_key())])
    assert opened.text == text
    assert parse_note(signed).encode() == signed
    assert parse_verifier_key(note_verifier(name, KEY.public_key()).verifier_key()).name == name


def test_every_flipped_byte_is_rejected() -> None:
    signed = sign_note("example.com/log\n3\nAAAA\n", NAME, KEY)
    original = parse_note(signed)
    respelled = 0
    for position in range(len(signed)):
        for bit in (0x01, 0x40):
            tampered = bytearray(signed)
            tampered[position] ^= bit
            try:
                opened = open_note(bytes(tampered), [VERIFIER])
            except VerificationError:
                continue
            # Only the unused low bits of the signature's last base64 character, which Go's
            # sumdb/note does not check either: the same text, key ID and signature.
            assert opened.note == original, position
            respelled += 1
    assert respelled == 1


def test_unknown_keys_are_ignored_but_never_enough() -> None:
    other = Ed25519PrivateKey.generate()
    same_name = sign_text("hello\n", NAME, other)
    same_id = NoteSignature("example.com/other", VERIFIER.key_id, same_name.signature)
    ours = sign_text("hello\n", NAME, KEY)
    note = parse_note(sign_note("hello\n", NAME, KEY))
    opened = open_note(with_signatures(note, [same_name, same_id]).encode(), [VERIFIER])
    assert opened.verified == (ours,)
    assert set(opened.unverified) == {same_name, same_id}
    only_unknown = with_signatures(parse_note(sign_note("hello\n", NAME, other)), [same_id])
    with pytest.raises(VerificationError, match="expected a signature by a trusted key"):
        open_note(only_unknown.encode(), [VERIFIER])
    with pytest.raises(VerificationError, match="found none"):
        open_note(only_unknown.encode(), [])


def test_a_bad_signature_by_a_known_key_rejects_the_note() -> None:
    good = sign_text("hello\n", NAME, KEY)
    forged = NoteSignature(NAME, VERIFIER.key_id, bytes(64))
    note = with_signatures(parse_note(sign_note("hello\n", "a.example/x", KEY)), [forged])
    with pytest.raises(VerificationError, match=f"invalid Ed25519 signature by {NAME}"):
        open_note(note.encode(), [VERIFIER])
    # A repeated valid signature counts once.
    doubled = f"hello\n\n{good.line()}{good.line()}".encode()
    assert open_note(doubled, [VERIFIER]).verified == (good,)


def test_ambiguous_verifiers_are_refused() -> None:
    class ForcedId(NoteVerifier):
        """A key whose ID collides with VERIFIER's (a broken trust list, as Go diagnoses)."""

        @property
        def key_id(self) -> int:
            return VERIFIER.key_id

    twin = ForcedId(NAME, ED25519, bytes(31) + b"\x01")
    with pytest.raises(VerificationError, match="ambiguous"):
        open_note(sign_note("hi\n", NAME, KEY), [VERIFIER, twin])


@pytest.mark.parametrize(
    ("vkey", "message"),
    [
        ("example.com/log+00000000+" + VERIFIER.verifier_key().split("+", 2)[2], "does not match"),
        (VERIFIER.verifier_key().replace("+", " +", 1), "key name"),
        ("example.com/log+7d3e91b+AAAA", "8 hex digits"),
        ("example.com/log+7d3e91ba+AVJA", "32-byte"),
        ("example.com/log+7d3e91ba+!!!!", "base64"),
        ("example.com/log", "8 hex digits"),
    ],
)
def test_malformed_verifier_keys(vkey: str, message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        parse_verifier_key(vkey)


def test_verifier_key_of_unknown_type_is_refused() -> None:
    material = bytes([0x02]) + VERIFIER.public_key
    key_id = hashlib.sha256(NAME.encode() + b"\n" + material).digest()[:4].hex()
    with pytest.raises(VerificationError, match="signature type 0x01 or 0x04, got 0x02"):
        parse_verifier_key(f"{NAME}+{key_id}+{base64.b64encode(material).decode()}")


@pytest.mark.parametrize("text", ["no final newline", "tab\there\n", "", "bell\x07\n"], ids=repr)
def test_signing_refuses_text_that_cannot_be_a_note(text: str) -> None:
    with pytest.raises(VerificationError):
        sign_note(text, NAME, KEY)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u00a0b", "a\u2003b"], ids=repr)
def test_signing_refuses_invalid_key_names(name: str) -> None:
    with pytest.raises(VerificationError, match="key name"):
        sign_note("hello\n", name, KEY)


@settings(max_examples=30, deadline=None)
@given(text=texts, timestamp=st.integers(0, 2**63 - 1))
def test_cosignatures_open_with_a_type_4_key_only(text: str, timestamp: int) -> None:
    witness = Ed25519PrivateKey.from_private_bytes(bytes(32))
    line = cosign_text(text, "w.example/1", witness, timestamp)
    note = with_signatures(parse_note(sign_note(text, NAME, KEY)), [line]).encode()
    cosigner = note_verifier("w.example/1", witness.public_key(), COSIGNATURE_V1)
    opened = open_note(note, [cosigner])
    assert cosignature_timestamp(opened.verified[0]) == timestamp
    # The same key as a plain Ed25519 note key has another key ID: never mistaken for it.
    with pytest.raises(VerificationError, match="found none"):
        open_note(note, [note_verifier("w.example/1", witness.public_key())])


def test_cosignature_with_a_changed_timestamp_fails() -> None:
    witness = Ed25519PrivateKey.generate()
    line = cosign_text("a\n", "w.example/1", witness, 100)
    moved = NoteSignature(line.name, line.key_id, (101).to_bytes(8, "big") + line.signature[8:])
    cosigner = note_verifier("w.example/1", witness.public_key(), COSIGNATURE_V1)
    with pytest.raises(VerificationError, match="invalid cosignature/v1"):
        open_note(f"a\n\n{moved.line()}".encode(), [cosigner])
    with pytest.raises(VerificationError, match="timestamp"):
        cosign_text("a\n", "w.example/1", witness, 2**63)
