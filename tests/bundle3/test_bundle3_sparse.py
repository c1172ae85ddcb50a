"""A very sparse selection (every other record) makes ``bundle.json`` one range per record: past
the reader's limit for that member, the verifier refuses the bundle, so the exporter must refuse
to write it, in one line (exit 2) and before any byte. Here with the limit scaled down on both
sides (the same constant, in-process) over a real ledger; at the real 1 MiB it takes ~56,000
records (every other one), too many to build in the suite's time."""

from __future__ import annotations

from pathlib import Path

import pytest

from bias_ledger.bundle import export3, format3, read3
from bias_ledger.bundle.format3 import Manifest3
from bias_ledger.bundle.verify3 import verify_bundle3
from bias_ledger.errors import InputError
from bias_ledger.ledger import canonical
from bias_ledger.ledger.keys import fingerprint, generate_key, public_key_openssh
from bias_ledger.ledger.record import RecordHeader, RecordKind, build_record
from bias_ledger.ledger.tlog_read import read_signed_checkpoint
from bias_ledger.ledger.tlog_source import DirectorySource
from bias_ledger.ledger.trust import load_allowed_signers
from bias_ledger.verify.result import VerificationFailed
from bias_ledger.workflows.export import export_bundle_file
from tests.ledger2.bulk import write_ledger

LIMIT = 4096
"""The scaled-down bundle.json limit: about 100 single-record ranges."""
RECORDS = 400


def _gate(header: RecordHeader) -> bytes:
    return canonical.encode(build_record(header, {"note": f"gate {header.index}"}))


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A real ledger of gate records (an audit record's report draws charts, a second each)."""
    path = tmp_path_factory.mktemp("sparse") / "ledger"
    key = generate_key()
    write_ledger(path, RECORDS, key, _gate, kinds=lambda index: RecordKind.GATE)
    signers = path.with_name("allowed_signers")
    public = key.public_key()
    signers.write_text(
        f'{fingerprint(public)} namespaces="bias-ledger" {public_key_openssh(public)}\n'
    )
    return path, signers


def _every_other(count: int) -> list[int]:
    return list(range(1, 2 * count, 2))


def _largest_fitting(path: Path) -> int:
    """The most every-other records whose bundle.json (this ledger's origin and root) is
    within LIMIT."""
    _, checkpoint = read_signed_checkpoint(DirectorySource(path))
    root = checkpoint.root_hash.hex()

    def size(count: int) -> int:
        ranges = tuple((index, index) for index in _every_other(count))
        return len(Manifest3(checkpoint.origin, checkpoint.size, root, ranges).encode())

    return max(count for count in range(1, RECORDS // 2) if size(count) <= LIMIT)


def test_the_exporter_refuses_exactly_what_the_verifier_refuses(
    ledger: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, signers = ledger
    trusted = load_allowed_signers(signers)
    for module in (format3, read3, export3):
        monkeypatch.setattr(module, "SMALL_LIMIT", LIMIT)
    count = _largest_fitting(path)
    assert 50 < count < RECORDS // 2 - 1
    fitting = tmp_path / "fitting.tar"
    export_bundle_file(path, fitting, indexes=_every_other(count))
    assert verify_bundle3(fitting, trusted).verification.indexes == tuple(_every_other(count))

    over = tmp_path / "over.tar"
    with pytest.raises(InputError) as caught:
        export_bundle_file(path, over, indexes=_every_other(count + 1))
    assert not over.exists()
    said = caught.value.message
    assert said.startswith(f"export: the selection is {count + 1} separate runs of records, ")
    assert f", over the {LIMIT} a bundle verifier reads (docs/FORMAT.md 10.16)" in said

    # Written anyway (the exporter's check lifted), the verifier refuses that very bundle.
    monkeypatch.setattr(export3, "SMALL_LIMIT", 1 << 30)
    export_bundle_file(path, over, indexes=_every_other(count + 1))
    with pytest.raises(VerificationFailed, match=r"'bundle.json' is \d+ bytes, over the limit"):
        verify_bundle3(over, trusted)
