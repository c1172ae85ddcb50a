"""The attestation verifier is part of the trusted core: stdlib, blake3 and cryptography only."""

from __future__ import annotations

import subprocess
import sys

from tests.regulatory.cli import ROOT


def test_verifying_an_attestation_needs_only_blake3_and_cryptography() -> None:
    code = "import sys, bias_ledger.exports.intoto_verify; print(' '.join(sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded = {name.split(".")[0] for name in done.stdout.split()}
    third_party = {
        name
        for name in loaded - set(sys.stdlib_module_names)
        if not name.startswith("__") and name != "_distutils_hack"
    }
    allowed = {"bias_ledger", "blake3", "cryptography", "bcrypt", "_cffi_backend", "_openssl"}
    assert third_party <= allowed, third_party
    assert "rfc8785" not in loaded  # verifiers parse stored bytes; they never re-encode
