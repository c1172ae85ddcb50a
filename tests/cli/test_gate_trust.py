"""The gate relies on nothing it has not verified: forged lines, forged signers, unapproved
baselines and unwritable outputs never turn a failing gate into a pass or leave a record."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bias_ledger.cli.app import app
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record
from tests.ledger.helpers import (
    SAMPLE,
    Signer,
    line_hash,
    new_signer,
    read_lines,
    record_of,
    with_record,
    write_lines,
)

REGRESSION = SAMPLE / "policies" / "regression.toml"
FOUR_FIFTHS = SAMPLE / "policies" / "four-fifths.toml"
CONFIG = SAMPLE / "bias-ledger.toml"
V2 = ["--prediction", "approved_v2", "--model-version", "2"]


@dataclass(frozen=True)
class Base:
    """Record 0: the v2 audit (CI key); record 1: the officer's approval of it."""

    root: Path
    ci: Signer
    officer: Signer
    stranger: Signer
    v1_audit: dict[str, Any]
    """What ``audit --json`` of version 1 prints (its results regress against v2)."""


def invoke(env: dict[str, str | None], *args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def environment(root: Path, ledger: Path, key: Path) -> dict[str, str | None]:
    return {
        "HOME": str(root / "home"),
        "XDG_CONFIG_HOME": str(root / "config"),
        "BIAS_LEDGER_DIR": str(ledger),
        "BIAS_LEDGER_KEY": str(key),
        "BIAS_LEDGER_KEY_DATA": None,
        "GITHUB_ACTIONS": None,
        "COLUMNS": "200",
    }


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    root = tmp_path_factory.mktemp("gate-trust")
    ci, officer = new_signer(root / "ci"), new_signer(root / "officer")
    stranger = new_signer(root / "stranger")
    env = environment(root, root / "ledger", ci.path)
    # Format 1: the attacks below append lines to its records.log (format 2's tiles are
    # attacked in tests/ledger2).
    assert invoke(env, "init", "--format", "1").exit_code == 0
    done = invoke(env, "audit", "--config", CONFIG, *V2, "-q")
    assert done.exit_code == 0, done.stderr
    done = invoke(env, "approve", "0", "--key", officer.path)
    assert done.exit_code == 0, done.stderr
    done = invoke(env, "audit", "--config", CONFIG, "--no-record", "--json")
    assert done.exit_code == 0, done.stderr
    return Base(root, ci, officer, stranger, json.loads(done.stdout))


@dataclass(frozen=True)
class Case:
    ledger: Path
    env: dict[str, str | None]
    officers: Path
    signers: Path
    """allowed_signers of the CI key and the officer."""


@pytest.fixture
def case(base: Base, tmp_path: Path) -> Case:
    ledger = tmp_path / "ledger"
    shutil.copytree(base.root / "ledger", ledger)
    officers = base.officer.allowed_signers(tmp_path / "officers", "officer")
    signers = tmp_path / "signers"
    signers.write_text(
        f"ci {base.ci.public_line}\nofficer {base.officer.public_line}\n", encoding="ascii"
    )
    return Case(ledger, environment(tmp_path, ledger, base.ci.path), officers, signers)


def regression_gate(case: Case, *extra: str | Path) -> Result:
    """Version 1 judged against a baseline: worse than v2, so the regression rules fail."""
    return invoke(case.env, "gate", "--policy", REGRESSION, "--config", CONFIG, "--json", *extra)


def forge_unsigned_approval(case: Case, base: Base) -> None:
    """The attack: two lines that copy real signatures, an audit holding version 1's results
    and an approval of it, appended to records.log (the checkpoint is left alone)."""
    lines = read_lines(case.ledger)
    audit = record_of(lines[0])
    audit.update(index=2, previous_hash=line_hash(lines[1]))
    audit["audit"] = {**audit["audit"], "results": base.v1_audit["results"]}
    forged_audit = with_record(lines[0], audit)
    approval = record_of(lines[1])
    approval.update(index=3, previous_hash=line_hash(forged_audit))
    approval["approval"] = {"approves": {"index": 2, "record_hash": line_hash(forged_audit)}}
    write_lines(case.ledger, [*lines, forged_audit, with_record(lines[1], approval)])


def test_honest_regression_fails_against_the_officers_approval(case: Case) -> None:
    done = regression_gate(case, "--baseline", "latest-approved", "--approved-by", case.officers)
    assert done.exit_code == 1, done.stderr
    document = json.loads(done.stdout)
    assert document["verdict"] == "fail"
    assert document["baseline"]["approval_index"] == 1
    assert document["baseline"]["principal"] == "officer"
    assert len(read_lines(case.ledger)) == 3  # the failing verdict is recorded


@pytest.mark.parametrize(
    "trust",
    [
        [],
        ["--trust-ledger-keys"],
        ["--approved-by", "OFFICERS"],
        ["--trusted-keys", "SIGNERS"],
    ],
    ids=["no-keys", "ledger-keys", "approved-by", "trusted-keys"],
)
@pytest.mark.parametrize("baseline", ["latest-approved", "2"])
def test_two_unsigned_lines_never_turn_the_failing_gate_into_a_pass(
    case: Case, base: Base, trust: list[str], baseline: str
) -> None:
    forge_unsigned_approval(case, base)
    before = read_lines(case.ledger)
    files = {"OFFICERS": str(case.officers), "SIGNERS": str(case.signers)}
    done = regression_gate(case, "--baseline", baseline, *[files.get(t, t) for t in trust])
    assert done.exit_code == 3, done.stdout + done.stderr
    assert done.stderr.count("\n") <= 2 and "Traceback" not in done.stderr
    if trust:
        assert "record 2" in done.stderr and "signature" in done.stderr
    else:
        assert "refusing to rely on it without a trusted key" in done.stderr
    assert read_lines(case.ledger) == before  # and the CI key signed nothing


def test_a_signed_forgery_by_an_untrusted_key_is_not_relied_on(case: Case, base: Base) -> None:
    """A stranger's key appends a valid audit and approval (and signs the checkpoint)."""
    payload = dict(base.v1_audit)
    payload.pop("record")
    forged = append_record(case.ledger, RecordKind.AUDIT, payload, base.stranger.key)
    approval = {"approves": {"index": 2, "record_hash": forged.record_hash}, "note": ""}
    append_record(case.ledger, RecordKind.APPROVAL, approval, base.stranger.key)

    # The officer's approval of record 0 is still the latest trusted one: v1 still fails.
    done = regression_gate(case, "--baseline", "latest-approved", "--approved-by", case.officers)
    assert done.exit_code == 1, done.stderr
    assert json.loads(done.stdout)["baseline"]["approval_index"] == 1
    # A numeric baseline needs the officer's approval too (it was ignored before).
    done = regression_gate(case, "--baseline", "2", "--approved-by", case.officers, "--no-record")
    assert done.exit_code == 3
    assert "no approval of record 2 is signed by a key trusted in" in done.stderr
    done = regression_gate(case, "--baseline", "0", "--approved-by", case.officers, "--no-record")
    assert done.exit_code == 1, done.stderr
    assert json.loads(done.stdout)["baseline"]["approval_index"] == 1
    # With the ledger's signers pinned, the stranger's records fail verification.
    done = regression_gate(case, "--baseline", "latest-approved", "--trusted-keys", case.signers)
    assert done.exit_code == 3 and "untrusted key " + base.stranger.fingerprint in done.stderr
    # --trust-ledger-keys believes the ledger, as it says, loudly.
    done = regression_gate(case, "--baseline", "latest-approved", "--trust-ledger-keys")
    assert done.exit_code == 0, done.stderr
    assert "--trust-ledger-keys: trusting the keys found in the ledger itself" in done.stderr


def test_gate_record_judges_only_a_verified_trusted_record(case: Case, base: Base) -> None:
    judge: list[str | Path] = ["gate", "--policy", FOUR_FIFTHS, "--json", "--record"]
    done = invoke(case.env, *judge, "0")
    assert done.exit_code == 3 and "--record 0: refusing to rely on it" in done.stderr
    done = invoke(case.env, *judge, "0", "--trusted-keys", case.signers)
    assert done.exit_code == 0, done.stderr
    payload = dict(base.v1_audit)
    payload.pop("record")
    append_record(case.ledger, RecordKind.AUDIT, payload, base.stranger.key)
    before = read_lines(case.ledger)
    done = invoke(case.env, *judge, "4", "--trusted-keys", case.signers)
    assert done.exit_code == 3 and base.stranger.fingerprint in done.stderr
    assert read_lines(case.ledger) == before


def test_trust_options_without_a_baseline_are_usage_errors(case: Case) -> None:
    done = regression_gate(case, "--approved-by", case.officers)
    assert done.exit_code == 2 and "--approved-by" in done.stderr and "--baseline" in done.stderr
    for option in (["--trusted-keys", str(case.signers)], ["--trust-ledger-keys"]):
        done = regression_gate(case, *option)
        lines = done.stderr.strip().splitlines()
        assert done.exit_code == 2 and len(lines) == 1, done.stderr
        assert f"{option[0]}: not applicable" in lines[0] and "--baseline" in lines[0]
        assert "relies on none" in lines[0]
    assert len(read_lines(case.ledger)) == 2


def test_junit_parents_are_created_and_outputs_come_before_the_record(case: Case) -> None:
    report = case.ledger.parent / "reports" / "nested" / "fairness.xml"
    done = regression_gate(
        case, "--baseline", "0", "--approved-by", case.officers, "--junit", report
    )
    assert done.exit_code == 1, done.stderr
    assert "<testsuite" in report.read_text() and len(read_lines(case.ledger)) == 3
    blocked = case.ledger.parent / "a-file"
    blocked.write_text("not a directory")
    done = regression_gate(
        case, "--baseline", "0", "--approved-by", case.officers, "--junit", blocked / "x.xml"
    )
    assert done.exit_code == 2, done.stdout + done.stderr
    assert len(read_lines(case.ledger)) == 3  # nothing recorded for a verdict not delivered
