"""The bundle report, built from the records' JSON as blocks (standard library only).

Both ``report.md`` and ``report.html`` render these blocks; the verifier rebuilds them from the
records and compares bytes, so everything here is a pure, deterministic function of the bundle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bias_ledger.ledger.key_records import computed_fingerprint
from bias_ledger.render.report_audit import audit_blocks, below_four_fifths, policy_blocks
from bias_ledger.render.report_blocks import (
    Block,
    Bullets,
    Callout,
    Code,
    Figure,
    Heading,
    PageBreak,
    Paragraph,
    ReportData,
    ReportRecord,
    Table,
    bounded,
    text,
)

__all__ = [
    "Block",
    "Bullets",
    "Callout",
    "Code",
    "Figure",
    "Heading",
    "PageBreak",
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
    return bounded(below_four_fifths(payload.get("results", {})), 4) or "none"


def _labels(record: Mapping[str, Any]) -> list[Block]:
    labels = record.get("labels", {})
    if not isinstance(labels, Mapping) or not labels:
        return []
    return [Bullets(tuple(f"label {text(k)}: {text(v)}" for k, v in labels.items()))]


def record_blocks(item: ReportRecord) -> list[Block]:
    record = item.record
    kind = text(record.get("kind"))
    heading = Heading(2, f"Record {item.index}: {kind} of {_subject(record)}")
    payload = record.get(kind, {})
    if kind == "audit":
        return [heading, *audit_blocks(item, f"r{item.index}"), *_labels(record)]
    signer = record.get("signer", {})
    blocks: list[Block] = [
        heading,
        Bullets(
            (
                f"time (UTC): {text(record.get('timestamp'))}",
                f"record hash (BLAKE3): {item.record_hash}",
                f"signed by: {text(signer.get('fingerprint'))}",
            )
        ),
        *_labels(record),
    ]
    if kind == "approval":
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
    """Commands that check this report's records; by hand with ``ssh-keygen`` and ``b3sum``.

    ``allowed_signers`` is the reader's own file, made as the README says (``principal key``),
    so the signer's principal is looked up in it (``find-principals``), never assumed.
    """
    first = data.records[0]
    n = first.index
    if data.ledger:
        return "\n".join(
            [
                "# with bias-ledger (trust comes from YOUR allowed_signers file):",
                "bias-ledger verify --trusted-keys allowed_signers",
                f"bias-ledger show {n} --json   # the record and its signature",
                f"bias-ledger export -o bundle.zip {n}   # a bundle to verify offline",
            ]
        )
    return "\n".join(
        [
            "# with bias-ledger (trust comes from YOUR allowed_signers file, not the bundle):",
            "bias-ledger verify BUNDLE.zip --trusted-keys allowed_signers",
            "bias-ledger verify BUNDLE.zip --trusted-keys allowed_signers \\",
            "    --recompute --data DATA_FILE [--predictions PREDICTIONS_FILE]",
            "# by hand (docs/VERIFY_BY_HAND.md), in the directory of YOUR allowed_signers:",
            "unzip BUNDLE.zip -d bundle",
            f"b3sum bundle/records/{n}.json   # expect {first.record_hash}",
            f"signer=$(ssh-keygen -Y find-principals -f allowed_signers -s bundle/records/{n}.sig)",
            'ssh-keygen -Y verify -f allowed_signers -I "$signer" -n bias-ledger \\',
            f"    -s bundle/records/{n}.sig < bundle/records/{n}.json",
            "signer=$(ssh-keygen -Y find-principals -f allowed_signers -s bundle/checkpoint.sig)",
            'ssh-keygen -Y verify -f allowed_signers -I "$signer" -n bias-ledger \\',
            "    -s bundle/checkpoint.sig < bundle/checkpoint.body",
        ]
    )


def _records_table(data: ReportData) -> Table:
    return Table(
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
    )


def build_report(data: ReportData) -> list[Block]:
    """The whole report: each record (its verdict first), provenance, and how to verify it."""
    indexes = ", ".join(str(item.index) for item in data.records)
    where = "ledger" if data.ledger else "bundle"
    blocks: list[Block] = [
        Heading(
            1,
            f"Fairness audit report: {_subject(data.records[0].record)}"
            if len(data.records) == 1
            else "Fairness audit report (bias-ledger bundle)",
        ),
        Paragraph(
            f"From the {where} of {text(data.origin)}: record(s) {indexes}, each included in "
            f"the signed checkpoint that covers the first {data.checkpoint_size} record(s)."
            + (f" This report was made after they were {data.verified}." if data.verified else "")
        ),
    ]
    if len(data.records) > 1:
        blocks += [Heading(2, "Summary"), _records_table(data)]
    for position, item in enumerate(data.records):
        if position or len(data.records) > 1:
            blocks.append(PageBreak())
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
        PageBreak(),
        Heading(2, "Provenance"),
        Bullets(
            (
                f"checkpoint: origin {text(data.origin)}, tree size {data.checkpoint_size}, "
                f"root hash {data.checkpoint_root}",
                f"checkpoint signed by: {data.checkpoint_signer}",
            )
        ),
        Table(("signer fingerprint", "public key"), tuple(data.signers)),
        Paragraph(f"Keys in the {where} are listed for reference and are never trusted."),
        Heading(2, f"How to verify this {where}"),
        Code(verify_commands(data)),
    ]
    return blocks
