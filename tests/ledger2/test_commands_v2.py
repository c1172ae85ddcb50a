"""Every command on a ledger made by a plain ``bias-ledger init`` (format 2, the default): real
processes, real keys and signatures, the sample data; format-1 ledgers compared where the two
formats must agree (rotated-out and revoked signers)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bias_ledger.ledger.keys import load_private_key_file, public_key_openssh
from bias_ledger.ledger.record import RecordKind
from tests.ledger.helpers import cli_env, run_cli

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data"
AUDIT: list[str | Path] = ["--label", "label", "--sensitive", "sex", "--model-name", "m"]
V1, V2 = ["--prediction", "pred_v1"], ["--prediction", "pred_v2"]
"""Version 1 selects one woman in ten and every man (fails the four-fifths rule), version 2
half of each (passes)."""


def write_data(path: Path, rows: int = 400) -> Path:
    lines = ["id,sex,label,pred_v1,pred_v2"]
    for i in range(rows):
        sex = "f" if i % 2 else "m"
        v1 = int(sex == "m" or i % 20 == 1)
        lines.append(f"{i},{sex},{(i // 2) % 2},{v1},{(i // 2) % 2}")
    path.write_text("\n".join(lines) + "\n")
    return path


POLICY = """version = 1
name = "four-fifths"
[[rules]]
name = "four-fifths"
four_fifths = true
features = ["sex"]
severity = "error"
"""


@dataclass(frozen=True)
class Made:
    root: Path
    env: dict[str, str]
    ledger: Path
    allowed: Path
    key: Path
    model: Path

    def run(self, *args: str | Path, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = run_cli(*args, env=self.env, cwd=self.root)
        assert done.returncode == code, (args, done.stdout, done.stderr)
        return done

    def json(self, *args: str | Path) -> Any:
        return json.loads(self.run(*args, "--json").stdout)

    def audit(self, key: Path, code: int = 0) -> subprocess.CompletedProcess[str]:
        """Append an audit of version 2 on the test data, signed by ``key``."""
        return self.run("audit", self.root / "data.csv", *AUDIT, *V2, "--key", key, "-q", code=code)

    def record_hash(self, index: int) -> str:
        """The BLAKE3 record hash the log entry of record ``index`` commits to."""
        entry = base64.b64decode(self.json("proof", "inclusion", str(index))["entry"])
        return str(json.loads(entry)["record"])


def make(root: Path, *init_args: str) -> Made:
    """``init`` (with ``init_args``), a key, an allowed_signers file, two audits, a gate verdict
    on the first and an approval of the second."""
    env = cli_env(root)
    ledger = root / "ledger"
    env["BIAS_LEDGER_DIR"] = str(ledger)
    key = root / "key"
    made = Made(root, env, ledger, root / "allowed_signers", key, root / "model.bin")
    made.run("init", "--name", "example.org/commands", *init_args)
    made.run("key", "generate", "-o", key)
    made.allowed.write_text(f"alice {(root / 'key.pub').read_text()}")
    made.model.write_bytes(b"a model artifact\n")
    data = write_data(root / "data.csv")
    made.run("audit", data, *AUDIT, *V1, "--model", made.model, "--key", key, "-q")
    made.run("audit", data, *AUDIT, *V2, "--key", key, "-q")
    policy = root / "policy.toml"
    policy.write_text(POLICY)
    gate = ("gate", "--record", "0", "--policy", policy, "--trusted-keys", made.allowed)
    made.run(*gate, "--key", key, code=1)  # version 1 fails the four-fifths rule
    made.run("approve", "1", "--note", "reviewed", "--key", key)
    return made


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    return make(tmp_path_factory.mktemp("default"))


def test_init_makes_format_2_by_default_and_format_1_on_request(made: Made, tmp_path: Path) -> None:
    meta = json.loads((made.ledger / "ledger.json").read_text())
    assert meta["format_version"] == 2 and meta["hash"] == "sha256"
    assert (made.ledger / "tile" / "entries").is_dir()
    assert not (made.ledger / "records.log").exists()
    one = tmp_path / "one"
    made.run("init", "--ledger", one, "--format", "1")
    assert json.loads((one / "ledger.json").read_text())["format_version"] == 1
    made.run("init", "--ledger", tmp_path / "three", "--format", "3", code=2)

    import bias_ledger

    fresh = bias_ledger.Ledger.init(tmp_path / "api2")
    assert json.loads((fresh.path / "ledger.json").read_text())["format_version"] == 2
    legacy = bias_ledger.Ledger.init(tmp_path / "api1", format_version=1)
    assert json.loads((legacy.path / "ledger.json").read_text())["format_version"] == 1


def test_log_show_verify_and_the_gate_baseline_on_the_default(made: Made) -> None:
    lines = made.json("log")
    assert [line["kind"] for line in lines] == ["audit", "audit", "gate", "approval"]
    shown = made.json("show", "1")
    assert shown["record"]["format_version"] == 2
    verified = made.json("verify", "--trusted-keys", made.allowed)
    assert verified["valid"] and verified["format_version"] == 2 and verified["size"] == 4
    gate: tuple[str | Path, ...] = (
        "gate", made.root / "data.csv", *AUDIT, *V2, "--baseline", "1",
        "--approved-by", made.allowed, "--policy", made.root / "policy.toml",
        "--no-record",
    )  # fmt: skip
    baseline = made.json(*gate)["baseline"]
    assert (baseline["record_index"], baseline["approval_index"]) == (1, 3)
    assert baseline["principal"] == "alice" and baseline["record_hash"] == made.record_hash(1)


def test_report_of_a_format2_record(made: Made) -> None:
    record_hash = made.record_hash(1)
    out = made.root / "r.md"
    done = made.run("report", "1", "-o", out, "--trusted-keys", made.allowed)
    assert "integrity and trust (keys trusted in" in done.stdout
    text = out.read_text()
    assert "Record 1: audit" in text and record_hash in text
    done = made.run("report", "0", "-o", made.root / "r.html")
    assert "NOT checked against trusted keys" in done.stdout
    assert (made.root / "r.html").read_text().startswith("<!DOCTYPE html>")
    made.run("report", "9", "-o", made.root / "x.md", code=2)


def test_attestation_of_a_format2_record_verifies_and_tampering_fails(made: Made) -> None:
    out = made.root / "a.jsonl"
    made.run("attest", "0", "-o", out, "--key", made.key)
    verified = made.json("verify", "--attestation", out, "--trusted-keys", made.allowed)
    assert verified["valid"] and verified["index"] == 0
    lines = out.read_bytes().splitlines()
    envelope = json.loads(lines[0])
    statement = json.loads(base64.b64decode(envelope["payload"]))
    link = statement["predicate"]["ledger"]
    assert link["format_version"] == 2 and link["inclusion_proof"]["hash"] == "sha256"
    assert link["gate"]["index"] == 2  # the gate verdict on record 0 came along
    # Re-sign a statement whose record was edited: the DSSE signature holds, the log does not.
    record = json.loads(base64.b64decode(link["record"]))
    record["audit"]["subject"]["model_version"] = "2"
    link["record"] = base64.b64encode(json.dumps(record).encode()).decode()
    from bias_ledger.exports.intoto import sign_envelope

    key = load_private_key_file(made.key, None)
    forged = made.root / "forged.jsonl"
    forged.write_bytes(
        json.dumps(sign_envelope(statement, key)).encode() + b"\n" + b"\n".join(lines[1:]) + b"\n"
    )
    done = made.run("verify", "--attestation", forged, "--trusted-keys", made.allowed, code=3)
    assert "does not hash to" in done.stderr + done.stdout


def test_cyclonedx_of_a_format2_record(made: Made) -> None:
    out = made.root / "bom.json"
    made.run("export", "--cyclonedx", out, "0")
    bom = json.loads(out.read_text())
    properties = {p["name"]: p["value"] for p in bom["components"][0]["properties"]}
    hashes = {index: made.record_hash(index) for index in (0, 1)}
    assert hashes[0] in properties.values()
    made.run("export", "--cyclonedx", made.root / "latest.json")  # the latest audit: record 1
    latest = json.loads((made.root / "latest.json").read_text())
    assert hashes[1] in {p["value"] for p in latest["components"][0]["properties"]}


def _report(made: Made, *args: str | Path, code: int = 0, name: str = "vr.json") -> Any:
    out = made.root / name
    out.unlink(missing_ok=True)
    made.run("verify", *args, "--report", out, code=code)
    return json.loads(out.read_text()) if name.endswith(".json") else out.read_text()


def test_verify_report_of_a_format2_ledger_and_its_failure(made: Made, tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    kept.write_text(made.run("checkpoint").stdout)
    doc = _report(made, "--trusted-keys", made.allowed, "--since", kept)
    assert (doc["schema_version"], doc["result"]) == (1, "valid")
    assert doc["verified"] == {
        "kind": "ledger",
        "source": str(made.ledger),
        "origin": json.loads((made.ledger / "ledger.json").read_text())["origin"],
        "size": 4,
        "format_version": 2,
    }
    assert doc["checkpoint"]["size"] == 4 and doc["since"]["result"] == "passed"
    assert {c["what"] for c in doc["checks"]} >= {"records", "tiles", "checkpoint", "trust"}
    assert doc["trusted_keys"]["keys"][0]["principals"] == "alice"
    assert doc["command_line"][:2] == ["bias-ledger", "verify"]
    assert doc["cosignatures"] == [] and doc["witnesses"] is None
    markdown = _report(made, "--trusted-keys", made.allowed, name="vr.md")
    assert "ledger format version 2" in markdown and "Witness cosignatures**: none" in markdown
    # A damaged copy fails, and the report says what failed.
    broken = tmp_path / "broken"
    shutil.copytree(made.ledger, broken)
    record = next((broken / "records").iterdir())
    data = record.read_bytes()
    record.write_bytes(data[:-1] + b" " + data[-1:])  # still JSON, no longer what was signed
    doc = _report(made, "--ledger", broken, "--trusted-keys", made.allowed, code=3)
    assert doc["result"] == "invalid" and "was altered" in doc["error"]
    assert doc["checks"][-1]["status"] == "failed"


def _forge_old_key_record(ledger: Path, key_path: Path) -> None:
    """An append by a retired key that bypasses the store's refusal (old software, a thief)."""
    from bias_ledger.ledger.reader import read_meta
    from bias_ledger.ledger.store import ledger_lock
    from bias_ledger.ledger.tlog_store import append_record_v2

    key = load_private_key_file(key_path, None)
    with ledger_lock(ledger):
        append_record_v2(ledger, read_meta(ledger).origin, RecordKind.GATE, {"note": "x"}, key)


def _forge_old_key_line(ledger: Path, key_path: Path) -> None:
    """The same on a format-1 ledger (its refusal is in the store too)."""
    from bias_ledger.ledger import store

    original = store.refuse_retired_signer  # type: ignore[attr-defined]
    store.refuse_retired_signer = lambda *a: None  # type: ignore[attr-defined]
    try:
        key = load_private_key_file(key_path, None)
        store.append_record(ledger, RecordKind.GATE, {"note": "x"}, key)
    finally:
        store.refuse_retired_signer = original  # type: ignore[attr-defined]


@pytest.mark.parametrize("version", ["1", "2"])
def test_rotation_and_revocation_are_followed_alike_in_both_formats(
    tmp_path: Path, version: str
) -> None:
    made = make(tmp_path, "--format", version)
    new, other = tmp_path / "new", tmp_path / "other"
    made.run("key", "generate", "-o", new)
    made.run("key", "generate", "-o", other)
    with made.allowed.open("a") as trust:
        trust.write(f"bob {(tmp_path / 'other.pub').read_text()}")
    made.run("key", "rotate", "--new-key", new, "--key", made.key)  # record 4
    refused = made.run(
        "audit", made.root / "data.csv", *AUDIT, *V2, "--key", made.key, "-q", code=2
    )
    assert "rotated out by record 4" in refused.stderr
    made.audit(new)  # record 5
    # The old key signs anyway (bypassing the store), then the new key appends after it.
    (_forge_old_key_record if version == "2" else _forge_old_key_line)(made.ledger, made.key)
    made.run(
        "audit", made.root / "data.csv", *AUDIT, *V2, "--key", new, "-q"
    )  # record 7, and the checkpoint
    verified = made.json("verify", "--trusted-keys", made.allowed)
    assert verified["valid"], verified
    invalid = [w for w in verified["warnings"] if "invalid, not trusted" in w]
    assert len(invalid) == 1 and "record 6: invalid, not trusted: signed by key" in invalid[0]
    assert "after record 4 rotated it out" in invalid[0]
    assert {s["principal"] for s in verified["signers"]} == {"alice"}  # the successor's too
    # A bundle shipping the invalid record fails; one without it verifies.
    made.run("export", "-o", tmp_path / "bad.zip", "6")
    bad = made.run("verify", tmp_path / "bad.zip", "--trusted-keys", made.allowed, code=3)
    assert "record 6: signed by key" in bad.stderr and "rotated it out" in bad.stderr
    made.run("export", "-o", tmp_path / "good.zip", "7")
    made.run("verify", tmp_path / "good.zip", "--trusted-keys", made.allowed)
    # The new key is stolen: bob revokes what it signed after record 5 (record 8).
    made.run("key", "revoke", f"{new}.pub", "--after", "5", "--key", other)
    refused = made.audit(new, code=2)
    assert "revoked by record 8" in refused.stderr
    verified = made.json("verify", "--trusted-keys", made.allowed)
    invalid = [w for w in verified["warnings"] if "invalid, not trusted" in w]
    assert [w.split(": invalid")[0].rsplit(" ", 1)[1] for w in invalid] == ["6", "7"]
    assert "which record 8 revoked for everything it signed after record 5" in invalid[1]
    if version == "2":  # a published copy is verified the same way
        made.run("publish", tmp_path / "site")
        published = made.json("verify", tmp_path / "site", "--trusted-keys", made.allowed)

        def reasons(found: Any) -> list[str]:
            return [w.split(" record ", 1)[1] for w in found["warnings"] if "invalid" in w]

        assert reasons(published) == reasons(verified)


def test_key_commands_on_the_default(made: Made) -> None:
    shown = made.json("key", "show", "--key", made.key)
    public = public_key_openssh(load_private_key_file(made.key, None).public_key())
    assert shown["public_key"].split()[:2] == public.split()[:2]
