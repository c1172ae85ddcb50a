"""``keys/allowed_signers``: the keys that signed a bundle, listed (never trusted), exact bytes.

docs/FORMAT.md, "Bundle format", specifies these bytes; the exporter writes them and the
verifier re-derives and compares them. Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable

from bias_ledger.ledger.sshsig import NAMESPACE

SIGNERS_HEADER = (
    "# Keys that signed this bundle's records or checkpoint, in OpenSSH allowed_signers format.\n"
    "# Listed for reference and integrity checks only: a verifier never trusts them because\n"
    "# they are here. The principal of each key is its fingerprint.\n"
)


def signers_text(signers: Iterable[tuple[str, str]]) -> bytes:
    """``keys/allowed_signers``: one line per (fingerprint, public key), sorted by fingerprint."""
    lines = [f'{fp} namespaces="{NAMESPACE}" {key}\n' for fp, key in sorted(set(signers))]
    return (SIGNERS_HEADER + "".join(lines)).encode("ascii")
