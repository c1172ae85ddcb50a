"""What ``bias-ledger report`` renders from: a record of a ledger or a bundle, verified first.

Nothing is reported before it is verified: a ledger's integrity (and, with trusted keys, its
trust) by the ledger verifier, a bundle exactly as ``verify BUNDLE`` does.
"""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.bundle.derived import report_data
from bias_ledger.bundle.model import CHECKPOINT, record_json
from bias_ledger.errors import VerificationError
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.checkpoint import parse_signed_checkpoint
from bias_ledger.ledger.keys import fingerprint, public_key_openssh
from bias_ledger.ledger.record import parse_header
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.render.report_blocks import ReportData


def ledger_record_data(path: Path, index: int, trusted: TrustedKeys | None) -> ReportData:
    """Record ``index`` of the ledger at ``path`` (format 1 or 2), after verifying the ledger.

    Without ``trusted`` keys the ledger's integrity is verified (hashes, chain, signatures,
    checkpoint) and the report says that its signers were not checked against trusted keys.
    """
    from bias_ledger.verify.records import open_verified

    ledger = open_verified(path, trusted)
    item = ledger.record(index)
    header = parse_header(
        item.record(), where=f"{path} record {index}", versions=frozenset({ledger.format_version})
    )
    key = ledger.checkpoint_key
    signer = header.signer
    return report_data(
        origin=ledger.origin,
        checkpoint_size=ledger.size,
        checkpoint_root=ledger.root_hash.hex(),
        checkpoint_signer=fingerprint(key),
        records=[(index, item.record_hash, item.data)],
        signers=[
            (signer.fingerprint, signer.public_key.strip()),
            (fingerprint(key), public_key_openssh(key)),
        ],
        verified=ledger.how,
        ledger=True,
    )


def bundle_data(path: Path, trusted: TrustedKeys | None) -> ReportData:
    """Every record of the bundle at ``path``, verified as ``verify BUNDLE`` verifies it."""
    from bias_ledger.bundle.read import read_bundle
    from bias_ledger.bundle.verify import verify_contents

    contents = read_bundle(path)
    result = verify_contents(contents, trusted)
    if result.checkpoint is None:  # a verified bundle always has one
        raise VerificationError(f"{path}: no verified checkpoint")
    records = []
    signers: set[tuple[str, str]] = set()
    version = frozenset({contents.manifest.format_version})
    for item in contents.manifest.records:
        raw = contents.members[record_json(item.index)]
        records.append((item.index, item.record_hash, raw))
        header = parse_header(json.loads(raw), where=f"{path}: records", versions=version)
        signers.add((header.signer.fingerprint, header.signer.public_key.strip()))
    key = _checkpoint_key(
        contents.members[CHECKPOINT], result.origin, signers, path, contents.manifest.format_version
    )
    signers.add((fingerprint(key), public_key_openssh(key)))
    return report_data(
        origin=result.origin,
        checkpoint_size=result.checkpoint.size,
        checkpoint_root=result.checkpoint.root_hash.hex(),
        checkpoint_signer=fingerprint(key),
        records=records,
        signers=signers,
        verified=f"verified as 'bias-ledger verify' does, against keys trusted in "
        f"{trusted.source if trusted else '(none)'}",
    )


def _checkpoint_key(
    data: bytes, origin: str, signers: set[tuple[str, str]], path: Path, format_version: int
) -> Ed25519PublicKey:
    """The key that signed a verified bundle's checkpoint: the SSHSIG key of a format-1
    checkpoint, or the record signer whose Ed25519 note signature a format-2 one carries."""
    where = f"{path}: {CHECKPOINT}"
    if format_version == 1:
        _, armored = parse_signed_checkpoint(data, source=where)
        return sshsig.embedded_public_key(armored)
    from bias_ledger.ledger import note
    from bias_ledger.ledger.keys import parse_public_key

    candidates = {
        note.note_verifier(origin, key): key
        for key in (parse_public_key(line, source=where) for _, line in sorted(signers))
    }
    return candidates[note.open_note(data, candidates, where).verified_by[0]]
