"""Helpers shared by the witness tests."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.ledger.note import NoteVerifier, note_verifier


def run_notetool(tool: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """Run Go's ``notetool`` and return the finished process (exit status unchecked)."""
    return subprocess.run([str(tool), *args], input=stdin, capture_output=True, check=False)


def seed_of(key: Ed25519PrivateKey) -> bytes:
    """The 32-byte seed of an Ed25519 private key."""
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def b64(value: bytes) -> str:
    """Standard base64 (with padding), as signed notes and verifier keys spell their bytes."""
    return base64.b64encode(value).decode()


def signature_line(name: str, payload: bytes) -> bytes:
    """A signed-note signature line for ``name`` carrying ``payload`` (key ID and signature)."""
    return f"— {name} {b64(payload)}\n".encode()


def new_log_key(name: str) -> tuple[Ed25519PrivateKey, NoteVerifier]:
    """A fresh Ed25519 key and the note verifier of ``name`` for it."""
    key = Ed25519PrivateKey.generate()
    return key, note_verifier(name, key.public_key())
