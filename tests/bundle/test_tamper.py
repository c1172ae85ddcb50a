"""Tamper suite: each attack on a real bundle, detected with its own message and exit code 3."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blake3
import pytest

from bias_ledger.ledger.checkpoint import parse_signed_checkpoint, sign_checkpoint
from bias_ledger.ledger.entry import dearmor
from bias_ledger.ledger.merkle import BLAKE3_HASHER
from bias_ledger.ledger.proofs import inclusion

from .conftest import World
from .helpers import cli, dump, manifest, members, rederive, write_members

Items = dict[str, bytes]


def flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


def edit_manifest(items: Items, change: Callable[[dict[str, Any]], None]) -> Items:
    value = manifest(items)
    change(value)
    return {**items, "bundle.json": dump(value)}


def entry(items: Items, index: int) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in manifest(items)["records"] if r["index"] == index)
    return found


def put_record(items: Items, index: int, raw: bytes, sig: bytes, *, listed_as: int) -> Items:
    """Place a record's bytes and signature at ``listed_as`` and relist its hashes."""
    line = raw + b"\t" + base64.b64encode(dearmor(sig.decode(), where="test"))
    items = {**items, f"records/{listed_as}.json": raw, f"records/{listed_as}.sig": sig}

    def change(value: dict[str, Any]) -> None:
        for item in value["records"]:
            if item["index"] == listed_as:
                item["record_hash"] = blake3.blake3(raw).hexdigest()
                item["leaf_hash"] = BLAKE3_HASHER.hash_leaf(line).hex()

    return edit_manifest(items, change)


def replace_checkpoint(items: Items, signed: bytes, *, relist: bool) -> Items:
    checkpoint, armored = parse_signed_checkpoint(signed, source="test")
    items = {
        **items,
        "checkpoint": signed,
        "checkpoint.body": checkpoint.body(),
        "checkpoint.sig": armored.encode(),
    }
    if not relist:
        return items

    def change(value: dict[str, Any]) -> None:
        value["checkpoint"] = {"size": checkpoint.size, "root_hash": checkpoint.root_hash.hex()}

    return edit_manifest(items, change)


def edit_consistency(items: Items) -> Items:
    value = json.loads(items["consistency.json"])
    value["hashes"][0] = "0" * 64
    return {**items, "consistency.json": dump(value)}


def swap_records(items: Items) -> Items:
    a, b = items["records/0.json"], items["records/1.json"]
    sa, sb = items["records/0.sig"], items["records/1.sig"]
    items = put_record(items, 0, b, sb, listed_as=0)
    return put_record(items, 1, a, sa, listed_as=1)


def edit_record(items: Items) -> Items:
    raw = items["records/0.json"].replace(b'"true_positives":', b'"true_positives":1', 1)
    return edit_manifest(
        {**items, "records/0.json": raw},
        lambda v: v["records"][0].update(record_hash=blake3.blake3(raw).hexdigest()),
    )


def flip_sig(items: Items) -> Items:
    text = items["records/0.sig"]
    position = text.index(b"-----END") - 20
    swapped = b"B" if text[position : position + 1] != b"B" else b"C"
    return {**items, "records/0.sig": text[:position] + swapped + text[position + 1 :]}


def reflow_sig(items: Items) -> Items:
    lines = items["records/0.sig"].decode().splitlines()
    body = "".join(lines[1:-1])
    wrapped = [body[i : i + 64] for i in range(0, len(body), 64)]
    return {**items, "records/0.sig": "\n".join([lines[0], *wrapped, lines[-1], ""]).encode()}


def edit_report(name: str) -> Callable[[World, Items], Items]:
    def attack(world: World, items: Items) -> Items:
        text = items[name].decode()
        record = json.loads(items["records/0.json"])
        rate = record["audit"]["results"]["overall"]["metrics"]["selection_rate"]["value"]
        shown = f"{rate:.4f}"
        assert shown in text
        return {**items, name: text.replace(shown, "0.9999", 1).encode()}

    return attack


def remove_record(index: int, *, forge: bool) -> Callable[[World, Items], Items]:
    def attack(world: World, items: Items) -> Items:
        items = {k: v for k, v in items.items() if not k.startswith(f"records/{index}.")}
        items = edit_manifest(
            items,
            lambda v: v.update(records=[r for r in v["records"] if r["index"] != index]),
        )
        return rederive(items) if forge else items

    return attack


def add_listed_copy(world: World, items: Items) -> Items:
    def change(value: dict[str, Any]) -> None:
        records = value["records"]
        records.append({**records[-1], "index": 5})

    items = edit_manifest(items, change)
    return {
        **items,
        "records/5.json": items["records/4.json"],
        "records/5.sig": items["records/4.sig"],
    }


def foreign_record(world: World, items: Items) -> Items:
    other = members(world.other_bundle)
    return put_record(items, 1, other["records/1.json"], other["records/1.sig"], listed_as=1)


def proof_of(index: int, size: int, *, listed_size: int) -> Callable[[World, Items], Items]:
    def attack(world: World, items: Items) -> Items:
        hashes = [h.hex() for h in inclusion(world.ledger, index, size).hashes]

        def change(value: dict[str, Any]) -> None:
            value["records"][1]["inclusion_proof"] = {"tree_size": listed_size, "hashes": hashes}

        return edit_manifest(items, change)

    return attack


def resign_checkpoint(world: World, items: Items) -> Items:
    checkpoint, _ = parse_signed_checkpoint(items["checkpoint"], source="test")
    return rederive(
        replace_checkpoint(items, sign_checkpoint(checkpoint, world.key_c), relist=False)
    )


def consistent_root_swap(world: World, items: Items) -> Items:
    checkpoint, armored = parse_signed_checkpoint(items["checkpoint"], source="test")
    forged = type(checkpoint)(checkpoint.origin, checkpoint.size, bytes(32))
    signed = forged.body() + b"\n" + armored.encode()
    return replace_checkpoint(items, signed, relist=True)


def strip_checkpoint_sig(world: World, items: Items) -> Items:
    body = items["checkpoint.body"]
    return {**items, "checkpoint": body, "checkpoint.sig": b""}


@dataclass(frozen=True)
class Attack:
    name: str
    mutate: Callable[[World, Items], Items]
    message: str


ATTACKS = [
    Attack(
        "flip_record_json",
        lambda w, i: {**i, "records/0.json": flip(i["records/0.json"], 40)},
        "(the record was altered)",
    ),
    Attack(
        "edit_record_and_relist_hash", lambda w, i: edit_record(i), "record 0: SSH signature by"
    ),
    Attack("flip_record_sig", lambda w, i: flip_sig(i), "does not match them"),
    Attack(
        "strip_record_sig",
        lambda w, i: {**i, "records/0.sig": b""},
        "expected an armoured SSH SIGNATURE block",
    ),
    Attack("reflow_record_sig", lambda w, i: reflow_sig(i), "expected the canonical SSHSIG armor"),
    Attack(
        "flip_manifest_whitespace",
        lambda w, i: {**i, "bundle.json": i["bundle.json"].replace(b"\n", b" \n", 1)},
        "expected the canonical layout",
    ),
    Attack(
        "flip_manifest_record_hash",
        lambda w, i: edit_manifest(i, lambda v: v["records"][2].update(record_hash="0" * 64)),
        "expected BLAKE3 " + "0" * 64,
    ),
    Attack(
        "flip_manifest_leaf_hash",
        lambda w, i: edit_manifest(i, lambda v: v["records"][2].update(leaf_hash="0" * 64)),
        "but bundle.json lists " + "0" * 64,
    ),
    Attack(
        "flip_manifest_proof",
        lambda w, i: edit_manifest(
            i, lambda v: v["records"][1]["inclusion_proof"]["hashes"].__setitem__(0, "0" * 64)
        ),
        "record 1 is not proven in the signed checkpoint",
    ),
    Attack(
        "flip_checkpoint",
        lambda w, i: {**i, "checkpoint": flip(i["checkpoint"], 2)},
        "checkpoint.body differs from the body of checkpoint",
    ),
    Attack(
        "flip_checkpoint_body",
        lambda w, i: {**i, "checkpoint.body": flip(i["checkpoint.body"], 3)},
        "checkpoint.body differs",
    ),
    Attack(
        "flip_checkpoint_sig",
        lambda w, i: {**i, "checkpoint.sig": flip(i["checkpoint.sig"], 60)},
        "checkpoint.sig differs from the signature in checkpoint",
    ),
    Attack(
        "checkpoint_root_replaced_everywhere",
        consistent_root_swap,
        "checkpoint.sig: SSH signature by",
    ),
    Attack(
        "strip_checkpoint_signature",
        strip_checkpoint_sig,
        "expected the checkpoint body, an empty line, then a signature",
    ),
    Attack(
        "flip_allowed_signers",
        lambda w, i: {**i, "keys/allowed_signers": flip(i["keys/allowed_signers"], 200)},
        "keys/allowed_signers differs from the list of the keys that signed",
    ),
    Attack(
        "flip_consistency",
        lambda w, i: edit_consistency(i),
        "consistency.json: consistency proof from size 3 to size 5",
    ),
    Attack(
        "remove_record_member",
        lambda w, i: {k: v for k, v in i.items() if k != "records/2.json"},
        "missing member 'records/2.json'",
    ),
    Attack(
        "remove_rotation_and_forge_reports",
        remove_record(2, forge=True),
        "record 3: expected a signature by a key trusted in",
    ),
    Attack(
        "add_unlisted_record",
        lambda w, i: {
            **i,
            "records/9.json": i["records/0.json"],
            "records/9.sig": i["records/0.sig"],
        },
        "'records/9.json' is not listed in bundle.json (a record was added)",
    ),
    Attack("add_listed_copy", add_listed_copy, "holds record 4, expected record 5"),
    Attack(
        "reorder_listing",
        lambda w, i: edit_manifest(i, lambda v: v["records"].reverse()),
        "expected strictly ascending indexes (records duplicated or reordered)",
    ),
    Attack(
        "reorder_records",
        lambda w, i: swap_records(i),
        "holds record 1, expected record 0 (a record was moved or swapped)",
    ),
    Attack(
        "duplicate_listing",
        lambda w, i: edit_manifest(i, lambda v: v["records"].insert(1, v["records"][0])),
        "records [0, 0, 1, 2, 3, 4]",
    ),
    Attack("swap_in_foreign_record", foreign_record, "(a record from another ledger)"),
    Attack(
        "older_checkpoint",
        lambda w, i: replace_checkpoint(i, w.kept3, relist=False),
        "(the checkpoint was replaced)",
    ),
    Attack(
        "older_checkpoint_relisted",
        lambda w, i: replace_checkpoint(i, w.kept3, relist=True),
        "inclusion proof is for tree size 5, expected the checkpoint's size 3",
    ),
    Attack(
        "forked_checkpoint",
        lambda w, i: replace_checkpoint(i, w.fork5, relist=True),
        "is not proven in the signed checkpoint",
    ),
    Attack(
        "checkpoint_of_other_ledger",
        lambda w, i: replace_checkpoint(i, members(w.other_bundle)["checkpoint"], relist=True),
        "(a checkpoint from another ledger)",
    ),
    Attack(
        "resign_checkpoint_untrusted",
        resign_checkpoint,
        "checkpoint (tree size 5): expected a signature by a key trusted in",
    ),
    Attack(
        "untrusted_signer",
        lambda w, i: members(w.other_bundle),
        "record 0: expected a signature by a key trusted in",
    ),
    Attack(
        "proof_for_wrong_index",
        proof_of(0, 5, listed_size=5),
        "record 1 is not proven in the signed checkpoint",
    ),
    Attack(
        "proof_for_wrong_size",
        proof_of(1, 4, listed_size=4),
        "inclusion proof is for tree size 4, expected the checkpoint's size 5",
    ),
    Attack(
        "proof_for_wrong_size_unlabelled",
        proof_of(1, 4, listed_size=5),
        "record 1 is not proven in the signed checkpoint",
    ),
]


REPORTS = ("report.md", "report.html")


@pytest.mark.parametrize("name", REPORTS)
def test_reports_are_not_evidence(name: str, world: World, tmp_path: Path) -> None:
    """docs/FORMAT.md: the reports are derived views, neither signed nor compared; an edited
    report leaves the evidence valid, and the checklist says the reports were not compared."""
    items = edit_report(name)(world, members(world.bundle))
    path = write_members(tmp_path / "edited.zip", items)
    code, output = cli("verify", path, "--trusted-keys", world.trusted)
    assert code == 0, output
    assert "report.md and report.html are informative views" in " ".join(output.split())


def test_attacks_have_distinct_names() -> None:
    assert len({attack.name for attack in ATTACKS}) == len(ATTACKS)


def test_untouched_bundle_passes(world: World) -> None:
    code, output = cli("verify", world.bundle, "--trusted-keys", world.trusted)
    assert code == 0, output
    assert "VALID" in output


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.name for attack in ATTACKS])
def test_attack_is_detected(attack: Attack, world: World, tmp_path: Path) -> None:
    items = attack.mutate(world, members(world.bundle))
    assert items != members(world.bundle)
    path = write_members(tmp_path / f"{attack.name}.zip", items)
    code, output = cli("verify", path, "--trusted-keys", world.trusted)
    assert code == 3, output
    assert attack.message in " ".join(output.split()), output
    assert "INVALID" in output


def test_any_flipped_byte_in_any_member_is_detected(world: World, tmp_path: Path) -> None:
    """Beyond the named attacks: a flipped bit at the start, middle and end of every member."""
    original = members(world.bundle)
    for name, data in sorted(original.items()):
        if name in REPORTS:
            continue  # informative views, not evidence: test_reports_are_not_evidence
        for position in sorted({0, len(data) // 2, len(data) - 1}):
            path = write_members(tmp_path / "flip.zip", {**original, name: flip(data, position)})
            code, output = cli("verify", path, "--trusted-keys", world.trusted)
            assert code == 3, f"{name}[{position}]: {output}"
