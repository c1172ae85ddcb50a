"""The spec-only verifier accepts the tool's bundles of format 3 (FORMAT.md 10.16) and rejects
tampered copies; the tool rejects the same copies."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .bundle3 import read_members, ustar_header, verify_bundle3
from .conftest import Made, cli_env, run_cli_batch
from .sshsig import SpecError
from .test_log2 import key_fingerprint
from .trust import read_allowed_signers

Members = list[tuple[str, bytes]]


def retar(members: Members) -> bytes:
    """The fixed ustar layout of 10.16, written from the spec's header table."""
    out = b"".join(
        ustar_header(name, len(data)) + data + bytes(-len(data) % 512) for name, data in members
    )
    out += bytes(1024)
    return out + bytes(-len(out) % 10240)


def test_the_tools_bundles_of_format3_verify(made: Made) -> None:
    late = verify_bundle3(made.tar_late.read_bytes(), read_allowed_signers(made.trusted1))
    assert late.indexes == (2, 3, 4) and late.checkpoint_signer == key_fingerprint(made.key2)
    early = verify_bundle3(made.tar_early.read_bytes(), read_allowed_signers(made.trusted1))
    assert early.indexes == (0, 1, 2)
    consistent = verify_bundle3(
        made.tar_consistent.read_bytes(), read_allowed_signers(made.trusted1), since=made.kept
    )
    assert 4 in consistent.indexes
    assert retar(read_members(made.tar_late.read_bytes())) == made.tar_late.read_bytes()


def _edit(name: str, change: Callable[[bytes], bytes]) -> Callable[[Members], Members]:
    return lambda members: [(n, change(d) if n == name else d) for n, d in members]


def _flip(at: int) -> Callable[[bytes], bytes]:
    return lambda d: d[:at] + bytes([d[at] ^ 1]) + d[at + 1 :]


def _swap_proofs(members: Members) -> Members:
    found = dict(members)
    other = {"proofs/3": found["proofs/4"], "proofs/4": found["proofs/3"]}
    return [(n, other.get(n, d)) for n, d in members]


def _reorder(members: Members) -> Members:
    names = [n for n, _ in members]
    at = names.index("entries/3")
    edited = list(members)
    edited[at], edited[at + 1] = edited[at + 1], edited[at]
    return edited


def _drop_record(members: Members) -> Members:
    """Record 3 taken out and bundle.json's ranges rewritten to match: the rest still holds."""
    kept = [(n, d) for n, d in members if not n.split("/")[-1].startswith("3")]
    manifest = json.loads(dict(kept)["bundle.json"])
    manifest["ranges"], manifest["records"] = [[2, 2], [4, 4]], 2
    raw = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    return [(n, raw if n == "bundle.json" else d) for n, d in kept]


TAMPER: dict[str, tuple[Callable[[Members], Members], str]] = {
    "record byte": (_edit("records/3.json", _flip(20)), "records/3.json"),
    "entry byte": (_edit("entries/3", _flip(30)), "entries/3|records/3.json"),
    "signature armour": (_edit("records/3.sig", _flip(40)), "records/3.sig"),
    "proof byte": (_edit("proofs/3", _flip(5)), "proofs/3"),
    "swapped proofs": (_swap_proofs, "proofs/3"),
    "manifest byte": (_edit("bundle.json", _flip(3)), "bundle.json"),
    "signers list": (_edit("keys/allowed_signers", _flip(200)), "keys/allowed_signers"),
    "reordered": (_reorder, "expected"),
    "missing member": (lambda m: [x for x in m if x[0] != "proofs/4"], "expected"),
    "extra member": (lambda m: [*m[:4], ("notes.txt", b"x"), *m[4:]], "expected"),
}


@pytest.mark.parametrize("case", sorted(TAMPER))
def test_tampered_format3_bundles_are_rejected(made: Made, case: str) -> None:
    members = TAMPER[case][0](read_members(made.tar_late.read_bytes()))
    with pytest.raises(SpecError, match=TAMPER[case][1]):
        verify_bundle3(retar(members), read_allowed_signers(made.trusted1))


def test_a_record_left_out_with_its_ranges_still_verifies(made: Made) -> None:
    """A bundle proves what it holds, not completeness (the ranges say what it holds)."""
    members = _drop_record(read_members(made.tar_late.read_bytes()))
    verify_bundle3(retar(members), read_allowed_signers(made.trusted1))


def test_bytes_outside_the_members_are_rejected(made: Made) -> None:
    data = made.tar_late.read_bytes()
    trusted = read_allowed_signers(made.trusted1)
    for bad, message in (
        (data + bytes(512), "zero fill"),
        (data[:136] + b"00000000001\0" + data[148:], "fixed ustar header"),
        (data[:-20000], "truncated|zero fill"),
    ):
        with pytest.raises(SpecError, match=message):
            verify_bundle3(bad, trusted)


def test_the_tool_rejects_the_same_tampered_bundles(made: Made, tmp_path: Path) -> None:
    trusted = ["--trusted-keys", str(made.trusted1)]
    commands = [["verify", str(made.tar_late), *trusted]]
    for case in sorted(TAMPER):
        path = tmp_path / f"{case.replace(' ', '-')}.tar"
        path.write_bytes(retar(TAMPER[case][0](read_members(made.tar_late.read_bytes()))))
        commands.append(["verify", str(path), *trusted])
    dropped = tmp_path / "dropped.tar"
    dropped.write_bytes(retar(_drop_record(read_members(made.tar_late.read_bytes()))))
    commands.append(["verify", str(dropped), *trusted])
    since = ["--since", str(made.kept)]
    commands.append(["verify", str(made.tar_consistent), *trusted, *since])
    expected = [0] + [3] * len(TAMPER) + [0, 0]
    assert run_cli_batch(commands, cli_env(tmp_path), tmp_path) == expected
