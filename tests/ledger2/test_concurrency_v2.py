"""Format 2 under concurrency: two writer processes are serialised by the lock, and a reader
verifying while they append always sees a complete, valid log (partial tiles it names may be
replaced under it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bias_ledger.ledger.tlog_source import DirectorySource
from bias_ledger.ledger.tlog_verify import verify_log
from tests.ledger2.helpers import copied_v2

WORKER = Path(__file__).resolve().parents[1] / "ledger" / "append_worker.py"


@pytest.mark.slow
def test_writers_are_serialised_and_readers_see_valid_logs(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 250)  # appends cross tile 0's edge
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(ledger), str(signer.path), "8", tag],
            stdout=subprocess.PIPE,
            text=True,
        )
        for tag in ("a", "b")
    ]
    sizes = []
    while any(worker.poll() is None for worker in workers):
        sizes.append(verify_log(DirectorySource(ledger), trusted=None, trust_log_keys=True).size)
    acknowledged = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        acknowledged += [int(line.split()[0]) for line in out.splitlines()]
    assert sorted(acknowledged) == list(range(250, 266))
    assert sizes == sorted(sizes) and all(250 <= size <= 266 for size in sizes)
    assert verify_log(DirectorySource(ledger), trusted=None, trust_log_keys=True).size == 266
