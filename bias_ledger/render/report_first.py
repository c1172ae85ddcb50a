"""The first screen of an audit: the verdict, what was audited and by whom, and each rule's
verdict, failing rules first, with the groups at issue as a bounded list (standard library)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bias_ledger.ledger.key_records import computed_fingerprint
from bias_ledger.render.report_blocks import (
    Block,
    Callout,
    Table,
    bounded,
    group,
    text,
)

STATUS_ORDER = ("fail", "warn", "insufficient_data", "inconclusive", "pass", "not_applicable")
STATUS_WORDS = {
    "fail": "FAIL",
    "warn": "WARN (not blocking)",
    "insufficient_data": "INSUFFICIENT DATA (not judged)",
    "inconclusive": "INCONCLUSIVE (the interval straddles the bound)",
    "pass": "pass",
    "not_applicable": "not applicable",
}
TONES = {"fail": "fail", "warn": "warn", "insufficient_data": "warn", "inconclusive": "warn"}
AT_ISSUE = frozenset({"fail", "warn", "insufficient_data", "inconclusive"})


def _rank(status: str) -> int:
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else len(STATUS_ORDER)


def _scope(outcome: Mapping[str, Any]) -> str:
    features = " x ".join(text(f) for f in outcome.get("features", ()))
    names = outcome.get("group")
    return features if names is None else f"{features} = {group(names)}"


def _short(item: Any) -> str:
    return f"{item:g}" if isinstance(item, int | float) and not isinstance(item, bool) else "-"


def _count(item: Any) -> str:
    return f"{item:,}" if isinstance(item, int) and not isinstance(item, bool) else text(item)


def _bound(outcome: Mapping[str, Any]) -> str:
    if outcome.get("check") == "regression":
        return f"worsening <= {_short(outcome.get('max_worsening'))}"
    parts = []
    if outcome.get("min") is not None:
        parts.append(f">= {_short(outcome['min'])}")
    if outcome.get("max") is not None:
        parts.append(f"<= {_short(outcome['max'])}")
    return " and ".join(parts) or "-"


def rule_rows(policy: Mapping[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    """One row per rule: (status, cells), worst status first, in policy order otherwise."""
    by_rule: dict[str, list[Mapping[str, Any]]] = {}
    for outcome in policy.get("outcomes", ()):
        if isinstance(outcome, Mapping):
            by_rule.setdefault(text(outcome.get("rule")), []).append(outcome)
    rows = []
    for rule, outcomes in by_rule.items():
        status = min((text(o.get("status")) for o in outcomes), key=_rank)
        tally: dict[str, int] = {}
        for o in outcomes:
            tally[text(o.get("status"))] = tally.get(text(o.get("status")), 0) + 1
        counts = ", ".join(
            f"{tally[s]} {s.replace('_', ' ')}" for s in sorted(tally, key=_rank) if tally[s]
        )
        issues = [
            f"{_scope(o)}: {text(o.get('status')).replace('_', ' ')}"
            for o in sorted(outcomes, key=lambda o: _rank(text(o.get("status"))))
            if text(o.get("status")) in AT_ISSUE
        ]
        quantity = text(outcomes[0].get("metric"))
        if outcomes[0].get("disparity_kind"):
            quantity += f" {text(outcomes[0]['disparity_kind'])}"
        cells = (
            rule,
            STATUS_WORDS.get(status, status),
            f"{quantity} {_bound(outcomes[0])}",
            counts,
            bounded(issues, 6) or "none",
        )
        rows.append((status, cells))
    return sorted(rows, key=lambda row: _rank(row[0]))


def verdict_callout(policy: Mapping[str, Any] | None, below: Sequence[str]) -> Callout:
    """The audit's verdict as one box, never "pass" for what was not judged."""
    if not isinstance(policy, Mapping):
        found = (
            f"Impact ratio below 0.8 (four-fifths rule): {bounded(list(below))}."
            if below
            else "No group's impact ratio is below 0.8."
        )
        return Callout(
            "warn" if below else "info", "No policy judged this audit: no verdict", (found,)
        )
    meta = policy.get("policy", {})
    name = text(meta.get("name")) if isinstance(meta, Mapping) else "-"
    verdict = text(policy.get("verdict"))
    counts = policy.get("counts", {})
    rows = rule_rows(policy)
    failing = [cells[0] for status, cells in rows if status == "fail"]
    lines = [
        f"{len(failing)} of {len(rows)} rule(s) fail: {bounded(failing)}."
        if failing
        else f"No rule of the {len(rows)} fails."
    ]
    for status in ("warn", "insufficient_data", "inconclusive"):
        count = counts.get(status, 0) if isinstance(counts, Mapping) else 0
        if count:
            lines.append(f"{count} check(s) {STATUS_WORDS[status]}: not a pass.")
    tone = "fail" if verdict == "fail" else "warn" if len(lines) > 1 else "pass"
    return Callout(tone, f"Policy {name}: {verdict.upper()}", tuple(lines))


def facts_table(record: Mapping[str, Any], record_hash: str) -> Table:
    """Model and version, date, signer, and the digests of every input."""
    payload = record.get("audit", {})
    subject = payload.get("subject", {}) if isinstance(payload, Mapping) else {}
    model = " ".join(
        text(p) for p in (subject.get("model_name"), subject.get("model_version")) if p
    )
    signer = record.get("signer", {})
    rows = [
        ("model and version", model or "(unnamed)"),
        ("date (UTC)", text(record.get("timestamp"))),
        # Computed from the key that signed (the one trust follows), not the fingerprint field.
        (
            "signed by",
            computed_fingerprint(signer.get("public_key")) if isinstance(signer, Mapping) else "-",
        ),
        ("record hash (BLAKE3)", record_hash),
    ]
    artifact = subject.get("artifact")
    if isinstance(artifact, Mapping):
        rows.append(
            ("model file", f"{text(artifact.get('name'))}, BLAKE3 {text(artifact.get('blake3'))}")
        )
    inputs = payload.get("inputs", ()) if isinstance(payload, Mapping) else ()
    rows.extend(
        (
            f"{text(item.get('role'))} file",
            f"{text(item.get('name'))}: {_count(item.get('rows'))} rows, "
            f"{_count(item.get('size'))} bytes, BLAKE3 {text(item.get('blake3'))}, "
            + (f"SHA-256 {text(item['sha256'])}" if item.get("sha256") else "SHA-256 not recorded"),
        )
        for item in inputs
    )
    return Table(("", ""), tuple(rows))


def rules_table(policy: Mapping[str, Any]) -> list[Block]:
    rows = rule_rows(policy)
    if not rows:
        return []
    return [
        Table(
            ("rule", "verdict", "checks", "outcomes", "at issue"),
            tuple(cells for _, cells in rows),
            tuple(TONES.get(status, "") for status, _ in rows),
        )
    ]
