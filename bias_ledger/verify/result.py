"""What a verification checked: a structured checklist, the result, and the failure types.

Reports (terminal, JSON, ``verify --report``) are built from these objects, never from strings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.checkpoint import Checkpoint


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Check:
    """One line of the checklist: what was verified, its outcome, and against what."""

    what: str
    """A short stable name: ``checkpoint signature``, ``trust``, ``since``, ``recompute``..."""
    detail: str
    """What was found (for a failure: the error message)."""
    status: Status = Status.PASSED
    against: str = ""
    """What it was checked against: the trusted keys file, the kept checkpoint, the data..."""

    def to_json(self) -> dict[str, str]:
        return {
            "what": self.what,
            "status": self.status.value,
            "detail": self.detail,
            "against": self.against,
        }


class _Pending:
    """The detail a running check fills in before it passes (internal to :class:`Checklist`)."""

    def __init__(self, against: str) -> None:
        self.detail = ""
        self.against = against


class Checklist:
    """Collects checks as they run; a failing one is recorded with its message, then re-raised."""

    def __init__(self) -> None:
        self.checks: list[Check] = []

    @contextlib.contextmanager
    def check(self, what: str, against: str = "") -> Iterator[_Pending]:
        pending = _Pending(against)
        try:
            yield pending
        except VerificationError as exc:
            self.checks.append(Check(what, exc.message, Status.FAILED, pending.against))
            raise
        self.checks.append(Check(what, pending.detail, Status.PASSED, pending.against))

    def add(self, what: str, detail: str, against: str = "") -> None:
        self.checks.append(Check(what, detail, Status.PASSED, against))

    def skip(self, what: str, detail: str, against: str = "") -> None:
        self.checks.append(Check(what, detail, Status.SKIPPED, against))


@dataclass(frozen=True)
class KeyInfo:
    """A trusted key as the report shows it: no key material, only names."""

    fingerprint: str
    principals: str
    origin: str
    """Where trust in it came from: ``file:line``, ``--trusted-key``, or a rotation record."""

    def to_json(self) -> dict[str, str]:
        return {"fingerprint": self.fingerprint, "principals": self.principals, "from": self.origin}


@dataclass(frozen=True)
class Verification:
    """The outcome of verifying one source (a ledger, a bundle, later format-2 tiles)."""

    kind: str
    """``ledger``, ``bundle`` (``tiles`` later)."""
    source: str
    origin: str
    size: int
    """How many records the verified tree holds."""
    checkpoint: Checkpoint | None
    indexes: Sequence[int]
    """The records verified (all of a ledger; a bundle's selection)."""
    signers: tuple[tuple[str, str], ...]
    """(fingerprint, principals or "") of every key that signed a record or the checkpoint."""
    checks: tuple[Check, ...]
    warnings: tuple[str, ...] = field(default=())
    trust_source: str = ""
    """What the trust anchor was read from; empty when nothing was trusted."""
    trusted_keys: tuple[KeyInfo, ...] = ()
    """The trusted keys, after following key rotations."""
    cosignatures: tuple[Mapping[str, object], ...] = ()
    """Witness cosignatures on the checkpoint: witness, key, status, timestamp (format 2;
    :class:`bias_ledger.witness.policy.Cosignature`)."""
    format_version: int | None = None
    """The ledger format verified, when the source says (format-2 logs)."""
    invalid: Mapping[int, str] = field(default_factory=dict)
    """Index to why, of the records their key could no longer sign (a ledger lists them in
    ``warnings``; a bundle holding one fails): nothing may rely on them."""

    @property
    def steps(self) -> tuple[Check, ...]:
        return self.checks

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "valid": True,
            "kind": self.kind,
            "source": self.source,
            "origin": self.origin,
            "size": self.size,
            "checkpoint": None if self.checkpoint is None else self.checkpoint.to_json(),
            "cosignatures": list(self.cosignatures),
            "signers": [{"fingerprint": fp, "principal": who} for fp, who in self.signers],
            "trusted_keys": [key.to_json() for key in self.trusted_keys],
            "steps": [check.to_json() for check in self.checks],
            "warnings": list(self.warnings),
        }
        if self.format_version is not None:
            document["format_version"] = self.format_version
        if self.kind == "bundle":  # a ledger's records are all of 0..size-1
            document["bundle"] = self.source
            document["records"] = list(self.indexes)
        return document


class VerificationFailed(VerificationError):
    """A verification failed; the checks that ran (the failing one last) are attached."""

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        source: str,
        checks: tuple[Check, ...],
        signers: tuple[str, ...] = (),
        report: Verification | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.source = source
        self.checks = checks
        self.signers = signers
        """Fingerprints of the signers seen, when integrity held."""
        self.report = report
        """What was established before the failure (origin, checkpoint, cosignatures), when
        the failure came after it (a witness quorum not met)."""

    @property
    def steps(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.status is Status.PASSED)


class UntrustedError(VerificationFailed):
    """Integrity holds but no trust anchor was given: trust must come from outside.

    ``report`` is what integrity established (origin, checkpoint, records, signers untrusted).
    """

    def __init__(self, message: str, *, report: Verification, signers: tuple[str, ...]) -> None:
        super().__init__(
            message,
            kind=report.kind,
            source=report.source,
            checks=report.checks,
            signers=signers,
            report=report,
        )
        self.report: Verification = report
