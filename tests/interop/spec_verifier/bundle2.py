"""Verify a format-2 bundle (FORMAT.md 10.15, with the "Bundle format" section it builds on).

Usage: python -m tests.interop.spec_verifier.bundle2 BUNDLE.zip ALLOWED_SIGNERS [--since KEPT]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blake3

from .checkpoint import check_quorum, log_signer
from .merkle import leaf_hash, sha256, verify_consistency, verify_inclusion
from .note import Checkpoint, parse_checkpoint, parse_note
from .records import HEX64, check_record, check_reference, load_json, parse_entry
from .sshsig import SpecError, armor, fingerprint, line_of_wire, wire_of_line
from .trust import Trust, read_allowed_signers
from .zipcheck import read_bundle

KEYS_HEADER = (
    "# Keys that signed this bundle's records or checkpoint, in OpenSSH allowed_signers format.\n"
    "# Listed for reference and integrity checks only: a verifier never trusts them because\n"
    "# they are here. The principal of each key is its fingerprint.\n"
)
FIXED = {"bundle.json", "checkpoint", "keys/allowed_signers", "report.md", "report.html"}


@dataclass(frozen=True)
class BundleResult:
    checkpoint: Checkpoint
    indexes: tuple[int, ...]
    checkpoint_signer: str
    witnesses: frozenset[str]


def pretty(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode()


def _shape(value: Any, keys: list[str], what: str) -> dict[str, Any]:
    if not isinstance(value, dict) or sorted(value) != keys:
        raise SpecError(f"{what}: members are not exactly {keys}")
    return value


def _hex_list(value: Any, what: str) -> list[bytes]:
    ok = isinstance(value, list) and all(isinstance(h, str) and HEX64.fullmatch(h) for h in value)
    if not ok:
        raise SpecError(f"{what}: not a list of 64-hex SHA-256 hashes")
    return [bytes.fromhex(h) for h in value]


def read_manifest(members: dict[str, bytes]) -> dict[str, Any]:
    raw = members.get("bundle.json")
    if raw is None:
        raise SpecError("bundle: no bundle.json")
    manifest = load_json(raw, "bundle.json")
    if not isinstance(manifest, dict) or manifest.get("format") != "bias-ledger-bundle":
        raise SpecError("bundle.json: not a bundle")
    if manifest.get("format_version") != 2:
        raise SpecError(f"bundle.json: format_version {manifest.get('format_version')!r}, not 2")
    keys = ["checkpoint", "format", "format_version", "hash", "origin", "records", "report_version"]
    _shape(manifest, keys, "bundle.json")
    if pretty(manifest) != raw:
        raise SpecError("bundle.json: not json.dumps(indent=2, sort_keys=True, ensure_ascii=True)")
    if manifest["hash"] != "sha256":
        raise SpecError("bundle.json: hash is not sha256")
    return manifest


def verify_bundle(
    data: bytes,
    trusted: dict[bytes, str],
    *,
    since: Path | None = None,
    witnesses: Path | None = None,
) -> BundleResult:
    members = read_bundle(data)
    manifest = read_manifest(members)
    listed = manifest["records"]
    if not isinstance(listed, list) or not listed:
        raise SpecError("bundle.json: records is not a non-empty list")
    rows = [
        _shape(r, ["inclusion_proof", "index", "leaf_hash", "record_hash"], "bundle.json record")
        for r in listed
    ]
    indexes = [r["index"] for r in rows]
    if not all(type(i) is int for i in indexes) or indexes != sorted(set(indexes)):
        raise SpecError("bundle.json: record indexes are not strictly ascending integers")
    expected = set(FIXED) | {"consistency.json"} & set(members)
    for n in indexes:
        expected |= {f"entries/{n}", f"records/{n}.json", f"records/{n}.sig"}
    if set(members) != expected:
        raise SpecError(f"bundle: unexpected or missing members {sorted(set(members) ^ expected)}")
    origin = manifest["origin"]
    listed_cp = _shape(manifest["checkpoint"], ["root_hash", "size"], "bundle.json checkpoint")
    note = parse_note(members["checkpoint"])
    cp = parse_checkpoint(note.text)
    if (cp.origin, cp.size, cp.root.hex()) != (origin, listed_cp["size"], listed_cp["root_hash"]):
        raise SpecError("checkpoint: origin, size or root differ from bundle.json's")
    trust = Trust(dict(trusted))
    hashes: dict[int, str] = {}
    kinds: dict[int, str] = {}
    signer_keys: dict[bytes, None] = {}
    candidates: dict[bytes, None] = dict.fromkeys(trusted)
    for row in rows:
        n = row["index"]
        entry_bytes = members[f"entries/{n}"]
        entry = parse_entry(entry_bytes, f"entries/{n}")
        body = members[f"records/{n}.json"]
        digest = blake3.blake3(body).hexdigest()
        if digest != row["record_hash"] or row["record_hash"] != entry.record:
            raise SpecError(f"records/{n}.json: BLAKE3 is not record_hash and the entry's record")
        if members[f"records/{n}.sig"] != armor(entry.signature).encode():
            raise SpecError(f"records/{n}.sig: not the canonical armour of the entry's signature")
        chained = n - 1 in hashes
        record, key = check_record(
            entry, body, index=n, origin=origin, previous=hashes.get(n - 1), chained=chained
        )
        check_reference(record, hashes, kinds, n)
        kinds[n] = record["kind"]
        leaf = leaf_hash(sha256, entry_bytes)
        proof = _shape(row["inclusion_proof"], ["hashes", "tree_size"], f"record {n} proof")
        if leaf.hex() != row["leaf_hash"] or proof["tree_size"] != cp.size:
            raise SpecError(f"entries/{n}: leaf hash or proof tree size differ from bundle.json")
        path = _hex_list(proof["hashes"], f"record {n} inclusion proof")
        if not verify_inclusion(sha256, n, cp.size, leaf, path, cp.root):
            raise SpecError(f"record {n}: the inclusion proof does not lead to the checkpoint root")
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


def check_keys_file(data: bytes, keys: list[bytes]) -> None:
    unique = dict.fromkeys(keys)
    lines = sorted(f'{fingerprint(k)} namespaces="bias-ledger" {line_of_wire(k)}\n' for k in unique)
    if data != (KEYS_HEADER + "".join(lines)).encode():
        raise SpecError("keys/allowed_signers: not the bytes derived from records and checkpoint")


def check_consistency(data: bytes, cp: Checkpoint) -> None:
    keys = ["hash", "hashes", "new_root", "new_size", "old_root", "old_size"]
    proof = _shape(load_json(data, "consistency.json"), keys, "consistency.json")
    if pretty(proof) != data or proof["hash"] != "sha256":
        raise SpecError("consistency.json: not the bundle.json layout with hash sha256")
    if (proof["new_size"], proof["new_root"]) != (cp.size, cp.root.hex()):
        raise SpecError("consistency.json: does not end at the checkpoint")
    old_root = _hex_list([proof["old_root"]], "consistency.json old_root")[0]
    path = _hex_list(proof["hashes"], "consistency.json hashes")
    if not isinstance(proof["old_size"], int) or not verify_consistency(
        sha256, proof["old_size"], cp.size, old_root, cp.root, path
    ):
        raise SpecError("consistency.json: the consistency proof does not verify")


def check_since(kept: Path, cp: Checkpoint, consistency: bytes | None, trust: Trust) -> None:
    note = parse_note(kept.read_bytes())
    old = parse_checkpoint(note.text)
    if old.origin != cp.origin:
        raise SpecError(f"--since: kept checkpoint is of {old.origin!r}")
    if old.size > cp.size:
        raise SpecError(f"--since: rollback: kept size {old.size}, bundle size {cp.size}")
    if old.size == cp.size and old.root != cp.root:
        raise SpecError("--since: fork: same size, different roots")
    if old.size < cp.size:
        proof = json.loads(consistency) if consistency else None
        if not proof or (proof["old_size"], proof["old_root"]) != (old.size, old.root.hex()):
            raise SpecError("--since: fork (no consistency.json from the kept size and root)")
    key = log_signer(note, old.origin, trust.trusted)
    problem = trust.checkpoint_key_ok(key, old.size)
    if problem:
        raise SpecError(f"--since: kept checkpoint {problem}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Verify a format-2 bundle, from FORMAT.md alone.")
    parser.add_argument("bundle", type=Path)
    parser.add_argument("allowed_signers", type=Path)
    parser.add_argument("--since", type=Path)
    parser.add_argument("--witnesses", type=Path)
    args = parser.parse_args(argv)
    try:
        trusted = read_allowed_signers(args.allowed_signers)
        result = verify_bundle(
            args.bundle.read_bytes(), trusted, since=args.since, witnesses=args.witnesses
        )
    except SpecError as exc:
        print(f"INVALID: {exc}")
        return 3
    print(f"VALID: records {list(result.indexes)} of {result.checkpoint.origin}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
