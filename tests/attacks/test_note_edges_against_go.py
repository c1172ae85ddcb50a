"""Attack: signed-note parsing edges (c2sp.org/signed-note) that Go's golang.org/x/mod/sumdb/note
and ours might read differently. Each note is built with real Ed25519 signatures and opened by
both, with the same verifier key: both must accept it, or both refuse it."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.note import (
    COSIGNATURE_V1,
    NoteSignature,
    cosign_text,
    key_id,
    note_verifier,
    open_note,
    raw_public_key,
    sign_text,
)
from bias_ledger.ledger.tlog_checkpoint import Checkpoint, parse_checkpoint
from tests.witness.conftest import notetool  # noqa: F401  (the session fixture)
from tests.witness.helpers import run_notetool, signature_line

ORIGIN = "example.com/audits/0123456789abcdef"
TEXT = Checkpoint(ORIGIN, 7, bytes(range(32))).text()
LOG_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
Build = Callable[[], bytes]


def _signed(text: str = TEXT) -> NoteSignature:
    return sign_text(text, ORIGIN, LOG_KEY)


def _payload(signature: NoteSignature) -> bytes:
    return struct.pack(">I", signature.key_id) + signature.signature


def _note(*lines: bytes, text: str = TEXT) -> bytes:
    return text.encode() + b"\n" + b"".join(lines)


def _own() -> bytes:
    return signature_line(ORIGIN, _payload(_signed()))


def _stray_low_bits(line: bytes) -> bytes:
    """The same bytes in a non-canonical spelling: the unused low bits before '=' set."""
    head, encoded = line[:-1].rsplit(b" ", 1)
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    body = encoded.rstrip(b"=")
    last = alphabet.index(body[-1:])
    changed = body[:-1] + alphabet[last | 1 : (last | 1) + 1]
    assert changed != body, "the payload must leave unused bits"
    return head + b" " + changed + encoded[len(body) :] + b"\n"


def _unknown_then_own() -> bytes:
    stranger = sign_text(TEXT, "witness.example/w1", OTHER_KEY)
    return _note(signature_line(stranger.name, _payload(stranger)), _own())


def _own_then_garbage_by_same_key() -> bytes:
    # A second line by the trusted key that does not verify: Go drops repeated signatures by
    # one verifier before checking them; we check it, as signed-note says (STRICTER_THAN_GO).
    bad = bytearray(_payload(_signed()))
    bad[-1] ^= 1
    return _note(_own(), signature_line(ORIGIN, bytes(bad)))


def _garbage_then_own_by_same_key() -> bytes:
    bad = bytearray(_payload(_signed()))
    bad[-1] ^= 1
    return _note(signature_line(ORIGIN, bytes(bad)), _own())


def _same_key_id_other_name() -> bytes:
    # The trusted key's ID under another name: an unknown key (name and ID must both match).
    signature = _signed()
    return _note(signature_line("impostor.example", _payload(signature)), _own())


def _only_same_key_id_other_name() -> bytes:
    return _note(signature_line("impostor.example", _payload(_signed())))


def _cosignature_by_unknown_witness() -> bytes:
    cosig = cosign_text(TEXT, "witness.example/w1", OTHER_KEY, 1764547200)
    return _note(_own(), signature_line(cosig.name, _payload(cosig)))


def _extension_lines() -> bytes:
    text = TEXT + "extension one\nx\n"
    return _note(signature_line(ORIGIN, _payload(_signed(text))), text=text)


def _own_stray_low_bits() -> bytes:
    return _note(_stray_low_bits(_own()))


def _unknown_stray_low_bits_then_own() -> bytes:
    stranger = sign_text(TEXT, "witness.example/w1", OTHER_KEY)
    return _note(_stray_low_bits(signature_line(stranger.name, _payload(stranger))), _own())


def _unpadded() -> bytes:
    return _note(_own().replace(b"=", b""))


def _space_inside_base64() -> bytes:
    line = _own()
    return _note(line[:-10] + b" " + line[-10:])


def _tab_after_name() -> bytes:
    return _note(_own().replace(f"{ORIGIN} ".encode(), f"{ORIGIN}\t".encode()))


def _nbsp_in_name() -> bytes:
    return _note(_own().replace(ORIGIN.encode(), ORIGIN.encode() + "\u00a0".encode()))


def _cr_before_newline() -> bytes:
    return _note(_own()[:-1] + b"\r\n")


def _no_final_newline() -> bytes:
    return _note(_own())[:-1]


def _non_utf8_in_signature_line() -> bytes:
    return _note(_own().replace("—".encode(), b"\x97"))


def _empty_signature_block() -> bytes:
    return _note()


def _huge_text() -> bytes:
    text = TEXT + "e\n" * (1 << 20)
    return _note(signature_line(ORIGIN, _payload(_signed(text))), text=text)


CASES: dict[str, Build] = {
    "unknown-key-then-own": _unknown_then_own,
    "own-then-garbage-by-same-key": _own_then_garbage_by_same_key,
    "garbage-then-own-by-same-key": _garbage_then_own_by_same_key,
    "same-key-id-other-name-then-own": _same_key_id_other_name,
    "only-same-key-id-other-name": _only_same_key_id_other_name,
    "cosignature-by-unknown-witness": _cosignature_by_unknown_witness,
    "extension-lines": _extension_lines,
    "own-line-non-canonical-base64": _own_stray_low_bits,
    "unknown-line-non-canonical-base64": _unknown_stray_low_bits_then_own,
    "unpadded-base64": _unpadded,
    "space-inside-base64": _space_inside_base64,
    "tab-after-key-name": _tab_after_name,
    "nbsp-in-key-name": _nbsp_in_name,
    "carriage-return-in-signature-line": _cr_before_newline,
    "no-final-newline": _no_final_newline,
    "non-utf8-dash": _non_utf8_in_signature_line,
    "no-signature-line": _empty_signature_block,
    "two-mib-text": _huge_text,
}


STRICTER_THAN_GO = frozenset({"own-then-garbage-by-same-key"})
"""Where we refuse what Go's ``note.Open`` accepts: C2SP signed-note says a verifier MUST
verify every signature whose key name and ID match a known key; Go skips a known key's
repeated lines unchecked (docs/FORMAT.md 10.11)."""


def _ours(data: bytes) -> str | None:
    """None when our parser opens the note (and reads it as a checkpoint), else why not."""
    try:
        opened = open_note(data, [note_verifier(ORIGIN, LOG_KEY.public_key())])
        parse_checkpoint(opened.text)
    except VerificationError as exc:
        return exc.message
    return None


@pytest.mark.parametrize("case", sorted(CASES))
def test_attack_note_edge_read_alike_by_go_and_us(notetool: Path, case: str) -> None:  # noqa: F811
    data = CASES[case]()
    vkey = note_verifier(ORIGIN, LOG_KEY.public_key()).verifier_key()
    go = run_notetool(notetool, "open", vkey, stdin=data)
    ours = _ours(data)
    if case in STRICTER_THAN_GO:
        assert go.returncode == 0 and ours is not None, (go.stderr, ours)
        return
    assert (go.returncode == 0) == (ours is None), (
        f"Go {'accepts' if go.returncode == 0 else 'refuses: ' + go.stderr.decode()!r}, "
        f"we {'accept' if ours is None else 'refuse: ' + ours}"
    )


def test_cosignature_key_id_is_not_the_log_key_id() -> None:
    """A witness cosigning with the log's own key under the log's name has another key ID
    (the type byte is hashed in), so it can never stand in for the log's signature."""
    public = raw_public_key(LOG_KEY.public_key())
    assert (
        key_id(ORIGIN, COSIGNATURE_V1, public) != note_verifier(ORIGIN, LOG_KEY.public_key()).key_id
    )
