"""Witness cosignatures (FORMAT.md 10.11-10.12): a real `bias-ledger witness serve` cosigns a
real ledger's checkpoints; the spec-only verifier checks them in the ledger and its bundle."""

from __future__ import annotations

import base64
import json
import selectors
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .bundle2 import verify_bundle
from .conftest import cli_env, run_cli, run_cli_batch, ssh_key
from .log2 import verify_log
from .note import COSIGNATURE_V1, ED25519, key_id, parse_note, parse_verifier_key
from .sshsig import SpecError, raw_ed25519, wire_of_line
from .test_bundle2 import rezip
from .trust import read_allowed_signers
from .zipcheck import read_bundle


@dataclass(frozen=True)
class Witnessed:
    ledger: Path
    bundle: Path
    trusted: Path
    policy: Path
    verifier_key: str


@pytest.fixture(scope="module")
def witnessed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Witnessed]:
    tmp = tmp_path_factory.mktemp("witnessed")
    env = cli_env(tmp)
    ledger, key, witness_key = tmp / "ledger", ssh_key(tmp / "key"), ssh_key(tmp / "wkey")
    init = ("init", "--format", "2", "--name", "spec.example/w", "--ledger", ledger)
    run_cli(*init, env=env, cwd=tmp)
    # The log's verifier key by 10.6's formula, not asked of the tool: if it were wrong, the
    # witness (configured with it) would refuse every checkpoint and nothing would be cosigned.
    origin = json.loads((ledger / "ledger.json").read_bytes())["origin"]
    raw = raw_ed25519(wire_of_line(key.with_suffix(".pub").read_text()))
    note_key = f"{origin}+{key_id(origin, ED25519, raw).hex()}+"
    note_key += base64.b64encode(bytes([ED25519]) + raw).decode()
    logs = tmp / "logs.toml"
    logs.write_text(f'[[log]]\norigin = "{origin}"\nverifier_keys = ["{note_key}"]\n')
    server = subprocess.Popen(
        [sys.executable, "-m", "bias_ledger", "witness", "serve", "--key", str(witness_key)]
        + ["--logs", str(logs), "--name", "witness.example/spec", "--state", str(tmp / "state")],
        env=env,
        cwd=tmp,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert server.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(server.stdout, selectors.EVENT_READ)
            assert selector.select(60), "the witness did not start"
        _, url, verifier_key = server.stdout.readline().decode().split()
        data = tmp / "data.csv"
        # Every group has all four confusion cells (a rate of 0 or 1 trips spec_findings F8).
        cells = ((i, (i * 2654435761 >> 7) % 2, (i * 40503 >> 5) % 2) for i in range(80))
        rows = [f"{i},{'ab'[i % 3 == 0]},{label},{pred}" for i, label, pred in cells]
        data.write_text("id,group,label,pred\n" + "\n".join(rows) + "\n")
        audit = ("audit", data, "--label", "label", "--prediction", "pred", "--sensitive", "group")
        bundle = tmp / "b.zip"
        on = ["--ledger", str(ledger)]
        commands = [
            ["witness", "add", "w", url, verifier_key, *on],
            [*map(str, audit), *on, "--key", str(key)],
            ["approve", "0", "--note", "cosigned", *on, "--key", str(key)],
            ["export", "-o", str(bundle), "0", "1", *on],
        ]
        assert run_cli_batch(commands, env, tmp) == [0, 0, 0, 0]
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()
    trusted = tmp / "trusted"
    trusted.write_text(f"spec {key.with_suffix('.pub').read_text()}")
    policy = tmp / "policy"
    policy.write_text(f"# one witness\nwitness spec {verifier_key}\nquorum 1\n")
    yield Witnessed(ledger, bundle, trusted, policy, verifier_key)


def test_the_witness_cosignature_follows_tlog_cosignature(witnessed: Witnessed) -> None:
    name, kind, key = parse_verifier_key(witnessed.verifier_key)
    assert (name, kind) == ("witness.example/spec", COSIGNATURE_V1)
    note = parse_note((witnessed.ledger / "checkpoint").read_bytes())
    assert len(note.signatures) == 2
    log_line, cosig = note.signatures
    assert cosig.name == name and cosig.key_id == key_id(name, COSIGNATURE_V1, key)
    trusted = read_allowed_signers(witnessed.trusted)
    result = verify_log(witnessed.ledger, trusted, witnesses=witnessed.policy)
    assert result.witnesses == {"spec"}
    assert result.checkpoint.size == 2


def test_the_bundle_carries_the_cosigned_checkpoint(witnessed: Witnessed) -> None:
    data = witnessed.bundle.read_bytes()
    members = read_bundle(data)
    assert members["checkpoint"] == (witnessed.ledger / "checkpoint").read_bytes()
    trusted = read_allowed_signers(witnessed.trusted)
    assert verify_bundle(data, trusted, witnesses=witnessed.policy).witnesses == {"spec"}


def test_a_flipped_cosignature_fails_the_quorum_for_both(
    witnessed: Witnessed, tmp_path: Path
) -> None:
    members = read_bundle(witnessed.bundle.read_bytes())
    lines = members["checkpoint"].split(b"\n")
    last = lines[-2]
    lines[-2] = last[:-8] + (b"A" if last[-8:-7] != b"A" else b"B") + last[-7:]
    members["checkpoint"] = b"\n".join(lines)
    data = rezip(members)
    trusted = read_allowed_signers(witnessed.trusted)
    verify_bundle(data, trusted)  # without a policy, unknown cosigners are ignored
    with pytest.raises(SpecError, match="cosignature by witness spec does not verify"):
        verify_bundle(data, trusted, witnesses=witnessed.policy)
    (tmp_path / "b.zip").write_bytes(data)
    tool = subprocess.run(
        [sys.executable, "-m", "bias_ledger", "verify", str(tmp_path / "b.zip")]
        + ["--trusted-keys", str(witnessed.trusted), "--witnesses", str(witnessed.policy)],
        env=cli_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tool.returncode == 3, tool.stdout + tool.stderr
