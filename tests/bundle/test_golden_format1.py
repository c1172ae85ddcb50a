"""The golden format-1 fixtures (made by v0.1.0) verify and recompute in this version.

Every ledger and bundle format ever released keeps verifying: these bytes are what v0.1.0
wrote, and are never regenerated (their digests are pinned below so that nobody does it by
accident). See tests/fixtures/format1/README.md.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import blake3
import pytest

from .helpers import cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "format1"
PINNED = {
    "allowed_signers": "9a7fd7f7291115bfcc68bb2244647be8285c2d78f66e7aa5fda3b960c0797d6e",
    "bundle.zip": "bd91726d944ba6dfd43a49137df547538f335707009dcf3a97e51f20aecdb082",
    "data.csv": "820dd756b8bcbefe69b2ad6f63e1adfc368ffb17533199c0214fbfe3209affd3",
    "kept-checkpoint-3": "5891c372fd299b6159ab3f19383054959955950875fe0263a21cf36fc81a6d7f",
    "ledger/checkpoint": "e0049463dcee06c289d2f86b10731b3f9426c38b2c799888c6b195f3c508d6aa",
    "ledger/ledger.json": "eb3b37f9b307038ccda94af9548f8090ed785877c1051adf8e71cdc4b4a39041",
    "ledger/records.log": "493ba2272ea89969d6a39f19991cb187fe06d6e7a49b0e4e88935df0f26c5564",
    "policy.toml": "91b05add8caa09443eb453af9b4280352000a16c5f4849c1a88e2d21f23dc123",
}
AUDITS = [0, 1, 2, 5, 6]
"""The records made by `audit` or `gate` with data (kind audit)."""


def fixture(name: str) -> Path:
    return FIXTURES / name


@pytest.mark.parametrize("name", sorted(PINNED))
def test_the_fixtures_are_the_committed_v0_1_0_bytes(name: str) -> None:
    assert blake3.blake3(fixture(name).read_bytes()).hexdigest() == PINNED[name]


def test_golden_bundle_verifies_with_since() -> None:
    code, output = cli(
        "verify",
        fixture("bundle.zip"),
        "--trusted-keys",
        fixture("allowed_signers"),
        "--since",
        fixture("kept-checkpoint-3"),
        "--json",
    )
    assert code == 0, output
    document = json.loads(output)
    assert document["valid"] is True
    assert document["records"] == list(range(7))
    assert any(step["what"] == "since" for step in document["steps"])


def test_golden_bundle_recomputes_and_rejudges() -> None:
    code, output = cli(
        "verify",
        fixture("bundle.zip"),
        "--trusted-keys",
        fixture("allowed_signers"),
        "--recompute",
        "--data",
        fixture("data.csv"),
        "--policy",
        fixture("policy.toml"),
        "--json",
    )
    assert code == 0, output
    recompute = json.loads(output)["recompute"]
    assert recompute["ok"] is True
    done = [r["index"] for r in recompute["records"] if r["recomputed"]]
    assert done == AUDITS
    assert all(not r["mismatches"] for r in recompute["records"])


def test_golden_ledger_verifies(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    shutil.copytree(fixture("ledger"), ledger)
    code, output = cli(
        "verify", "--ledger", ledger, "--trusted-keys", fixture("allowed_signers"), "--json"
    )
    assert code == 0, output
    assert json.loads(output)["size"] == 7


def test_an_edited_golden_record_fails(tmp_path: Path) -> None:
    """The golden tests can fail: one byte of the golden ledger changed is caught."""
    ledger = tmp_path / "ledger"
    shutil.copytree(fixture("ledger"), ledger)
    log = ledger / "records.log"
    raw = log.read_bytes()
    at = raw.index(b'"model_version":"1"')
    log.write_bytes(raw[:at] + raw[at:].replace(b'"1"', b'"2"', 1))
    code, output = cli("verify", "--ledger", ledger, "--trusted-keys", fixture("allowed_signers"))
    assert code == 3, output
    assert "record 0" in output


def _with_metric_changes(monkeypatch: pytest.MonkeyPatch, change: Callable[[Any], None]) -> None:
    """Make every fresh audit (as a later version would compute it) pass through ``change``."""
    import bias_ledger._audit as engine

    real = engine.run_audit

    class Later:
        def __init__(self, result: Any) -> None:
            self._result = result

        def to_json(self) -> Any:
            document = self._result.to_json()
            change(document)
            return document

    monkeypatch.setattr(engine, "run_audit", lambda request: Later(real(request)))


def _every_metrics_dict(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        found = [value["metrics"]] if isinstance(value.get("metrics"), dict) else []
        return found + [d for item in value.values() for d in _every_metrics_dict(item)]
    if isinstance(value, list):
        return [d for item in value for d in _every_metrics_dict(item)]
    return []


def recompute_golden() -> tuple[int, str]:
    return cli(
        "verify",
        fixture("bundle.zip"),
        "--trusted-keys",
        fixture("allowed_signers"),
        "--recompute",
        "--data",
        fixture("data.csv"),
    )


def test_a_metric_added_later_does_not_break_recomputing_old_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 9 item 7: recompute compares what the record holds, not today's full results."""

    def add(document: Any) -> None:
        for metrics in _every_metrics_dict(document["results"]):
            metrics["metric_of_a_later_version"] = {"value": 0.25}
        document["results"]["section_of_a_later_version"] = {"n": 1}

    _with_metric_changes(monkeypatch, add)
    code, output = recompute_golden()
    assert code == 0, output


def test_a_recorded_metric_the_recomputation_lacks_is_a_mismatch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def drop(document: Any) -> None:
        for metrics in _every_metrics_dict(document["results"]):
            metrics.pop("selection_rate", None)

    _with_metric_changes(monkeypatch, drop)
    code, output = recompute_golden()
    assert code == 3, output
    assert ".metrics.selection_rate: recorded {" in output


def test_another_policy_rejudges_nothing_and_says_why(tmp_path: Path) -> None:
    """Issue 9 item 6: records judged by another policy (or none) are recomputed, and their
    verdicts are skipped with the reason, instead of failing as if tampered with."""
    other = tmp_path / "other.toml"
    other.write_text(fixture("policy.toml").read_text().replace("four-fifths", "other"))
    code, output = cli(
        "verify",
        fixture("bundle.zip"),
        "--trusted-keys",
        fixture("allowed_signers"),
        "--recompute",
        "--data",
        fixture("data.csv"),
        "--policy",
        other,
        "--json",
    )
    assert code == 0, output
    verdicts = {r["index"]: r["verdict"] for r in json.loads(output)["recompute"]["records"]}
    assert verdicts[0].startswith("verdict not re-judged: judged by policy 'four-fifths'")
    assert "not by the given 'other'" in verdicts[0]
    assert verdicts[1] == "verdict not re-judged: the record holds no policy verdict"
