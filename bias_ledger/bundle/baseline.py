"""A gate baseline from a bundle: its latest audit record, once the bundle's integrity verifies."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from bias_ledger.bundle.model import record_json
from bias_ledger.bundle.read import read_bundle
from bias_ledger.bundle.verify import BundleUntrustedError, verify_contents
from bias_ledger.errors import InputError
from bias_ledger.gate import Baseline, audit_record_results
from bias_ledger.ledger.trust import TrustedKeys


def baseline_from_bundle(path: Path, *, trusted: TrustedKeys | None = None) -> Baseline:
    """With ``trusted`` keys (the gate's ``--approved-by``), a full verification: every record
    and the checkpoint signed by one of them. Without, integrity only (hashes, signatures,
    proofs, checkpoint): the source says ``"trusted": false`` and names the signer."""
    contents = read_bundle(path)
    if trusted is not None:
        verify_contents(contents, trusted)
    else:
        # BundleUntrustedError means every integrity check passed; trust we do not claim.
        with contextlib.suppress(BundleUntrustedError):
            verify_contents(contents, None)
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
            "signer": record["signer"]["fingerprint"],
            "trusted": trusted is not None,
        },
    )
