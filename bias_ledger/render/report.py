"""The bundle report, built from the records' JSON as blocks (standard library only).

Both ``report.md`` and ``report.html`` render these blocks, produced one record at a time (a
report of any size is written holding one record and the summary rows). Everything here is a
pure, deterministic function of the records; the reports are informative, not evidence.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from bias_ledger.ledger.key_records import computed_fingerprint
from bias_ledger.render.report_audit import audit_blocks, policy_blocks
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
    text,
)
from bias_ledger.render.report_outline import (
    Outline,
    charts_paragraph,
    no_charts_line,
    outline,
    subject,
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
    "report_blocks",
]


def _labels(record: Mapping[str, Any]) -> list[Block]:
    labels = record.get("labels", {})
    if not isinstance(labels, Mapping) or not labels:
        return []
    return [Bullets(tuple(f"label {text(k)}: {text(v)}" for k, v in labels.items()))]


def record_blocks(item: ReportRecord, found: Outline | None = None) -> list[Block]:
    """One record's section; an audit ``found`` does not chart gets a one-line summary."""
    record = item.record
    kind = text(record.get("kind"))
    heading = Heading(2, f"Record {item.index}: {kind} of {subject(record)}")
    payload = record.get(kind, {})
    if kind == "audit":
        charts = found is None or item.index in found.charted
        line = () if charts or found is None else (Paragraph(no_charts_line(found, record)),)
        audit = audit_blocks(item, f"r{item.index}", charts=charts)
        return [heading, *audit[:1], *line, *audit[1:], *_labels(record)]
    signer = record.get("signer", {})
    blocks: list[Block] = [
        heading,
        Bullets(
            (
                f"time (UTC): {text(record.get('timestamp'))}",
                f"record hash (BLAKE3): {item.record_hash}",
                f"signed by: {text(computed_fingerprint(signer.get('public_key')))}",
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


def verify_commands(data: ReportData, found: Outline) -> str:
    """Commands that check this report's records; by hand with ``ssh-keygen`` and ``b3sum``.

    ``allowed_signers`` is the reader's own file, made as the README says (``principal key``),
    so the signer's principal is looked up in it (``find-principals``), never assumed.
    """
    n = found.first_index
    if data.ledger:
        return "\n".join(
            [
                "# with bias-ledger (trust comes from YOUR allowed_signers file):",
                "bias-ledger verify --trusted-keys allowed_signers",
                f"bias-ledger show {n} --json   # the record and its signature",
                f"bias-ledger export -o bundle.zip {n}   # a bundle to verify offline",
            ]
        )
    name = f"BUNDLE.{data.archive}"
    extract = (
        f"mkdir bundle && tar -xf {name} -C bundle"
        if data.archive == "tar"
        else f"unzip {name} -d bundle"
    )
    note = _CHECKPOINT_NOTE_TAR if data.archive == "tar" else _CHECKPOINT_NOTE
    return "\n".join(
        [
            "# with bias-ledger (trust comes from YOUR allowed_signers file, not the bundle):",
            f"bias-ledger verify {name} --trusted-keys allowed_signers",
            f"bias-ledger verify {name} --trusted-keys allowed_signers \\",
            "    --recompute --data DATA_FILE [--predictions PREDICTIONS_FILE]",
            "# by hand (docs/VERIFY_BY_HAND.md), in the directory of YOUR allowed_signers:",
            extract,
            f"b3sum bundle/records/{n}.json   # expect {found.first_hash}",
            f"signer=$(ssh-keygen -Y find-principals -f allowed_signers -s bundle/records/{n}.sig)",
            'ssh-keygen -Y verify -f allowed_signers -I "$signer" -n bias-ledger \\',
            f"    -s bundle/records/{n}.sig < bundle/records/{n}.json",
            *(note if found.first_format == 2 else _CHECKPOINT_SIG),
        ]
    )


_CHECKPOINT_SIG = (
    "signer=$(ssh-keygen -Y find-principals -f allowed_signers -s bundle/checkpoint.sig)",
    'ssh-keygen -Y verify -f allowed_signers -I "$signer" -n bias-ledger \\',
    "    -s bundle/checkpoint.sig < bundle/checkpoint.body",
)
_CHECKPOINT_NOTE = (  # format 2: the checkpoint is a C2SP signed note, checked with OpenSSL
    "# the checkpoint (a signed note): docs/VERIFY_BY_HAND.md section 9, steps 4 to 6",
)
_CHECKPOINT_NOTE_TAR = (  # bundle version 3: proofs, checkpoint and layout by hand
    "# the checkpoint, the proofs and the layout: docs/VERIFY_BY_HAND.md section 10",
)


def _records_table(found: Outline) -> Table:
    return Table(
        ("record", "time (UTC)", "kind", "model", "verdict", "below four-fifths", "charts"),
        found.rows,
    )


def report_blocks(data: ReportData) -> Iterator[Block]:
    """The whole report, block by block: each record (its verdict first), provenance, and how
    to verify it. Reads ``data.records`` twice (the summary, then the records)."""
    found = outline(data)
    try:
        where = "ledger" if data.ledger else "bundle"
        yield Heading(
            1,
            f"Fairness audit report: {found.first_subject}"
            if found.count == 1
            else "Fairness audit report (bias-ledger bundle)",
        )
        yield Paragraph(
            f"From the {where} of {text(data.origin)}: record(s) {found.indexes}, each included in "
            f"the signed checkpoint that covers the first {data.checkpoint_size} record(s)."
            + (f" This report was made after they were {data.verified}." if data.verified else "")
        )
        if found.count > 1:
            yield Heading(2, "Summary")
            yield Paragraph(f"{found.count} records. " + charts_paragraph(found))
            yield _records_table(found)
        for item in data.records():
            if not found.has_section(item.index):
                continue  # a large report: the summary row is this record's whole entry
            if found.count > 1:
                yield PageBreak()
            try:
                blocks = record_blocks(item, found)
            except (AttributeError, KeyError, TypeError, ValueError):
                # A signed record of a shape this version cannot summarise: say so, never crash.
                blocks = [
                    Paragraph(
                        f"Record {item.index}: not summarised here; read records/{item.index}.json"
                    )
                ]
            yield from blocks
        yield from (
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
            Code(verify_commands(data, found)),
        )

    finally:
        found.close()  # the summary rows' temporary file


def build_report(data: ReportData) -> list[Block]:
    """The whole report as a list (a report of few records); the summary's rows are read
    into the list while its temporary file exists."""
    return [
        replace(block, rows=tuple(block.rows)) if isinstance(block, Table) else block
        for block in report_blocks(data)
    ]
