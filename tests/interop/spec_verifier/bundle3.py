"""Verify a bundle of format 3 (FORMAT.md 10.16) from the spec alone: the ustar layout byte by
byte, the member order, then 10.15's checks record by record.

Usage: python -m tests.interop.spec_verifier.bundle3 BUNDLE.tar ALLOWED_SIGNERS [--since KEPT]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import blake3

from .bundle2 import BundleResult, check_consistency, check_keys_file, check_since, pretty
from .checkpoint import check_quorum, log_signer
from .merkle import leaf_hash, sha256, verify_inclusion
from .note import parse_checkpoint, parse_note
from .records import check_record, check_reference, load_json, parse_entry
from .sshsig import SpecError, armor, fingerprint, wire_of_line
from .trust import Trust

BLOCK = 512


def ustar_header(name: str, size: int) -> bytes:
    """The header FORMAT.md 10.16's table gives, field by field."""
    block = (
        name.encode("ascii").ljust(100, b"\0")
        + b"0000644\0"
        + b"0000000\0"
        + b"0000000\0"
        + f"{size:011o}".encode()
        + b"\0"
        + b"00000000000\0"
        + b"        "
        + b"0"
        + b"\0" * 100
        + b"ustar\0"
        + b"00"
        + b"\0" * 64
        + b"0000000\0" * 2
        + b"\0" * 167
    )
    assert len(block) == BLOCK
    return block[:148] + f"{sum(block):06o}".encode() + b"\0 " + block[156:]


def read_members(data: bytes) -> list[tuple[str, bytes]]:
    """Every member in file order; refuses any byte the layout does not fix."""
    found: list[tuple[str, bytes]] = []
    at = 0
    while True:
        block = data[at : at + BLOCK]
        if len(block) < BLOCK:
            raise SpecError(f"tar: truncated at byte {at}")
        if block == bytes(BLOCK):
            break
        name = block[:100].split(b"\0", 1)[0].decode("ascii", "replace")
        size_field = block[124:136]
        if not re.fullmatch(rb"[0-7]{11}\0", size_field):
            raise SpecError(f"tar: member {name!r}: size field not 11 octal digits")
        size = int(size_field[:11], 8)
        if block != ustar_header(name, size):
            raise SpecError(f"tar: member {name!r}: header is not the fixed ustar header")
        body = data[at + BLOCK : at + BLOCK + size]
        padded = -size % BLOCK
        pad = data[at + BLOCK + size : at + BLOCK + size + padded]
        if len(body) != size or len(pad) != padded:
            raise SpecError(f"tar: member {name!r}: truncated")
        if pad != bytes(padded):
            raise SpecError(f"tar: member {name!r}: padding is not zero")
        found.append((name, body))
        at += BLOCK + size + padded
    end = at + 2 * BLOCK
    end += -end % (20 * BLOCK)
    if len(data) != end or data[at:] != bytes(end - at):
        raise SpecError("tar: the file does not end with two zero blocks and zero fill to 10240")
    return found


def read_manifest3(raw: bytes) -> dict[str, Any]:
    manifest = load_json(raw, "bundle.json")
    keys = [
        "checkpoint",
        "format",
        "format_version",
        "hash",
        "origin",
        "ranges",
        "records",
        "report_version",
    ]
    if not isinstance(manifest, dict) or sorted(manifest) != keys:
        raise SpecError(f"bundle.json: members are not exactly {keys}")
    if (manifest["format"], manifest["format_version"], manifest["hash"]) != (
        "bias-ledger-bundle",
        3,
        "sha256",
    ):
        raise SpecError("bundle.json: not a bias-ledger-bundle of version 3 with hash sha256")
    if pretty(manifest) != raw:
        raise SpecError("bundle.json: not json.dumps(indent=2, sort_keys=True, ensure_ascii=True)")
    cp = manifest["checkpoint"]
    if not isinstance(cp, dict) or sorted(cp) != ["root_hash", "size"]:
        raise SpecError("bundle.json: checkpoint is not {root_hash, size}")
    ranges = manifest["ranges"]
    if not isinstance(ranges, list) or not ranges:
        raise SpecError("bundle.json: ranges is not a non-empty list")
    last = -2
    for pair in ranges:
        ok = isinstance(pair, list) and len(pair) == 2 and all(type(v) is int for v in pair)
        if not ok or not last + 2 <= pair[0] <= pair[1] < cp["size"]:
            raise SpecError(f"bundle.json: range {pair!r} is not maximal, ascending, in the tree")
        last = pair[1]
    indexes = [n for first, final in ranges for n in range(first, final + 1)]
    if manifest["records"] != len(indexes):
        raise SpecError("bundle.json: records is not the number of indexes in ranges")
    if type(manifest["report_version"]) is not int or manifest["report_version"] < 1:
        raise SpecError("bundle.json: report_version is not a positive integer")
    return manifest


def expected_names(indexes: list[int], consistency: bool) -> list[str]:
    names = ["bundle.json", "checkpoint"]
    for n in indexes:
        names += [f"entries/{n}", f"records/{n}.json", f"records/{n}.sig", f"proofs/{n}"]
    names.append("keys/allowed_signers")
    if consistency:
        names.append("consistency.json")
    return [*names, "report.md", "report.html"]


def verify_bundle3(
    data: bytes,
    trusted: dict[bytes, str],
    *,
    since: Path | None = None,
    witnesses: Path | None = None,
) -> BundleResult:
    found = read_members(data)
    if not found or found[0][0] != "bundle.json":
        raise SpecError("bundle: the first member is not bundle.json")
    manifest = read_manifest3(found[0][1])
    indexes = [n for first, last in manifest["ranges"] for n in range(first, last + 1)]
    names = [name for name, _ in found]
    wanted = expected_names(indexes, "consistency.json" in names)
    if names != wanted:
        pairs = zip([*names, ""], [*wanted, ""], strict=False)
        first = next(i for i, (a, b) in enumerate(pairs) if a != b)
        raise SpecError(
            f"bundle: member {first} is {names[first : first + 1]}, expected "
            f"{wanted[first : first + 1]} (order, extra or missing)"
        )
    members = dict(found)
    origin = manifest["origin"]
    note = parse_note(members["checkpoint"])
    cp = parse_checkpoint(note.text)
    listed = manifest["checkpoint"]
    if (cp.origin, cp.size, cp.root.hex()) != (origin, listed["size"], listed["root_hash"]):
        raise SpecError("checkpoint: origin, size or root differ from bundle.json's")
    trust = Trust(dict(trusted))
    hashes: dict[int, str] = {}
    kinds: dict[int, str] = {}
    signer_keys: dict[bytes, None] = {}
    candidates: dict[bytes, None] = dict.fromkeys(trusted)
    for n in indexes:
        entry_bytes = members[f"entries/{n}"]
        entry = parse_entry(entry_bytes, f"entries/{n}")
        body = members[f"records/{n}.json"]
        if blake3.blake3(body).hexdigest() != entry.record:
            raise SpecError(f"records/{n}.json: BLAKE3 is not the entry's record")
        if members[f"records/{n}.sig"] != armor(entry.signature).encode():
            raise SpecError(f"records/{n}.sig: not the canonical armour of the entry's signature")
        record, key = check_record(
            entry, body, index=n, origin=origin, previous=hashes.get(n - 1), chained=n - 1 in hashes
        )
        check_reference(record, hashes, kinds, n)
        kinds[n] = record["kind"]
        proof = members[f"proofs/{n}"]
        if not re.fullmatch(rb"(?:[0-9a-f]{64}\n)*", proof):
            raise SpecError(f"proofs/{n}: not lines of 64 lowercase hex digits")
        path = [bytes.fromhex(line) for line in proof.decode().split("\n")[:-1]]
        if not verify_inclusion(sha256, n, cp.size, leaf_hash(sha256, entry_bytes), path, cp.root):
            raise SpecError(f"proofs/{n}: does not lead to the checkpoint root")
        trust.record(n, key, record)
        if n in trust.invalid:
            raise SpecError(f"record {n}: invalid: {trust.invalid[n]}")
        hashes[n] = entry.record
        signer_keys.setdefault(key)
        candidates.setdefault(key)
        if record["kind"] == "key_rotation":
            candidates.setdefault(wire_of_line(record["key_rotation"]["new_public_key"]))
    if any(trust.invalid):
        raise SpecError(f"records invalid: {trust.invalid}")
    note_key = log_signer(note, origin, candidates)
    if note_key not in trust.trusted:
        raise SpecError(f"checkpoint: signed by {fingerprint(note_key)}, a key not trusted")
    problem = trust.checkpoint_key_ok(note_key, cp.size)
    if problem:
        raise SpecError(f"checkpoint: {problem}")
    check_keys_file(members["keys/allowed_signers"], [*signer_keys, note_key])
    if "consistency.json" in members:
        check_consistency(members["consistency.json"], cp)
    if since is not None:
        check_since(since, cp, members.get("consistency.json"), trust)
    good = check_quorum(note, witnesses) if witnesses is not None else set()
    return BundleResult(cp, tuple(indexes), fingerprint(note_key), frozenset(good))


def main(argv: list[str]) -> int:
    from .trust import read_allowed_signers

    parser = argparse.ArgumentParser(description="Verify a format-3 bundle, from FORMAT.md alone.")
    parser.add_argument("bundle", type=Path)
    parser.add_argument("allowed_signers", type=Path)
    parser.add_argument("--since", type=Path)
    parser.add_argument("--witnesses", type=Path)
    args = parser.parse_args(argv)
    try:
        trusted = read_allowed_signers(args.allowed_signers)
        result = verify_bundle3(
            args.bundle.read_bytes(), trusted, since=args.since, witnesses=args.witnesses
        )
    except SpecError as exc:
        print(f"INVALID: {exc}")
        return 3
    print(f"VALID: records {list(result.indexes)} of {result.checkpoint.origin}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
