"""Real format-2 ledgers (signed by the library's own pieces) and version-3 bundles of them,
rewritten member by member for tamper tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bias_ledger.bundle.tar3 import TarWriter
from bias_ledger.ledger.keys import fingerprint, generate_key, public_key_openssh
from tests.ledger2.bulk import audit_records, write_ledger


def make_ledger(path: Path, records: int, record_bytes: int = 300) -> Path:
    """A ledger of ``records`` audit records; returns its allowed_signers file beside it."""
    key = generate_key()
    write_ledger(path, records, key, audit_records(record_bytes))
    public = key.public_key()
    signers = path.with_name(path.name + ".allowed_signers")
    signers.write_text(
        f'{fingerprint(public)} namespaces="bias-ledger" {public_key_openssh(public)}\n'
    )
    return signers


def members(path: Path) -> list[tuple[str, bytes]]:
    """The members of a tar, in order, read with the standard library's reader."""
    import tarfile

    with tarfile.open(path, "r:") as archive:
        found = []
        for info in archive:
            handle = archive.extractfile(info)
            assert handle is not None
            found.append((info.name, handle.read()))
        return found


def rewrite(path: Path, items: list[tuple[str, bytes]], name: str = "edited.tar") -> Path:
    """A bundle of ``items`` in the fixed layout (only what the test changed differs)."""
    target = path.with_name(name)
    with target.open("wb") as out:
        writer = TarWriter(out)
        for member, data in items:
            writer.add(member, data)
        writer.finish()
    return target


def bias_ledger(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bias_ledger", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )
