"""Write a bundle: selected records of a verified ledger, their inclusion proofs, the checkpoint.

The zip is deterministic: members sorted by name, fixed timestamps and permissions.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bias_ledger.bundle.derived import derived_members, report_data
from bias_ledger.bundle.model import (
    CHECKPOINT,
    CHECKPOINT_BODY,
    CHECKPOINT_SIG,
    CONSISTENCY,
    FORMAT_VERSION,
    MANIFEST,
    ConsistencyJson,
    Manifest,
    ManifestRecord,
    record_json,
    record_sig,
)
from bias_ledger.bundle.zip_writer import write_zip
from bias_ledger.errors import InputError, LedgerError, VerificationError
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.checkpoint import Checkpoint, parse_signed_checkpoint
from bias_ledger.ledger.entry import armor, parse_line
from bias_ledger.ledger.entry_checks import CheckedEntry, check_entries
from bias_ledger.ledger.files import read_regular
from bias_ledger.ledger.key_records import key_of
from bias_ledger.ledger.keys import fingerprint, public_key_openssh
from bias_ledger.ledger.merkle import BLAKE3_HASHER, MerkleTree
from bias_ledger.ledger.reader import StoredLedger, read_ledger
from bias_ledger.ledger.record import RecordKind
from bias_ledger.verify import check_chain, check_checkpoint


@dataclass(frozen=True)
class Selection:
    """Which records to export: explicit indexes, or every record matching a filter."""

    indexes: tuple[int, ...] = ()
    model: str | None = None
    """Audit (and gate) records whose subject's model_name is this."""
    since: datetime | None = None
    """Records written at or after this time (aware, UTC)."""
    everything: bool = False


@dataclass(frozen=True)
class ExportResult:
    data: bytes
    """The zip file's bytes."""
    manifest: Manifest
    consistency: ConsistencyJson | None


def _payload(line: bytes) -> dict[str, object]:
    value = json.loads(parse_line(line, where="record").record_bytes)
    return value if isinstance(value, dict) else {}


def _matches(selection: Selection, entry: CheckedEntry, line: bytes) -> bool:
    if selection.everything:
        return True
    if selection.since is not None:
        stamp = datetime.fromisoformat(entry.header.timestamp.replace("Z", "+00:00"))
        return stamp >= selection.since
    if selection.model is not None and entry.header.kind in (RecordKind.AUDIT, RecordKind.GATE):
        payload = _payload(line).get(entry.header.kind.value)
        subject = payload.get("subject") if isinstance(payload, dict) else None
        return isinstance(subject, dict) and subject.get("model_name") == selection.model
    return False


def select(
    selection: Selection,
    entries: Sequence[CheckedEntry],
    lines: Sequence[bytes],
    *,
    checkpoint_signers: Sequence[str] = (),
) -> list[int]:
    """Selected indexes, plus the key records a verifier needs to trust what is shipped."""
    size = len(entries)
    if selection.indexes:
        for index in selection.indexes:
            if not 0 <= index < size:
                raise InputError(
                    f"record {index}: the latest checkpoint covers records 0..{size - 1}"
                )
        chosen = set(selection.indexes)
    else:
        chosen = {i for i in range(size) if _matches(selection, entries[i], lines[i])}
    if not chosen:
        raise InputError("no record matches the selection: nothing to export")
    if selection.model is not None:  # approvals of the chosen audits come with them
        approvals = {i: entries[i].approves for i in range(size)}
        chosen |= {i for i, target in approvals.items() if target and target[0] in chosen}
    return sorted(with_key_records(chosen, entries, checkpoint_signers))


def with_key_records(
    chosen: set[int], entries: Sequence[CheckedEntry], checkpoint_signers: Sequence[str]
) -> set[int]:
    """``chosen`` plus every revocation, and every rotation on the path from a key that no
    rotation introduced to each key that signed a shipped record or checkpoint (the bundle's,
    and the kept one a consistency proof starts from)."""
    introduced: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if entry.new_key is not None:
            successor = fingerprint(key_of(entry.new_key, where=f"record {index}"))
            introduced.setdefault(successor, index)
    shipped = chosen | {i for i, entry in enumerate(entries) if entry.revokes is not None}
    pending = [entries[i].header.signer.fingerprint for i in shipped]
    pending += checkpoint_signers
    seen: set[str] = set()
    while pending:
        signer = pending.pop()
        if signer in seen or signer not in introduced:
            continue
        seen.add(signer)
        rotation = introduced[signer]
        shipped.add(rotation)
        pending.append(entries[rotation].header.signer.fingerprint)
    return shipped


def _consistency(
    tree: MerkleTree, checkpoint: Checkpoint, kept: bytes, source: str
) -> ConsistencyJson:
    old, _ = parse_signed_checkpoint(kept, source=source)
    if old.origin != checkpoint.origin:
        raise InputError(
            f"{source}: checkpoint of origin {old.origin!r}, not {checkpoint.origin!r}"
        )
    if not 1 <= old.size <= checkpoint.size:
        raise InputError(
            f"{source}: tree size {old.size}; expected 1..{checkpoint.size} (the ledger's "
            "latest checkpoint); is the kept checkpoint newer than this ledger?"
        )
    if tree.root(old.size) != old.root_hash:
        raise VerificationError(
            f"{source}: its root for size {old.size} is {old.root_hash.hex()}, but this ledger's "
            f"first {old.size} records hash to {tree.root(old.size).hex()} (a forked ledger)"
        )
    return ConsistencyJson(
        old_size=old.size,
        old_root=old.root_hash.hex(),
        new_size=checkpoint.size,
        new_root=checkpoint.root_hash.hex(),
        hashes=tuple(h.hex() for h in tree.consistency_proof(old.size, checkpoint.size)),
    )


def _verified(stored: StoredLedger) -> tuple[Checkpoint, list[CheckedEntry], str]:
    source = str(stored.path)
    if stored.checkpoint is None:
        raise LedgerError(f"{source}: the ledger has no signed checkpoint yet: nothing to export")
    checkpoint, armored = parse_signed_checkpoint(stored.checkpoint, source=f"{source}/checkpoint")
    lines = stored.lines[: checkpoint.size]
    entries = check_entries(lines, source=source)
    check_chain(entries, origin=stored.meta.origin, source=source)
    check_checkpoint(
        stored.checkpoint,
        [e.leaf_hash for e in entries],
        None,
        origin=stored.meta.origin,
        source=f"{source}/checkpoint",
    )
    return checkpoint, entries, armored


def export_bundle(
    path: Path, selection: Selection, *, consistent_with: Path | None = None
) -> ExportResult:
    """Build the bundle of the ledger at ``path`` (verified first) for ``selection``."""
    stored = read_ledger(path)
    checkpoint, entries, armored = _verified(stored)
    lines = stored.lines[: checkpoint.size]
    tree = MerkleTree(BLAKE3_HASHER, [e.leaf_hash for e in entries])
    members: dict[str, bytes] = {}
    listed: list[ManifestRecord] = []
    signers: set[tuple[str, str]] = set()
    records: list[tuple[int, str, bytes]] = []
    key = sshsig.embedded_public_key(armored)
    kept = None
    checkpoint_signers = [fingerprint(key)]
    if consistent_with is not None:
        try:
            kept = read_regular(consistent_with)
        except OSError as exc:
            raise InputError(f"{consistent_with}: cannot read ({exc.strerror})") from None
        with contextlib.suppress(VerificationError):  # _consistency reports a bad one
            _, kept_armored = parse_signed_checkpoint(kept, source=str(consistent_with))
            checkpoint_signers.append(fingerprint(sshsig.embedded_public_key(kept_armored)))
    chosen = select(selection, entries, lines, checkpoint_signers=checkpoint_signers)
    for index in chosen:
        entry, checked = parse_line(lines[index], where=f"record {index}"), entries[index]
        members[record_json(index)] = entry.record_bytes
        members[record_sig(index)] = armor(entry.signature).encode("ascii")
        proof = tuple(h.hex() for h in tree.inclusion_proof(index, checkpoint.size))
        listed.append(
            ManifestRecord(
                index, checked.record_hash, checked.leaf_hash.hex(), checkpoint.size, proof
            )
        )
        signer = checked.header.signer
        signers.add((signer.fingerprint, signer.public_key.strip()))
        records.append((index, checked.record_hash, entry.record_bytes))
    signers.add((fingerprint(key), public_key_openssh(key)))
    manifest = Manifest(
        FORMAT_VERSION,
        stored.meta.origin,
        checkpoint.size,
        checkpoint.root_hash.hex(),
        tuple(listed),
    )
    members[MANIFEST] = manifest.encode()
    assert stored.checkpoint is not None
    members[CHECKPOINT] = stored.checkpoint
    members[CHECKPOINT_BODY] = checkpoint.body()
    members[CHECKPOINT_SIG] = armored.encode("ascii")
    consistency = None
    if consistent_with is not None and kept is not None:
        consistency = _consistency(tree, checkpoint, kept, str(consistent_with))
        members[CONSISTENCY] = consistency.encode()
    data = report_data(
        origin=stored.meta.origin,
        checkpoint_size=checkpoint.size,
        checkpoint_root=checkpoint.root_hash.hex(),
        checkpoint_signer=fingerprint(key),
        records=records,
        signers=signers,
    )
    members.update(derived_members(data))
    return ExportResult(write_zip(members), manifest, consistency)


def parse_since(text: str) -> datetime:
    """``--since``: an ISO date or date-time; naive values are UTC."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"--since {text!r}: expected a date like 2026-01-31 or a date-time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
