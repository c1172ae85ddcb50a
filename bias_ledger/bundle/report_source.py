"""What ``bias-ledger report`` renders from: a record of a ledger or a bundle, verified first.

Nothing is reported before it is verified: a ledger's integrity (and, with trusted keys, its
trust) by the ledger verifier, a bundle exactly as ``verify BUNDLE`` does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.bundle.derived import load_record, report_data
from bias_ledger.bundle.model import CHECKPOINT, record_json
from bias_ledger.errors import VerificationError
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.checkpoint import parse_signed_checkpoint
from bias_ledger.ledger.keys import fingerprint, public_key_openssh
from bias_ledger.ledger.record import parse_header
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.render.report_blocks import ReportData, ReportRecord

if TYPE_CHECKING:
    from bias_ledger.bundle.verified3 import VerifiedBundle3


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


@contextmanager
def bundle_report_data(path: Path, trusted: TrustedKeys | None) -> Iterator[ReportData]:
    """Every record of the bundle at ``path`` (any bundle version), verified as
    ``verify BUNDLE`` verifies it; a version-3 bundle's records are read, one at a time, from
    the private copy that was verified, which lives as long as the context."""
    from bias_ledger.bundle.read3 import is_tar, sniff

    if not is_tar(sniff(path)):
        yield bundle_data(path, trusted)
        return
    from bias_ledger.bundle.verified3 import verified_bundle3

    with verified_bundle3(path, trusted) as bundle:
        yield _bundle3_data(bundle, trusted)


def _bundle3_data(bundle: VerifiedBundle3, trusted: TrustedKeys | None) -> ReportData:
    verification = bundle.verified.verification
    signers: set[tuple[str, str]] = set()
    for line in bundle.verified.signers.decode("ascii").splitlines():
        if line and not line.startswith("#"):  # fingerprint namespaces="..." ssh-ed25519 KEY
            fp, _, public = line.split(" ", 2)
            signers.add((fp, public))
    if verification.checkpoint is None:  # a verified bundle always has one
        raise VerificationError(f"{bundle.path}: no verified checkpoint")
    key = _checkpoint_key(
        bundle.verified.signed_checkpoint, verification.origin, signers, bundle.path, 2
    )

    def records() -> Iterator[ReportRecord]:
        return (
            ReportRecord(item.index, item.record_hash, load_record(item.raw))
            for item in bundle.records()
        )

    return ReportData(
        origin=verification.origin,
        checkpoint_size=verification.checkpoint.size,
        checkpoint_root=verification.checkpoint.root_hash.hex(),
        checkpoint_signer=fingerprint(key),
        records=records,
        signers=tuple(sorted(signers)),
        verified=f"verified as 'bias-ledger verify' does, against keys trusted in "
        f"{trusted.source if trusted else '(none)'}",
        archive="tar",
    )


def bundle_data(path: Path, trusted: TrustedKeys | None) -> ReportData:
    """Every record of the zip bundle at ``path``, verified as ``verify BUNDLE`` verifies it."""
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
