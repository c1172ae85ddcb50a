"""Checks over a run of records: the hash chain, approvals, and the Merkle root of a checkpoint.

Trusted core: standard library, blake3, cryptography and ``bias_ledger.ledger`` only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import blake3

from bias_ledger.errors import VerificationError
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.checkpoint import Checkpoint, parse_signed_checkpoint
from bias_ledger.ledger.entry import parse_line
from bias_ledger.ledger.entry_checks import CheckedEntry, check_reference, check_reference_kind
from bias_ledger.ledger.merkle import BLAKE3_HASHER, MerkleTree
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.wording import counted


def edited_field(lines: Sequence[bytes], position: int, origin: str) -> str:
    """Which header field of an altered record disagrees with its place in the ledger, if any."""
    try:
        record = json.loads(parse_line(lines[position], where="").record_bytes)
    except (ValueError, RecursionError, VerificationError):
        return ""
    if not isinstance(record, dict):
        return ""
    previous = parse_line(lines[position - 1], where="").record_bytes if position else None
    expected = {
        "index": position,
        "previous_hash": blake3.blake3(previous).hexdigest() if previous is not None else None,
        "origin": origin,
    }
    for name, value in expected.items():
        if record.get(name) != value:
            return f"; its {name} reads {record.get(name)!r} where {value!r} was expected"
    return ""


def _misplaced(entries: Sequence[CheckedEntry], position: int, hashes: Sequence[str]) -> str:
    """Why the record at ``position`` has the wrong index: removed, duplicated or reordered."""
    item = entries[position]
    found = item.header.index
    if 0 <= found < position and hashes[found] == item.record_hash:
        return f"a duplicate of record {found}: records were duplicated"
    if any(later.header.index == position for later in entries[position + 1 :]):
        return f"record {position} appears later: records were reordered"
    if found > position:
        return f"records {position}..{found - 1} are missing: records were removed"
    return "records were removed, duplicated or reordered"


def check_chain(entries: Sequence[CheckedEntry], *, origin: str, source: str) -> None:
    """Every record from 0: indexes count up, each names its predecessor's hash, one origin."""
    previous: str | None = None
    hashes: list[str] = []
    for position, item in enumerate(entries):
        where = f"{source} record {position}"
        header = item.header
        if header.index != position:
            raise VerificationError(
                f"{where}: expected index {position}, found {header.index} "
                f"({_misplaced(entries, position, hashes)})"
            )
        if header.previous_hash != previous:
            raise VerificationError(
                f"{where}: expected previous_hash {previous}, found {header.previous_hash} "
                "(the chain of record hashes is broken)"
            )
        if header.origin != origin:
            raise VerificationError(
                f"{where}: expected origin {origin!r}, found {header.origin!r} "
                "(a record from another ledger)"
            )
        if item.approves is not None:
            index, digest = item.approves
            if not 0 <= index < position or hashes[index] != digest:
                raise VerificationError(
                    f"{where}: {header.kind.value} names record {index} with hash {digest}, "
                    "which is not an earlier record of this ledger"
                )
            check_reference_kind(where, header.kind.value, index, entries[index].header.kind)
        previous = item.record_hash
        hashes.append(item.record_hash)


def check_links(entries: Mapping[int, CheckedEntry], *, source: str) -> int:
    """A selection of records: adjacent ones (N and N+1) link by previous_hash, record 0's is
    null, an approval (gate verdict) names an earlier record, and a present one by its hash and
    kind (an audit). Returns the number of links."""
    links = 0
    for index, entry in entries.items():
        if index == 0 and entry.header.previous_hash is not None:
            raise VerificationError(f"{source} record 0: expected previous_hash null")
        before = entries.get(index - 1)
        if before is not None:
            if entry.header.previous_hash != before.record_hash:
                raise VerificationError(
                    f"{source} record {index}: expected previous_hash {before.record_hash} "
                    f"(record {index - 1}), found {entry.header.previous_hash}"
                )
            links += 1
        if entry.approves is not None:
            where, kind = f"{source} record {index}", entry.header.kind.value
            check_reference(where, kind, entry.approves, index)
            target, digest = entry.approves
            approved = entries.get(target)
            if approved is not None and approved.record_hash != digest:
                raise VerificationError(
                    f"{where}: approves record {target} with hash {digest}, "
                    f"but that record hashes to {approved.record_hash}"
                )
            if approved is not None:
                check_reference_kind(where, kind, target, approved.header.kind)
    return links


def unheld_targets(entries: Mapping[int, CheckedEntry]) -> list[tuple[int, int]]:
    """(record, target) of every approval or gate verdict whose named audit the selection
    does not hold: its hash and kind could not be checked against that record."""
    return [
        (index, entry.approves[0])
        for index, entry in sorted(entries.items())
        if entry.approves is not None and entry.approves[0] not in entries
    ]


def links_detail(links: int, unheld: Sequence[tuple[int, int]]) -> str:
    """The hash-chain check's line: the links, and the approvals and verdicts whose audit is
    not in the selection."""
    detail = f"{counted(links, 'previous_hash link')} between adjacent records"
    if len(unheld) == 1:
        index, target = unheld[0]
        detail += (
            f"; record {index} names audit record {target}, which the bundle does not hold, so "
            "its hash is not checked: export the named audit with it"
        )
    elif unheld:
        named = ", ".join(f"record {index} names record {target}" for index, target in unheld[:5])
        if len(unheld) > 5:
            named += f" and {len(unheld) - 5} more"
        detail += (
            f"; {len(unheld)} records name audits the bundle does not hold ({named}), so their "
            "hashes are not checked: export the named audits with them"
        )
    return detail


def check_checkpoint(
    data: bytes,
    leaf_hashes: Sequence[bytes],
    trusted: TrustedKeys | None,
    *,
    origin: str,
    source: str,
) -> Checkpoint:
    """The checkpoint is for this origin, covers a prefix of the records, and is signed."""
    checkpoint, armored = parse_signed_checkpoint(data, source=source)
    if checkpoint.origin != origin:
        raise VerificationError(
            f"{source}: expected origin {origin!r}, found {checkpoint.origin!r}"
        )
    if checkpoint.size > len(leaf_hashes):
        raise VerificationError(
            f"{source}: checkpoint covers {checkpoint.size} records, but only "
            f"{len(leaf_hashes)} are present (records were removed or truncated)"
        )
    root = (
        MerkleTree(BLAKE3_HASHER, leaf_hashes).root(checkpoint.size)
        if checkpoint.size
        else (BLAKE3_HASHER.empty_root())
    )
    if root != checkpoint.root_hash:
        raise VerificationError(
            f"{source}: expected root hash {checkpoint.root_hash.hex()} over the first "
            f"{checkpoint.size} records, computed {root.hex()} (records were altered)"
        )
    try:
        signer = sshsig.verify(armored, checkpoint.body())
    except VerificationError as exc:
        raise VerificationError(f"{source}: {exc.message}") from exc
    if trusted is not None:
        trusted.require(signer, what=f"{source} (tree size {checkpoint.size})")
    return checkpoint
