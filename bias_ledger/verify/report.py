"""``verify --report FILE``: the verification report a compliance officer files.

Built from the structured result (:class:`Verification` or :class:`VerificationFailed`) and the
recompute outcome, never from terminal text. One JSON document (schema in docs/FORMAT.md,
"Verification report"), rendered as JSON, Markdown or self-contained HTML by the file's
extension. Standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bias_ledger.verify.result import Verification, VerificationFailed

SCHEMA = "bias-ledger-verification-report"
SCHEMA_VERSION = 1
FORMATS = (".json", ".md", ".html")


@dataclass(frozen=True)
class Context:
    """Who ran the verification, when and how."""

    tool_version: str
    command_line: tuple[str, ...]
    time: datetime
    trust_source: str = ""
    """The trusted keys file or fingerprints given, for a failure before trust was checked."""
    since: str | None = None
    """The kept checkpoint given with --since."""
    witnesses: str | None = None
    """The witness policy file given with --witnesses."""


def document(
    outcome: Verification | VerificationFailed,
    context: Context,
    *,
    recompute: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """The report as JSON; ``error`` overrides the failure message (e.g. a recompute's)."""
    failed = isinstance(outcome, VerificationFailed) or error is not None
    checks = [check.to_json() for check in outcome.checks]
    since = next((c for c in checks if c["what"] == "since"), None)
    quorum = next((c for c in checks if c["what"] == "witnesses"), None)
    verified: dict[str, Any] = {"kind": outcome.kind, "source": outcome.source}
    if isinstance(outcome, Verification):
        verified.update(origin=outcome.origin, size=outcome.size)
        if outcome.format_version is not None:
            verified["format_version"] = outcome.format_version
        if outcome.kind == "bundle":  # a ledger's records are all of 0..size-1
            verified["records"] = list(outcome.indexes)
        keys = [key.to_json() for key in outcome.trusted_keys]
        checkpoint = None if outcome.checkpoint is None else outcome.checkpoint.to_json()
        signers = [{"fingerprint": fp, "principals": who} for fp, who in outcome.signers]
        cosignatures = list(outcome.cosignatures)
        warnings = list(outcome.warnings)
    else:
        keys, checkpoint, cosignatures, warnings = [], None, [], []
        signers = [{"fingerprint": fp, "principals": ""} for fp in outcome.signers]
        partial = outcome.report
        if partial is not None and partial.checkpoint is not None:  # failed after these held
            verified.update(origin=partial.origin, size=partial.size)
            if partial.format_version is not None:
                verified["format_version"] = partial.format_version
            checkpoint = partial.checkpoint.to_json()
            cosignatures = list(partial.cosignatures)
            warnings = list(partial.warnings)
    message = error if error is not None else getattr(outcome, "message", None)
    trust_source = context.trust_source
    if isinstance(outcome, Verification) and outcome.trust_source:
        trust_source = outcome.trust_source  # e.g. --trust-ledger-keys, decided by the core
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "result": "invalid" if failed else "valid",
        "error": message if failed else None,
        "verified": verified,
        "trusted_keys": {"source": trust_source, "keys": keys},
        "checkpoint": checkpoint,
        "cosignatures": cosignatures,
        "signers": signers,
        "since": None
        if context.since is None
        else {"kept": context.since, "result": since["status"] if since else "not reached"},
        "witnesses": None
        if context.witnesses is None
        else {
            "policy": context.witnesses,
            "result": quorum["status"] if quorum else "not reached",
            "detail": quorum["detail"] if quorum else "",
        },
        "recompute": None if recompute is None else dict(recompute),
        "checks": checks,
        "warnings": warnings,
        "tool": {"name": "bias-ledger", "version": context.tool_version},
        "time": context.time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "command_line": list(context.command_line),
    }


def _recompute_lines(recompute: Mapping[str, Any]) -> list[str]:
    lines = []
    for record in recompute.get("records", ()):
        state = "recomputed" if record["recomputed"] else "skipped"
        mismatches = record.get("mismatches") or []
        lines.append(
            f"record {record['index']}: {state}"
            + (f", {len(mismatches)} value(s) differ" if mismatches else "")
            + (f"; {record['verdict']}" if record.get("verdict") else "")
        )
        lines += [
            f"  {item['role']}: {item['given']} blake3 {item['given_blake3']} "
            f"({'matches' if item['matches'] else 'differs from'} the recorded "
            f"{item['recorded_name']!r} blake3 {item['recorded_blake3']})"
            for item in record.get("inputs", ())
        ]
        lines += [
            f"  {m['path']}: recorded {m['recorded']!r}, recomputed {m['recomputed']!r}"
            for m in mismatches[:20]
        ]
    return lines


def _records(verified: Mapping[str, Any]) -> str:
    if "records" in verified:
        return ", ".join(map(str, verified["records"]))
    if "size" in verified:
        return f"all {verified['size']} (0..{verified['size'] - 1})"
    return "not reached"


def _cosignatures(items: Sequence[Mapping[str, Any]]) -> str:
    """Each cosignature: the witness, its key, the outcome and the time it states."""
    if not items:
        return "none"
    shown = []
    for item in items:
        when = item.get("timestamp")
        stamp = (
            f", at {datetime.fromtimestamp(when, UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"
            if isinstance(when, int)
            else ""
        )
        shown.append(f"{item['witness']} (key {item['key']}): {item['status']}{stamp}")
    return "; ".join(shown)


def _facts(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    verified = doc["verified"]
    keys = doc["trusted_keys"]["keys"]
    checkpoint = doc["checkpoint"]
    facts = [
        ("Result", doc["result"].upper() + (f": {doc['error']}" if doc["error"] else "")),
        (
            "Verified",
            f"{verified['kind']} {verified['source']}"
            + (f" (format {verified['format_version']})" if "format_version" in verified else ""),
        ),
        ("Origin", str(verified.get("origin", "not reached"))),
        ("Records", _records(verified)),
        (
            "Checkpoint",
            "not reached"
            if checkpoint is None
            else f"size {checkpoint['size']}, root {checkpoint['root_hash']}",
        ),
        ("Witness cosignatures", _cosignatures(doc["cosignatures"])),
        (
            "Witness quorum",
            "not asked"
            if doc.get("witnesses") is None
            else f"{doc['witnesses']['policy']}: {doc['witnesses']['result']}"
            + (f" ({doc['witnesses']['detail']})" if doc["witnesses"]["detail"] else ""),
        ),
        ("Trust anchor", doc["trusted_keys"]["source"] or "none given"),
        (
            "Trusted keys",
            "; ".join(
                f"{k['fingerprint']} ({k['principals'] or 'no principal'}, from {k['from']})"
                for k in keys
            )
            or "none",
        ),
        (
            "Since",
            "not asked"
            if doc["since"] is None
            else f"{doc['since']['kept']}: {doc['since']['result']}",
        ),
        ("Tool", f"bias-ledger {doc['tool']['version']}"),
        ("Time", doc["time"]),
        ("Command line", " ".join(doc["command_line"])),
    ]
    return facts


def render_json(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _md(text: str) -> str:
    """Markdown-safe inline text: every punctuation character that Markdown reads escaped."""
    return "".join(
        "\\" + char if char in "\\`*_[]<>|~&!" else char for char in " ".join(str(text).split())
    )


def render_markdown(doc: Mapping[str, Any]) -> str:
    lines = ["# bias-ledger verification report", ""]
    lines += [f"- **{name}**: {_md(value)}" for name, value in _facts(doc)]
    lines += ["", "## Checks", "", "| check | result | detail | against |", "|---|---|---|---|"]
    for check in doc["checks"]:
        cells = [check["what"], check["status"], check["detail"], check["against"]]
        lines.append("| " + " | ".join(_md(cell) for cell in cells) + " |")
    if doc["recompute"] is not None:
        lines += ["", "## Recompute", ""]
        lines += [f"- {_md(line.strip())}" for line in _recompute_lines(doc["recompute"])]
    if doc["warnings"]:
        lines += ["", "## Warnings", ""] + [f"- {_md(w)}" for w in doc["warnings"]]
    return "\n".join(lines) + "\n"


def _rows(cells: Sequence[Sequence[str]]) -> str:
    from html import escape

    return "".join(
        "<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>\n"
        for row in cells
    )


def _list(title: str, lines: Sequence[str]) -> str:
    from html import escape

    items = "".join(f"<li>{escape(line.strip())}</li>\n" for line in lines)
    return f"<h2>{escape(title)}</h2>\n<ul>\n{items}</ul>\n"


_STYLE = (
    "body{font:14px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "color:#111}table{border-collapse:collapse;width:100%;margin:1rem 0}"
    "td,th{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top;"
    "overflow-wrap:anywhere}th{background:#eee}.valid{color:#064}.invalid{color:#a00}"
    "td:first-child,th,.checks td:nth-child(2){white-space:nowrap;overflow-wrap:normal}"
    ".checks td:nth-child(2){font-weight:bold}"
    "li{overflow-wrap:anywhere}@media print{body{margin:0}}"
)


def render_html(doc: Mapping[str, Any]) -> str:
    """Self-contained: no script, no external request; the CSP allows only this stylesheet."""
    import base64
    import hashlib
    from html import escape

    style_hash = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
    csp = (
        f"default-src 'none'; style-src 'sha256-{style_hash}'; base-uri 'none'; form-action 'none'"
    )
    verdict = escape(doc["result"].upper())
    checks = [[c["what"], c["status"], c["detail"], c["against"]] for c in doc["checks"]]
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n',
        f'<meta http-equiv="Content-Security-Policy" content="{escape(csp)}">\n',
        "<title>bias-ledger verification report</title>\n",
        f"<style>{_STYLE}</style></head><body>\n",
        f'<h1>Verification report: <span class="{escape(doc["result"])}">{verdict}</span></h1>\n',
        "<table>\n",
        _rows(_facts(doc)),
        '</table>\n<h2>Checks</h2>\n<table class="checks">\n',
        "<tr><th>check</th><th>result</th><th>detail</th><th>against</th></tr>\n",
        _rows(checks),
        "</table>\n",
    ]
    if doc["recompute"] is not None:
        parts.append(_list("Recompute", _recompute_lines(doc["recompute"])))
    if doc["warnings"]:
        parts.append(_list("Warnings", doc["warnings"]))
    parts.append("</body></html>\n")
    return "".join(parts)


def render(doc: Mapping[str, Any], suffix: str) -> str:
    """The report in the format its file extension names (one of :data:`FORMATS`)."""
    renderers = {".json": render_json, ".md": render_markdown, ".html": render_html}
    return renderers[suffix](doc)
