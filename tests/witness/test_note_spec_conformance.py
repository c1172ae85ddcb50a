"""signed-note, tlog-checkpoint and tlog-cosignature clause by clause, on the specs' own bytes.

The examples are copied from C2SP/C2SP (signed-note.md, tlog-checkpoint.md,
tlog-cosignature.md); each test names the clause it checks.
"""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.note import (
    COSIGNATURE_V1,
    ED25519,
    NoteSignature,
    cosign_text,
    cosignature_message,
    cosignature_timestamp,
    key_id,
    note_verifier,
    open_note,
    parse_note,
    parse_verifier_key,
    raw_public_key,
    sign_note,
    sign_text,
)
from bias_ledger.ledger.tlog_checkpoint import Checkpoint, parse_checkpoint
from tests.witness.helpers import new_log_key, signature_line

SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n"
    "\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKu"
    "wHjG1Yu72IneyaQM=\n"
).encode()
SPEC_CHECKPOINT_TEXT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)
SPEC_COSIGNED = (
    SPEC_CHECKPOINT_TEXT
    + "\n"
    + "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    + "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJ"
    "sX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
).encode()


def test_the_spec_verifier_key_verifies_the_spec_note() -> None:
    # signed-note "Verifier keys", "Example".
    verifier = parse_verifier_key(SPEC_VKEY)
    assert (verifier.name, verifier.signature_type, verifier.key_id) == (
        "example.com/foo",
        ED25519,
        0x530D903A,
    )
    assert verifier.verifier_key() == SPEC_VKEY
    opened = open_note(SPEC_NOTE, [verifier])
    assert opened.text == "This is an example message.\n"
    assert opened.verified[0].line().encode() == SPEC_NOTE.split(b"\n\n")[1]
    # One byte of the text changed: the spec's signature no longer verifies.
    with pytest.raises(VerificationError, match="invalid Ed25519 signature"):
        open_note(SPEC_NOTE.replace(b"example message", b"example massage"), [verifier])


def test_key_ids_hash_name_newline_type_byte_and_key() -> None:
    # signed-note: SHA-256(key name || 0x0A || 0x01 || key)[:4]; tlog-cosignature: 0x04.
    key = Ed25519PrivateKey.generate()
    public = raw_public_key(key.public_key())
    for type_byte in (0x01, 0x04):
        digest = hashlib.sha256(b"w.example/k" + b"\x0a" + bytes([type_byte]) + public).digest()
        assert key_id("w.example/k", type_byte, public) == struct.unpack(">I", digest[:4])[0]
    log = note_verifier("w.example/k", key.public_key())
    cosigner = note_verifier("w.example/k", key.public_key(), COSIGNATURE_V1)
    assert log.key_id != cosigner.key_id  # one key, two types: two IDs (signed-note MUST)
    assert base64.b64decode(cosigner.verifier_key().split("+", 2)[2])[0] == 0x04


def test_the_spec_cosignature_line_has_its_structure_and_message() -> None:
    # tlog-cosignature: base64(key ID || u64 timestamp || 64-byte Ed25519 signature), and the
    # signed message "cosignature/v1\ntime <t>\n" + checkpoint text (the spec's example).
    note = parse_note(SPEC_COSIGNED)
    witness = note.signatures[1]
    assert witness.name == "witness.example.com/w1"
    assert len(witness.signature) == 8 + 64
    assert cosignature_timestamp(witness) == 1679315147
    assert cosignature_message(note.text, 1679315147) == (
        b"cosignature/v1\n"
        b"time 1679315147\n"
        b"example.com/behind-the-sofa\n"
        b"20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    # Without the witness's key, its line is an unknown signature: ignored, not an error
    # (tlog-checkpoint: clients MUST ignore unknown signatures).
    log = note_verifier("example.com/behind-the-sofa", Ed25519PrivateKey.generate().public_key())
    with pytest.raises(VerificationError, match="found none"):
        open_note(SPEC_COSIGNED, [log])


def test_cosignatures_sign_extension_lines_too() -> None:
    # tlog-cosignature: extension lines, if present, MUST be in the cosigned message.
    key = Ed25519PrivateKey.generate()
    text = Checkpoint("example.com/log", 5, bytes(32), ("ext one", "ext two")).text()
    line = cosign_text(text, "w.example/a", key, 1700000000)
    message = b"cosignature/v1\ntime 1700000000\n" + text.encode()
    key.public_key().verify(line.signature[8:], message)  # raises if not
    verifier = note_verifier("w.example/a", key.public_key(), COSIGNATURE_V1)
    assert verifier.verify(text, line.signature)
    assert not verifier.verify(text.replace("ext two", "ext 2"), line.signature)


def test_the_spec_checkpoint_parses_and_round_trips() -> None:
    # tlog-checkpoint "Note text".
    checkpoint = parse_checkpoint(SPEC_CHECKPOINT_TEXT)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.text() == SPEC_CHECKPOINT_TEXT
    # Origins need not be URLs (clients MUST NOT assume the format): spaces and '+' are fine.
    assert parse_checkpoint("my log + friends\n0\n" + SPEC_CHECKPOINT_TEXT.split("\n")[2] + "\n")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", id="empty-origin"),
        pytest.param("o\n05\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", id="leading-zero"),
        pytest.param("o\n+5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", id="plus-sign"),
        pytest.param("o\n00\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", id="zero-as-00"),
        pytest.param("o\n5\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n", id="url-base64"),
        pytest.param("o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n", id="no-padding"),
        pytest.param("o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n", id="empty-ext"),
        pytest.param("o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", id="no-newline"),
        pytest.param("o\n5\n", id="no-root"),
    ],
)
def test_checkpoint_texts_the_spec_forbids_are_refused(text: str) -> None:
    with pytest.raises(VerificationError):
        parse_checkpoint(text)


def test_sixteen_signatures_are_accepted_unknown_ones_ignored() -> None:
    # signed-note: verifiers MUST accept at least 16 signatures, MUST ignore unknown keys, even
    # with a known key's name (other ID) or a known key's ID (other name).
    key, verifier = new_log_key("example.com/log")
    text = Checkpoint("example.com/log", 1, bytes(32)).text()
    ours = sign_text(text, "example.com/log", key)
    same_name = sign_text(text, "example.com/log", Ed25519PrivateKey.generate())
    same_id = NoteSignature("example.com/other", ours.key_id, bytes(64))
    strangers = [sign_text(text, f"s{i}.example", Ed25519PrivateKey.generate()) for i in range(13)]
    lines = [same_name, same_id, *strangers, ours]
    assert len(lines) == 16
    data = (text + "\n" + "".join(line.line() for line in lines)).encode()
    opened = open_note(data, [verifier])
    assert opened.verified == (ours,)
    assert len(opened.unverified) == 15


def test_a_failing_repeat_of_a_known_key_rejects_the_note() -> None:
    # signed-note: "If the key name and ID match a known key, verifiers MUST verify the
    # signature"; one that fails rejects the note, even after a valid line by the same key.
    key, verifier = new_log_key("example.com/log")
    good = sign_note(Checkpoint("example.com/log", 1, bytes(32)).text(), "example.com/log", key)
    bad_line = NoteSignature("example.com/log", verifier.key_id, bytes(64)).line().encode()
    with pytest.raises(VerificationError, match="invalid Ed25519 signature"):
        open_note(good + bad_line, [verifier])
    # A valid repeat is fine and counts once.
    assert len(open_note(good + good.split(b"\n\n")[1], [verifier]).verified) == 1


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u00a0b", "a\u2003b", "a\u3000b"], ids=repr)
def test_key_names_with_spaces_or_plus_are_refused(name: str) -> None:
    # signed-note: key names MUST be non-empty, without Unicode spaces or '+'.
    with pytest.raises(VerificationError):
        sign_text("x\n", name, Ed25519PrivateKey.generate())
    with pytest.raises(VerificationError):
        parse_note(b"x\n\n" + signature_line(name, bytes(68)))


def test_signature_lines_need_the_em_dash() -> None:
    # signed-note: U+2014, not a hyphen, en dash or minus sign.
    key = Ed25519PrivateKey.generate()
    good = sign_note("x\n", "k.example", key)
    assert good.split(b"\n\n")[1].startswith("\u2014 ".encode())
    for dash in ("-", "\u2013", "\u2212"):
        with pytest.raises(VerificationError, match="expected a signature line"):
            parse_note(good.replace("\u2014".encode(), dash.encode()))
