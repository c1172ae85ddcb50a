"""Appending a record: sign it, append it, then hand the new checkpoint to the witnesses.

The one append path of the CLI and the API. The store (``ledger/store.py``) appends under the
ledger lock and knows nothing of witnesses; once the record and its checkpoint are durable and
the lock released, a format-2 ledger's witnesses are asked to cosign and their cosignatures
are stored with the checkpoint (``witness/client.py``). A witness that is down or refuses is
reported on stderr and asked again at the next push: it never loses, fails or blocks an append.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bias_ledger.ledger.record import RecordKind
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
    ``warn`` hears of a key file others may read, and of a checkpoint or state cache that
    could not be written after the record was committed (a full disk)."""
    from bias_ledger.ledger.record import RecordKind
    from bias_ledger.provenance import ci_labels

    loaded = signing_key(key, ask_passphrase=ask_passphrase, warn=warn)
    appended = append_witnessed(ledger, RecordKind(kind), payload, loaded, labels=ci_labels())
    if warn is not None:
        for warning in appended.warnings:
            warn(warning)
    return appended


def append_witnessed(
    ledger: Path,
    kind: RecordKind,
    payload: Mapping[str, Any],
    key: Ed25519PrivateKey,
    *,
    labels: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Appended:
    """Append one record signed by ``key`` (:func:`bias_ledger.ledger.store.append_record`),
    then push the checkpoint to the ledger's witnesses, if it has any."""
    from bias_ledger.ledger.store import append_record
    from bias_ledger.witness.config import WITNESSES_FILE

    appended = append_record(ledger, kind, payload, key, labels=labels, clock=clock)
    if (ledger / WITNESSES_FILE).exists():  # most ledgers have none: no client to import
        from bias_ledger.witness.client import push_after_append

        push_after_append(ledger, appended.signed_checkpoint)
    return appended
