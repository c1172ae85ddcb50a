"""The Python face of a ledger: open it, append audits and approvals, gate, verify, export.

``bias_ledger.Ledger.open(path).append(result)`` signs and appends exactly the record that
``bias-ledger audit`` appends; ``.gate``, ``.verify`` and ``.export`` call the functions of
:mod:`bias_ledger.workflows` that ``bias-ledger gate``, ``verify`` and ``export`` call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bias_ledger.errors import InputError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bias_ledger._audit_model import AuditResult
    from bias_ledger.ledger.store import Appended
    from bias_ledger.policy import Policy
    from bias_ledger.policy.report import PolicyReport
    from bias_ledger.workflows.export import Exported, ExportedModelCard
    from bias_ledger.workflows.gate import GateResult
    from bias_ledger.workflows.trust import TrustSpec
    from bias_ledger.workflows.verify import Verified


def _key(key: Path | str | Ed25519PrivateKey | None) -> Path | Ed25519PrivateKey | None:
    return Path(key) if isinstance(key, str) else key


@dataclass(frozen=True)
class Ledger:
    """A ledger directory (format as created by ``bias-ledger init``)."""

    path: Path
    """The ledger directory, resolved."""

    @classmethod
    def open(cls, path: str | Path | None = None) -> Ledger:
        """The ledger at ``path`` (default ``$BIAS_LEDGER_DIR`` or ``./.bias-ledger``);
        LedgerError when there is none there or its format is unknown."""
        from bias_ledger.ledger.reader import read_meta, resolve_ledger_path

        resolved = resolve_ledger_path(Path(path) if path is not None else None)
        read_meta(resolved)
        return cls(path=resolved)

    @classmethod
    def init(cls, path: str | Path, *, name: str | None = None, format_version: int = 2) -> Ledger:
        """Create a ledger at ``path`` (as ``bias-ledger init [--format N]``) and open it."""
        from bias_ledger.ledger.store import init_ledger

        target = Path(path)
        default = "".join((target.resolve().parent.name or "bias-ledger").split())
        init_ledger(target, name=name or default or "bias-ledger", format_version=format_version)
        return cls.open(target)

    def append(
        self,
        result: AuditResult,
        *,
        key: Path | str | Ed25519PrivateKey | None = None,
        policy_report: PolicyReport | None = None,
        ask_passphrase: Callable[[str], str] | None = None,
    ) -> Appended:
        """Sign ``result`` (with the verdict of ``policy_report``, if any) and append it."""
        from bias_ledger.records.payloads import audit_payload
        from bias_ledger.workflows.append import sign_and_append

        payload = audit_payload(result, policy_report)
        return sign_and_append(
            self.path, "audit", payload, _key(key), ask_passphrase=ask_passphrase
        )

    def approve(
        self,
        index: int,
        *,
        note: str | None = None,
        key: Path | str | Ed25519PrivateKey | None = None,
        ask_passphrase: Callable[[str], str] | None = None,
    ) -> Appended:
        """Append a signed approval of audit record ``index`` (a gate baseline)."""
        import blake3

        from bias_ledger.history import read_record
        from bias_ledger.ledger.entry import parse_line
        from bias_ledger.records.payloads import approval_payload
        from bias_ledger.workflows.append import sign_and_append

        record, line = read_record(self.path, index)
        if record.get("kind") != "audit":
            raise InputError(
                f"record {index}: expected an audit record, found {record.get('kind')}"
            )
        entry = parse_line(line, where=f"record {index}")
        digest = blake3.blake3(entry.record_bytes).hexdigest()
        payload = approval_payload(index, digest, note)
        return sign_and_append(
            self.path, "approval", payload, _key(key), ask_passphrase=ask_passphrase
        )

    def gate(
        self,
        policy: str | Path | Policy,
        result: AuditResult | None = None,
        *,
        record: int | None = None,
        baseline: str | int | Path | None = None,
        approved_by: TrustSpec | None = None,
        trusted: TrustSpec | None = None,
        trust_ledger_keys: bool = False,
        since: str | Path | None = None,
        witnesses: str | Path | None = None,
        save_checkpoint: str | Path | None = None,
        junit: str | Path | None = None,
        record_verdict: bool = True,
        key: Path | str | Ed25519PrivateKey | None = None,
        ask_passphrase: Callable[[str], str] | None = None,
    ) -> GateResult:
        """Judge ``result`` (a new audit) or audit record ``record`` against ``policy`` and
        append the verdict (unless ``record_verdict=False``), as ``bias-ledger gate`` does.

        ``baseline`` (``"latest-approved"``, a record index, or a bundle path) feeds regression
        rules; it and ``record`` are relied on only after the ledger verifies and their signer
        (or approver) is trusted: ``trusted`` (the ledger's signers) and ``approved_by`` (the
        approvers) are allowed_signers paths or ``SHA256:`` fingerprints; ``trust_ledger_keys``
        trusts the ledger's own keys, with a warning. Against a rolled-back ledger: ``since``
        (a checkpoint kept from an earlier run, which the ledger must extend), ``witnesses`` (a
        witness policy whose quorum must have cosigned), ``save_checkpoint`` (where to keep the
        checkpoint relied on, for the next run's ``since``). The verdict is in the result:
        ``.passed`` is False for a violated policy (nothing is raised for it).
        """
        import warnings

        from bias_ledger.workflows.gate import gate_trust, run_gate
        from bias_ledger.workflows.trust import trusted_keys

        spec = None if baseline is None else str(baseline)
        trust = gate_trust(
            trusted=trusted_keys(trusted, source="trusted="),
            approved_by=trusted_keys(approved_by, source="approved_by="),
            trust_ledger_keys=trust_ledger_keys,
            baseline=spec,
            record=record,
            since=None if since is None else Path(since),
            witnesses=None if witnesses is None else Path(witnesses),
            save_checkpoint=None if save_checkpoint is None else Path(save_checkpoint),
            ledger=self.path,
            warn=lambda message: warnings.warn(message, UserWarning, stacklevel=4),
        )
        loaded: Path | Policy = Path(policy) if isinstance(policy, str | Path) else policy
        return run_gate(
            self.path,
            loaded,
            trust,
            audit=result,
            record=record,
            baseline=spec,
            junit=None if junit is None else Path(junit),
            save_checkpoint=None if save_checkpoint is None else Path(save_checkpoint),
            record_verdict=record_verdict,
            key=_key(key),
            ask_passphrase=ask_passphrase,
        )

    def verify(
        self,
        *,
        trusted: TrustSpec | None = None,
        trust_ledger_keys: bool = False,
        since: str | Path | None = None,
        witnesses: str | Path | None = None,
    ) -> Verified:
        """Verify every record, signature, the chain and the signed checkpoint, trusting the
        keys of ``trusted`` (an allowed_signers path, ``SHA256:`` fingerprints, or both in a
        list) and the rotations they sign, as ``bias-ledger verify --trusted-keys`` does.

        ``since`` is a checkpoint file kept earlier that the ledger must extend (rollback and
        fork); ``witnesses`` a witness policy (format 2). Raises VerificationError (a
        :class:`~bias_ledger.verify.VerificationFailed` carries the checks that ran) on the
        first failure, also when no key is trusted; returns what was verified.
        """
        from bias_ledger.workflows.trust import trusted_keys
        from bias_ledger.workflows.verify import verify_ledger_dir

        return verify_ledger_dir(
            self.path,
            trusted=trusted_keys(trusted),
            trust_ledger_keys=trust_ledger_keys,
            since=None if since is None else Path(since),
            witnesses=None if witnesses is None else Path(witnesses),
        )

    def export(
        self,
        output: str | Path,
        *,
        records: Sequence[int] = (),
        model: str | None = None,
        since: str | datetime | None = None,
        everything: bool = False,
        consistent_with: str | Path | None = None,
    ) -> Exported:
        """Write a bundle of exactly one selection (``records``, every audit of ``model``,
        every record ``since`` a UTC date or time, or ``everything``) to ``output``, as
        ``bias-ledger export -o`` does; the ledger is verified first and ``output`` may not be
        inside a ledger. ``consistent_with`` adds a proof that the ledger extends a checkpoint
        kept earlier."""
        from bias_ledger.workflows.export import export_bundle_file

        return export_bundle_file(
            self.path,
            Path(output),
            indexes=tuple(records),
            model=model,
            since=since,
            everything=everything,
            consistent_with=None if consistent_with is None else Path(consistent_with),
        )

    def export_cyclonedx(
        self, output: str | Path, *, record: int | None = None, model: str | None = None
    ) -> ExportedModelCard:
        """Write the CycloneDX 1.6 model card of audit record ``record`` (default: the latest
        audit, of ``model`` if named), as ``bias-ledger export --cyclonedx`` does."""
        from bias_ledger.workflows.export import export_cyclonedx_file

        return export_cyclonedx_file(self.path, Path(output), index=record, model=model)

    def __len__(self) -> int:
        from bias_ledger.ledger.reader import read_ledger

        return len(read_ledger(self.path).lines)

    def records(self, *, expanded: bool = False) -> Iterator[dict[str, Any]]:
        """Every record as stored (unverified: use ``bias-ledger verify`` before relying on
        one). ``expanded``: each audit payload in the self-describing layout whatever its
        results schema (every parameter in ``parameters``, as ``show`` lists them)."""
        from bias_ledger.history import read_record
        from bias_ledger.results_layout import readable

        for index in range(len(self)):
            record = read_record(self.path, index)[0]
            yield readable(record) if expanded else record
