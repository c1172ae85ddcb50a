"""The spec-only verifier against the spec's own worked examples and the RFCs' vectors, and the
tool's proof output; and the verifier imports nothing of bias_ledger."""

from __future__ import annotations

import ast
import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, Made, cli_env
from .merkle import inclusion_proof, leaf_hash, root, sha256, verify_consistency, verify_inclusion
from .note import (
    COSIGNATURE_V1,
    ED25519,
    key_id,
    parse_checkpoint,
    parse_note,
    parse_verifier_key,
    verify_cosignature,
    verify_ed25519,
)
from .records import check_record, load_json, parse_entry
from .sshsig import SpecError, fingerprint, raw_ed25519, wire_of_line
from .tiles import encode_index, split_bundle, tile_path

FORMAT = REPO / "docs" / "FORMAT.md"
HERE = Path(__file__).parent


def worked_example() -> dict[str, str]:
    """The `key: value` lines of FORMAT.md 10.9's text block (checkpoint: the rest)."""
    text = FORMAT.read_text(encoding="utf-8")
    block = text.split("### 10.9 Worked example", 1)[1].split("```text\n", 1)[1]
    block = block.split("\n```", 1)[0]
    head, _, checkpoint = block.partition("checkpoint: ")
    values = dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)
    values["checkpoint"] = checkpoint.rstrip("\n") + "\n"
    return values


def test_the_format2_worked_example_verifies_from_the_spec_alone() -> None:
    ex = worked_example()
    wire = wire_of_line(ex["public_key"])
    assert fingerprint(wire) == ex["fingerprint"]
    origin = json.loads(ex["ledger_json"])["origin"]
    raw = raw_ed25519(wire)
    name, kind, key = parse_verifier_key(ex["note_key"])
    assert (name, kind, key) == (origin, ED25519, raw)
    leaves, previous = [], None
    for n in (0, 1):
        record = ex[f"record_{n}_bytes"].encode()
        entry_bytes = ex[f"entry_{n}"].encode()
        assert len(entry_bytes) == int(ex[f"entry_{n}_length"])
        entry = parse_entry(entry_bytes, f"entry {n}")
        assert ex[f"record_{n}_path"] == f"records/{entry.record}.json"
        _, signer = check_record(entry, record, index=n, origin=origin, previous=previous)
        assert signer == wire
        previous = entry.record
        leaves.append(leaf_hash(sha256, entry_bytes))
        assert base64.b64encode(leaves[-1]).decode() == ex[f"leaf_{n}_hash_base64"]
    assert ex["entry_bundle_path"] == tile_path("entries", 0, 2)
    assert ex["hash_tile_path"] == tile_path(0, 0, 2)
    assert base64.b64decode(ex["hash_tile_base64"]) == b"".join(leaves)
    note = parse_note(ex["checkpoint"].encode())
    cp = parse_checkpoint(note.text)
    assert (cp.origin, cp.size, cp.root) == (origin, 2, root(sha256, leaves))
    (line,) = note.signatures
    assert (line.name, line.key_id) == (origin, key_id(origin, ED25519, raw))
    assert verify_ed25519(note.text, line.signature, raw)
    assert not verify_ed25519(note.text.replace(b"\n2\n", b"\n3\n"), line.signature, raw)


def test_the_witness_example_of_10_11_verifies() -> None:
    text = FORMAT.read_text(encoding="utf-8").split("### 10.11 Witness cosignatures", 1)[1]
    note_text = text.split("\n```\n", 2)[1] + "\n"
    keys = re.findall(r"key `([^`]+)`", text.split("Note syntax", 1)[0])
    log_name, _, log_key = parse_verifier_key(keys[0])
    witness_name, witness_kind, witness_key = parse_verifier_key(keys[1])
    assert witness_kind == COSIGNATURE_V1
    note = parse_note(note_text.encode())
    log_line, witness_line = note.signatures
    assert log_line.key_id == key_id(log_name, ED25519, log_key)
    assert verify_ed25519(note.text, log_line.signature, log_key)
    assert witness_line.key_id == key_id(witness_name, COSIGNATURE_V1, witness_key)
    assert verify_cosignature(note.text, witness_line.signature, witness_key) == 1764547200
    assert parse_checkpoint(note.text).root == sha256(b"x")


def test_tile_index_encoding_follows_tlog_tiles() -> None:
    assert encode_index(1234067) == "x001/x234/067"
    assert encode_index(7) == "007"
    assert encode_index(1000) == "x001/000"
    assert tile_path(1, 1234067, 5) == "tile/1/x001/x234/067.p/5"
    assert tile_path("entries", 0, 256) == "tile/entries/000"


RFC6962_LEAVES = [
    b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70)),
]  # fmt: skip


def test_merkle_code_matches_the_rfc6962_vectors() -> None:
    leaves = [leaf_hash(sha256, d) for d in RFC6962_LEAVES]
    assert root(sha256, []).hex() == sha256(b"").hex()
    assert root(sha256, leaves).hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )
    for size in range(1, 9):
        for index in range(size):
            path = inclusion_proof(sha256, index, leaves[:size])
            top = root(sha256, leaves[:size])
            assert verify_inclusion(sha256, index, size, leaves[index], path, top)
            if path:
                assert not verify_inclusion(sha256, index, size, leaves[index], path[:-1], top)
            assert not verify_inclusion(sha256, index, size, leaves[index - 1], path, top)


def test_the_tools_proofs_verify_with_the_rfc_algorithms(made: Made, tmp_path: Path) -> None:
    def proof(*args: str) -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-m", "bias_ledger", "proof", *args, "--json"]
            + ["--ledger", str(made.ledger)],
            env=cli_env(tmp_path),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        value: dict[str, object] = json.loads(done.stdout)
        return value

    def b64(value: object) -> bytes:
        assert isinstance(value, str)
        return base64.b64decode(value)

    included = proof("inclusion", "3")
    # 10.5: exactly these fields, hashes in padded base64.
    assert sorted(included) == sorted(
        ["hash", "index", "size", "entry", "leaf_hash", "root_hash", "proof"]
    )
    assert (included["hash"], included["index"], included["size"]) == ("sha256", 3, 5)
    entries = split_bundle((made.ledger / "tile/entries/000.p/5").read_bytes(), "bundle", 5)
    assert b64(included["entry"]) == entries[3]
    leaf = leaf_hash(sha256, entries[3])
    assert b64(included["leaf_hash"]) == leaf
    top = b64(included["root_hash"])
    assert top == root(sha256, [leaf_hash(sha256, e) for e in entries])
    assert isinstance(included["proof"], list)
    path = [b64(h) for h in included["proof"]]
    assert verify_inclusion(sha256, 3, 5, leaf, path, top)
    consistent = proof("consistency", "2", "5")
    assert sorted(consistent) == sorted(
        ["hash", "old_size", "new_size", "old_root", "new_root", "proof"]
    )
    assert isinstance(consistent["proof"], list)
    hashes = [b64(h) for h in consistent["proof"]]
    old, new = b64(consistent["old_root"]), b64(consistent["new_root"])
    assert old == parse_checkpoint(parse_note(made.kept.read_bytes()).text).root
    assert verify_consistency(sha256, 2, 5, old, new, hashes)
    assert not verify_consistency(sha256, 2, 5, new, old, hashes)


@pytest.mark.parametrize("module", sorted(p.name for p in HERE.glob("*.py")))
def test_the_verifier_shares_no_code_with_bias_ledger(module: str) -> None:
    tree = ast.parse((HERE / module).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        for name in names:
            top = name.split(".")[0]
            assert top not in {"bias_ledger", "tests"}, f"{module} imports {name}"
            allowed = top in sys.stdlib_module_names or top in {"blake3", "cryptography"}
            assert allowed or top in {"pytest"}, f"{module} imports {name}"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (b'{"a":1,"a":2}', "duplicate JSON member"),
        (b'{"a":NaN}', "NaN is not JSON"),
        (b'{"a":[Infinity]}', "Infinity is not JSON"),
        (b'{"a":"\xff"}', "not JSON"),
    ],
)
def test_records_are_parsed_strictly(text: bytes, why: str) -> None:
    """FORMAT.md 10.2 (and section 1): what a strict parser refuses, whatever Python allows."""
    with pytest.raises(SpecError, match=f"record 7: .*{why}"):
        load_json(text, "record 7")
