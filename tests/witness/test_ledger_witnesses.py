"""Format-2 ledgers with real witnesses on 127.0.0.1: append, push, forks, quorum, outages."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from bias_ledger.cli.app import app
from bias_ledger.ledger.keys import (
    fingerprint,
    generate_key,
    private_key_to_openssh,
    write_private_key_file,
)
from bias_ledger.ledger.note import COSIGNATURE_V1, note_verifier, open_note, parse_note
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import init_ledger
from bias_ledger.witness.policy import check_witness_quorum, parse_witness_policy
from bias_ledger.workflows.append import append_witnessed
from tests.chromium import render_in_chromium
from tests.ledger.helpers import audit_payload, write_small_csv
from tests.witness.servers import RunningWitness, start_witness

KEY = generate_key()
LEDGERS = [
    "alpha",
    "fork",
    "down",
    "cli",
    "bundle",
    "report",
    "busy",
    "fresh",
    *(f"many{i}" for i in range(4)),
]


def origin_of(name: str) -> str:
    return f"{name}/{'0' * 15}1"


def note_key(name: str) -> str:
    return note_verifier(origin_of(name), KEY.public_key()).verifier_key()


@dataclass(frozen=True)
class Witnesses:
    w1: RunningWitness
    w2: RunningWitness
    payload: dict[str, Any]


@pytest.fixture(scope="module")
def witnesses(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Witnesses]:
    root = tmp_path_factory.mktemp("witnesses")
    logs = [(origin_of(name), note_key(name)) for name in LEDGERS]
    w1 = start_witness(root / "w1", logs, name="w1.example/witness")
    try:
        w2 = start_witness(root / "w2", logs, name="w2.example/witness")
    except BaseException:
        w1.stop()
        raise
    try:
        yield Witnesses(w1, w2, audit_payload(write_small_csv(root / "data.csv")))
    finally:
        w1.stop()
        w2.stop()


def cli(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    return result.exit_code, result.output


def new_ledger(tmp_path: Path, name: str, witnesses: Witnesses) -> Path:
    path = tmp_path / name
    init_ledger(path, name=name, random_id="0" * 15 + "1", format_version=2)
    for witness in (witnesses.w1, witnesses.w2):
        code, output = cli(
            "witness", "add", witness.name[:2], witness.url, witness.verifier_key, "--ledger", path
        )
        assert code == 0, output
    return path


def append(path: Path, witnesses: Witnesses, model: str = "m") -> None:
    append_witnessed(path, RecordKind.AUDIT, witnesses.payload, KEY, labels={"model_tag": model})


def policy_file(path: Path, quorum: int, *keys: tuple[str, str]) -> Path:
    lines = [f"witness {name} {key}" for name, key in keys]
    path.write_text("# test policy\n" + "\n".join(lines) + f"\nquorum {quorum}\n")
    return path


def both(witnesses: Witnesses) -> list[tuple[str, str]]:
    return [("w1", witnesses.w1.verifier_key), ("w2", witnesses.w2.verifier_key)]


def test_two_witnesses_cosign_every_append(tmp_path: Path, witnesses: Witnesses) -> None:
    path = new_ledger(tmp_path, "alpha", witnesses)
    for size in (1, 2, 3):
        append(path, witnesses)
        note = (path / "checkpoint").read_bytes()
        policy = parse_witness_policy(
            policy_file(tmp_path / "p", 2, *both(witnesses)).read_text(), "p"
        )
        assert check_witness_quorum(note, policy) == ["w1", "w2"]
        assert parse_note(note).text.split("\n")[1] == str(size)
    # The log's own signature is still first and still verifies.
    opened = open_note(note, [note_verifier(origin_of("alpha"), KEY.public_key())])
    assert opened.verified[0].name == origin_of("alpha")
    good = policy_file(tmp_path / "two.policy", 2, *both(witnesses))
    code, output = cli("verify", "--ledger", path, "--witnesses", good, "--trust-ledger-keys")
    assert code == 0, output
    assert "cosigned by w1, w2 (quorum met)" in output
    stranger = note_verifier(
        "w3.example/witness", Ed25519PrivateKey.generate().public_key(), COSIGNATURE_V1
    )
    three = policy_file(
        tmp_path / "three.policy", 3, *both(witnesses), ("w3", stranger.verifier_key())
    )
    code, output = cli("verify", "--ledger", path, "--witnesses", three, "--trust-ledger-keys")
    assert code == 3, output
    assert "expected cosignatures by at least 3" in output and "missing: w3" in output
    assert f"(witness policy {three})" in output, output
    # A published copy carries the cosigned checkpoint: verifying it needs no ledger.
    code, output = cli("publish", tmp_path / "site", "--ledger", path)
    assert code == 0, output
    assert (tmp_path / "site" / "checkpoint").read_bytes() == note
    code, output = cli("verify", tmp_path / "site", "--witnesses", good, "--trust-ledger-keys")
    assert code == 0 and "cosigned by w1, w2 (quorum met)" in output, output
    (tmp_path / "bad.policy").write_text("witness w1\nquorum 1\n")
    code, output = cli(
        "verify", "--ledger", path, "--witnesses", tmp_path / "bad.policy", "--trust-ledger-keys"
    )
    assert code == 2, output


def _rezip(source: Path, target: Path, checkpoint: bytes) -> Path:
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as changed:
        for name in original.namelist():
            data = checkpoint if name == "checkpoint" else original.read(name)
            changed.writestr(name, data)
    return target


def test_bundles_carry_the_cosignatures_and_verify_checks_them(
    tmp_path: Path, witnesses: Witnesses
) -> None:
    path = new_ledger(tmp_path, "bundle", witnesses)
    append(path, witnesses)
    append(path, witnesses)
    bundle = tmp_path / "audit.zip"
    code, output = cli("export", "-o", bundle, "--all", "--ledger", path)
    assert code == 0, output
    with zipfile.ZipFile(bundle) as archive:
        carried = archive.read("checkpoint")
    assert carried == (path / "checkpoint").read_bytes()
    two = policy_file(tmp_path / "two.policy", 2, *both(witnesses))
    trust = ("--trusted-key", fingerprint(KEY.public_key()))
    code, output = cli("verify", bundle, "--witnesses", two, *trust)
    assert code == 0 and "cosigned by w1, w2 (quorum met)" in output, output
    log_only = (
        carried[: carried.index(b"\n\n") + 2] + parse_note(carried).signatures[0].line().encode()
    )
    stripped = _rezip(bundle, tmp_path / "stripped.zip", log_only)
    code, output = cli("verify", stripped, "--witnesses", two, *trust)
    assert code == 3 and "got 0 (none)" in output, output
    lines = carried.split(b"\n")
    w1_line = next(i for i, line in enumerate(lines) if line.startswith("— w1.".encode()))
    payload = bytearray(base64.b64decode(lines[w1_line].split(b" ")[2]))
    payload[20] ^= 1
    lines[w1_line] = b" ".join([*lines[w1_line].split(b" ")[:2], base64.b64encode(payload)])
    altered = _rezip(bundle, tmp_path / "altered.zip", b"\n".join(lines))
    code, output = cli("verify", altered, "--witnesses", two, *trust)
    assert code == 3 and "invalid cosignature by witness w1" in output, output


@pytest.mark.slow
def test_verify_report_names_the_checkpoint_and_each_cosignature(
    tmp_path: Path, witnesses: Witnesses
) -> None:
    path = new_ledger(tmp_path, "report", witnesses)
    append(path, witnesses)
    kept = tmp_path / "kept"
    kept.write_bytes((path / "checkpoint").read_bytes())
    append(path, witnesses)
    good = policy_file(tmp_path / "two.policy", 2, *both(witnesses))
    out = tmp_path / "vr.json"
    trust = ("--trusted-key", fingerprint(KEY.public_key()))
    code, output = cli(
        "verify", "--ledger", path, "--witnesses", good, *trust, "--since", kept, "--report", out
    )
    assert code == 0, output
    doc = json.loads(out.read_text())
    assert doc["result"] == "valid" and doc["verified"]["format_version"] == 2
    assert doc["checkpoint"]["size"] == 2 and doc["since"]["result"] == "passed"
    assert doc["witnesses"]["result"] == "passed" and doc["witnesses"]["policy"] == str(good)
    by_name = {item["witness"]: item for item in doc["cosignatures"]}
    assert set(by_name) == {"w1", "w2"}
    for name, witness in (("w1", witnesses.w1), ("w2", witnesses.w2)):
        assert by_name[name]["status"] == "valid"
        assert by_name[name]["key"] == witness.verifier_key
        assert abs(by_name[name]["timestamp"] - time.time()) < 600
    # Without a policy the cosignatures are listed, not counted.
    code, output = cli("verify", "--ledger", path, *trust, "--report", tmp_path / "plain.md")
    assert code == 0, output
    plain = (tmp_path / "plain.md").read_text()
    assert "w1.example/witness (key w1.example/witness+" in plain and "not checked" in plain
    # A published copy against a policy one witness short: exit 3, and the report says who.
    code, output = cli("publish", tmp_path / "site", "--ledger", path)
    assert code == 0, output
    stranger = note_verifier(
        "w3.example/witness", Ed25519PrivateKey.generate().public_key(), COSIGNATURE_V1
    )
    three = policy_file(
        tmp_path / "three.policy", 3, *both(witnesses), ("w3", stranger.verifier_key())
    )
    failed = tmp_path / "failed.json"
    code, output = cli(
        "verify", tmp_path / "site", "--witnesses", three, *trust, "--report", failed
    )
    assert code == 3 and "missing: w3" in output, output
    doc = json.loads(failed.read_text())
    assert doc["result"] == "invalid" and "missing: w3" in doc["error"]
    assert doc["verified"]["kind"] == "published log" and doc["checkpoint"]["size"] == 2
    statuses = {item["witness"]: item["status"] for item in doc["cosignatures"]}
    assert statuses == {"w1": "valid", "w2": "valid", "w3": "absent"}
    assert doc["witnesses"]["result"] == "failed"
    # A bundle's report lists the cosignatures its checkpoint carries.
    bundle = tmp_path / "audit.zip"
    code, output = cli("export", "-o", bundle, "--all", "--ledger", path)
    assert code == 0, output
    html = tmp_path / "bundle.html"
    code, output = cli("verify", bundle, "--witnesses", good, *trust, "--report", html)
    assert code == 0, output
    text = html.read_text()
    assert f"w1 (key {witnesses.w1.verifier_key}): valid" in text
    assert "quorum met" in text
    # Without a policy, the bundle's report lists the cosignatures as not checked.
    listed = tmp_path / "listed.json"
    code, output = cli("verify", bundle, *trust, "--report", listed)
    assert code == 0, output
    statuses = {
        item["witness"]: item["status"] for item in json.loads(listed.read_text())["cosignatures"]
    }
    assert statuses == {"w1.example/witness": "not checked", "w2.example/witness": "not checked"}
    rendered = render_in_chromium(html)
    assert rendered.heading == "Verification report: VALID"
    assert rendered.errors == [] and rendered.requests == [html.as_uri()]


def test_a_fork_with_the_same_key_is_refused_and_fails_verify(
    tmp_path: Path, witnesses: Witnesses
) -> None:
    honest = new_ledger(tmp_path, "fork", witnesses)
    append(honest, witnesses)
    append(honest, witnesses)
    forked = tmp_path / "forked"
    shutil.copytree(honest, forked)
    append(honest, witnesses)  # cosigned at size 3
    # The key holder rewrites history from size 2: another record 2, same key, same origin.
    # The stale copy (size 2) cannot take the witnesses back.
    code, output = cli("witness", "push", "--ledger", forked)
    assert code == 3 and output.count("has cosigned size 3, beyond this checkpoint's 2") == 2
    append(forked, witnesses, model="rewritten")
    note = (forked / "checkpoint").read_bytes()
    assert len(parse_note(note).signatures) == 1  # the log's signature only
    code, output = cli("witness", "push", "--ledger", forked)
    assert code == 3, output
    assert output.count("a fork of this log") == 2
    append(forked, witnesses, model="rewritten-again")  # size 4: a proof from 3 cannot exist
    code, output = cli("witness", "push", "--json", "--ledger", forked)
    assert code == 3
    assert output.count("HTTP 422") == 2, output
    policy = policy_file(tmp_path / "p", 1, *both(witnesses))
    code, output = cli("verify", "--ledger", forked, "--witnesses", policy, "--trust-ledger-keys")
    assert code == 3, output
    assert "got 0 (none)" in output
    code, output = cli("verify", "--ledger", honest, "--witnesses", policy, "--trust-ledger-keys")
    assert code == 0, output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_witness_that_is_down_never_blocks_an_append(
    tmp_path: Path, witnesses: Witnesses, capsys: pytest.CaptureFixture[str]
) -> None:
    path = new_ledger(tmp_path, "down", witnesses)
    late_dir, port = tmp_path / "late", _free_port()
    late_key = generate_key()
    late_dir.mkdir()
    (late_dir / "witness_key").write_bytes(private_key_to_openssh(late_key, None))
    late_vkey = note_verifier(
        "late.example/w", late_key.public_key(), COSIGNATURE_V1
    ).verifier_key()
    code, output = cli(
        "witness", "add", "late", f"http://127.0.0.1:{port}", late_vkey, "--ledger", path
    )
    assert code == 0, output
    started = time.monotonic()
    append(path, witnesses)
    append(path, witnesses)
    assert time.monotonic() - started < 10
    warnings = capsys.readouterr().err
    assert warnings.count("witness late did not cosign: unreachable") == 2
    assert "asked again at the next push" in warnings
    note = (path / "checkpoint").read_bytes()
    with_late = policy_file(tmp_path / "p", 3, *both(witnesses), ("late", late_vkey))
    code, output = cli("verify", "--ledger", path, "--witnesses", with_late, "--trust-ledger-keys")
    assert code == 3 and "missing: late" in output
    # The late witness comes up: the next push gets its cosignature (from size 0: it is new).
    late = start_witness(
        late_dir, [(origin_of("down"), note_key("down"))], name="late.example/w", port=port
    )
    try:
        code, output = cli("witness", "push", "--ledger", path)
        assert code == 0, output
        assert "late: cosigned (size 2)" in output
    finally:
        late.stop()
    code, output = cli("verify", "--ledger", path, "--witnesses", with_late, "--trust-ledger-keys")
    assert code == 0, output
    assert (path / "checkpoint").read_bytes().startswith(note[: note.index(b"\n\n")])


def test_the_append_workflow_asks_witnesses_without_the_lock_and_never_stores_stale_cosignatures(
    tmp_path: Path, witnesses: Witnesses, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the witnesses are asked about checkpoint 2, another process appends record 2 (it
    could not, were the lock held). The cosignatures of tree 2 then go nowhere: the newer
    checkpoint is left as its own append wrote it, and the next push gets it cosigned."""
    from bias_ledger.witness import client

    path = new_ledger(tmp_path, "busy", witnesses)
    append(path, witnesses)
    key_file = tmp_path / "key"
    write_private_key_file(key_file, KEY, None, comment="test")
    other = (
        "import json, pathlib, sys\n"
        "from bias_ledger.ledger import lock\n"
        "lock.LOCK_TIMEOUT_SECONDS = 5.0  # held: fail, do not wait two minutes\n"
        "from bias_ledger.ledger.keys import load_private_key_file\n"
        "from bias_ledger.ledger.record import RecordKind\n"
        "from bias_ledger.ledger.store import append_record\n"
        "key = load_private_key_file(pathlib.Path(sys.argv[2]), None)\n"
        "append_record(pathlib.Path(sys.argv[1]), RecordKind.GATE, {'note': 'other'}, key)\n"
    )
    asked = client.ask_witnesses
    newer: list[bytes] = []

    def ask_while_another_process_appends(*args: Any) -> Any:
        done = subprocess.run(
            [sys.executable, "-c", other, str(path), str(key_file)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        newer.append((path / "checkpoint").read_bytes())
        return asked(*args)

    monkeypatch.setattr(client, "ask_witnesses", ask_while_another_process_appends)
    append(path, witnesses)  # record 1: asks about tree 2 while record 2 is appended
    assert parse_note(newer[0]).text.split("\n")[1] == "3"
    assert (path / "checkpoint").read_bytes() == newer[0]  # no cosignature of tree 2 on it
    monkeypatch.setattr(client, "ask_witnesses", asked)
    code, output = cli("witness", "push", "--ledger", path)
    assert code == 0 and "cosigned (size 3)" in output, output
    policy = parse_witness_policy(policy_file(tmp_path / "p", 2, *both(witnesses)).read_text(), "p")
    assert check_witness_quorum((path / "checkpoint").read_bytes(), policy) == ["w1", "w2"]


def test_several_ledgers_push_at_once(tmp_path: Path, witnesses: Witnesses) -> None:
    paths = [new_ledger(tmp_path, f"many{i}", witnesses) for i in range(4)]

    def grow(path: Path) -> None:
        for _ in range(3):
            append(path, witnesses)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(grow, paths))
    policy = parse_witness_policy(policy_file(tmp_path / "p", 2, *both(witnesses)).read_text(), "p")
    for path in paths:
        note = (path / "checkpoint").read_bytes()
        assert check_witness_quorum(note, policy) == ["w1", "w2"]
        assert parse_note(note).text.split("\n")[1] == "3"


@pytest.mark.slow
def test_bias_ledger_audit_gets_its_checkpoint_cosigned(
    tmp_path: Path, witnesses: Witnesses
) -> None:
    """The whole path through real processes: audit appends, pushes, verify counts."""
    path = new_ledger(tmp_path, "cli", witnesses)
    key_path = tmp_path / "id_ed25519"
    write_private_key_file(key_path, KEY, None, comment="auditor")
    data = write_small_csv(tmp_path / "data.csv")
    env = {**os.environ, "BIAS_LEDGER_DIR": str(path), "BIAS_LEDGER_KEY": str(key_path)}
    for _ in range(2):
        audit = subprocess.run(
            [sys.executable, "-m", "bias_ledger", "audit", str(data), "--label", "label",
             "--prediction", "pred", "--sensitive", "group"],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert audit.returncode == 0, audit.stderr
        assert "did not cosign" not in audit.stderr
    policy = policy_file(tmp_path / "p", 2, *both(witnesses))
    verify = subprocess.run(
        [sys.executable, "-m", "bias_ledger", "verify", "--witnesses", str(policy),
         "--trust-ledger-keys"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "cosigned by w1, w2 (quorum met)" in verify.stdout
    assert "VALID: 2 records" in verify.stdout


def test_witness_commands_check_what_they_are_given(tmp_path: Path, witnesses: Witnesses) -> None:
    path = tmp_path / "cfg"
    init_ledger(path, name="cfg", format_version=2)
    log_key = note_key("alpha")
    code, output = cli("witness", "add", "x", witnesses.w1.url, log_key, "--ledger", path)
    assert code == 2 and "type 0x04" in output
    code, output = cli(
        "witness", "add", "x", "ftp://host", witnesses.w1.verifier_key, "--ledger", path
    )
    assert code == 2 and "expected http(s)" in output
    assert (
        cli("witness", "add", "x", witnesses.w1.url, witnesses.w1.verifier_key, "--ledger", path)[0]
        == 0
    )
    code, output = cli(
        "witness", "add", "y", witnesses.w2.url, witnesses.w1.verifier_key, "--ledger", path
    )
    assert code == 2 and "already witness x" in output
    code, output = cli("witness", "list", "--json", "--ledger", path)
    assert code == 0 and witnesses.w1.verifier_key in output
    assert cli("witness", "remove", "x", "--ledger", path)[0] == 0
    code, output = cli("witness", "remove", "x", "--ledger", path)
    assert code == 2 and "no witness named 'x'" in output
    old = tmp_path / "format1"
    init_ledger(old, name="old", format_version=1)
    code, output = cli("witness", "push", "--ledger", old)
    assert code == 2 and "a format-1 ledger" in output


def test_witness_push_recosigns_an_unchanged_checkpoint_for_a_max_age_policy(
    tmp_path: Path, witnesses: Witnesses
) -> None:
    """What a ``max_age`` policy needs of the log: pushing again, without appending, brings
    fresh cosignatures (real witness servers stamp them with their clock)."""
    import time

    from bias_ledger.ledger.note import cosignature_timestamp

    path = new_ledger(tmp_path, "fresh", witnesses)
    append(path, witnesses)

    def stamps() -> list[int]:
        note = parse_note((path / "checkpoint").read_bytes())
        return [cosignature_timestamp(line) for line in note.signatures[1:]]

    first = stamps()
    assert len(first) == 2
    time.sleep(1.1)
    code, output = cli("witness", "push", "--ledger", path)
    assert code == 0, output
    again = stamps()
    assert len(again) == 2 and all(new > old for new, old in zip(again, first, strict=True))
    policy = policy_file(tmp_path / "p", 2, *both(witnesses))
    policy.write_text(policy.read_text() + "max_age 1h\n")
    code, output = cli("verify", "--ledger", path, "--witnesses", policy, "--trust-ledger-keys")
    assert code == 0, output
    assert "each at most 3600 s old (max_age)" in " ".join(output.split()), output
