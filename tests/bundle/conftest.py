"""One set of real ledgers per session: hostile group names, a key rotation, a fork, a stranger."""

from __future__ import annotations

import csv
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger._audit import AuditRequest, run_audit
from bias_ledger.bundle.export import Selection, export_bundle
from bias_ledger.io.model import ColumnMapping
from bias_ledger.ledger.keys import fingerprint, generate_key, public_key_openssh
from bias_ledger.ledger.reader import CHECKPOINT_FILE
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record, init_ledger
from bias_ledger.metrics.model import MetricResults
from bias_ledger.policy.evaluate import evaluate_policy
from bias_ledger.policy.load import parse_policy
from bias_ledger.records.payloads import audit_payload as record_payload

SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x","y")'
HOSTILE_GROUPS = (SCRIPT, FORMULA, "pipe|star*under_[link](x)", "@SUM(A1)")
REGIONS = ("-north", "+south")
MAPPING = ColumnMapping(label="label", prediction="pred", sensitive=("group", "region"))
POLICY = """
version = 1
name = "four-fifths"
[[rules]]
name = "four-fifths"
four_fifths = true
features = ["group"]
severity = "error"
"""


@dataclass(frozen=True)
class World:
    """Everything the bundle tests share; built once per session."""

    ledger: Path
    """Main ledger: 0 audit (A), 1 audit with policy (A), 2 rotation A->B, 3 audit (B),
    4 approval of 3 (B)."""
    other: Path
    """Another ledger (other origin), signed by the untrusted key C."""
    fork: Path
    """Same origin as ``ledger``, diverging after record 1, grown to 5 records, signed by A."""
    data: Path
    """The hostile CSV every audit read."""
    key_a: Ed25519PrivateKey
    key_b: Ed25519PrivateKey
    key_c: Ed25519PrivateKey
    trusted: Path
    """allowed_signers trusting A only."""
    kept2: bytes
    """The main ledger's signed checkpoint at size 2."""
    kept3: bytes
    """The main ledger's signed checkpoint at size 3."""
    latest: bytes
    """The main ledger's signed checkpoint at size 5."""
    fork3: bytes
    fork5: bytes
    bundle: Path
    """All 5 records of the main ledger, with a consistency proof from size 3."""
    old_bundle: Path
    """Records 0 and 1 exported when the ledger had 3 records."""
    other_bundle: Path
    """All records of ``other``."""
    plain_bundle: Path
    """All 5 records, no consistency proof."""


def write_hostile_csv(path: Path, *, seed: int = 7, rows: int = 480) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["group", "region", "label", "pred"])
        for row in range(rows):
            group = HOSTILE_GROUPS[row % len(HOSTILE_GROUPS)]
            bias = 0.2 if group == SCRIPT else 0.0
            label = int(rng.random() < 0.5)
            pred = int(rng.random() < (0.6 - bias if label else 0.3 - bias / 2))
            writer.writerow([group, REGIONS[rng.random() < 0.5], label, pred])


def audit_payload(data: Path, *, policy: bool = False) -> dict[str, Any]:
    result = run_audit(AuditRequest(data=data, mapping=MAPPING))
    assert isinstance(result.results, MetricResults)
    report = evaluate_policy(parse_policy(POLICY), result.results) if policy else None
    payload = record_payload(result, report)
    payload["subject"] = {**payload["subject"], "model_name": "credit", "model_version": "1"}
    return payload


def rotate(path: Path, old: Ed25519PrivateKey, new: Ed25519PrivateKey) -> None:
    payload = {
        "new_public_key": public_key_openssh(new.public_key()),
        "new_fingerprint": fingerprint(new.public_key()),
    }
    append_record(path, RecordKind.KEY_ROTATION, payload, old)


def allowed_signers(path: Path, *keys: Ed25519PrivateKey) -> Path:
    lines = [f"officer@example.com {public_key_openssh(k.public_key())}\n" for k in keys]
    path.write_text("".join(lines), encoding="ascii")
    return path


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("bundle-world")
    data = root / "hostile.csv"
    write_hostile_csv(data)
    key_a, key_b, key_c = generate_key(), generate_key(), generate_key()
    ledger = root / "main"
    # Format-1 bundles, byte for byte (tests/ledger2/test_bundle_v2.py covers format 2's).
    init_ledger(ledger, name="main", format_version=1)
    append_record(ledger, RecordKind.AUDIT, audit_payload(data), key_a)
    append_record(ledger, RecordKind.AUDIT, audit_payload(data, policy=True), key_a)
    kept2 = (ledger / CHECKPOINT_FILE).read_bytes()
    fork = root / "fork"
    shutil.copytree(ledger, fork)
    rotate(ledger, key_a, key_b)
    kept3 = (ledger / CHECKPOINT_FILE).read_bytes()
    old_bundle = root / "old.zip"
    old_bundle.write_bytes(export_bundle(ledger, Selection(indexes=(0, 1))).data)
    third = append_record(ledger, RecordKind.AUDIT, audit_payload(data), key_b)
    approval = {"approves": {"index": third.index, "record_hash": third.record_hash}, "note": ""}
    append_record(ledger, RecordKind.APPROVAL, approval, key_b)
    fork3 = append_record(fork, RecordKind.AUDIT, audit_payload(data), key_a).signed_checkpoint
    for _ in range(2):
        append_record(fork, RecordKind.AUDIT, audit_payload(data), key_a)
    other = root / "other"
    init_ledger(other, name="other", format_version=1)
    for _ in range(2):
        append_record(other, RecordKind.AUDIT, audit_payload(data), key_c)
    bundle, plain, other_bundle = root / "all.zip", root / "plain.zip", root / "other.zip"
    kept3_path = root / "kept3"
    kept3_path.write_bytes(kept3)
    everything = Selection(everything=True)
    bundle.write_bytes(export_bundle(ledger, everything, consistent_with=kept3_path).data)
    plain.write_bytes(export_bundle(ledger, everything).data)
    other_bundle.write_bytes(export_bundle(other, everything).data)
    return World(
        ledger=ledger,
        other=other,
        fork=fork,
        data=data,
        key_a=key_a,
        key_b=key_b,
        key_c=key_c,
        trusted=allowed_signers(root / "allowed_signers", key_a),
        kept2=kept2,
        kept3=kept3,
        latest=(ledger / CHECKPOINT_FILE).read_bytes(),
        fork3=fork3,
        fork5=(fork / CHECKPOINT_FILE).read_bytes(),
        bundle=bundle,
        old_bundle=old_bundle,
        other_bundle=other_bundle,
        plain_bundle=plain,
    )
