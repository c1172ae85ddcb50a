"""Every ledger command's happy path as a real process: exit codes and documented JSON keys."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bias_ledger.ledger.checkpoint import parse_signed_checkpoint
from bias_ledger.ledger.merkle import BLAKE3_HASHER
from bias_ledger.ledger.merkle_verify import verify_consistency, verify_inclusion
from tests.ledger.helpers import cli_env, line_hash, read_lines, run_cli, write_small_csv

AUDIT_ARGS = ["--label", "label", "--prediction", "pred", "--sensitive", "group"]


@dataclass(frozen=True)
class Session:
    """A ledger made by the CLI: two audits and an approval, with a key from 'key generate'."""

    root: Path
    ledger: Path
    env: dict[str, str]
    fingerprint: str
    data: Path

    def run(self, *args: str | Path, code: int = 0) -> str:
        done = run_cli(*args, env=self.env, cwd=self.root)
        assert done.returncode == code, (args, done.stdout, done.stderr)
        return done.stdout

    def json(self, *args: str | Path, code: int = 0) -> Any:
        return json.loads(self.run(*args, "--json", code=code))


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    root = tmp_path_factory.mktemp("cli")
    ledger = root / "ledger"
    env = cli_env(root, BIAS_LEDGER_DIR=str(ledger))
    data = write_small_csv(root / "data.csv")
    made = Session(root, ledger, env, "", data)
    # Format 1: these tests check its BLAKE3 proofs (format 2 has its own, tests/ledger2).
    created = made.json("init", "--name", "cli-test", "--format", "1")
    assert created["created"] is True and created["path"] == str(ledger)
    assert created["origin"].startswith("cli-test/")
    key = made.json("key", "generate")
    assert set(key) == {"path", "public_key", "fingerprint"}
    for version in ("1", "2"):
        made.run("audit", data, *AUDIT_ARGS, "--model-name", "m", "--model-version", version, "-q")
    approval = made.json("approve", "1", "--note", "fine")
    assert approval["index"] == 2 and approval["approves"]["index"] == 1
    return Session(root, ledger, env, key["fingerprint"], data)


def test_init_again_changes_nothing(session: Session) -> None:
    before = (session.ledger / "ledger.json").read_bytes()
    again = session.json("init")
    assert again["created"] is False
    assert (session.ledger / "ledger.json").read_bytes() == before


def test_log(session: Session) -> None:
    lines = session.json("log")
    assert [line["index"] for line in lines] == [0, 1, 2]
    assert [line["kind"] for line in lines] == ["audit", "audit", "approval"]
    assert [line["model_version"] for line in lines] == ["1", "2", None]
    keys = {"index", "timestamp", "kind", "model_name", "model_version", "verdict", "signer"}
    assert all(keys <= set(line) and line["signer"] == session.fingerprint for line in lines)
    text = session.run("log")
    assert "approves record 1: fine" in text and session.fingerprint in text


def test_show(session: Session) -> None:
    shown = session.json("show", "1")
    assert shown["record"]["index"] == 1 and shown["record"]["kind"] == "audit"
    assert shown["record"]["audit"]["subject"]["model_version"] == "2"
    assert shown["signature"].startswith("-----BEGIN SSH SIGNATURE-----")
    text = session.run("show", "0")
    record = session.json("show", "0")["record"]
    assert record["kind"] == "audit" and record["audit"]["subject"]["model_version"] == "1"
    for shown in ("kind", "audit", session.fingerprint, record["timestamp"]):
        assert shown in text, shown
    assert f"blake3:{record['audit']['inputs'][0]['blake3']}" in text
    session.run("show", "7", code=2)


def test_verify(session: Session) -> None:
    result = session.json("verify", "--trusted-key", session.fingerprint)
    assert result["valid"] is True and result["size"] == 3
    assert {"origin", "checkpoint", "signers", "steps", "warnings"} <= set(result)
    assert result["checkpoint"]["size"] == 3
    assert {step["what"] for step in result["steps"]} >= {"signatures", "hash chain", "trust"}
    text = session.run("verify", "--trusted-key", session.fingerprint)
    assert "VALID: 3 records" in text
    failed = session.json("verify", code=3)
    assert failed["valid"] is False and failed["error"].startswith("no trusted key given")
    assert session.fingerprint in failed["error"]
    session.run("verify", "--trust-ledger-keys")


def test_proofs_are_checked_independently(session: Session) -> None:
    leaves = [BLAKE3_HASHER.hash_leaf(line) for line in read_lines(session.ledger)]
    proof = session.json("proof", "inclusion", "1")
    assert {"hash", "index", "size", "leaf_hash", "root_hash", "proof"} <= set(proof)
    assert proof["size"] == 3 and bytes.fromhex(proof["leaf_hash"]) == leaves[1]
    verify_inclusion(
        BLAKE3_HASHER,
        1,
        3,
        leaves[1],
        [bytes.fromhex(node) for node in proof["proof"]],
        bytes.fromhex(proof["root_hash"]),
    )
    smaller = session.json("proof", "inclusion", "0", "--size", "2")
    assert smaller["size"] == 2
    consistency = session.json("proof", "consistency", "1", "3")
    verify_consistency(
        BLAKE3_HASHER,
        1,
        3,
        bytes.fromhex(consistency["old_root"]),
        bytes.fromhex(consistency["new_root"]),
        [bytes.fromhex(node) for node in consistency["proof"]],
    )
    assert "verified" in session.run("proof", "inclusion", "2")
    session.run("proof", "inclusion", "3", code=2)


def test_checkpoint(session: Session) -> None:
    text = session.run("checkpoint")
    assert text.encode() == (session.ledger / "checkpoint").read_bytes()
    checkpoint, _ = parse_signed_checkpoint(text.encode(), source="stdout")
    document = session.json("checkpoint")
    assert document["size"] == checkpoint.size == 3
    assert document["root_hash"] == checkpoint.root_hash.hex()
    assert document["origin"] == checkpoint.origin


def test_fsck_clean(session: Session) -> None:
    report = session.json("fsck")
    assert report["clean"] is True and report["records"] == 3 and report["checkpoint_size"] == 3
    assert "ok: 3 records" in session.run("fsck")


def test_ledger_option_env_and_default_directory(session: Session, tmp_path: Path) -> None:
    env = {k: v for k, v in session.env.items() if k != "BIAS_LEDGER_DIR"}
    by_option = run_cli("log", "--json", "--ledger", session.ledger, env=env, cwd=tmp_path)
    assert by_option.returncode == 0 and len(json.loads(by_option.stdout)) == 3
    by_env = run_cli("log", "--json", env={**env, "BIAS_LEDGER_DIR": str(session.ledger)})
    assert json.loads(by_env.stdout) == json.loads(by_option.stdout)
    done = run_cli("init", env=env, cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / ".bias-ledger" / "ledger.json").is_file()
    missing = run_cli("log", env=env, cwd=tmp_path / ".bias-ledger")
    assert missing.returncode == 2 and "not a bias-ledger ledger" in missing.stderr


def test_audit_json_document(session: Session, tmp_path: Path) -> None:
    env = {**session.env, "BIAS_LEDGER_DIR": str(tmp_path / "l2")}
    assert run_cli("init", env=env).returncode == 0
    done = run_cli("audit", session.data, *AUDIT_ARGS, "--json", "-o", tmp_path / "o.json", env=env)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document == json.loads((tmp_path / "o.json").read_text())
    documented = {"schema_version", "subject", "inputs", "parameters", "data", "results"}
    assert documented | {"warnings", "policy", "environment", "record"} <= set(document)
    assert document["record"] == {
        "index": 0,
        "record_hash": line_hash(read_lines(tmp_path / "l2")[0]),  # the record as stored
        "checkpoint_size": 1,
    }
    assert document["inputs"][0]["name"] == "data.csv"
    no_record = run_cli("audit", session.data, *AUDIT_ARGS, "--json", "--no-record", env=env)
    assert json.loads(no_record.stdout)["record"] is None
    assert len(read_lines(tmp_path / "l2")) == 1


def test_help() -> None:
    env = cli_env(Path(os.getcwd()))
    for module in (True, False):
        done = run_cli("--help", env=env, module=module)
        assert done.returncode == 0 and "Exit codes" in done.stdout
    done = run_cli("--version", env=env)
    assert done.returncode == 0 and done.stdout.startswith("bias-ledger ")


def test_key_show_counts_the_records_it_signed(session: Session) -> None:
    shown = session.json("key", "show")
    assert shown["fingerprint"] == session.fingerprint
    assert shown["records_signed"] == len(session.json("log"))
    assert "signed" in session.run("key", "show")
