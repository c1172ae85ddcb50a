"""Issue 11 item 6: ``verify``, ``export --all`` and bundle verify of a format-2 ledger stream,
in memory bounded by one record, not by the ledger. The real CLI runs in fresh processes over
real signed ledgers of small (300-byte) records at N and 4N records; the peak RSS may grow
between the two by a fixed few MiB, not by any fixed number of bytes per record."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.bundle3.helpers import make_ledger

SMALL, LARGE = 2_500, 10_000
"""Both above ``entry_checks.PARALLEL_THRESHOLD``: the same (forked) verifier at both sizes."""
BOUND_KIB = 512
"""The growth allowed for 7,500 more records: 512 KiB, 70 bytes a record. Measured over three
loaded runs: verify grows by 120-224 KiB, export by -244 to -96, bundle verify by -356 to +104.
Export used to grow by 0.9-1.2 MiB: a tile cache of 64 tiles (~22 KB each) that filled with the
log (~700 KiB at these sizes) and report chunks of up to 1 MiB; this bound catches either."""

_RUN = """
import resource, sys
peak_file, *argv = sys.argv[1:]
sys.argv = ["bias-ledger", *argv]
from bias_ledger.cli import main
try:
    main()
    code = 0
except SystemExit as stop:
    code = stop.code if isinstance(stop.code, int) else 1
# VmHWM, not RUSAGE_SELF: Linux carries ru_maxrss over exec, so this process would report the
# test runner's peak. The verifier's forked workers are RUSAGE_CHILDREN.
own = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM"))
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
open(peak_file, "w").write(str(max(own, children)))
sys.exit(code)
"""


def _peak_kib(tmp: Path, *args: str | Path) -> tuple[int, str]:
    """The peak RSS in KiB of ``bias-ledger ARGS`` in a fresh process, and what it printed."""
    peak = tmp / "peak"
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(peak), *map(str, args)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return int(peak.read_text()), done.stdout


@pytest.mark.slow
def test_verify_export_and_bundle_verify_peaks_do_not_grow_with_the_records(
    tmp_path: Path,
) -> None:
    peaks: dict[str, list[int]] = {"verify": [], "export --all": [], "bundle verify": []}
    for count in (SMALL, LARGE):
        ledger = tmp_path / f"l{count}"
        signers = make_ledger(ledger, count)
        trust = ("--trusted-keys", signers)
        peak, out = _peak_kib(tmp_path, "verify", "--ledger", ledger, *trust)
        assert f"VALID: {count} records of" in " ".join(out.split()), out
        peaks["verify"].append(peak)
        bundle = tmp_path / f"b{count}.tar"
        peak, out = _peak_kib(tmp_path, "export", "--ledger", ledger, "--all", "-o", bundle)
        assert bundle.stat().st_size > count * 300
        peaks["export --all"].append(peak)
        # Text, not --json: the JSON lists every index, output as large as the selection.
        peak, out = _peak_kib(tmp_path, "verify", bundle, *trust)
        assert f": {count} records from 0 to {count - 1} of" in " ".join(out.split()), out
        peaks["bundle verify"].append(peak)
    print("peak KiB at", SMALL, "and", LARGE, "records:", peaks)
    grown = {what: at_4n - at_n for what, (at_n, at_4n) in peaks.items()}
    assert all(kib < BOUND_KIB for kib in grown.values()), (grown, peaks)
