"""Verify a format-2 ledger directory or published log (FORMAT.md 10.1-10.8, 10.10).

Usage: python -m tests.interop.spec_verifier.log2 DIR ALLOWED_SIGNERS [--published] [--since KEPT]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from .checkpoint import check_quorum, log_signer
from .merkle import leaf_hash, root, sha256
from .note import Checkpoint, parse_checkpoint, parse_note
from .records import check_record, check_reference, load_json, parse_entry
from .sshsig import SpecError, fingerprint
from .tiles import check_hash_tiles, entries, read_regular
from .trust import Trust, read_allowed_signers

LEDGER_KEYS = ["created", "format", "format_version", "hash", "origin"]


@dataclass(frozen=True)
class LogResult:
    checkpoint: Checkpoint
    signers: tuple[str, ...]  # fingerprints of record signers, in first-use order
    checkpoint_signer: str
    invalid: dict[int, str]  # records invalid under section 4 (warnings for a ledger)
    tiles: int
    witnesses: frozenset[str]


def read_ledger_json(base: Path) -> str:
    data = read_regular(base, "ledger.json")
    if data is None:
        raise SpecError("ledger.json: missing")
    meta = load_json(data, "ledger.json")
    if not isinstance(meta, dict) or sorted(meta) != LEDGER_KEYS:
        raise SpecError(f"ledger.json: members are not {LEDGER_KEYS}")
    if json.dumps(meta, sort_keys=True, separators=(",", ":")).encode() + b"\n" != data:
        raise SpecError("ledger.json: not canonical JSON and one LF")
    if meta["format"] != "bias-ledger" or meta["format_version"] != 2 or meta["hash"] != "sha256":
        raise SpecError("ledger.json: not a bias-ledger format 2 (sha256) ledger")
    origin = meta["origin"]
    if not isinstance(origin, str):
        raise SpecError("ledger.json: origin is not a string")
    return origin


def verify_log(
    base: Path,
    trusted: dict[bytes, str],
    *,
    published: bool = False,
    since: Path | None = None,
    witnesses: Path | None = None,
) -> LogResult:
    """Everything 10.8 lists, in its order; raises SpecError at the first failure."""
    origin = None if published else read_ledger_json(base)
    raw_note = read_regular(base, "checkpoint")
    if raw_note is None:
        raise SpecError("checkpoint: missing")
    note = parse_note(raw_note)
    cp = parse_checkpoint(note.text)
    if origin is not None and cp.origin != origin:
        raise SpecError(f"checkpoint: origin {cp.origin!r}, ledger.json says {origin!r}")
    if cp.size == 0:
        raise SpecError("checkpoint: size 0")
    trust = Trust(dict(trusted))
    hashes: dict[int, str] = {}
    kinds: dict[int, str] = {}
    leaves: list[bytes] = []
    signers: dict[bytes, None] = {}
    previous: str | None = None
    for i, data in enumerate(entries(base, cp.size)):
        entry = parse_entry(data, f"entry {i}")
        body = read_regular(base, f"records/{entry.record}.json")
        if body is None:
            raise SpecError(f"records/{entry.record}.json (record {i}): missing")
        record, key = check_record(entry, body, index=i, origin=cp.origin, previous=previous)
        check_reference(record, hashes, kinds, i)
        kinds[i] = record["kind"]
        trust.record(i, key, record)
        signers.setdefault(key)
        hashes[i] = previous = entry.record
        leaves.append(leaf_hash(sha256, data))
    tiles = check_hash_tiles(base, leaves)
    if root(sha256, leaves) != cp.root:
        raise SpecError(f"checkpoint: RFC 6962 root of {cp.size} entries differs from the note's")
    # The note key is one of the trusted keys once rotations are followed (F1/F2 in findings).
    note_key = log_signer(note, cp.origin, trust.trusted)
    problem = trust.checkpoint_key_ok(note_key, cp.size)
    if problem:
        raise SpecError(f"checkpoint: {problem}")
    if since is not None:
        check_since(since, cp, leaves, trust)
    good = check_quorum(note, witnesses) if witnesses is not None else set()
    return LogResult(
        cp,
        tuple(fingerprint(k) for k in signers),
        fingerprint(note_key),
        dict(trust.invalid),
        tiles,
        frozenset(good),
    )


def check_since(kept: Path, cp: Checkpoint, leaves: list[bytes], trust: Trust) -> None:
    """10.8 step 5: same origin, not larger, same root over its size, signed by a trusted key."""
    note = parse_note(kept.read_bytes())
    old = parse_checkpoint(note.text)
    if old.origin != cp.origin:
        raise SpecError(f"--since: kept checkpoint is of {old.origin!r}")
    if old.size > cp.size:
        raise SpecError(f"--since: rollback: kept size {old.size}, log size {cp.size}")
    if root(sha256, leaves[: old.size]) != old.root:
        raise SpecError(f"--since: fork: the log's first {old.size} entries have another root")
    key = log_signer(note, old.origin, trust.trusted)
    problem = trust.checkpoint_key_ok(key, old.size)
    if problem:
        raise SpecError(f"--since: kept checkpoint {problem}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Verify a format-2 log, from FORMAT.md alone.")
    parser.add_argument("log", type=Path)
    parser.add_argument("allowed_signers", type=Path)
    parser.add_argument("--published", action="store_true")
    parser.add_argument("--since", type=Path)
    parser.add_argument("--witnesses", type=Path)
    args = parser.parse_args(argv)
    try:
        result = verify_log(
            args.log,
            read_allowed_signers(args.allowed_signers),
            published=args.published,
            since=args.since,
            witnesses=args.witnesses,
        )
    except SpecError as exc:
        print(f"INVALID: {exc}")
        return 3
    print(f"VALID: {result.checkpoint.size} records of {result.checkpoint.origin}")
    for index, why in sorted(result.invalid.items()):
        print(f"warning: record {index} is invalid: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
