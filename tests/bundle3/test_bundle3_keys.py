"""A format-3 bundle across a key rotation: trust follows it, and an altered key record (read
twice: first for the revocations in effect, then in its place) is refused as altered, exit 3."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bias_ledger.ledger.trust import load_allowed_signers
from tests.bundle.helpers import cli
from tests.bundle3.helpers import members, rewrite

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def _key(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def rotated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("rotated")
    ledger, key1, key2 = root / "ledger", _key(root / "k1"), _key(root / "k2")
    on = ("--ledger", ledger)
    for args in (
        ("init", "--format", "2", "--name", "keys.example/audits"),
        ("audit", SAMPLE / "lending.csv", "--label", "repaid", "--prediction", "approved_v1")
        + ("--sensitive", "sex", "--key", key1),
        ("key", "rotate", "--key", key1, "--new-key", key2),
        ("approve", "0", "--note", "ok", "--key", key2),
    ):
        code, output = cli(*args, *on)
        assert code == 0, output
    trusted = root / "trusted"
    trusted.write_text(f"k1@example.org {key1.with_suffix('.pub').read_text()}")
    bundle = root / "all.tar"
    code, output = cli("export", "--all", "-o", bundle, *on)
    assert code == 0, output
    return bundle, trusted


def test_trust_follows_the_rotation(rotated: tuple[Path, Path]) -> None:
    bundle, trusted = rotated
    code, output = cli("verify", bundle, "--trusted-keys", trusted)
    assert code == 0 and "records 0, 1, 2" in " ".join(output.split()), output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d[:-3] + b"}}}", "records/1.json hashes to"),  # no longer JSON
        (lambda d: d.replace(b'"key_rotation"', b'"key_rotatioN"', 1), "(the record was altered)"),
    ],
)
def test_an_altered_rotation_record_is_refused_as_altered(
    rotated: tuple[Path, Path], change: Callable[[bytes], bytes], message: str
) -> None:
    bundle, trusted = rotated
    items = [(n, change(d) if n == "records/1.json" else d) for n, d in members(bundle)]
    edited = rewrite(bundle, items, f"edited{abs(hash(message))}.tar")
    code, output = cli("verify", edited, "--trusted-keys", trusted)
    assert code == 3 and message in output and "internal error" not in output, output


@pytest.fixture(scope="module")
def revoked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Records 0 and 1 audits by k1, 2 k2 revokes k1 after record 0: record 1 is invalid, so
    the bundle of all three fails (a bundle never ships an invalid record)."""
    root = tmp_path_factory.mktemp("revoked")
    ledger, key1, key2 = root / "ledger", _key(root / "k1"), _key(root / "k2")
    on = ("--ledger", ledger)
    audit = ("audit", SAMPLE / "lending.csv", "--label", "repaid", "--prediction", "approved_v1")
    for args in (
        ("init", "--format", "2", "--name", "keys.example/audits"),
        (*audit, "--sensitive", "sex", "--key", key1),
        (*audit, "--sensitive", "sex", "--key", key1),
        ("key", "revoke", key1.with_suffix(".pub"), "--after", "0", "--key", key2),
    ):
        code, output = cli(*args, *on)
        assert code == 0, output
    trusted = root / "trusted"
    trusted.write_text(
        f"k1@example.org {key1.with_suffix('.pub').read_text()}"
        f"k2@example.org {key2.with_suffix('.pub').read_text()}"
    )
    bundle = root / "all.tar"
    code, output = cli("export", "--all", "-o", bundle, *on)
    assert code == 0, output
    return bundle, trusted


MEMBERS = (("entries/", ""), ("records/", ".json"), ("records/", ".sig"))


@pytest.mark.parametrize("swap", ["revocation-hidden", "revocation-added"])
def test_a_bundle_swapped_between_its_two_reads_is_refused(
    revoked: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, swap: str
) -> None:
    """The verifier reads a bundle twice (pass 1: the revocations in effect). The file at the
    path is replaced between the reads (a real rename, as a concurrent writer would): the key
    records both reads saw must be the same, or a revocation could be hidden from the walk."""
    from bias_ledger.bundle import verify3
    from bias_ledger.errors import VerificationError

    honest, trusted = revoked
    code, output = cli("verify", honest, "--trusted-keys", trusted)
    assert code == 3 and "record 1" in output, output  # what the swap would hide
    items = members(honest)
    # The same bundle with record 2's entry naming another kind: its first read shows no key
    # record ("hidden"); or record 1's entry copied from record 2's ("added").
    held = dict(items)
    if swap == "revocation-hidden":
        renamed = held["entries/2"].replace(b"key_revocation", b"audit_revoked!")
        lie = [(n, renamed if n == "entries/2" else d) for n, d in items]
    else:
        record2 = {f"{part}1{ext}": held[f"{part}2{ext}"] for part, ext in MEMBERS}
        lie = [(n, record2.get(n, d)) for n, d in items]
    first, second = rewrite(honest, lie, f"first-{swap}.tar"), honest
    path = tmp_path / "bundle.tar"
    path.write_bytes(first.read_bytes())
    replacement = tmp_path / "replacement.tar"
    replacement.write_bytes(second.read_bytes())
    opened = getattr(verify3, "open_bundle3")  # noqa: B009 (the name the verifier calls)
    reads: list[Path] = []

    def open_then_swap(target: Path, shown: str) -> object:
        reads.append(target)
        if len(reads) == 2:  # pass 2: a writer renamed the other bundle into place
            replacement.replace(path)
        return opened(target, shown)

    monkeypatch.setattr(verify3, "open_bundle3", open_then_swap)
    with pytest.raises(VerificationError, match="changed between the two reads of the bundle"):
        verify3.verify_bundle3(path, load_allowed_signers(trusted))
    assert len(reads) == 2
