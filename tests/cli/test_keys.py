"""``bias-ledger key`` and where the signing key comes from: --key, env path, env data, defaults."""

from __future__ import annotations

import base64
import json
import stat
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from bias_ledger.cli.app import app
from bias_ledger.ledger.record import signer_fingerprint
from tests.ledger.helpers import (
    cli_env,
    new_signer,
    read_lines,
    record_of,
    run_cli,
    write_small_csv,
)
from tests.ledger_crypto.sshtools import keygen_fingerprint, needs_ssh_keygen, new_key

AUDIT_ARGS = ["--label", "label", "--prediction", "pred", "--sensitive", "group", "-q"]


def _isolated(tmp_path: Path, **extra: str | None) -> dict[str, str | None]:
    """CliRunner env: no inherited key, a private HOME and config directory."""
    base: dict[str, str | None] = {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "BIAS_LEDGER_KEY": None,
        "BIAS_LEDGER_KEY_DATA": None,
        "BIAS_LEDGER_KEY_PASSPHRASE": None,
        "BIAS_LEDGER_DIR": str(tmp_path / "ledger"),
    }
    base.update(extra)
    return base


def _key_show(tmp_path: Path, *args: str, **env: str | None) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["key", "show", "--json", *args], env=_isolated(tmp_path, **env)
    )
    if result.exit_code:
        return result.exit_code, result.stderr
    return 0, json.loads(result.stdout)["fingerprint"]


def test_key_generate_writes_0600_and_prints_the_ssh_keygen_fingerprint(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    done = run_cli("key", "generate", "-o", tmp_path / "keys" / "id", env=env)
    assert done.returncode == 0, done.stderr
    key = tmp_path / "keys" / "id"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    public = (tmp_path / "keys" / "id.pub").read_text()
    assert public.startswith("ssh-ed25519 ") and public.split()[1] in done.stdout
    printed = done.stdout.split("fingerprint: ")[1].split()[0]
    assert printed.startswith("SHA256:") and len(printed) == 50
    again = run_cli("key", "generate", "-o", key, env=env)
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr
    shown = run_cli("key", "generate", "-o", key, "--exist-ok", "--json", env=env)
    assert json.loads(shown.stdout)["fingerprint"] == printed


@needs_ssh_keygen
def test_key_generate_fingerprint_is_what_ssh_keygen_prints(tmp_path: Path) -> None:
    done = run_cli("key", "generate", "-o", tmp_path / "id", "--json", env=cli_env(tmp_path))
    document = json.loads(done.stdout)
    assert keygen_fingerprint(tmp_path / "id") == document["fingerprint"]
    assert (tmp_path / "id.pub").read_text().split()[:2] == document["public_key"].split()[:2]


def test_key_default_path_and_never_inside_the_ledger(tmp_path: Path) -> None:
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "ledger"))
    assert run_cli("init", env=env).returncode == 0
    inside = run_cli("key", "generate", "-o", tmp_path / "ledger" / "keys" / "id", env=env)
    assert inside.returncode == 2
    assert "a signing key must never be stored inside the ledger" in inside.stderr
    done = run_cli("key", "generate", "--json", env=env)
    document = json.loads(done.stdout)
    assert document["path"] == str(tmp_path / "config" / "bias-ledger" / "id_ed25519")
    data = write_small_csv(tmp_path / "data.csv")
    assert run_cli("audit", data, *AUDIT_ARGS, env=env).returncode == 0
    private = Path(document["path"]).read_bytes()
    for path in (p for p in (tmp_path / "ledger").rglob("*") if p.is_file()):
        content = path.read_bytes()
        assert b"PRIVATE KEY" not in content and private not in content, path
    assert (
        signer_fingerprint(record_of(read_lines(tmp_path / "ledger")[0]))
        == (document["fingerprint"])
    )


def test_key_from_option_env_path_and_env_data(tmp_path: Path) -> None:
    first = new_signer(tmp_path / "first")
    second = new_signer(tmp_path / "second")
    data = first.path.read_text()
    assert _key_show(tmp_path, BIAS_LEDGER_KEY=str(first.path)) == (0, first.fingerprint)
    assert _key_show(tmp_path, BIAS_LEDGER_KEY_DATA=data) == (0, first.fingerprint)
    # --key wins over the environment, and the path variable over the data variable.
    assert _key_show(tmp_path, "--key", str(second.path), BIAS_LEDGER_KEY=str(first.path)) == (
        0,
        second.fingerprint,
    )
    assert _key_show(tmp_path, BIAS_LEDGER_KEY=str(second.path), BIAS_LEDGER_KEY_DATA=data) == (
        0,
        second.fingerprint,
    )
    code, message = _key_show(tmp_path)
    assert code == 2 and "no signing key" in message and "key generate" in message
    code, message = _key_show(tmp_path, BIAS_LEDGER_KEY_DATA="not a key")
    assert code == 2 and message.startswith("bias-ledger: error: $BIAS_LEDGER_KEY_DATA")


def test_encrypted_key_with_passphrase_from_the_environment(tmp_path: Path) -> None:
    env = cli_env(tmp_path, BIAS_LEDGER_KEY_PASSPHRASE="correct horse")
    key = tmp_path / "enc"
    done = run_cli("key", "generate", "-o", key, "--passphrase", "--json", env=env)
    assert done.returncode == 0, done.stderr
    fingerprint = json.loads(done.stdout)["fingerprint"]
    assert b"bcrypt" in base64.b64decode("".join(key.read_text().splitlines()[1:-1]))
    ok = {"BIAS_LEDGER_KEY": str(key), "BIAS_LEDGER_KEY_PASSPHRASE": "correct horse"}
    assert _key_show(tmp_path, **ok) == (0, fingerprint)
    code, message = _key_show(tmp_path, BIAS_LEDGER_KEY=str(key), BIAS_LEDGER_KEY_PASSPHRASE="no")
    assert code == 2 and message.count("\n") == 1 and str(key) in message
    # The key data variable with an encrypted key and its passphrase signs a real record.
    ledger = tmp_path / "ledger"
    signing = cli_env(
        tmp_path,
        BIAS_LEDGER_DIR=str(ledger),
        BIAS_LEDGER_KEY_DATA=key.read_text(),
        BIAS_LEDGER_KEY_PASSPHRASE="correct horse",
    )
    assert run_cli("init", env=signing).returncode == 0
    data = write_small_csv(tmp_path / "data.csv")
    done = run_cli("audit", data, *AUDIT_ARGS, env=signing)
    assert done.returncode == 0, done.stderr
    assert signer_fingerprint(record_of(read_lines(ledger)[0])) == fingerprint


@needs_ssh_keygen
def test_an_existing_ssh_key_works_as_it_is(tmp_path: Path) -> None:
    ssh_dir = tmp_path / "home" / ".ssh"
    ssh_dir.mkdir(parents=True)
    key = new_key(ssh_dir / "id_ed25519")
    assert _key_show(tmp_path) == (0, keygen_fingerprint(key))


def test_key_rotate(tmp_path: Path) -> None:
    old = new_signer(tmp_path / "old")
    new = new_signer(tmp_path / "new")
    env = _isolated(tmp_path, BIAS_LEDGER_KEY=str(old.path))
    runner = CliRunner()
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    result = runner.invoke(app, ["key", "rotate", "--new-key", str(new.path), "--json"], env=env)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["new_fingerprint"] == new.fingerprint
    same = runner.invoke(app, ["key", "rotate", "--new-key", str(old.path)], env=env)
    assert same.exit_code == 2 and "the new key is the current key" in same.stderr
    verified = runner.invoke(app, ["verify", "--trusted-key", old.fingerprint, "--json"], env=env)
    assert verified.exit_code == 0, verified.stdout


def test_encrypted_key_without_passphrase_or_terminal_is_exit_2(tmp_path: Path) -> None:
    key = tmp_path / "enc"
    env = cli_env(tmp_path, BIAS_LEDGER_KEY_PASSPHRASE="secret")
    assert run_cli("key", "generate", "-o", key, "--passphrase", env=env).returncode == 0
    # A new session has no controlling terminal, and stdin is empty: nothing to ask.
    done = subprocess.run(
        [sys.executable, "-m", "bias_ledger", "key", "show", "--key", str(key)],
        env=cli_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        start_new_session=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert (
        "no passphrase could be read" in done.stderr and "BIAS_LEDGER_KEY_PASSPHRASE" in done.stderr
    )
    assert "Aborted" not in done.stderr and "Traceback" not in done.stderr
