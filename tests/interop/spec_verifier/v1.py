"""Format 1 (FORMAT.md sections 2-7 and "Bundle format"): ledger directories and bundles."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blake3

from .bundle2 import KEYS_HEADER, _hex_list, _shape, pretty
from .merkle import blake3_256, leaf_hash, root, verify_consistency, verify_inclusion
from .note import Checkpoint, parse_checkpoint
from .records import check_header, check_reference, load_json
from .sshsig import SpecError, b64decode_strict, dearmor, fingerprint, line_of_wire, verify_sshsig
from .tiles import read_regular
from .trust import Trust
from .zipcheck import read_bundle

FIXED = {"bundle.json", "checkpoint", "checkpoint.body", "checkpoint.sig"}
FIXED |= {"keys/allowed_signers", "report.md", "report.html"}


@dataclass(frozen=True)
class V1Result:
    checkpoint: Checkpoint
    indexes: tuple[int, ...]
    checkpoint_signer: str
    after_checkpoint: int  # records after the checkpoint (reported, not covered)


def split_checkpoint(data: bytes) -> tuple[bytes, bytes]:
    """Section 6: the three-line body, one empty line, the armoured SSHSIG of the body."""
    body, sep, armour = data.partition(b"\n\n")
    if not sep:
        raise SpecError("checkpoint: no empty line after the body")
    return body + b"\n", armour


def checkpoint_key(data: bytes, trust: Trust) -> tuple[Checkpoint, bytes]:
    body, armour = split_checkpoint(data)
    cp = parse_checkpoint(body)
    if body.count(b"\n") != 3:
        raise SpecError("checkpoint: the format-1 body is exactly three lines")
    key = verify_sshsig(dearmor(armour.decode("ascii", "replace")), body)
    if key not in trust.trusted:
        raise SpecError(f"checkpoint: signed by {fingerprint(key)}, a key not trusted")
    problem = trust.checkpoint_key_ok(key, cp.size)
    if problem:
        raise SpecError(f"checkpoint: {problem}")
    return cp, key


def verify_ledger1(base: Path, trusted: dict[bytes, str]) -> V1Result:
    meta_bytes = read_regular(base, "ledger.json") or b""
    meta = load_json(meta_bytes, "ledger.json")
    keys = ["created", "format", "format_version", "hash", "origin"]
    if not isinstance(meta, dict) or sorted(meta) != keys:
        raise SpecError(f"ledger.json: members are not {keys}")
    if json.dumps(meta, sort_keys=True, separators=(",", ":")).encode() + b"\n" != meta_bytes:
        raise SpecError("ledger.json: not canonical JSON and one LF")
    if (meta["format"], meta["format_version"], meta["hash"]) != ("bias-ledger", 1, "blake3-256"):
        raise SpecError("ledger.json: not a bias-ledger format 1 (blake3-256) ledger")
    origin = meta["origin"]
    log = read_regular(base, "records.log")
    if log is None:
        raise SpecError("records.log: missing")
    # Bytes after the last LF are an interrupted append: never a record (section 3).
    lines = log.split(b"\n")[:-1]
    trust = Trust(dict(trusted))
    hashes: dict[int, str] = {}
    kinds: dict[int, str] = {}
    leaves = []
    for i, line in enumerate(lines):
        record_bytes, tab, encoded = line.partition(b"\t")
        if not tab:
            raise SpecError(f"records.log line {i + 1}: no tab between record and signature")
        blob = b64decode_strict(encoded, f"records.log line {i + 1} signature")
        record, key = check_header(
            record_bytes, blob, index=i, origin=origin, previous=hashes.get(i - 1), version=1
        )
        check_reference(record, hashes, kinds, i)
        kinds[i] = record["kind"]
        trust.record(i, key, record)
        hashes[i] = blake3.blake3(record_bytes).hexdigest()
        leaves.append(leaf_hash(blake3_256, line))
    raw = read_regular(base, "checkpoint")
    if raw is None:
        raise SpecError("checkpoint: missing")
    cp, key = checkpoint_key(raw, trust)
    if cp.origin != origin or cp.size > len(leaves) or cp.size == 0:
        raise SpecError("checkpoint: another origin, or a size above the number of records")
    if root(blake3_256, leaves[: cp.size]) != cp.root:
        raise SpecError(f"checkpoint: the BLAKE3 root of {cp.size} records differs")
    return V1Result(cp, tuple(range(len(leaves))), fingerprint(key), len(leaves) - cp.size)


def verify_bundle1(data: bytes, trusted: dict[bytes, str]) -> V1Result:
    members = read_bundle(data)
    raw = members.get("bundle.json", b"")
    manifest = load_json(raw, "bundle.json")
    if not isinstance(manifest, dict) or manifest.get("format") != "bias-ledger-bundle":
        raise SpecError("bundle.json: not a bundle")
    if manifest.get("format_version") != 1:
        raise SpecError("bundle.json: not format_version 1")
    keys = ["checkpoint", "format", "format_version", "hash", "origin", "records", "report_version"]
    _shape(manifest, keys, "bundle.json")
    if pretty(manifest) != raw or manifest["hash"] != "blake3-256":
        raise SpecError("bundle.json: not the fixed layout, or hash is not blake3-256")
    rows: list[dict[str, Any]] = manifest["records"]
    indexes = [r["index"] for r in rows]
    if indexes != sorted(set(indexes)):
        raise SpecError("bundle.json: record indexes not strictly ascending")
    expected = FIXED | ({"consistency.json"} & set(members))
    expected |= {f"records/{n}.{ext}" for n in indexes for ext in ("json", "sig")}
    if set(members) != expected:
        raise SpecError(f"bundle: unexpected or missing members {sorted(set(members) ^ expected)}")
    body, armour = split_checkpoint(members["checkpoint"])
    if (body, armour) != (members["checkpoint.body"], members["checkpoint.sig"]):
        raise SpecError("checkpoint: not checkpoint.body, LF, checkpoint.sig")
    origin = manifest["origin"]
    trust = Trust(dict(trusted))
    hashes: dict[int, str] = {}
    kinds: dict[int, str] = {}
    signers: dict[bytes, None] = {}
    cp = parse_checkpoint(body)
    listed = _shape(manifest["checkpoint"], ["root_hash", "size"], "bundle.json checkpoint")
    if (cp.origin, cp.size, cp.root.hex()) != (origin, listed["size"], listed["root_hash"]):
        raise SpecError("checkpoint: origin, size or root differ from bundle.json's")
    for row in rows:
        n = row["index"]
        record_bytes, armoured = members[f"records/{n}.json"], members[f"records/{n}.sig"]
        if blake3.blake3(record_bytes).hexdigest() != row["record_hash"]:
            raise SpecError(f"records/{n}.json: BLAKE3 is not record_hash")
        blob = dearmor(armoured.decode("ascii", "replace"))
        record, key = check_header(
            record_bytes, blob, index=n, origin=origin, previous=hashes.get(n - 1),
            chained=n - 1 in hashes, version=1,
        )  # fmt: skip
        check_reference(record, hashes, kinds, n)
        kinds[n] = record["kind"]
        line = record_bytes + b"\t" + base64.b64encode(blob)
        leaf = leaf_hash(blake3_256, line)
        proof = row["inclusion_proof"]
        path = _hex_list(proof["hashes"], f"record {n} proof")
        if leaf.hex() != row["leaf_hash"] or proof["tree_size"] != cp.size:
            raise SpecError(f"record {n}: leaf hash or proof size differ from bundle.json")
        if not verify_inclusion(blake3_256, n, cp.size, leaf, path, cp.root):
            raise SpecError(f"record {n}: the inclusion proof does not lead to the root")
        trust.record(n, key, record)
        if trust.invalid:
            raise SpecError(f"record {n}: invalid: {trust.invalid}")
        hashes[n] = row["record_hash"]
        signers.setdefault(key)
    _, note_key = checkpoint_key(members["checkpoint"], trust)
    unique = dict.fromkeys([*signers, note_key])
    lines = sorted(f'{fingerprint(k)} namespaces="bias-ledger" {line_of_wire(k)}\n' for k in unique)
    if members["keys/allowed_signers"] != (KEYS_HEADER + "".join(lines)).encode():
        raise SpecError("keys/allowed_signers: not the bytes derived from records and checkpoint")
    if "consistency.json" in members:
        c = load_json(members["consistency.json"], "consistency.json")
        if pretty(c) != members["consistency.json"] or c["hash"] != "blake3-256":
            raise SpecError("consistency.json: not the fixed layout with hash blake3-256")
        old = _hex_list([c["old_root"]], "consistency.json")[0]
        proof_path = _hex_list(c["hashes"], "consistency.json")
        if (c["new_size"], c["new_root"]) != (cp.size, cp.root.hex()) or not verify_consistency(
            blake3_256, c["old_size"], cp.size, old, cp.root, proof_path
        ):
            raise SpecError("consistency.json: not a valid proof ending at the checkpoint")
    return V1Result(cp, tuple(indexes), fingerprint(note_key), 0)
