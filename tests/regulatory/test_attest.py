"""attest and verify --attestation: an independent DSSE implementation agrees; tampering fails."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError as SslibVerificationError
from securesystemslib.signer._key import SSlibKey

from bias_ledger.exports.intoto import sign_envelope
from bias_ledger.ledger.canonical import encode
from bias_ledger.ledger.keys import generate_key, load_private_key_file
from tests.ledger.helpers import write_small_csv
from tests.regulatory.cli import Cli

pytestmark = pytest.mark.slow  # real processes, a few seconds each

FAIRNESS = "https://bias-ledger.dev/attestation/fairness-audit/v1"
TEST_RESULT = "https://in-toto.io/attestation/test-result/v0.1"


class World:
    def __init__(self, cli: Cli, attestation: Path, model: Path, verdict: str) -> None:
        self.cli, self.attestation, self.model, self.verdict = cli, attestation, model, verdict

    def verify(self, path: Path, code: int = 0) -> Any:
        signers = self.cli.allowed_signers()
        return self.cli.json("verify", "--attestation", path, "--trusted-keys", signers, code=code)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    cli = Cli.create(tmp_path_factory.mktemp("attest"))
    data = write_small_csv(cli.root / "data.csv")
    model = cli.root / "model.bin"
    model.write_bytes(bytes(range(256)) * 40)
    cli.run(
        "audit", data, "--label", "label", "--prediction", "pred", "--sensitive", "group",
        "--model", model, "--model-name", "m", "-q",
    )  # fmt: skip
    policy = cli.root / "policy.toml"
    policy.write_text('version = 1\nname = "ir"\n[[rules]]\nfour_fifths = true\n')
    signers = cli.allowed_signers()
    gate = cli.json(
        "gate", "--record", "0", "--policy", policy, "--trusted-keys", signers, code=(0, 1)
    )
    out = cli.root / "out" / "model.intoto.jsonl"
    out.parent.mkdir()
    cli.run("attest", "0", "-o", out)
    return World(cli, out, model, gate["verdict"])


def envelopes(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def statement(envelope: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))
    return value


def ssl_key(world: World) -> SSlibKey:
    private = load_private_key_file(world.cli.root / "config" / "bias-ledger" / "id_ed25519", None)
    raw = private.public_key().public_bytes_raw()
    keyid = envelopes(world.attestation)[0]["signatures"][0]["keyid"]
    return SSlibKey(keyid, "ed25519", "ed25519", {"public": raw.hex()})


def test_securesystemslib_verifies_every_envelope(world: World) -> None:
    key = ssl_key(world)
    found = envelopes(world.attestation)
    assert [statement(e)["predicateType"] for e in found] == [FAIRNESS, TEST_RESULT]
    for item in found:
        envelope = Envelope.from_dict(copy.deepcopy(item))
        assert envelope.payload_type == "application/vnd.in-toto+json"
        assert key.keyid in envelope.verify([key], 1)
        parsed = json.loads(envelope.payload)
        assert parsed["_type"] == "https://in-toto.io/Statement/v1"
        assert set(parsed["subject"][0]["digest"]) == {"sha256", "blake3"}


def test_subject_is_the_model_file_by_sha256_and_blake3(world: World) -> None:
    import hashlib

    import blake3

    subject = statement(envelopes(world.attestation)[0])["subject"]
    data = world.model.read_bytes()
    assert subject == [
        {
            "name": "model.bin",
            "digest": {
                "sha256": hashlib.sha256(data).hexdigest(),
                "blake3": blake3.blake3(data).hexdigest(),
            },
        }
    ]


def test_test_result_predicate_follows_the_gate_verdict(world: World) -> None:
    predicate = statement(envelopes(world.attestation)[1])["predicate"]
    assert predicate["result"] == ("FAILED" if world.verdict == "fail" else "PASSED")
    assert predicate["configuration"][0]["name"] == "ir"
    listed = predicate["failedTests"] if world.verdict == "fail" else predicate["passedTests"]
    assert listed == ["rule-1"]


def test_bias_ledger_verifies_it_against_the_log(world: World) -> None:
    report = world.verify(world.attestation)
    assert report["valid"] is True and report["index"] == 0
    assert report["predicate_types"] == [FAIRNESS, TEST_RESULT]
    assert [s["what"] for s in report["steps"]][:4] == [
        "envelope",
        "checkpoint",
        "record",
        "inclusion",
    ]


def _write(world: World, name: str, items: list[dict[str, Any]]) -> Path:
    path = world.cli.root / "out" / name
    path.write_text("".join(json.dumps(e) + "\n" for e in items))
    return path


def _resign(world: World, changed: dict[str, Any]) -> dict[str, Any]:
    private = load_private_key_file(world.cli.root / "config" / "bias-ledger" / "id_ed25519", None)
    return sign_envelope(changed, private)


def test_an_altered_payload_fails_both_verifiers(world: World) -> None:
    items = envelopes(world.attestation)
    changed = statement(items[0])
    changed["predicate"]["audit"]["rows"] += 1
    items[0]["payload"] = base64.b64encode(encode(changed)).decode()
    with pytest.raises(SslibVerificationError):
        Envelope.from_dict(copy.deepcopy(items[0])).verify([ssl_key(world)], 1)
    failed = world.verify(_write(world, "altered.jsonl", items), code=3)
    assert "altered after signing" in failed["error"]


def test_an_altered_summary_signed_again_by_the_trusted_key_fails_against_the_log(
    world: World,
) -> None:
    items = envelopes(world.attestation)
    changed = statement(items[0])
    ratios = changed["predicate"]["audit"]["features"][0]["impact_ratios"]
    assert ratios[0]["impact_ratio"] != {"value": 0.123}
    ratios[0]["impact_ratio"] = {"value": 0.123}
    items[0] = _resign(world, changed)
    failed = world.verify(_write(world, "resigned.jsonl", items), code=3)
    assert "summary differs from what the proven record states" in failed["error"]


def test_another_models_digest_fails(world: World) -> None:
    items = envelopes(world.attestation)
    changed = statement(items[0])
    changed["subject"][0]["digest"]["blake3"] = "0" * 64
    items[0] = _resign(world, changed)
    failed = world.verify(_write(world, "subject.jsonl", items), code=3)
    assert "is not the audited model's" in failed["error"]


def test_a_broken_inclusion_proof_fails(world: World) -> None:
    items = envelopes(world.attestation)
    changed = statement(items[0])
    proof = changed["predicate"]["ledger"]["inclusion_proof"]
    proof["hashes"] = ["00" * 32, *proof["hashes"]]
    items[0] = _resign(world, changed)
    failed = world.verify(_write(world, "proof.jsonl", items), code=3)
    assert "proof" in failed["error"]


def test_a_flipped_test_result_fails(world: World) -> None:
    items = envelopes(world.attestation)
    changed = statement(items[1])
    changed["predicate"]["result"] = "PASSED" if world.verdict == "fail" else "FAILED"
    items[1] = _resign(world, changed)
    failed = world.verify(_write(world, "verdict.jsonl", items), code=3)
    assert "does not match the proven gate verdict" in failed["error"]


def test_an_untrusted_signer_fails(world: World) -> None:
    items = envelopes(world.attestation)
    items[0] = sign_envelope(statement(items[0]), generate_key())
    failed = world.verify(_write(world, "untrusted.jsonl", items), code=3)
    assert "expected a signature by a key trusted" in failed["error"]


def test_attest_refuses_an_output_inside_the_ledger(world: World) -> None:
    done = world.cli.run("attest", "0", "-o", world.cli.root / "ledger" / "x.jsonl", code=2)
    assert "inside the ledger" in done.stderr
