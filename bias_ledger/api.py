"""The Python face of a ledger: open it, append audits and approvals, list its records.

``bias_ledger.Ledger.open(path).append(result)`` signs and appends exactly the record that
``bias-ledger audit`` appends; the CLI calls these same methods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bias_ledger.errors import InputError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bias_ledger._audit_model import AuditResult
    from bias_ledger.ledger.store import Appended
    from bias_ledger.policy.report import PolicyReport


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
        from bias_ledger.records.append import sign_and_append
        from bias_ledger.records.payloads import audit_payload

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
        from bias_ledger.records.append import sign_and_append
        from bias_ledger.records.payloads import approval_payload

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

    def __len__(self) -> int:
        from bias_ledger.ledger.reader import read_ledger

        return len(read_ledger(self.path).lines)

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record as stored (unverified: use ``bias-ledger verify`` before relying on
        one)."""
        from bias_ledger.history import read_record

        for index in range(len(self)):
            yield read_record(self.path, index)[0]
