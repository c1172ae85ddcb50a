"""What ``bias-ledger report`` renders from: a record of a ledger or a bundle, verified first.

Nothing is reported before it is verified: a ledger's integrity (and, with trusted keys, its
trust) by the ledger verifier, a bundle exactly as ``verify BUNDLE`` does.
"""

from __future__ import annotations

import json
from pathlib import Path

from bias_ledger.bundle.derived import report_data
from bias_ledger.bundle.model import CHECKPOINT, record_json
from bias_ledger.errors import InputError, VerificationError
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.checkpoint import parse_signed_checkpoint
from bias_ledger.ledger.entry_checks import check_entries
from bias_ledger.ledger.keys import fingerprint, public_key_openssh
from bias_ledger.ledger.reader import read_ledger
from bias_ledger.ledger.record import parse_header
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.render.report_blocks import ReportData


def ledger_record_data(path: Path, index: int, trusted: TrustedKeys | None) -> ReportData:
    """Record ``index`` of the ledger at ``path``, after verifying the whole ledger.

    Without ``trusted`` keys the ledger's integrity is verified (hashes, chain, signatures,
    checkpoint) and the report says that its signers were not checked against trusted keys.
    """
    from bias_ledger.verify import UntrustedError, verify_ledger

    try:
        verification = verify_ledger(path, trusted=trusted)
        source = trusted.source if trusted else "-"
        how = f"verified for integrity and trust (keys trusted in {source})"
    except UntrustedError as untrusted:
        verification = untrusted.report
        how = (
            "verified for integrity only (hashes, chain, signatures, checkpoint); the signer was "
            "NOT checked against trusted keys (pass --trusted-keys FILE)"
        )
    checkpoint = verification.checkpoint
    if checkpoint is None:
        raise VerificationError(f"{path}: the ledger has no signed checkpoint: nothing to report")
    if not 0 <= index < checkpoint.size:
        raise InputError(
            f"record {index}: the ledger's signed checkpoint covers records "
            f"0..{checkpoint.size - 1}"
        )
    # Read once more and check it is the ledger just verified: same root over the same records.
    stored = read_ledger(path)
    if stored.checkpoint is None:
        raise VerificationError(f"{path}/checkpoint: removed while reporting")
    signed, armored = parse_signed_checkpoint(stored.checkpoint, source=f"{path}/checkpoint")
    entries = check_entries(stored.lines[: checkpoint.size], source=str(path))
    if signed != checkpoint:
        raise VerificationError(f"{path}: the ledger changed while it was being reported")
    from bias_ledger.ledger.merkle import BLAKE3_HASHER, MerkleTree

    root = MerkleTree(BLAKE3_HASHER, [e.leaf_hash for e in entries]).root()
    if root != checkpoint.root_hash:
        raise VerificationError(f"{path}: the ledger changed while it was being reported")
    from bias_ledger.ledger.entry import parse_line

    entry = entries[index]
    raw = parse_line(stored.lines[index], where=f"{path} record {index}").record_bytes
    key = sshsig.embedded_public_key(armored)
    signer = entry.header.signer
    return report_data(
        origin=stored.meta.origin,
        checkpoint_size=checkpoint.size,
        checkpoint_root=checkpoint.root_hash.hex(),
        checkpoint_signer=fingerprint(key),
        records=[(index, entry.record_hash, raw)],
        signers=[
            (signer.fingerprint, signer.public_key.strip()),
            (fingerprint(key), public_key_openssh(key)),
        ],
        verified=how,
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
    _, armored = parse_signed_checkpoint(contents.members[CHECKPOINT], source=f"{path}: checkpoint")
    key = sshsig.embedded_public_key(armored)
    records = []
    signers = {(fingerprint(key), public_key_openssh(key))}
    for item in contents.manifest.records:
        raw = contents.members[record_json(item.index)]
        records.append((item.index, item.record_hash, raw))
    for _, _, raw in records:
        header = parse_header(json.loads(raw), where=f"{path}: records")
        signers.add((header.signer.fingerprint, header.signer.public_key.strip()))
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
