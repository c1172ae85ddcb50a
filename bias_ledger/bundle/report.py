"""The bundle report, built from the records' JSON as blocks (standard library only).

Both ``report.md`` and ``report.html`` render these blocks; the verifier rebuilds them from the
records and compares bytes, so everything here is a pure, deterministic function of the bundle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bias_ledger.bundle.report_audit import audit_blocks, policy_blocks
from bias_ledger.bundle.report_blocks import (
    Block,
    Bullets,
    Code,
    Heading,
    Paragraph,
    ReportData,
    ReportRecord,
    Table,
    group,
    text,
)
from bias_ledger.ledger.key_records import computed_fingerprint

__all__ = [
    "Block",
    "Bullets",
    "Code",
    "Heading",
    "Paragraph",
    "ReportData",
    "ReportRecord",
    "Table",
    "build_report",
]


def _subject(record: Mapping[str, Any]) -> str:
    payload = record.get(str(record.get("kind")), {})
    subject = payload.get("subject") if isinstance(payload, Mapping) else None
    if not isinstance(subject, Mapping):
        return "-"
    parts = [subject.get("model_name"), subject.get("model_version")]
    return " ".join(text(p) for p in parts if p) or "-"


def _verdict(record: Mapping[str, Any]) -> str:
    payload = record.get(str(record.get("kind")), {})
    policy = payload.get("policy") if isinstance(payload, Mapping) else None
    return text(policy.get("verdict", "-")) if isinstance(policy, Mapping) else "-"


def _below(record: Mapping[str, Any]) -> str:
    payload = record.get("audit")
    if not isinstance(payload, Mapping):
        return "-"
    flagged = [
        f"{' x '.join(text(f) for f in feature.get('features', ()))}: {group(i.get('group'))}"
        for feature in payload.get("results", {}).get("features", ())
        for i in feature.get("impact_ratios", ())
        if i.get("below_four_fifths") is True
    ]
    return "; ".join(flagged) or "none"


def record_blocks(item: ReportRecord) -> list[Block]:
    record = item.record
    kind = text(record.get("kind"))
    signer = record.get("signer", {})
    blocks: list[Block] = [
        Heading(3, f"Record {item.index}: {kind} of {_subject(record)}"),
        Bullets(
            (
                f"time (UTC): {text(record.get('timestamp'))}",
                f"record hash (BLAKE3): {item.record_hash}",
                f"signed by: {text(signer.get('fingerprint'))}",
                *(f"label {text(k)}: {text(v)}" for k, v in record.get("labels", {}).items()),
            )
        ),
    ]
    payload = record.get(kind, {})
    if kind == "audit":
        blocks.extend(audit_blocks(payload))
    elif kind == "approval":
        target = payload.get("approves", {})
        blocks.append(
            Paragraph(
                f"Approves record {text(target.get('index'))} (hash "
                f"{text(target.get('record_hash'))}). Note: {text(payload.get('note') or '-')}"
            )
        )
    elif kind == "key_rotation":
        # The fingerprint of the key itself: trust follows the key, not the field.
        introduced = computed_fingerprint(payload.get("new_public_key"))
        blocks.append(Paragraph(f"Introduces key {text(introduced)}."))
    elif kind == "gate":
        judged = payload.get("judges", {})
        blocks.append(Paragraph(f"Gate decision on record {text(judged.get('index'))}."))
        if payload.get("policy"):
            blocks.extend(policy_blocks(payload["policy"]))
    return blocks


def verify_commands(data: ReportData) -> str:
    first = data.records[0]
    signer = text(first.record.get("signer", {}).get("fingerprint"))
    return "\n".join(
        [
            "# with bias-ledger (trust comes from YOUR allowed_signers file, not the bundle):",
            "bias-ledger verify BUNDLE.zip --trusted-keys allowed_signers",
            "bias-ledger verify BUNDLE.zip --trusted-keys allowed_signers \\",
            "    --recompute --data DATA_FILE [--predictions PREDICTIONS_FILE]",
            "# by hand (docs/VERIFY_BY_HAND.md):",
            "unzip BUNDLE.zip -d bundle && cd bundle",
            f"b3sum records/{first.index}.json   # expect {first.record_hash}",
            f"ssh-keygen -Y verify -f allowed_signers -I {signer} -n bias-ledger \\",
            f"    -s records/{first.index}.sig < records/{first.index}.json",
            f"ssh-keygen -Y verify -f allowed_signers -I {data.checkpoint_signer} \\",
            "    -n bias-ledger -s checkpoint.sig < checkpoint.body",
        ]
    )


def build_report(data: ReportData) -> list[Block]:
    """The whole report: summary, each record, provenance, and how to verify it."""
    indexes = ", ".join(str(item.index) for item in data.records)
    blocks: list[Block] = [
        Heading(1, "bias-ledger audit bundle"),
        Paragraph(
            f"Ledger {text(data.origin)}: records {indexes}, each proven included in the "
            f"signed checkpoint that covers the first {data.checkpoint_size} record(s)."
        ),
        Heading(2, "Summary"),
        Table(
            ("record", "time (UTC)", "kind", "model", "verdict", "below four-fifths"),
            tuple(
                (
                    str(item.index),
                    text(item.record.get("timestamp")),
                    text(item.record.get("kind")),
                    _subject(item.record),
                    _verdict(item.record),
                    _below(item.record),
                )
                for item in data.records
            ),
        ),
        Heading(2, "Records"),
    ]
    for item in data.records:
        try:
            blocks.extend(record_blocks(item))
        except (AttributeError, KeyError, TypeError, ValueError):
            # A signed record of a shape this version cannot summarise: say so, never crash.
            blocks.append(
                Paragraph(
                    f"Record {item.index}: not summarised here; read records/{item.index}.json"
                )
            )
    blocks += [
        Heading(2, "Provenance"),
        Bullets(
            (
                f"checkpoint: origin {text(data.origin)}, tree size {data.checkpoint_size}, "
                f"root hash {data.checkpoint_root}",
                f"checkpoint signed by: {data.checkpoint_signer}",
            )
        ),
        Table(("signer fingerprint", "public key"), tuple(data.signers)),
        Paragraph("Keys in the bundle are listed for reference and are never trusted."),
        Heading(2, "How to verify this bundle"),
        Code(verify_commands(data)),
    ]
    return blocks
