"""The gate: judge an audit (new, or a record of the ledger) against a policy, and record it.

The order is the contract: outputs are checked before any work, the ledger is verified before
a baseline or judged record is relied on (:mod:`bias_ledger.gate_trust`), an audit runs only
once they verified, and the verdict is appended only once every promised output is written.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bias_ledger.errors import InputError
from bias_ledger.gate_trust import TRUST_LEDGER_KEYS_WARNING, GateTrust, VerifiedLedger
from bias_ledger.ledger.trust import TrustedKeys

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bias_ledger._audit_model import AuditResult
    from bias_ledger.baselines import Baseline
    from bias_ledger.ledger.store import Appended
    from bias_ledger.metrics.model import MetricResults
    from bias_ledger.policy import Policy, PolicyReport


def _ledger_options(
    since: Path | None, witnesses: Path | None, save_checkpoint: Path | None
) -> list[str]:
    named = (("--since", since), ("--witnesses", witnesses), ("--save-checkpoint", save_checkpoint))
    return [option for option, value in named if value is not None]


def _kept_outside(since: Path, ledger: Path | None) -> None:
    """Refuse a kept checkpoint read from inside a ledger: whoever can roll the ledger back
    can roll that file back with it, so it would vouch for nothing."""
    from bias_ledger.outputs import ledger_containing

    found = ledger_containing(since)
    if found is None and ledger is not None:
        resolved, configured = since.resolve(), ledger.resolve()
        if resolved == configured or configured in resolved.parents:
            found = configured
    if found is not None:
        raise InputError(
            f"--since {since}: the kept checkpoint is inside the ledger {found}, where whoever "
            "can roll the ledger back can replace it too; keep it outside the ledger (a CI "
            "cache or artifact) with --save-checkpoint FILE"
        )


def gate_trust(
    *,
    trusted: TrustedKeys | None = None,
    approved_by: TrustedKeys | None = None,
    trust_ledger_keys: bool = False,
    baseline: str | None = None,
    record: int | None = None,
    since: Path | None = None,
    witnesses: Path | None = None,
    save_checkpoint: Path | None = None,
    ledger: Path | None = None,
    warn: Callable[[str], None] | None = None,
) -> GateTrust:
    """The gate's trust anchors; an anchor with nothing to anchor is a usage error, and
    trusting the ledger's own keys is said through ``warn``. ``since`` (a checkpoint kept
    earlier, never from inside ``ledger`` or another ledger) and ``witnesses`` (a witness
    policy) are read here; ``save_checkpoint`` is only checked to have a ledger verification
    to save."""
    if approved_by is not None and not baseline:
        raise InputError("--approved-by names who may approve a baseline: give --baseline too")
    if (trusted is not None or trust_ledger_keys) and not baseline and record is None:
        option = "--trusted-keys" if trusted is not None else "--trust-ledger-keys"
        raise InputError(
            f"{option}: not applicable: the gate verifies the ledger only before it relies on "
            "a record of it (--record N, --baseline latest-approved|N|BUNDLE), and judging new "
            "data without --baseline relies on none; drop the option or give a baseline"
        )
    ledger_options = _ledger_options(since, witnesses, save_checkpoint)
    if ledger_options and record is None and not _uses_ledger(baseline):
        raise InputError(
            f"{ledger_options[0]}: not applicable: the gate verifies the ledger only before it "
            "relies on a record of it (--record N, --baseline latest-approved|N); a baseline "
            "bundle or new data without a baseline relies on none"
        )
    kept = policy = None
    if since is not None:
        from bias_ledger.workflows.verify import read_kept

        _kept_outside(since, ledger)
        kept = read_kept(since)
    if witnesses is not None:
        from bias_ledger.verify.log import Witnesses
        from bias_ledger.witness.policy import load_witness_policy

        policy = Witnesses(load_witness_policy(witnesses), str(witnesses))
    if trust_ledger_keys and warn is not None:
        warn(TRUST_LEDGER_KEYS_WARNING)
    return GateTrust(
        trusted=trusted,
        approvers=approved_by,
        trust_ledger_keys=trust_ledger_keys,
        kept=kept,
        witnesses=policy,
    )


@dataclass(frozen=True)
class GateDecision:
    """A verdict, before it is recorded: what was judged, against what, and the payload."""

    report: PolicyReport
    results: MetricResults | None
    """The judged numbers (None for an LL144 audit record holding its tables only)."""
    baseline: Baseline | None
    kind: str
    """The record kind the verdict is appended as: ``audit`` (a new audit) or ``gate``."""
    payload: Mapping[str, Any]
    checkpoint: bytes | None = field(default=None, repr=False)
    """The signed checkpoint of the ledger verified before a record of it was relied on (for
    ``--save-checkpoint``); None when the gate relied on no record of the ledger."""


@dataclass(frozen=True)
class GateResult:
    """The outcome of a gate: the verdict, its report, its baseline, and where it was recorded."""

    report: PolicyReport
    baseline: Mapping[str, Any] | None
    """Where the baseline came from (record, approval, bundle), as the record holds it."""
    recorded: Appended | None = field(default=None, repr=False)
    """The appended record; None with ``record=False``."""
    kind: str = "audit"

    @property
    def verdict(self) -> str:
        """``pass`` or ``fail``."""
        return self.report.verdict.value

    @property
    def passed(self) -> bool:
        return self.report.passed

    def to_json(self) -> dict[str, Any]:
        """The document ``bias-ledger gate --json`` prints."""
        recorded = None
        if self.recorded is not None:
            recorded = {"index": self.recorded.index, "record_hash": self.recorded.record_hash}
        return {
            "verdict": self.verdict,
            "report": self.report.to_json(),
            "baseline": None if self.baseline is None else dict(self.baseline),
            "record": recorded,
        }

    def __repr__(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in self.report.counts.items() if n)
        where = "" if self.recorded is None else f", recorded as record {self.recorded.index}"
        return f"<GateResult {self.verdict}: {self.report.policy_name} ({counts}){where}>"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(item.rule)}</td><td>{html.escape(item.status.value)}</td><td>{html.escape(item.message)}</td></tr>"
            for item in (self.report.problems or self.report.outcomes)[:20]
        )
        return (
            f"<p><b>gate {html.escape(self.verdict)}</b>: "
            f"{html.escape(self.report.policy_name)}</p>"
            f"<table><tr><th>rule</th><th>status</th><th>message</th></tr>{rows}</table>"
        )


def _uses_ledger(baseline: str | None) -> bool:
    from bias_ledger.gate import LATEST_APPROVED, baseline_index

    return baseline is not None and (
        baseline == LATEST_APPROVED or baseline_index(baseline) is not None
    )


def _verified(
    ledger: Path, trust: GateTrust, record: int | None, baseline: str | None
) -> VerifiedLedger | None:
    from bias_ledger.gate_trust import verify_for_gate

    if record is None and not _uses_ledger(baseline):
        return None
    if not trust.anchored:
        raise trust.refusal(
            f"--record {record}" if record is not None else f"--baseline {baseline}"
        )
    return verify_for_gate(ledger, trust)


def _judge_record(
    verified: VerifiedLedger, record: int, policy: Policy, base: Baseline | None
) -> GateDecision:
    from bias_ledger.gate import audit_record_results, judged_record
    from bias_ledger.policy import evaluate_policy
    from bias_ledger.records.payloads import gate_payload
    from bias_ledger.standards.audit_age import latest_audit_age, needs_audit_age

    judged, digest = judged_record(verified, record)
    results = (  # an LL144 audit without a label has its tables only
        audit_record_results(judged, where=verified.where(record))
        if judged.get("kind") != "audit" or "results" in judged["audit"]
        else None
    )
    age = None
    if needs_audit_age(policy):  # among the verified records signed by a trusted key
        trusted = [r for i, r in enumerate(verified.records) if verified.signer_principal(i)]
        age = latest_audit_age(trusted, judged["audit"]["subject"], where=str(verified.path))
    report = evaluate_policy(
        policy, results, baseline=base.results if base else None, audit_age=age
    )
    payload = gate_payload(record, digest, judged["audit"]["subject"], report)
    return GateDecision(report, results, base, "gate", payload)


def decide_gate(
    ledger: Path,
    policy: Policy | Path,
    trust: GateTrust,
    *,
    audit: AuditResult | Callable[[], AuditResult] | None = None,
    record: int | None = None,
    baseline: str | None = None,
    will_record: bool = True,
) -> GateDecision:
    """Judge ``audit`` (a result, or a function running it once the ledger verified) or the
    ledger's audit record ``record`` against ``policy``, with ``baseline`` (``latest-approved``,
    a record index, or a bundle path) for regression rules."""
    from bias_ledger.gate import resolve_baseline
    from bias_ledger.ledger.reader import read_meta
    from bias_ledger.policy import evaluate_policy, load_policy
    from bias_ledger.records.payloads import audit_payload
    from bias_ledger.standards.audit_age import fresh_audit_age

    loaded = load_policy(policy) if isinstance(policy, Path) else policy
    if (record is None) == (audit is None):
        raise InputError(
            "--record judges an existing record: give no DATA with it"
            if record is not None
            else "gate: expected DATA to audit, or --record N to judge an existing record"
        )
    if will_record or record is not None or _uses_ledger(baseline):
        read_meta(ledger)
    verified = _verified(ledger, trust, record, baseline)
    base = resolve_baseline(verified, baseline, trust) if baseline else None
    if record is not None:
        assert verified is not None  # --record verifies the ledger
        decision = _judge_record(verified, record, loaded, base)
    else:
        assert audit is not None
        result = audit() if callable(audit) else audit
        results = result.binary
        report = evaluate_policy(
            loaded, results, baseline=base.results if base else None, audit_age=fresh_audit_age()
        )
        decision = GateDecision(report, results, base, "audit", audit_payload(result, report))
    payload = dict(decision.payload)
    payload["baseline"] = dict(base.source) if base else None
    checkpoint = None if verified is None else verified.checkpoint
    return GateDecision(decision.report, decision.results, base, decision.kind, payload, checkpoint)


def run_gate(
    ledger: Path,
    policy: Policy | Path,
    trust: GateTrust,
    *,
    audit: AuditResult | Callable[[], AuditResult] | None = None,
    record: int | None = None,
    baseline: str | None = None,
    junit: Path | None = None,
    save_checkpoint: Path | None = None,
    record_verdict: bool = True,
    key: Path | Ed25519PrivateKey | None = None,
    ask_passphrase: Callable[[str], str] | None = None,
    warn: Callable[[str], None] | None = None,
    before_record: Callable[[GateDecision], None] | None = None,
) -> GateResult:
    """Decide (:func:`decide_gate`), write ``junit`` and ``save_checkpoint`` (the checkpoint
    the verification relied on, for the next run's ``--since``), call ``before_record`` (the
    CLI's GitHub annotations), then append the verdict unless ``record_verdict`` is False."""
    from bias_ledger.outputs import check_output_path, write_output
    from bias_ledger.workflows.append import sign_and_append

    if junit is not None:  # before the verdict is recorded: never inside a ledger
        check_output_path(junit, ledger=ledger, what="--junit")
    if save_checkpoint is not None:
        check_output_path(save_checkpoint, ledger=ledger, what="--save-checkpoint")
    decision = decide_gate(
        ledger,
        policy,
        trust,
        audit=audit,
        record=record,
        baseline=baseline,
        will_record=record_verdict,
    )
    if junit is not None:
        from bias_ledger.render.junit import render_junit

        name = f"bias-ledger gate: {decision.report.policy_name}"
        write_output(
            junit, render_junit(decision.report, suite_name=name), ledger=ledger, what="--junit"
        )
    if save_checkpoint is not None:
        if decision.checkpoint is None:
            raise InputError(
                f"--save-checkpoint {save_checkpoint}: {ledger} has no signed checkpoint to save"
            )
        write_output(save_checkpoint, decision.checkpoint, ledger=ledger, what="--save-checkpoint")
    if before_record is not None:
        before_record(decision)
    appended = None
    if record_verdict:
        appended = sign_and_append(
            ledger,
            decision.kind,
            dict(decision.payload),
            key,
            ask_passphrase=ask_passphrase,
            warn=warn,
        )
    base = decision.payload.get("baseline")
    return GateResult(decision.report, base, appended, decision.kind)
