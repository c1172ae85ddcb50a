"""``Ledger.gate``, ``.verify`` and ``.export`` from Python do what ``bias-ledger gate``,
``verify`` and ``export`` do, on real format-1 and format-2 ledgers with real signatures: the
same records, the same JSON documents, the same bundle bytes, the same refusals."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import blake3
import pandas as pd
import pytest

import bias_ledger
from bias_ledger.bundle.model import MANIFEST
from bias_ledger.errors import InputError, VerificationError
from bias_ledger.ledger.reader import RECORDS_FILE
from tests.ledger.helpers import SAMPLE, Signer, cli_env, new_signer, run_cli

FOUR_FIFTHS = SAMPLE / "policies" / "four-fifths.toml"
REGRESSION = SAMPLE / "policies" / "regression.toml"
FORMATS = pytest.mark.parametrize("format_version", [1, 2])


def _audit(prediction: str = "approved_v1") -> bias_ledger.AuditResult:
    frame = pd.read_csv(SAMPLE / "lending.csv")
    return bias_ledger.audit(
        frame,
        label="repaid",
        prediction=prediction,
        sensitive=["sex", "race_ethnicity"],
        model_name="credit-model",
        model_version="1",
        data_name="lending",
    )


def _ledger(tmp_path: Path, format_version: int) -> tuple[bias_ledger.Ledger, Signer, Path]:
    signer = new_signer(tmp_path / "id_ed25519")
    ledger = bias_ledger.Ledger.init(
        tmp_path / "ledger", name="api-test", format_version=format_version
    )
    return ledger, signer, signer.allowed_signers(tmp_path / "allowed_signers")


@FORMATS
def test_gate_from_python_records_what_the_cli_records(tmp_path: Path, format_version: int) -> None:
    ledger, signer, signers = _ledger(tmp_path, format_version)
    result = _audit()
    gated = ledger.gate(FOUR_FIFTHS, result, key=signer.path)
    assert gated.recorded is not None and gated.recorded.index == 0
    assert gated.kind == "audit" and gated.verdict in ("pass", "fail")
    assert gated.passed is (gated.verdict == "pass")
    assert "<GateResult" in repr(gated) and len(repr(gated)) < 300
    assert "<table>" in gated._repr_html_()

    env = cli_env(tmp_path, BIAS_LEDGER_KEY=str(signer.path))
    data = ["--label", "repaid", "--prediction", "approved_v1", "--sensitive", "sex"]
    done = run_cli(
        "gate", SAMPLE / "lending.csv", *data, "--sensitive", "race_ethnicity",
        "--model-name", "credit-model", "--model-version", "1",
        "--policy", FOUR_FIFTHS, "--ledger", ledger.path, "--json", env=env,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    by_cli = json.loads(done.stdout)
    assert by_cli["verdict"] == gated.verdict
    assert by_cli["report"] == gated.to_json()["report"]
    assert by_cli["record"]["index"] == 1
    records = list(ledger.records())
    assert records[0]["audit"]["policy"] == records[1]["audit"]["policy"] == by_cli["report"]
    assert records[0]["audit"]["results"] == records[1]["audit"]["results"]

    # Judging record 0 relies on it: only once the ledger verifies and its signer is trusted.
    with pytest.raises(VerificationError, match="refusing to rely on it without a trusted key"):
        ledger.gate(FOUR_FIFTHS, record=0, key=signer.path)
    stranger = new_signer(tmp_path / "stranger").allowed_signers(tmp_path / "strangers")
    with pytest.raises(VerificationError, match="untrusted key"):
        ledger.gate(FOUR_FIFTHS, record=0, trusted=stranger, key=signer.path)
    assert len(ledger) == 2  # nothing was appended by the refusals
    judged = ledger.gate(FOUR_FIFTHS, record=0, trusted=signers, key=signer.path)
    assert judged.kind == "gate" and judged.recorded is not None
    record = list(ledger.records())[judged.recorded.index]
    assert record["kind"] == "gate"
    assert record["gate"]["judges"] == {"index": 0, "record_hash": gated.recorded.record_hash}
    # A fingerprint is a trust anchor as good as an allowed_signers line.
    again = ledger.gate(FOUR_FIFTHS, record=0, trusted=signer.fingerprint, record_verdict=False)
    assert again.recorded is None and again.report == judged.report


@FORMATS
def test_gate_baseline_needs_a_trusted_approval(tmp_path: Path, format_version: int) -> None:
    ledger, signer, signers = _ledger(tmp_path, format_version)
    first = ledger.append(_audit("approved_v1"), key=signer.path)
    with pytest.raises(InputError, match="no approval record"):
        ledger.gate(REGRESSION, _audit("approved_v2"), baseline="latest-approved",
                    approved_by=signers, key=signer.path)  # fmt: skip
    ledger.approve(first.index, note="baseline", key=signer.path)
    stranger = new_signer(tmp_path / "stranger").allowed_signers(tmp_path / "strangers")
    with pytest.raises(VerificationError, match="latest-approved"):
        ledger.gate(REGRESSION, _audit("approved_v2"), baseline="latest-approved",
                    approved_by=stranger, key=signer.path)  # fmt: skip
    gated = ledger.gate(
        REGRESSION, _audit("approved_v2"), baseline="latest-approved", approved_by=signers,
        key=signer.path,
    )  # fmt: skip
    assert gated.baseline is not None
    assert gated.baseline["record_index"] == first.index
    assert gated.baseline["approval_index"] == 1
    assert gated.report.baseline_given
    with pytest.warns(UserWarning, match="--trust-ledger-keys"):
        own = ledger.gate(REGRESSION, record=0, baseline=0, trust_ledger_keys=True,
                          record_verdict=False)  # fmt: skip
    assert own.baseline is not None and own.baseline["record_index"] == 0


def test_gate_refuses_a_junit_file_inside_the_ledger_before_anything(tmp_path: Path) -> None:
    ledger, signer, _ = _ledger(tmp_path, 1)
    with pytest.raises(InputError, match="inside the ledger"):
        ledger.gate(FOUR_FIFTHS, _audit(), junit=ledger.path / "junit.xml", key=signer.path)
    assert len(ledger) == 0
    junit = tmp_path / "out" / "junit.xml"
    ledger.gate(FOUR_FIFTHS, _audit(), junit=junit, key=signer.path)
    assert junit.read_text().startswith("<?xml") and len(ledger) == 1


@FORMATS
def test_verify_from_python_is_the_cli_verification(tmp_path: Path, format_version: int) -> None:
    ledger, signer, signers = _ledger(tmp_path, format_version)
    ledger.append(_audit(), key=signer.path)
    ledger.approve(0, key=signer.path)
    verified = ledger.verify(trusted=signers)
    assert verified.size == 2 and verified.records == (0, 1)
    assert signer.fingerprint in {fp for fp, _ in verified.signers}
    assert len(verified.checks) >= 3 and {c.status.value for c in verified.checks} == {"passed"}
    assert len(repr(verified)) < 400 and "<table>" in verified._repr_html_()
    done = run_cli(
        "verify", "--ledger", ledger.path, "--trusted-keys", signers, "--json",
        env=cli_env(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == verified.to_json()
    for spec in (signer.fingerprint, [signer.fingerprint], str(signers), [signers]):
        assert ledger.verify(trusted=spec).size == 2

    with pytest.raises(VerificationError, match="trust"):
        ledger.verify()  # trust comes from outside: none given, nothing relied on
    stranger = new_signer(tmp_path / "stranger").allowed_signers(tmp_path / "strangers")
    with pytest.raises(VerificationError, match="untrusted key"):
        ledger.verify(trusted=stranger)


def test_verify_from_python_finds_a_tampered_record(tmp_path: Path) -> None:
    ledger, signer, signers = _ledger(tmp_path, 1)
    ledger.append(_audit(), key=signer.path)
    log = ledger.path / RECORDS_FILE
    data = log.read_bytes()
    at = data.index(b'"credit-model"')
    log.write_bytes(data[:at] + b'"credit-modem"' + data[at + len(b'"credit-model"') :])
    with pytest.raises(VerificationError) as failed:
        ledger.verify(trusted=signers)
    assert "record 0" in failed.value.message
    with pytest.raises(VerificationError):  # nor does the gate rely on it
        ledger.gate(FOUR_FIFTHS, record=0, trusted=signers, record_verdict=False)


@FORMATS
def test_export_from_python_writes_the_cli_bundle(tmp_path: Path, format_version: int) -> None:
    ledger, signer, signers = _ledger(tmp_path, format_version)
    ledger.append(_audit(), key=signer.path)
    ledger.approve(0, key=signer.path)
    bundle = tmp_path / "python.zip"
    exported = ledger.export(bundle, records=[0])
    assert exported.records == (0,) and exported.checkpoint_size == 2
    assert exported.blake3 == blake3.blake3(bundle.read_bytes()).hexdigest()
    assert exported.size == bundle.stat().st_size and "<Exported" in repr(exported)
    with zipfile.ZipFile(bundle) as archive:
        assert MANIFEST in archive.namelist()

    env = cli_env(tmp_path)
    by_cli = tmp_path / "cli.zip"
    done = run_cli("export", "0", "-o", by_cli, "--ledger", ledger.path, "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert by_cli.read_bytes() == bundle.read_bytes()
    assert json.loads(done.stdout) == {**exported.to_json(), "path": str(by_cli)}
    checked = run_cli("verify", bundle, "--trusted-keys", signers, env=env)
    assert checked.returncode == 0, checked.stderr

    with pytest.raises(InputError, match="inside the ledger"):
        ledger.export(ledger.path / "bundle.zip", everything=True)
    with pytest.raises(InputError, match="exactly one of"):
        ledger.export(tmp_path / "two.zip", records=[0], everything=True)
    assert not (tmp_path / "two.zip").exists()
    everything = ledger.export(tmp_path / "all.zip", everything=True)
    assert everything.records == (0, 1)
    since = ledger.export(tmp_path / "since.zip", since="2000-01-01")
    assert since.records == (0, 1)


def test_export_cyclonedx_from_python(tmp_path: Path) -> None:
    ledger, signer, _ = _ledger(tmp_path, 1)
    ledger.append(_audit(), key=signer.path)
    card = ledger.export_cyclonedx(tmp_path / "card.json")
    assert card.record == 0 and card.metrics > 0
    bom = json.loads((tmp_path / "card.json").read_text())
    assert bom["bomFormat"] == "CycloneDX"
    with pytest.raises(InputError, match="inside the ledger"):
        ledger.export_cyclonedx(ledger.path / "card.json")
