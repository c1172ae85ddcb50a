"""Attack: ``publish`` from a ledger, or into a directory, that someone else can write: a
ledger's ``records/`` file that is a link to a secret (format 2 lets a verifier follow links,
so publish must check what it copies by content, not publish whatever the link names), a
published directory whose ``records`` is a link elsewhere (a shared web root: publish must not
write outside it), and a published ``checkpoint`` that is a FIFO (publish must not hang)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.attacks.cli import attack_env, refused
from tests.ledger import helpers
from tests.ledger2.helpers import copied_v2


def _publish(ledger: Path, target: Path) -> subprocess.CompletedProcess[str]:
    return helpers.run_cli("publish", target, "--ledger", ledger, env=attack_env(), timeout=60)


def test_attack_record_linked_to_a_secret_is_not_published(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 3)
    secret = tmp_path / "id_ed25519"
    secret.write_bytes(b"-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n")
    record = next(p for p in (ledger / "records").iterdir() if b'"index":0,' in p.read_bytes())
    size = record.stat().st_size
    record.unlink()
    record.symlink_to(secret)
    target = tmp_path / "site"
    said = refused(_publish(ledger, target))
    assert said.startswith(f"{record}: {secret.stat().st_size} bytes of BLAKE3 "), said
    assert said.endswith(
        f"expected the {size} bytes of BLAKE3 {record.stem} that entry 0 "
        "names; refusing to publish it"
    ), said
    published = [p.read_bytes() for p in target.rglob("*") if p.is_file()]
    assert not any(b"secret" in data for data in published)
    assert not (target / "checkpoint").exists()


@pytest.mark.parametrize("where", ["records", "tile", "tile/entries"])
def test_attack_published_directory_linked_elsewhere_is_not_written_through(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, where: str
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 3)
    target, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (target / where).parent.mkdir(parents=True, exist_ok=True)
    (target / where).symlink_to(elsewhere)
    done = _publish(ledger, target)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"bias-ledger: error: {target / where}: is a symbolic link, expected a directory of "
        "the published log"
    )
    assert list(elsewhere.iterdir()) == []


def test_attack_published_checkpoint_that_is_a_fifo(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 3)
    target = tmp_path / "site"
    target.mkdir()
    os.mkfifo(target / "checkpoint")
    said = refused(_publish(ledger, target))
    assert said == f"{target / 'checkpoint'}: is a FIFO (named pipe), expected a regular file"
