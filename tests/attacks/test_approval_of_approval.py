"""Attack: the ledger's key holder appends an approval of an *approval* (the writer refuses to,
so it is forged with the library's appender, signed for real). ``gate --baseline
latest-approved`` takes the newest trusted approval and uses the record it names as the
baseline; an approval of an approval would make it resolve to something never audited. Every
verifier refuses it with exit 3: ``verify`` of a format-1 and a format-2 ledger, of a published
log, of bundles of formats 1, 2 and 3 (exported by a version that did not check it), ``gate``,
and the independent verifier written from docs/FORMAT.md."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import blake3
import pytest

from bias_ledger.api import Ledger
from bias_ledger.history import read_record
from bias_ledger.ledger.entry import parse_line
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record
from tests.attacks.cli import approved_audit_ledger, refused, run_cli
from tests.interop.spec_verifier import bundle2, bundle3, log2, v1
from tests.interop.spec_verifier.sshsig import SpecError
from tests.interop.spec_verifier.trust import read_allowed_signers
from tests.ledger.helpers import Signer, new_signer

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
POLICY = SAMPLE / "policies" / "standard.toml"
REFUSAL = (
    "record 2: approval names record 1, which is an approval record; an approval may name "
    "only an audit record"
)


def _record_hash(ledger: Path, index: int) -> str:
    _, line = read_record(ledger, index)
    return blake3.blake3(parse_line(line, where=f"record {index}").record_bytes).hexdigest()


def _forged(root: Path, format_version: int) -> tuple[Path, Signer, Path]:
    """A real ledger (0 audit, 1 approval of 0) plus record 2, an approval of record 1 signed
    by the ledger's own key; and the allowed_signers file trusting that key."""
    ledger, signer = approved_audit_ledger(root, format_version)
    refusal = run_cli("approve", "1", "--key", signer.path, "--ledger", ledger)  # refused
    assert refusal.returncode == 2 and "expected an audit record" in refusal.stderr
    target = {"index": 1, "record_hash": _record_hash(ledger, 1)}
    payload = {"approves": target, "note": "an approval of an approval"}
    append_record(ledger, RecordKind.APPROVAL, payload, signer.key)
    return ledger, signer, signer.allowed_signers(root / "allowed_signers")


@pytest.fixture
def unchecked_references(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """In this process only, the verifier of a version that did not check what an approval
    names (so that export writes the forged record into a bundle, signed for real)."""
    import bias_ledger.bundle.verify3
    import bias_ledger.ledger.tlog_verify
    import bias_ledger.verify.chain

    for module in (bias_ledger.verify.chain, bias_ledger.ledger.tlog_verify):
        monkeypatch.setattr(module, "check_reference_kind", lambda *args: None)
    monkeypatch.setattr(bias_ledger.bundle.verify3, "check_reference_kind", lambda *args: None)
    yield


@pytest.mark.parametrize("format_version", [1, 2])
def test_verify_and_gate_refuse_an_approval_of_an_approval(
    tmp_path: Path, format_version: int
) -> None:
    ledger, _, trusted = _forged(tmp_path, format_version)
    said = refused(run_cli("verify", "--ledger", ledger, "--trusted-keys", trusted))
    assert said == f"{ledger} {REFUSAL}" or said.endswith(REFUSAL), said
    gate = run_cli(
        "gate", "--policy", POLICY, "--record", "0", "--baseline", "latest-approved",
        "--approved-by", trusted, "--no-record", "--ledger", ledger,
    )  # fmt: skip
    assert gate.returncode == 3 and REFUSAL in gate.stderr, gate.stdout + gate.stderr
    export = run_cli("export", "--all", "-o", tmp_path / "bundle", "--ledger", ledger)
    assert export.returncode == 3 and REFUSAL in export.stderr, export.stderr
    checker = v1.verify_ledger1 if format_version == 1 else log2.verify_log
    with pytest.raises(SpecError, match="record 2: approves 1, of kind approval, not an audit"):
        checker(ledger, read_allowed_signers(trusted))


def test_a_published_log_with_an_approval_of_an_approval_fails(tmp_path: Path) -> None:
    ledger, _, trusted = _forged(tmp_path, 2)
    published = tmp_path / "published"
    publish = run_cli("publish", published, "--ledger", ledger)
    assert publish.returncode in (0, 3), publish.stderr
    if publish.returncode == 3:  # publish verifies first: nothing forged is published
        assert REFUSAL in publish.stderr and not (published / "checkpoint").exists()
        return
    said = refused(run_cli("verify", published, "--trusted-keys", trusted))
    assert said.endswith(REFUSAL), said


@pytest.mark.usefixtures("unchecked_references")
@pytest.mark.parametrize(
    ("format_version", "name", "spec_check"),
    [
        (1, "bundle.zip", v1.verify_bundle1),
        (2, "bundle.zip", bundle2.verify_bundle),
        (2, "bundle.tar", bundle3.verify_bundle3),
    ],
)
def test_bundle_verify_refuses_an_approval_of_an_approval(
    tmp_path: Path, format_version: int, name: str, spec_check: object
) -> None:
    ledger, _, trusted = _forged(tmp_path, format_version)
    bundle = tmp_path / name
    Ledger.open(ledger).export(bundle, everything=True)  # as an older, unchecking version did
    listed = bundle.read_bytes()
    said = refused(run_cli("verify", bundle, "--trusted-keys", trusted))
    assert said.endswith(REFUSAL), said
    gate = run_cli(
        "gate", "--policy", POLICY, "--baseline", bundle,
        "--trusted-keys", trusted, SAMPLE / "lending.csv", "--label", "repaid",
        "--prediction", "approved_v1", "--sensitive", "sex", "--no-record",
    )  # fmt: skip
    assert gate.returncode == 3 and REFUSAL in gate.stderr, gate.stdout + gate.stderr
    assert callable(spec_check)
    with pytest.raises(SpecError, match="record 2: approves 1, of kind approval, not an audit"):
        spec_check(listed, read_allowed_signers(trusted))


def test_a_bundle_may_hold_an_approval_without_its_target(tmp_path: Path) -> None:
    """An export by index ships an approval without the audit it names: it verifies (the index
    is earlier, its hash cannot be checked), and nothing relies on it."""
    ledger, signer = tmp_path / "ledger", new_signer(tmp_path / "key")
    on = ("--ledger", ledger)
    assert run_cli("init", *on).returncode == 0
    audit = ("audit", SAMPLE / "lending.csv", "--label", "repaid", "--prediction", "approved_v1")
    assert run_cli(*audit, "--sensitive", "sex", "--key", signer.path, *on).returncode == 0
    assert run_cli("approve", "0", "--key", signer.path, *on).returncode == 0
    trusted = signer.allowed_signers(tmp_path / "allowed_signers")
    bundle = tmp_path / "approval.tar"
    done = run_cli("export", "1", "-o", bundle, *on)
    assert done.returncode == 0, done.stderr
    verified = run_cli("verify", bundle, "--trusted-keys", trusted, "--json")
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["records"] == [1]
