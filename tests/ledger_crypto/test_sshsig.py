"""SSHSIG signatures checked both ways against the real ssh-keygen, and tampered ones refused."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.keys import (
    fingerprint,
    generate_key,
    load_private_key_file,
    public_key_openssh,
)
from bias_ledger.ledger.sshsig import embedded_public_key, parse, sign, verify

from .sshtools import needs_ssh_keygen, new_key, ssh_keygen

MESSAGE = b'{"index":0,"subject":"model"}'


def _allowed(tmp_path: Path, line_key: str, options: str = "") -> Path:
    path = tmp_path / "allowed_signers"
    path.write_text(f"auditor@example.org {options}{line_key}\n".replace("  ", " "))
    return path


def _keygen_verify(tmp_path: Path, allowed: Path, armored: str, message: bytes, ns: str) -> int:
    sig = tmp_path / "message.sig"
    sig.write_text(armored)
    done = ssh_keygen(
        "-Y",
        "verify",
        "-f",
        allowed,
        "-I",
        "auditor@example.org",
        "-n",
        ns,
        "-s",
        sig,
        stdin=message,
    )
    return done.returncode


def _reblob(armored: str, edit: bytes, at: int) -> str:
    lines = armored.strip().split("\n")
    blob = bytearray(base64.b64decode("".join(lines[1:-1])))
    blob[at : at + len(edit)] = edit
    text = base64.b64encode(bytes(blob)).decode()
    return "\n".join([lines[0], text, lines[-1]]) + "\n"


@pytest.mark.interop
@needs_ssh_keygen
@pytest.mark.parametrize("hash_algorithm", ["sha512", "sha256"])
def test_our_signature_verifies_with_ssh_keygen(tmp_path: Path, hash_algorithm: str) -> None:
    key = generate_key()
    allowed = _allowed(tmp_path, public_key_openssh(key.public_key()))
    armored = sign(key, MESSAGE, hash_algorithm=hash_algorithm)
    assert _keygen_verify(tmp_path, allowed, armored, MESSAGE, "bias-ledger") == 0
    assert _keygen_verify(tmp_path, allowed, armored, MESSAGE + b" ", "bias-ledger") != 0
    assert _keygen_verify(tmp_path, allowed, armored, MESSAGE, "git") != 0
    other = _allowed(tmp_path, public_key_openssh(generate_key().public_key()))
    assert _keygen_verify(tmp_path, other, armored, MESSAGE, "bias-ledger") != 0


@pytest.mark.interop
@needs_ssh_keygen
def test_ssh_keygen_signature_verifies_with_ours_and_is_byte_identical(tmp_path: Path) -> None:
    key_path = new_key(tmp_path / "id_ed25519")
    message = tmp_path / "record.json"
    message.write_bytes(MESSAGE)
    done = ssh_keygen("-Y", "sign", "-f", key_path, "-n", "bias-ledger", message)
    assert done.returncode == 0, done.stderr
    armored = (tmp_path / "record.json.sig").read_text()
    key = load_private_key_file(key_path, None)
    signer = verify(armored, MESSAGE)
    assert fingerprint(signer) == fingerprint(key.public_key())
    # Ed25519 is deterministic, so our armor must equal ssh-keygen's to the byte.
    assert sign(key, MESSAGE) == armored
    with pytest.raises(VerificationError, match="does not match them"):
        verify(armored, MESSAGE + b"\n")


@pytest.mark.interop
@needs_ssh_keygen
def test_ssh_keygen_signature_in_another_namespace_is_refused(tmp_path: Path) -> None:
    key_path = new_key(tmp_path / "id_ed25519")
    message = tmp_path / "commit"
    message.write_bytes(MESSAGE)
    assert ssh_keygen("-Y", "sign", "-f", key_path, "-n", "git", message).returncode == 0
    armored = (tmp_path / "commit.sig").read_text()
    with pytest.raises(VerificationError, match="expected namespace 'bias-ledger', got 'git'"):
        verify(armored, MESSAGE)
    assert fingerprint(verify(armored, MESSAGE, namespace="git")) == fingerprint(
        embedded_public_key(armored)
    )


@pytest.mark.interop
@needs_ssh_keygen
def test_tampered_signature_fails_both_ways(tmp_path: Path) -> None:
    key = generate_key()
    allowed = _allowed(tmp_path, public_key_openssh(key.public_key()))
    armored = sign(key, MESSAGE)
    blob_length = len(base64.b64decode("".join(armored.strip().split("\n")[1:-1])))
    last = base64.b64decode("".join(armored.strip().split("\n")[1:-1]))[-1]
    tampered = _reblob(armored, bytes([last ^ 1]), blob_length - 1)
    assert _keygen_verify(tmp_path, allowed, tampered, MESSAGE, "bias-ledger") != 0
    with pytest.raises(VerificationError, match=r"^SSH signature by SHA256:\S+: expected a valid"):
        verify(tampered, MESSAGE)


def test_signature_by_another_key_swapped_in_fails() -> None:
    key, intruder = generate_key(), generate_key()
    armored = sign(key, MESSAGE)
    blob = base64.b64decode("".join(armored.strip().split("\n")[1:-1]))
    intruder_blob = base64.b64decode(public_key_openssh(intruder.public_key()).split()[1])
    swapped = _reblob(armored, intruder_blob, 14)  # after magic, version, length
    assert len(intruder_blob) == len(blob[14 : 14 + len(intruder_blob)])
    with pytest.raises(VerificationError, match=re.escape(fingerprint(intruder.public_key()))):
        verify(swapped, MESSAGE)


def test_parse_reports_each_malformation() -> None:
    armored = sign(generate_key(), MESSAGE)
    lines = armored.strip().split("\n")
    hash_at = base64.b64decode("".join(lines[1:-1])).index(b"sha512")
    cases = [
        ("\n".join(lines[1:]), "expected '-----BEGIN SSH SIGNATURE-----'"),
        ("\n".join(lines[:-1]), "expected '-----END SSH SIGNATURE-----' as the last line"),
        ("\n".join([lines[0], "!!!!", lines[-1]]), "the armor is not valid base64"),
        (_reblob(armored, b"SSHSIH", 0), "expected magic 'SSHSIG', got b'SSHSIH'"),
        (_reblob(armored, b"\x00\x00\x00\x02", 6), "expected version 1, got 2"),
        (_reblob(armored, b"sha384", hash_at), "expected hash algorithm 'sha512', got 'sha384'"),
        ("\n".join([lines[0], base64.b64encode(b"SSHSIG").decode(), lines[-1]]), "malformed"),
    ]
    for text, message in cases:
        with pytest.raises(VerificationError, match=message):
            parse(text)


def test_armor_is_wrapped_like_ssh_keygen() -> None:
    lines = sign(generate_key(), MESSAGE).split("\n")
    assert lines[0] == "-----BEGIN SSH SIGNATURE-----"
    assert lines[-2:] == ["-----END SSH SIGNATURE-----", ""]
    assert all(len(line) == 70 for line in lines[1:-3])
    assert 0 < len(lines[-3]) <= 70


def test_crlf_armor_is_accepted() -> None:
    key = generate_key()
    armored = sign(key, MESSAGE).replace("\n", "\r\n")
    assert fingerprint(verify(armored, MESSAGE)) == fingerprint(key.public_key())
