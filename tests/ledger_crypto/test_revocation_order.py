"""Revocations decided in index order, never reaching the rotation their own signer rests on
(docs/FORMAT.md section 4, spec finding F9), on real signed ledgers of both formats, verified as
a ledger, as a published log and as a bundle.

Keys: A and C are trusted from outside; A rotates to B (B is trusted only through that rotation).
Some records below are ones the writer refuses (a rotated-out key signing); an attacker holding
the key can write them, so they are written here by the real writer with its refusal switched off.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from bias_ledger.errors import VerificationError
from bias_ledger.ledger import retired, store
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record, init_ledger
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.workflows.export import export_bundle_file
from bias_ledger.workflows.verify import verify_bundle_file, verify_ledger_dir, verify_log_at
from tests.ledger.helpers import Signer, new_signer

Step = tuple[str, str, str, int]
"""(signer, "note" | "rotate" | "revoke", the key rotated to or revoked, invalid_after)."""


@dataclass(frozen=True)
class Keys:
    by_name: dict[str, Signer]

    def trusted(self, *names: str) -> TrustedKeys:
        return TrustedKeys.from_fingerprints([self.by_name[n].fingerprint for n in names])


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    return Keys({name: new_signer(tmp_path / name) for name in "ABCX"})


@pytest.fixture(params=[1, 2], ids=["format1", "format2"])
def version(request: pytest.FixtureRequest) -> int:
    return int(request.param)


def build(path: Path, version: int, keys: Keys, steps: Sequence[Step]) -> Path:
    init_ledger(path, name="revocation-order", format_version=version)
    with pytest.MonkeyPatch.context() as patch:  # what an attacker holding a key can write
        patch.setattr(store, "refuse_retired_signer", lambda *_: None)
        patch.setattr(retired, "refuse_retired_signer_v2", lambda *_: None)
        for signer, what, other, after in steps:
            key, named = keys.by_name[signer], keys.by_name.get(other)
            if what == "note":
                append_record(path, RecordKind.GATE, {"note": f"by {signer}"}, key.key)
            elif what == "rotate" and named is not None:
                payload: dict[str, object] = {
                    "new_public_key": named.public_line,
                    "new_fingerprint": named.fingerprint,
                }
                append_record(path, RecordKind.KEY_ROTATION, payload, key.key)
            elif named is not None:
                payload = {
                    "revoked_public_key": named.public_line,
                    "revoked_fingerprint": named.fingerprint,
                    "invalid_after": after,
                    "reason": "test",
                }
                append_record(path, RecordKind.KEY_REVOCATION, payload, key.key)
    return path


def invalid(warnings: Sequence[str]) -> dict[int, str]:
    found = {}
    for warning in warnings:
        match = re.search(r"record (\d+): invalid, not trusted: (.*)", warning)
        if match:
            found[int(match.group(1))] = match.group(2)
    return found


def verify_everywhere(path: Path, version: int, trusted: TrustedKeys) -> dict[int, str]:
    """The invalid records, the same whether the ledger or (format 2) its published copy is
    verified."""
    found = invalid(verify_ledger_dir(path, trusted=trusted).warnings)
    if version == 2:
        from bias_ledger.ledger.tlog_publish import publish

        published = path.parent / "published"
        publish(path, published)
        assert invalid(verify_log_at(published, trusted=trusted).warnings) == found
    return found


ROTATED = [("A", "note", "", 0), ("A", "rotate", "B", 0), ("B", "note", "", 0)]
"""0: A's record; 1: A rotates to B; 2: B's record."""


def test_a_successor_revoking_its_predecessor_keeps_the_rotation_it_rests_on(
    tmp_path: Path, version: int, keys: Keys
) -> None:
    """B (stolen or not) cannot saw off the branch it sits on: A's rotation (record 1) stays
    valid, so B stays trusted; A's other records above invalid_after are invalid."""
    steps = [*ROTATED, ("B", "revoke", "A", -1), ("B", "note", "", 0)]
    path = build(tmp_path / "ledger", version, keys, steps)
    found = verify_everywhere(path, version, keys.trusted("A"))
    assert list(found) == [0]
    assert (
        "which record 3 revoked for everything it signed after record -1 but record 1" in (found[0])
    )
    bundle = tmp_path / "b.zip"
    export_bundle_file(path, bundle, indexes=[2])  # B's record, with its rotation and revocation
    verified = verify_bundle_file(bundle, trusted=keys.trusted("A"))
    assert 2 in verified.records


def test_the_same_revocation_by_a_key_trusted_from_outside_reaches_the_rotation(
    tmp_path: Path, version: int, keys: Keys
) -> None:
    """B's trust no longer rests on A's rotation when B is trusted from outside: every record
    A signed is invalid, its rotation too."""
    steps = [*ROTATED, ("B", "revoke", "A", -1), ("B", "note", "", 0)]
    path = build(tmp_path / "ledger", version, keys, steps)
    assert list(verify_everywhere(path, version, keys.trusted("A", "B"))) == [0, 1]


def test_a_successor_revoking_its_predecessor_after_the_rotation_changes_nothing(
    tmp_path: Path, version: int, keys: Keys
) -> None:
    steps = [*ROTATED, ("B", "revoke", "A", 1), ("B", "note", "", 0)]
    path = build(tmp_path / "ledger", version, keys, steps)
    assert verify_everywhere(path, version, keys.trusted("A")) == {}


def test_two_rotations_down_the_revoker_keeps_its_whole_chain(
    tmp_path: Path, version: int, keys: Keys
) -> None:
    """A -> B -> X; X revokes A and then B from -1: records 1 and 3 (the rotations X rests on)
    stay valid, A's record 0 and B's record 2 do not."""
    steps = [
        *ROTATED,
        ("B", "rotate", "X", 0),
        ("X", "revoke", "A", -1),
        ("X", "revoke", "B", -1),
        ("X", "note", "", 0),
    ]
    path = build(tmp_path / "ledger", version, keys, steps)
    found = verify_everywhere(path, version, keys.trusted("A"))
    assert list(found) == [0, 2]
    assert "but record 3" in found[2]


def test_an_independent_revocation_of_the_predecessor_untrusts_the_successor(
    tmp_path: Path, version: int, keys: Keys
) -> None:
    """C revokes A after record 0: A's rotation (record 1) is invalid, so what B signed is
    listed as invalid (B was only ever trusted through it), not trusted."""
    steps = [*ROTATED, ("C", "revoke", "A", 0), ("B", "note", "", 0), ("C", "note", "", 0)]
    path = build(tmp_path / "ledger", version, keys, steps)
    found = verify_everywhere(path, version, keys.trusted("A", "C"))
    assert list(found) == [1, 2, 4]
    assert "which only the rotation in record 1 introduced" in found[4]
    bundle = tmp_path / "b.zip"
    export_bundle_file(path, bundle, indexes=[2])
    with pytest.raises(VerificationError, match="record 1: signed by key"):
        verify_bundle_file(bundle, trusted=keys.trusted("A", "C"))


def test_a_key_of_a_revoked_rotation_cannot_revoke_the_revoker(
    tmp_path: Path, version: int, keys: Keys
) -> None:
    """The attack: A stolen after record 0, the thief rotates A to X (record 1); C revokes A
    after 0 (record 2); X then revokes C from -1. X's trust rested on record 1, invalid given
    record 2, so X's revocation counts for nothing and C's records stay valid."""
    steps = [
        ("A", "note", "", 0),
        ("A", "rotate", "X", 0),
        ("C", "revoke", "A", 0),
        ("X", "revoke", "C", -1),
        ("C", "note", "", 0),
    ]
    path = build(tmp_path / "ledger", version, keys, steps)
    found = verify_everywhere(path, version, keys.trusted("A", "C"))
    assert list(found) == [1, 3]
    assert "which only the rotation in record 1 introduced" in found[3]


def test_the_first_revocation_in_index_order_wins_down_a_rotation(
    tmp_path: Path, version: int, keys: Keys
) -> None:
    """B (through A's rotation) revokes C first: C's later revocation of A counts for nothing.
    In-log revocations are first come, first served; the remedy for a stolen trusted key is
    the trust from outside (drop it from allowed_signers)."""
    steps = [*ROTATED, ("B", "revoke", "C", -1), ("C", "revoke", "A", -1), ("B", "note", "", 0)]
    path = build(tmp_path / "ledger", version, keys, steps)
    found = verify_everywhere(path, version, keys.trusted("A", "C"))
    assert list(found) == [4]


def test_a_predecessor_revoking_its_successor_before_the_rotation_leaves_it_nothing(
    tmp_path: Path, version: int, keys: Keys
) -> None:
    """A revokes B (not yet introduced) from -1, then rotates to it: the rotation is valid (A
    signed it), but nothing B signs is."""
    steps = [("A", "note", "", 0), ("A", "revoke", "B", -1), ("A", "rotate", "B", 0)]
    steps += [("B", "note", "", 0), ("C", "note", "", 0)]
    path = build(tmp_path / "ledger", version, keys, steps)
    found = verify_everywhere(path, version, keys.trusted("A", "C"))
    assert list(found) == [3]


def test_a_rotated_out_predecessor_cannot_revoke_its_successor(
    tmp_path: Path, version: int, keys: Keys
) -> None:
    """The thief of A, rotated out at record 1, revokes B: that record is invalid, B stays."""
    steps = [*ROTATED, ("A", "revoke", "B", -1), ("B", "note", "", 0)]
    path = build(tmp_path / "ledger", version, keys, steps)
    found = verify_everywhere(path, version, keys.trusted("A"))
    assert list(found) == [3] and "rotated it out" in found[3]


def test_the_worked_example_of_the_spec(tmp_path: Path, version: int, keys: Keys) -> None:
    """docs/FORMAT.md section 4's worked example, record by record."""
    steps = [
        *ROTATED,
        ("B", "revoke", "A", -1),
        ("C", "revoke", "A", 0),
        ("B", "revoke", "C", -1),
        ("C", "note", "", 0),
    ]
    path = build(tmp_path / "ledger", version, keys, steps)
    found = verify_everywhere(path, version, keys.trusted("A", "C"))
    assert list(found) == [0, 1, 2, 3, 5]
