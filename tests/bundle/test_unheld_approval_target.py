"""A bundle may hold an approval without the audit it approves (``export 1`` of a ledger whose
record 1 approves record 0). Its hash link cannot be checked against a record the bundle does
not hold: every bundle format's verification says so on its hash-chain line, naming both
records, and still verifies (the approval's own signature and inclusion proof hold)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.attacks.cli import approved_audit_ledger, run_cli


@pytest.mark.parametrize(
    ("format_version", "bundle_name"),
    [(1, "b.zip"), (2, "b.zip"), (2, "b.tar")],
    ids=["bundle-1", "bundle-2", "bundle-3"],
)
def test_an_approval_without_its_audit_is_named_as_unchecked(
    tmp_path: Path, format_version: int, bundle_name: str
) -> None:
    ledger, signer = approved_audit_ledger(tmp_path, format_version)
    on = ("--ledger", ledger)
    trusted = signer.allowed_signers(tmp_path / "allowed_signers")
    lines = {}
    for selected, name in (("1", bundle_name), ("0", f"both-{bundle_name}")):
        bundle = tmp_path / name
        args: list[str | Path] = ["export", "1", *(["0"] if selected == "0" else [])]
        args += ["-o", bundle, *on]
        done = run_cli(*args)
        assert done.returncode == 0, done.stderr
        done = run_cli("verify", bundle, "--trusted-keys", trusted, "--json")
        assert done.returncode == 0, done.stderr
        steps = json.loads(done.stdout)["steps"]
        lines[selected] = next(s["detail"] for s in steps if s["what"] == "hash chain")
    assert (
        "record 1 names audit record 0, which the bundle does not hold, so its hash is not "
        "checked: export the named audit with it"
    ) in lines["1"], lines["1"]
    assert "does not hold" not in lines["0"], lines["0"]
