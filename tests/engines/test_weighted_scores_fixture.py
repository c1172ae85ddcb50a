"""The committed weighted-score fixture (tests/fixtures/weighted_scores, made by its
generate.py with the float method of summing weights per histogram bin) verifies and
recomputes in this version: its records, which carry no method marker, recompute by that float
method, bit for bit."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import blake3
import pytest

from tests.bundle.helpers import cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "weighted_scores"
PINNED = {
    "allowed_signers": "be32f383553c2dd27b556b7ebba48865b6e295f1597f1b059bf6306d256cf9a3",
    "bundle.tar": "c8013e6f755178a0a3a04f996024209618f68ae02def24e773bdc6629c4072bb",
    "data.csv": "c025d9f41163740db5fe627030dd95420f72f90b89d67d4754c970392d7d1505",
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_the_fixture_is_the_committed_bytes(name: str) -> None:
    assert blake3.blake3((FIXTURE / name).read_bytes()).hexdigest() == PINNED[name]


def test_the_weighted_score_bundle_verifies_and_recomputes(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    code, output = cli(
        "verify",
        FIXTURE / "bundle.tar",
        "--trusted-keys",
        FIXTURE / "allowed_signers",
        "--recompute",
        "--data",
        FIXTURE / "data.csv",
        "--report",
        report,
    )
    assert code == 0, output
    written = json.loads(report.read_text())
    assert written["result"] == "valid"
    done = [r["index"] for r in written["recompute"]["records"] if r["recomputed"]]
    assert done == [0, 1]
    other = tmp_path / "other.csv"
    lines = (FIXTURE / "data.csv").read_text().splitlines(keepends=True)
    last = lines[1].rstrip("\n").rsplit(",", 1)
    lines[1] = f"{last[0]},{float(last[1]) * 3 + 1!r}\n"  # one weight changed
    other.write_text("".join(lines))
    code, output = cli(
        "verify",
        FIXTURE / "bundle.tar",
        "--trusted-keys",
        FIXTURE / "allowed_signers",
        "--recompute",
        "--data",
        other,
    )
    assert code == 3, output


def _payloads() -> list[dict[str, Any]]:
    with tarfile.open(FIXTURE / "bundle.tar") as archive:
        out = []
        for index in (0, 1):
            member = archive.extractfile(f"records/{index}.json")
            assert member is not None
            out.append(json.loads(member.read())["audit"])
    return out


@pytest.mark.parametrize("index", [0, 1])
def test_unmarked_records_recompute_their_score_statistics_bit_for_bit(index: int) -> None:
    """Within the compare tolerance is not enough: the old float method itself must run."""
    from bias_ledger.bundle.recompute import _recompute

    payload = _payloads()[index]
    assert payload["parameters"]["weight"] == "weight"
    assert "weight_sums" not in payload["statistics"]["scores"]["histogram"]
    fresh = _recompute(payload, FIXTURE / "data.csv", None)
    assert fresh["statistics"] == payload["statistics"]
    assert fresh["results"] == payload["results"]
