"""A gate baseline from a bundle: its latest audit record, once the bundle verifies."""

from __future__ import annotations

import json
from pathlib import Path

from bias_ledger.baselines import Baseline, audit_record_results
from bias_ledger.bundle.model import record_json
from bias_ledger.bundle.read import read_bundle
from bias_ledger.bundle.verify import verify_contents
from bias_ledger.errors import InputError, VerificationError
from bias_ledger.gate_trust import GateTrust
from bias_ledger.ledger.record import signer_fingerprint
from bias_ledger.ledger.trust import TrustedKeys


def _explicit_keys(trust: GateTrust) -> TrustedKeys | None:
    """``--trusted-keys`` and ``--approved-by`` together, when either is given."""
    given = [t for t in (trust.trusted, trust.approvers) if t is not None]
    if not given:
        return None
    keys = {fp: key for t in reversed(given) for fp, key in t.keys.items()}
    return TrustedKeys(keys, " and ".join(t.source for t in given))


def baseline_from_bundle(path: Path, *, trust: GateTrust) -> Baseline:
    """Fully verified: every record and the checkpoint signed by a trusted key, following the
    bundle's key rotations (as ``verify BUNDLE --trusted-keys`` does). A bundle's own keys are
    never trusted, as ``verify`` never trusts them: ``--trust-ledger-keys`` is not enough."""
    keys = _explicit_keys(trust)
    if keys is None:
        raise VerificationError(
            f"--baseline {path}: a bundle's own keys are never trusted (--trust-ledger-keys is "
            "for a ledger); pass --approved-by FILE or --trusted-keys FILE"
        )
    from bias_ledger.bundle.read3 import is_tar, sniff

    if is_tar(sniff(path)):
        return _baseline_from_bundle3(path, keys)
    contents = read_bundle(path)
    verify_contents(contents, keys)
    audits = [
        (index, json.loads(contents.members[record_json(index)]))
        for index in contents.record_indexes()
    ]
    audits = [(index, record) for index, record in audits if record.get("kind") == "audit"]
    if not audits:
        raise InputError(f"--baseline {path}: the bundle holds no audit record")
    index, record = audits[-1]
    listed = {item.index: item.record_hash for item in contents.manifest.records}
    return Baseline(
        results=audit_record_results(record, where=f"{path} record {index}"),
        source={
            "kind": "bundle",
            "bundle": str(path),
            "origin": contents.manifest.origin,
            "record_index": index,
            "record_hash": listed[index],
            "signer": signer_fingerprint(record),
            "trusted": True,
            "trusted_by": keys.source,
        },
    )


def _baseline_from_bundle3(path: Path, keys: TrustedKeys) -> Baseline:
    """A version-3 bundle: verified as a stream (a private copy, read once more for its
    newest audit record, so that what is read is what was verified)."""
    from bias_ledger.bundle.verified3 import verified_bundle3

    with verified_bundle3(path, keys) as bundle:
        newest = None
        for item in bundle.records():
            if b'"audit"' in item.raw:  # an audit record holds this key; the parse decides
                record = json.loads(item.raw)
                if record.get("kind") == "audit":
                    newest = (item.index, item.record_hash, record)
        origin = bundle.verified.verification.origin
    if newest is None:
        raise InputError(f"--baseline {path}: the bundle holds no audit record")
    index, record_hash, record = newest
    return Baseline(
        results=audit_record_results(record, where=f"{path} record {index}"),
        source={
            "kind": "bundle",
            "bundle": str(path),
            "origin": origin,
            "record_index": index,
            "record_hash": record_hash,
            "signer": signer_fingerprint(record),
            "trusted": True,
            "trusted_by": keys.source,
        },
    )
