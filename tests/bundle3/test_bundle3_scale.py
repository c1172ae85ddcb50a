"""Export and verify of a version-3 bundle in memory that does not grow with the records:
peak RSS of fresh processes at N and 4N records of 20 KB (real signed ledgers; the export
renders its real reports, streamed by bundle/derived.py's write_reports)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.bundle3.helpers import make_ledger

_MEASURE = """
import sys
from pathlib import Path
mode, source, target, signers = sys.argv[1:5]
if mode == "export":
    import warnings

    # The synthetic audits have no metric a chart can label (the renderer's own warning).
    warnings.filterwarnings("ignore", "No artists with labels")
    from bias_ledger.workflows.export import export_bundle_file

    done = export_bundle_file(Path(source), Path(target), everything=True)
    count = len(done.records)
else:
    from bias_ledger.ledger.trust import load_allowed_signers
    from bias_ledger.workflows.verify import verify_bundle_file

    done = verify_bundle_file(Path(source), trusted=load_allowed_signers(Path(signers)))
    count = len(done.records)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent.
peak = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM"))
print(count, peak)
"""


def _peak_kib(*args: Path | str) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
    )
    count, peak = done.stdout.split()
    return int(count), int(peak)


@pytest.mark.slow
def test_export_and_bundle_verify_memory_does_not_grow_with_the_records(tmp_path: Path) -> None:
    small, large = 300, 1200
    peaks: dict[str, list[int]] = {"export": [], "verify": []}
    sizes = []
    for count in (small, large):
        ledger = tmp_path / f"l{count}"
        signers = make_ledger(ledger, count, record_bytes=20_000)
        bundle = tmp_path / f"b{count}.tar"
        assert _peak_kib("export", ledger, bundle, signers)[0] == count
        peaks["export"].append(_peak_kib("export", ledger, tmp_path / "again.tar", signers)[1])
        found, peak = _peak_kib("verify", bundle, "", signers)
        assert found == count
        peaks["verify"].append(peak)
        sizes.append(bundle.stat().st_size)
    grown = sizes[1] - sizes[0]
    assert grown > 15 * 2**20
    print("peak KiB", peaks, "bundle grew", grown)
    for what, (at_n, at_4n) in peaks.items():
        assert (at_4n - at_n) * 1024 < grown / 5, (what, at_n, at_4n, grown)
