"""No error ever quotes key material, with or without --debug; exposed key files are warned of.

Real keys (written by ``bias-ledger key generate`` and by ``ssh-keygen`` when present), real
processes: the leak is judged on the bytes the user would see on stderr.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bias_ledger.cli.app import app
from tests.ledger.helpers import cli_env, new_signer, run_cli, write_small_csv
from tests.ledger_crypto.sshtools import needs_ssh_keygen, new_key

AUDIT = ["--label", "label", "--prediction", "pred", "--sensitive", "group", "-q"]


def _pieces(secret: str, size: int = 8) -> set[str]:
    """Every run of ``size`` base64 characters of the secret's body (its armour is public)."""
    body = "".join(line for line in secret.splitlines() if "-----" not in line)
    runs = re.findall(r"[A-Za-z0-9+/=]+", body)
    return {run[i : i + size] for run in runs for i in range(len(run) - size + 1)}


def _leaks(secret: str, text: str) -> list[str]:
    return sorted(piece for piece in _pieces(secret) if piece in text)


def _bad_key_data(tmp_path: Path) -> dict[str, str]:
    """What a user might put into BIAS_LEDGER_KEY_DATA that is not a whole OpenSSH key."""
    key = new_signer(tmp_path / "real").path.read_text()
    return {
        "base64 seed": base64.b64encode(os.urandom(32)).decode(),
        "base64 seed and public key": base64.b64encode(os.urandom(64)).decode(),
        "hex seed": os.urandom(32).hex(),
        "truncated key": key[: len(key) // 2],
        "key without its header": "\n".join(key.splitlines()[1:]),
        "key with a broken body": key.replace(key.splitlines()[2], key.splitlines()[2][::-1]),
    }


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_bad_key_data_is_never_echoed(tmp_path: Path, debug: bool) -> None:
    """In process (many cases, fast); the subprocess test below runs the real script."""
    data = write_small_csv(tmp_path / "d.csv")
    env = _isolated(tmp_path)
    assert CliRunner().invoke(app, ["init"], env=env).exit_code == 0
    flags = ["--debug"] if debug else []
    for what, secret in _bad_key_data(tmp_path).items():
        for command in (["key", "show"], ["audit", str(data), *AUDIT]):
            done = CliRunner().invoke(
                app, [*command, *flags], env={**env, "BIAS_LEDGER_KEY_DATA": secret}
            )
            assert done.exit_code == 2, (what, command, done.stderr)
            last = done.stderr.strip().splitlines()[-1]
            assert last.startswith("bias-ledger: error: $BIAS_LEDGER_KEY_DATA"), (what, last)
            assert _leaks(secret, done.stdout + done.stderr) == [], (what, command)
            assert ("Traceback" in done.stderr) is debug


def test_a_base64_seed_is_not_echoed_by_the_real_command(tmp_path: Path) -> None:
    seed = base64.b64encode(os.urandom(32)).decode()
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "ledger"), BIAS_LEDGER_KEY_DATA=seed)
    assert run_cli("init", env=env).returncode == 0
    data = write_small_csv(tmp_path / "d.csv")
    for flags in ([], ["--debug"]):
        done = run_cli("audit", data, *AUDIT, *flags, env=env)
        assert done.returncode == 2
        assert "base64 of 32 raw bytes (expected the whole OpenSSH key file)" in done.stderr
        assert _leaks(seed, done.stdout + done.stderr) == []


def _isolated(tmp_path: Path) -> dict[str, str | None]:
    return {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "BIAS_LEDGER_KEY": None,
        "BIAS_LEDGER_KEY_DATA": None,
        "BIAS_LEDGER_KEY_PASSPHRASE": None,
        "BIAS_LEDGER_DIR": str(tmp_path / "ledger"),
        "BIAS_LEDGER_DEBUG": None,
    }


def test_a_passphrase_is_never_echoed(tmp_path: Path) -> None:
    """A wrong passphrase for an encrypted key: the message says so, and never shows it."""
    key = tmp_path / "enc"
    passphrase = "correct-horse-battery-staple"
    env = cli_env(tmp_path, BIAS_LEDGER_KEY_PASSPHRASE=passphrase)
    assert run_cli("key", "generate", "--passphrase", "-o", key, env=env).returncode == 0
    wrong = "Tr0ub4dor&3-wrong-passphrase"
    for flags in ([], ["--debug"]):
        done = run_cli(
            "key", "show", "--key", key, *flags, env={**env, "BIAS_LEDGER_KEY_PASSPHRASE": wrong}
        )
        assert done.returncode == 2, done.stderr
        assert "wrong passphrase" in done.stderr
        assert wrong not in done.stderr and "Tr0ub4dor" not in done.stderr


def test_redaction_net_blanks_pieces_of_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from bias_ledger.cli.app import redact_secrets

    seed = base64.b64encode(bytes(range(32))).decode()
    monkeypatch.setenv("BIAS_LEDGER_KEY_DATA", seed)
    message = f"found {seed[:40]!r}, x{seed[20:30]}y in SHA256:abc and -----BEGIN OPENSSH"
    assert (
        redact_secrets(message)
        == "found '[redacted]', [redacted] in SHA256:abc and -----BEGIN OPENSSH"
    )
    monkeypatch.setenv("BIAS_LEDGER_KEY_PASSPHRASE", "a passphrase")
    assert redact_secrets("wrong passphrase: a passphrase") == "wrong passphrase: [redacted]"


@pytest.mark.parametrize(("mode", "warned"), [(0o600, False), (0o640, True), (0o644, True)])
def test_a_key_readable_by_others_is_warned_of(tmp_path: Path, mode: int, warned: bool) -> None:
    signer = new_signer(tmp_path / "key")
    signer.path.chmod(mode)
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "ledger"))
    assert run_cli("init", env=env).returncode == 0
    data = write_small_csv(tmp_path / "d.csv")
    commands: list[list[str | Path]] = [
        ["key", "show", "--key", signer.path],
        ["audit", data, *AUDIT],
    ]
    for command in commands:
        done = run_cli(*command, env={**env, "BIAS_LEDGER_KEY": str(signer.path)})
        assert done.returncode == 0, done.stderr
        expected = f"the private key is accessible by others (mode {mode:04o})"
        assert (expected in done.stderr) is warned, done.stderr
        assert (f"chmod 600 {signer.path}" in done.stderr) is warned


@needs_ssh_keygen
def test_an_ssh_keygen_key_readable_by_others_is_warned_of(tmp_path: Path) -> None:
    path = new_key(tmp_path / "id_ed25519")
    path.chmod(0o604)
    done = run_cli("key", "show", "--key", path, env=cli_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "accessible by others (mode 0604)" in done.stderr
