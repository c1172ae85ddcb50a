"""C2SP checkpoint bodies and signed checkpoint files, checked by us and by ssh-keygen."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.checkpoint import (
    Checkpoint,
    parse_signed_checkpoint,
    sign_checkpoint,
    verify_signed_checkpoint,
)
from bias_ledger.ledger.keys import generate_key, public_key_openssh
from bias_ledger.ledger.merkle import BLAKE3_HASHER
from bias_ledger.ledger.trust import TrustedKeys, parse_allowed_signers

from .sshtools import needs_ssh_keygen, ssh_keygen

C2SP_EXAMPLE = (
    b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)
ROOT = BLAKE3_HASHER.empty_root()


def test_c2sp_example_round_trips() -> None:
    checkpoint = Checkpoint.parse(C2SP_EXAMPLE)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.body() == C2SP_EXAMPLE


def test_body_layout() -> None:
    body = Checkpoint("bias-ledger/audits 4f1c", 7, ROOT, ("ext one",)).body()
    assert body == b"bias-ledger/audits 4f1c\n7\n" + base64.b64encode(ROOT) + b"\next one\n"


@settings(max_examples=50, deadline=None)
@given(
    origin=st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S"]), min_size=1),
    size=st.integers(min_value=0, max_value=2**63),
    root=st.binary(min_size=32, max_size=32),
)
def test_parse_inverts_body(origin: str, size: int, root: bytes) -> None:
    checkpoint = Checkpoint(origin, size, root)
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"o\n5\n" + base64.b64encode(ROOT), "expected the body to end with a newline"),
        (b"o\n5\n", "expected at least 3 lines, got 2"),
        (b"o\n05\n" + base64.b64encode(ROOT) + b"\n", "without leading zeros, got '05'"),
        (b"o\n-1\n" + base64.b64encode(ROOT) + b"\n", "without leading zeros, got '-1'"),
        (b"o\n+5\n" + base64.b64encode(ROOT) + b"\n", "got '\\+5'"),
        (b"o\n 5\n" + base64.b64encode(ROOT) + b"\n", "got ' 5'"),
        (b"\n5\n" + base64.b64encode(ROOT) + b"\n", "expected a non-empty printable origin"),
        (b"o\r\n5\n" + base64.b64encode(ROOT) + b"\n", "printable origin, got 'o\\\\r'"),
        (b"o\n5\n" + base64.b64encode(ROOT) + b"\n\n", "expected a non-empty printable extension"),
        (b"o\n5\n" + base64.b64encode(ROOT)[:-1] + b"\n", "root hash is not base64"),
        (b"o\n5\n" + base64.b64encode(ROOT[:31]) + b"\n", "expected a 32-byte root hash, got 31"),
        (b"o\n5\nAA==\n".replace(b"AA==", b"AB=="), "not canonical base64"),
        (b"\xff\n5\n" + base64.b64encode(ROOT) + b"\n", "expected UTF-8 text"),
    ],
)
def test_parse_is_strict(body: bytes, message: str) -> None:
    with pytest.raises(VerificationError, match=f"^cp: .*{message}"):
        Checkpoint.parse(body, source="cp")


def _trust(*keys: Ed25519PrivateKey) -> TrustedKeys:
    lines = [f"p{i}@x {public_key_openssh(k.public_key())}" for i, k in enumerate(keys)]
    return parse_allowed_signers("\n".join(lines), source="allowed_signers")


def test_signed_checkpoint_round_trip_and_tampering() -> None:
    key, stranger = generate_key(), generate_key()
    checkpoint = Checkpoint("ledger 1", 3, ROOT)
    signed = sign_checkpoint(checkpoint, key)
    assert signed.startswith(checkpoint.body() + b"\n-----BEGIN SSH SIGNATURE-----\n")
    assert verify_signed_checkpoint(signed, _trust(key)) == checkpoint
    parsed, armored = parse_signed_checkpoint(signed, source="cp")
    assert parsed == checkpoint and armored.endswith("-----END SSH SIGNATURE-----\n")

    with pytest.raises(VerificationError, match="untrusted key SHA256:"):
        verify_signed_checkpoint(signed, _trust(stranger), source="cp")
    with pytest.raises(VerificationError, match="^cp: SSH signature by .*does not match"):
        verify_signed_checkpoint(signed.replace(b"\n3\n", b"\n4\n", 1), _trust(key), source="cp")
    resigned = sign_checkpoint(Checkpoint("ledger 1", 4, ROOT), stranger)
    with pytest.raises(VerificationError, match="untrusted key"):
        verify_signed_checkpoint(resigned, _trust(key), source="cp")
    with pytest.raises(VerificationError, match="expected the checkpoint body, an empty line"):
        parse_signed_checkpoint(checkpoint.body(), source="cp")
    with pytest.raises(VerificationError, match="expected '-----BEGIN SSH SIGNATURE-----' after"):
        parse_signed_checkpoint(checkpoint.body() + b"\nhello\n", source="cp")


@pytest.mark.interop
@needs_ssh_keygen
def test_ssh_keygen_verifies_the_signed_body(tmp_path: Path) -> None:
    key = generate_key()
    signed = sign_checkpoint(Checkpoint("ledger 1", 12, ROOT), key)
    body, _, armor = signed.partition(b"\n\n")
    (tmp_path / "body").write_bytes(body + b"\n")
    (tmp_path / "body.sig").write_bytes(armor)
    (tmp_path / "allowed_signers").write_text(f"me@x {public_key_openssh(key.public_key())}\n")
    done = ssh_keygen(
        "-Y",
        "verify",
        "-f",
        tmp_path / "allowed_signers",
        "-I",
        "me@x",
        "-n",
        "bias-ledger",
        "-s",
        tmp_path / "body.sig",
        stdin=(tmp_path / "body").read_bytes(),
    )
    assert done.returncode == 0, done.stderr
