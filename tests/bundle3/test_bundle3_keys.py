"""A format-3 bundle across a key rotation: trust follows it, and an altered key record (read
twice: first for the revocations in effect, then in its place) is refused as altered, exit 3."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

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
