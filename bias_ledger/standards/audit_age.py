"""How old the latest audit of a model is, from the ledger: what ``max_age_days`` rules judge.

LL144 (6 RCNY § 5-303; Admin. Code § 20-871) lets an employer use a tool only within a year of
its latest bias audit. The audit's date is its declared date (LL144 audits) or, for other
audits, the time its record was written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bias_ledger.errors import InputError
from bias_ledger.policy.model import AuditAge, Policy, TargetKind

SECONDS_PER_DAY = 86400.0


def needs_audit_age(policy: Policy) -> bool:
    return any(rule.target is TargetKind.AUDIT_AGE for rule in policy.rules)


def fresh_audit_age(now: datetime | None = None) -> AuditAge:
    """The audit being made now is the model's latest: zero days old."""
    moment = now or datetime.now(UTC)
    return AuditAge(0.0, moment.date().isoformat(), None)


def declared_audit_age(audit_date: str, now: datetime | None = None) -> AuditAge:
    """The audit being made, dated as declared (an LL144 audit may be recorded after it)."""
    moment = datetime.fromisoformat(audit_date).replace(tzinfo=UTC)
    elapsed = ((now or datetime.now(UTC)) - moment).total_seconds() / SECONDS_PER_DAY
    return AuditAge(max(elapsed, 0.0), audit_date, None)


def _same_model(subject: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    if subject.get("model_name"):
        return bool(other.get("model_name") == subject["model_name"])
    mine, theirs = subject.get("artifact") or {}, other.get("artifact") or {}
    return bool(mine.get("blake3")) and mine.get("blake3") == theirs.get("blake3")


def _audit_moment(record: Mapping[str, Any]) -> tuple[datetime, str]:
    declared = (record["audit"].get("declaration") or {}).get("audit_date")
    if isinstance(declared, str):
        return datetime.fromisoformat(declared).replace(tzinfo=UTC), declared
    stamp = datetime.fromisoformat(str(record["timestamp"]).replace("Z", "+00:00"))
    return stamp, stamp.date().isoformat()


def latest_audit_age(
    records: Sequence[Mapping[str, Any]],
    subject: Mapping[str, Any],
    *,
    where: str,
    now: datetime | None = None,
) -> AuditAge:
    """The age of the latest audit among ``records`` (verified, as JSON) of the model that
    ``subject`` names."""
    if not subject.get("model_name") and not (subject.get("artifact") or {}).get("blake3"):
        raise InputError(
            "max_age_days needs to know the model: audit with --model-name or --model FILE"
        )
    latest: Mapping[str, Any] | None = None
    for record in records:
        if record.get("kind") != "audit":
            continue
        if _same_model(subject, record["audit"].get("subject") or {}):
            latest = record
    if latest is None:
        raise InputError(f"{where}: no trusted audit record of this model to judge max_age_days by")
    moment, shown = _audit_moment(latest)
    elapsed = ((now or datetime.now(UTC)) - moment).total_seconds() / SECONDS_PER_DAY
    return AuditAge(max(elapsed, 0.0), shown, int(latest["index"]))
