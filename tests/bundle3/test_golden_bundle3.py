"""The committed bundle-format-3 fixture (tests/fixtures/bundle3, made by its generate.py)
verifies in this version, and a changed byte in it is refused."""

from __future__ import annotations

from pathlib import Path

from tests.bundle.helpers import cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "bundle3"


def test_the_committed_version3_bundle_verifies() -> None:
    code, output = cli(
        "verify", FIXTURE / "bundle.tar", "--trusted-keys", FIXTURE / "allowed_signers"
    )
    assert code == 0, output
    flat = " ".join(output.split())  # the terminal may wrap lines
    assert "version 3" in flat and "records 0, 1, 2" in flat, output


def test_the_committed_bundle_with_one_changed_record_byte_is_refused(tmp_path: Path) -> None:
    data = bytearray((FIXTURE / "bundle.tar").read_bytes())
    at = data.index(b"records/0.json\0") + 512 + 100  # a byte of the record's data
    data[at] ^= 0x01
    edited = tmp_path / "edited.tar"
    edited.write_bytes(bytes(data))
    code, output = cli("verify", edited, "--trusted-keys", FIXTURE / "allowed_signers")
    assert code == 3, output
    assert "record 0" in output and "altered" in output, output


def test_the_committed_bundle_recomputes_from_its_data_and_reports(tmp_path: Path) -> None:
    """Its audits were made from format 1's fixture data (the same generator and seed)."""
    data = FIXTURE.parent / "format1" / "data.csv"
    policy = FIXTURE.parent / "format1" / "policy.toml"
    report = tmp_path / "report.json"
    trust = ("--trusted-keys", FIXTURE / "allowed_signers")
    code, output = cli(
        "verify",
        FIXTURE / "bundle.tar",
        *trust,
        "--recompute",
        "--data",
        data,
        "--policy",
        policy,
        "--report",
        report,
    )
    assert code == 0, output
    assert "verdict re-judged by 'four-fifths'" in " ".join(output.split())
    import json

    written = json.loads(report.read_text())
    assert written["result"] == "valid" and written["verified"]["records"] == [0, 1, 2]
    assert [c["what"] for c in written["checks"]][-1] == "recompute"
    other = tmp_path / "other.csv"
    other.write_bytes(data.read_bytes().replace(b"female", b"women", 1))
    code, output = cli("verify", FIXTURE / "bundle.tar", *trust, "--recompute", "--data", other)
    assert code == 3, output


def test_a_witness_quorum_the_bundle_checkpoint_lacks_fails(tmp_path: Path) -> None:
    policy = tmp_path / "witnesses"
    key = "witness.example.org/w1+10e47819+BIqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
    policy.write_text(f"witness w1 {key}\nquorum 1\n")
    trust = ("--trusted-keys", FIXTURE / "allowed_signers")
    code, output = cli("verify", FIXTURE / "bundle.tar", *trust, "--witnesses", policy)
    assert code == 3, output
    assert "w1" in output or "quorum" in output, output
