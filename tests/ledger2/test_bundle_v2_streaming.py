"""A version-2 (zip) bundle is written and verified member by member: the exporter's and the
verifier's peak memory (tracemalloc, in process) do not grow with the records' bytes. Real
signed ledgers of 20 KB records at N and 4N records, exported with the real exporter to
FILE.zip."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest

from bias_ledger.ledger import canonical
from bias_ledger.ledger.keys import generate_key
from bias_ledger.ledger.record import RecordHeader, build_record
from bias_ledger.ledger.trust import load_allowed_signers
from bias_ledger.workflows.export import export_bundle_file
from bias_ledger.workflows.verify import verify_bundle_file
from tests.bundle3.helpers import make_ledger
from tests.ledger2.bulk import audit_payload, write_ledger


def _verify_peak(bundle: Path, signers: Path) -> tuple[int, int]:
    trusted = load_allowed_signers(signers)
    verify_bundle_file(bundle, trusted=trusted)  # warm: imports and caches are not the bundle
    tracemalloc.start()
    try:
        done = verify_bundle_file(bundle, trusted=trusted)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return len(done.records), peak


# The synthetic audits have no metric a chart can label (the renderer's own warning).
@pytest.mark.filterwarnings("ignore:No artists with labels")
def test_zip_bundle_verify_memory_does_not_grow_with_the_records(tmp_path: Path) -> None:
    peaks, record_bytes = [], []
    for count in (10, 40):
        ledger = tmp_path / f"l{count}"
        signers = make_ledger(ledger, count, record_bytes=20_000)
        bundle = tmp_path / f"b{count}.zip"
        export_bundle_file(ledger, bundle, everything=True)
        with zipfile.ZipFile(bundle) as archive:
            names = archive.namelist()
            assert f"entries/{count - 1}" in names  # a real version-2 zip
            record_bytes.append(
                sum(i.file_size for i in archive.infolist() if i.filename.startswith("records/"))
            )
        found, peak = _verify_peak(bundle, signers)
        assert found == count
        peaks.append(peak)
    grown = record_bytes[1] - record_bytes[0]
    assert grown > 500_000
    # A reader holding every record member grows by at least their bytes; reading the bundle
    # whole (the reader before this one) grew the peak by ~9 times them (6.5 MB here). The
    # streaming reader's peak is ~3.9 MB at both sizes, give or take ~0.6 MB of noise.
    assert peaks[1] - peaks[0] < grown, (peaks, grown)


def _padded(header: RecordHeader) -> bytes:
    """A 20 KB audit record of two groups (a long model description): its report is cheap to
    draw, so the export's memory is the records', not the charts'."""
    payload = audit_payload(header.index, 200)
    payload["subject"]["description"] = "d" * 20_000
    return canonical.encode(build_record(header, payload))


_EXPORT_PEAK = """
import sys, tracemalloc, warnings
from pathlib import Path
from bias_ledger.workflows.export import export_bundle_file
warnings.filterwarnings("ignore")
ledger, bundle = Path(sys.argv[1]), Path(sys.argv[2])
export_bundle_file(ledger, bundle.with_name("warm.zip"), everything=True)
tracemalloc.start()
export_bundle_file(ledger, bundle, everything=True)
print(tracemalloc.get_traced_memory()[1])
"""


def _export_peak(ledger: Path, bundle: Path) -> int:
    """The export's peak traced memory, in a fresh process warmed by one export of the same
    ledger (imports and caches are not the bundle; other tests' state is not either)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _EXPORT_PEAK, str(ledger), str(bundle)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    return int(done.stdout.strip().splitlines()[-1])


@pytest.mark.filterwarnings("ignore:No artists with labels")
def test_zip_bundle_export_memory_does_not_grow_with_the_records(tmp_path: Path) -> None:
    key = generate_key()
    peaks = []
    for count in (20, 80):
        ledger = tmp_path / f"l{count}"
        write_ledger(ledger, count, key, _padded)
        peaks.append(_export_peak(ledger, tmp_path / f"b{count}.zip"))
    grown = 60 * 20_000
    # The exporter that built the zip in memory held every record, its members and the zip:
    # its peak grew by more than the records' bytes. Written member by member, it holds the
    # selected entries and proofs (a few hundred bytes a record) and one record at a time.
    assert peaks[1] - peaks[0] < grown / 4, (peaks, grown)


@pytest.mark.filterwarnings("ignore:No artists with labels")
def test_the_streamed_zip_is_the_zip_built_in_memory(tmp_path: Path) -> None:
    """Each member streamed to the file (the reports from temporary files) gives the bytes
    that ``writestr`` of the same members gives: the bundle is as deterministic as before."""
    from bias_ledger.bundle.export import Selection
    from bias_ledger.bundle.export2 import export_bundle_v2
    from bias_ledger.bundle.zip_writer import write_zip

    ledger = tmp_path / "ledger"
    make_ledger(ledger, 300, record_bytes=2_000)
    bundle = tmp_path / "b.zip"
    export_bundle_file(ledger, bundle, everything=True)
    streamed = bundle.read_bytes()
    with zipfile.ZipFile(bundle) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
        assert archive.namelist() == sorted(members)
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in archive.infolist())
    assert len(members["report.html"]) > 1 << 16  # streamed in more than one chunk
    assert write_zip(members) == streamed
    assert export_bundle_v2(ledger, Selection(everything=True)).data == streamed


def test_a_zip64_bundle_is_refused_in_one_line(tmp_path: Path) -> None:
    """A version-2 bundle is a zip without zip64 (FORMAT.md 10.15): 65,536 members make
    Python's zipfile write a zip64 end record, which the streaming reader refuses by count
    before reading any member."""
    from bias_ledger.errors import VerificationError
    from bias_ledger.ledger.keys import generate_key, public_key_openssh

    bundle = tmp_path / "zip64.zip"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(0x10000):
            archive.writestr(f"records/{index}.json", b"{}")
    signers = tmp_path / "allowed_signers"
    signers.write_text(
        f'x namespaces="bias-ledger" {public_key_openssh(generate_key().public_key())}\n'
    )
    with pytest.raises(VerificationError) as refused:
        verify_bundle_file(bundle, trusted=load_allowed_signers(signers))
    assert refused.value.message == (
        f"{bundle}: a zip64 archive of 65536 members; expected a zip without zip64 (at most "
        "65,535 members)"
    )
