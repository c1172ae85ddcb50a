"""Sign a payload with the signing key and append it to a ledger."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bias_ledger.ledger.store import Appended


def signing_key(
    key: Path | Ed25519PrivateKey | None,
    *,
    ask_passphrase: Callable[[str], str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> Ed25519PrivateKey:
    """A loaded key as given, or the key found as ``bias-ledger`` finds it (``--key``, the
    environment, the default paths)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bias_ledger.signing import load_signing_key

    if isinstance(key, Ed25519PrivateKey):
        return key
    return load_signing_key(key, ask_passphrase=ask_passphrase, warn=warn)


def sign_and_append(
    ledger: Path,
    kind: str,
    payload: dict[str, Any],
    key: Path | Ed25519PrivateKey | None,
    *,
    ask_passphrase: Callable[[str], str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> Appended:
    """Append one signed record of ``kind`` to the ledger at ``ledger`` (already resolved);
    ``warn`` hears of a key file others may read."""
    from bias_ledger.ledger.record import RecordKind
    from bias_ledger.ledger.store import append_record
    from bias_ledger.provenance import ci_labels

    loaded = signing_key(key, ask_passphrase=ask_passphrase, warn=warn)
    return append_record(ledger, RecordKind(kind), payload, loaded, labels=ci_labels())
