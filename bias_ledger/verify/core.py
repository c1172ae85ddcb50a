"""The one verification core: integrity from the source, then trust and ``--since``, once.

Trusted core: standard library, blake3, cryptography and ``bias_ledger.ledger`` only. Every
check is recorded in a :class:`Checklist`; the first failure raises
:class:`VerificationFailed` carrying the checks so far, so that a failed verification can be
reported as fully as a passed one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.errors import InputError, VerificationError
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.checkpoint import parse_signed_checkpoint
from bias_ledger.ledger.entry_checks import CheckedEntry
from bias_ledger.ledger.keys import fingerprint, parse_public_key
from bias_ledger.ledger.trust import TrustedKey, TrustedKeys
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


@dataclass(frozen=True)
class Kept:
    """A signed checkpoint the verifier kept earlier (``--since``): its bytes and its name."""

    data: bytes
    name: str


def follow_trust(
    entries: Mapping[int, CheckedEntry], trusted: TrustedKeys, *, source: str
) -> tuple[TrustedKeys, dict[str, str]]:
    """Every record, in index order, is signed by a trusted key valid at its timestamp; a
    ``key_rotation`` signed by one extends the trust to its new key.

    Returns the trust set after the rotations and the principals of each record signer.
    """
    principals: dict[str, str] = {}
    parsed: dict[str, Ed25519PublicKey] = {}  # few signers, many records
    for index in sorted(entries):
        item = entries[index]
        where = f"{source} record {index}"
        signer = item.header.signer
        key = parsed.get(signer.public_key)
        if key is None:
            key = parsed[signer.public_key] = parse_public_key(signer.public_key, source=where)
        stamp = datetime.fromisoformat(item.header.timestamp.replace("Z", "+00:00"))
        entry = trusted.require(key, what=where, at=stamp)
        principals[signer.fingerprint] = entry.principals
        if item.new_key is not None:
            new_key = parse_public_key(item.new_key, source=f"{where} new_public_key")
            successor = TrustedKey(
                fingerprint(new_key),
                entry.principals,
                public_key=new_key,
                origin=f"rotation in {where} from {signer.fingerprint}",
            )
            trusted = replace(trusted, keys={**trusted.keys, successor.fingerprint: successor})
    return trusted, principals


def check_since(
    source: Source, integrity: Integrity, kept: Kept, trusted: TrustedKeys
) -> tuple[str, str]:
    """The source's tree extends the kept checkpoint: no rollback, no fork. The kept file's
    signature is checked first and its signer's trust last: a rollback or fork shows either
    way. Returns the detail and what it was checked against."""
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
    source: Source, integrity: Integrity, trusted: TrustedKeys, checklist: Checklist
) -> tuple[TrustedKeys, dict[str, str]]:
    with checklist.check("trust", against=trusted.source) as check:
        trusted, principals = follow_trust(integrity.entries, trusted, source=source.name)
        check.detail = f"every record signed by a key trusted in {trusted.source}"
    if integrity.checkpoint is not None and integrity.checkpoint_key is not None:
        where = "checkpoint" if source.kind == "bundle" else f"{source.name}/checkpoint"
        name = f"{source.name}: {where}" if source.kind == "bundle" else where
        with checklist.check("checkpoint signer", against=trusted.source) as check:
            key = integrity.checkpoint_key
            entry = trusted.require(key, what=f"{name} (tree size {integrity.checkpoint.size})")
            principals = {fingerprint(key): entry.principals, **principals}
            check.detail = f"the checkpoint's signer {fingerprint(key)} is trusted"
    return trusted, principals


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
            f"--trust-ledger-keys does not apply to a {source.kind}: its keys are never "
            "trusted; pass --trusted-keys FILE or --trusted-key FINGERPRINT"
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
                kind=source.kind,
                source=source.name,
                checks=tuple(checklist.checks),
                signers=signers,
            )
        if trusted is None:
            trusted = TrustedKeys.from_fingerprints(signers, source="--trust-ledger-keys")
            warnings.append("trusting the keys found in the ledger itself (--trust-ledger-keys)")
        trusted, principals = _trust(source, integrity, trusted, checklist)
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
    )
