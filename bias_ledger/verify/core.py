"""The one verification core: integrity from the source, then trust and ``--since``, once.

Trusted core: standard library, blake3, cryptography and ``bias_ledger.ledger`` only. Every
check is recorded in a :class:`Checklist`; the first failure raises
:class:`VerificationFailed` carrying the checks so far, so that a failed verification can be
reported as fully as a passed one.
"""

from __future__ import annotations

from dataclasses import dataclass

from bias_ledger.errors import InputError, VerificationError
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.checkpoint import parse_signed_checkpoint
from bias_ledger.ledger.key_history import follow_keys
from bias_ledger.ledger.keys import fingerprint
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.verify.result import (
    Check,
    Checklist,
    KeyInfo,
    Status,
    UntrustedError,
    Verification,
    VerificationFailed,
)
from bias_ledger.verify.source import Integrity, Source
from bias_ledger.wording import with_article


@dataclass(frozen=True)
class Kept:
    """A signed checkpoint the verifier kept earlier (``--since``): its bytes and its name."""

    data: bytes
    name: str


def check_since(
    source: Source, integrity: Integrity, kept: Kept, trusted: TrustedKeys
) -> tuple[str, str]:
    """The source's tree extends the kept checkpoint: no rollback, no fork. The kept file's
    signature is checked first and its signer's trust last: a rollback or fork shows either
    way. Returns the detail and what it was checked against."""
    read_kept = getattr(source, "kept_checkpoint", None)
    note_kept = None if read_kept is None else read_kept(kept, trusted)
    if note_kept is not None:  # a format-2 source: the kept checkpoint is a signed note
        checkpoint, key = note_kept
    else:
        checkpoint, armored = parse_signed_checkpoint(kept.data, source=kept.name)
        try:
            key = sshsig.verify(armored, checkpoint.body())
        except VerificationError as exc:
            raise VerificationError(f"{kept.name}: {exc.message}") from None
    bundle = source.kind == "bundle"
    what = "the bundle's ledger" if bundle else f"the {source.kind}"
    if checkpoint.origin != integrity.origin:
        raise VerificationError(
            f"{kept.name}: kept checkpoint is for origin {checkpoint.origin!r}, "
            f"{'the bundle' if bundle else what}'s for {integrity.origin!r}: not the same ledger"
        )
    if checkpoint.size > integrity.size:
        holds = "the bundle's checkpoint covers" if bundle else f"{what} holds"
        raise VerificationError(
            f"rollback: {holds} {integrity.size} records, fewer than the "
            f"{checkpoint.size} of the checkpoint you kept ({kept.name})"
        )
    root = source.root_at(checkpoint.size, wanted_by=kept.name)
    if root != checkpoint.root_hash:
        if bundle and checkpoint.size == integrity.size:
            raise VerificationError(
                f"fork: the bundle's checkpoint and {kept.name} both cover {checkpoint.size} "
                f"records but have different roots ({root.hex()} vs "
                f"{checkpoint.root_hash.hex()}): the history was rewritten"
            )
        found = (
            f"{what} had root {root.hex()} at size {checkpoint.size}"
            if bundle
            else f"at size {checkpoint.size} {what}'s root is {root.hex()}"
        )
        raise VerificationError(
            f"fork: {found}, but the checkpoint you kept ({kept.name}) says "
            f"{checkpoint.root_hash.hex()}: the history was rewritten"
        )
    trusted.require(key, what=f"{kept.name} (kept checkpoint, tree size {checkpoint.size})")
    if checkpoint.size == integrity.size:
        detail = (
            f"{'the bundle' if bundle else what}'s checkpoint is the one kept in {kept.name}"
            f" (size {checkpoint.size}), signed by trusted key {fingerprint(key)}"
        )
    else:
        detail = (
            f"{what} (size {integrity.size}) extends the checkpoint kept in {kept.name} "
            f"(size {checkpoint.size}), signed by trusted key {fingerprint(key)}"
        )
    return detail, f"{kept.name} (size {checkpoint.size})"


def _signers(integrity: Integrity) -> tuple[str, ...]:
    found = [fingerprint(integrity.checkpoint_key)] if integrity.checkpoint_key else []
    found += [item.header.signer.fingerprint for item in integrity.entries.values()]
    return tuple(dict.fromkeys(found))


def _trust(
    source: Source,
    integrity: Integrity,
    trusted: TrustedKeys,
    checklist: Checklist,
    warnings: list[str],
) -> tuple[TrustedKeys, dict[str, str], dict[int, str]]:
    """Trust, following rotations and revocations (ledger/key_history.py, one walk for the
    ledger, bundles and the gate), then the checkpoint signer's.

    A record signed by a key retired at its index is invalid: a bundle (a selection offered as
    evidence) fails on it; a ledger lists it and trusts nothing it says.
    """
    with checklist.check("trust", against=trusted.source) as check:
        walk = follow_keys(sorted(integrity.entries.items()), trusted, source=source.name)
        for index, why in walk.invalid.items():
            if source.kind == "bundle":
                raise VerificationError(f"{source.name} record {index}: {why}")
            warnings.append(f"{source.name} record {index}: invalid, not trusted: {why}")
        principals = dict(walk.principals)
        check.detail = (
            f"every record signed by a key trusted in {trusted.source}, following key "
            "rotations and revocations"
        )
    if integrity.checkpoint is not None and integrity.checkpoint_key is not None:
        where = "checkpoint" if source.kind == "bundle" else f"{source.name}/checkpoint"
        name = f"{source.name}: {where}" if source.kind == "bundle" else where
        with checklist.check("checkpoint signer", against=trusted.source) as check:
            key, size = integrity.checkpoint_key, integrity.checkpoint.size
            who = walk.checkpoint_signer(key, size, what=f"{name} (tree size {size})")
            principals = {fingerprint(key): who, **principals}
            check.detail = f"the checkpoint's signer {fingerprint(key)} is trusted"
    return walk.trusted, principals, dict(walk.invalid)


def verify_source(
    source: Source,
    *,
    trusted: TrustedKeys | None,
    trust_source_keys: bool = False,
    since: Kept | None = None,
) -> Verification:
    """Verify a source against trust from outside it; raise :class:`VerificationFailed`.

    With no ``trusted`` keys and without ``trust_source_keys``, integrity is verified and
    :class:`UntrustedError` lists the signers. ``trust_source_keys`` (a ledger's
    ``--trust-ledger-keys``) is refused for a bundle: its keys are never trusted.
    """
    if trust_source_keys and source.kind != "ledger":
        raise InputError(
            f"--trust-ledger-keys does not apply to {with_article(source.kind)}: its keys are "
            "never trusted; pass --trusted-keys FILE or --trusted-key FINGERPRINT"
        )
    checklist = Checklist()
    warnings: list[str] = []
    signers: tuple[str, ...] = ()
    try:
        integrity = source.integrity(checklist)
        warnings += integrity.warnings
        signers = _signers(integrity)
        if trusted is None and not trust_source_keys:
            checklist.skip("trust", "no trusted key given", "nothing")
            raise UntrustedError(
                f"no trusted key given: integrity verified, but the signers "
                f"({', '.join(signers)}) are not trusted; {source.trust_hint}",
                report=Verification(
                    kind=source.kind,
                    source=source.name,
                    origin=integrity.origin,
                    size=integrity.size,
                    checkpoint=integrity.checkpoint,
                    indexes=tuple(sorted(integrity.entries)),
                    signers=tuple((fp, "") for fp in signers),
                    checks=tuple(checklist.checks),
                    warnings=tuple(warnings),
                ),
                signers=signers,
            )
        if trusted is None:
            trusted = TrustedKeys.from_fingerprints(signers, source="--trust-ledger-keys")
            warnings.append("trusting the keys found in the ledger itself (--trust-ledger-keys)")
        trusted, principals, invalid = _trust(source, integrity, trusted, checklist, warnings)
        if since is not None:
            with checklist.check("since", against=since.name) as check:
                check.detail, check.against = check_since(source, integrity, since, trusted)
    except UntrustedError:
        raise
    except VerificationError as exc:
        if not checklist.checks or checklist.checks[-1].status is not Status.FAILED:
            checklist.checks.append(Check("verification", exc.message, Status.FAILED))
        raise VerificationFailed(
            exc.message,
            kind=source.kind,
            source=source.name,
            checks=tuple(checklist.checks),
            signers=signers,
        ) from exc
    return Verification(
        kind=source.kind,
        source=source.name,
        origin=integrity.origin,
        size=integrity.size,
        checkpoint=integrity.checkpoint,
        indexes=tuple(sorted(integrity.entries)),
        signers=tuple(principals.items()),
        checks=tuple(checklist.checks),
        warnings=tuple(warnings),
        trust_source=trusted.source,
        trusted_keys=tuple(KeyInfo(key.fingerprint, key.principals, key.origin) for key in trusted),
        invalid=invalid,
    )
