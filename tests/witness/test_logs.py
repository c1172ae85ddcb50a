"""The witness's --logs file, and how 'witness serve' and 'witness key' treat their inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from bias_ledger.cli.app import app
from bias_ledger.errors import ConfigError
from bias_ledger.ledger.keys import write_private_key_file
from bias_ledger.ledger.note import COSIGNATURE_V1, note_verifier, parse_verifier_key
from bias_ledger.witness.logs import parse_logs

# Fixed keys: parametrize ids contain them, and pytest-xdist needs the same ids in each worker.
LOG = Ed25519PrivateKey.from_private_bytes(bytes([7]) * 32)
VKEY = note_verifier("example.com/log", LOG.public_key()).verifier_key()
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes([8]) * 32)
OTHER = note_verifier("example.com/log", OTHER_KEY.public_key()).verifier_key()


def test_logs_with_several_keys() -> None:
    text = (
        f'[[log]]\norigin = "example.com/log"\nverifier_keys = ["{VKEY}", "{OTHER}"]\n'
        f'[[log]]\norigin = "other.example/x"\nverifier_keys = ["{VKEY}"]\n'
    )
    logs = parse_logs(text, "logs.toml")
    assert [v.verifier_key() for v in logs["example.com/log"]] == [VKEY, OTHER]
    assert set(logs) == {"example.com/log", "other.example/x"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "one or more \\[\\[log\\]\\] tables"),
        ("[[log]]\norigin = 'o'\n", "exactly the keys"),
        (f"[[log]]\norigin = ''\nverifier_keys = ['{VKEY}']\n", "non-empty string"),
        ("[[log]]\norigin = 'o'\nverifier_keys = []\n", "non-empty list"),
        ("[[log]]\norigin = 'o'\nverifier_keys = ['nope']\n", "8 hex digits"),
        (f"[[log]]\norigin = 'o'\nverifier_keys = ['{VKEY}']\n" * 2, "listed twice"),
        (f"name = 'x'\n[[log]]\norigin = 'o'\nverifier_keys = ['{VKEY}']\n", "nothing else"),
        ("[[log]\n", "not valid TOML"),
        (
            "[[log]]\norigin = 'o'\nverifier_keys = ['"
            + note_verifier("w", LOG.public_key(), COSIGNATURE_V1).verifier_key()
            + "']\n",
            "type 0x01",
        ),
    ],
)
def test_malformed_logs_files(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_logs(text, "logs.toml")


def test_serve_and_key_report_bad_inputs_with_exit_2(tmp_path: Path) -> None:
    key = tmp_path / "witness_key"
    witness_key = Ed25519PrivateKey.generate()
    write_private_key_file(key, witness_key, None)
    (tmp_path / "logs.toml").write_text("[[log]]\n")
    runner = CliRunner()
    served = runner.invoke(
        app, ["witness", "serve", "--key", str(key), "--logs", str(tmp_path / "logs.toml")]
    )
    assert served.exit_code == 2 and "logs.toml" in served.output
    listen = runner.invoke(
        app,
        ["witness", "serve", "--key", str(key), "--logs", str(tmp_path / "x"), "--listen", "nope"],
    )
    assert listen.exit_code == 2 and "expected HOST:PORT" in listen.output
    shown = runner.invoke(app, ["witness", "key", "--key", str(key), "--name", "w.example/1"])
    assert shown.exit_code == 0
    verifier = parse_verifier_key(shown.output.strip())
    assert verifier == note_verifier("w.example/1", witness_key.public_key(), COSIGNATURE_V1)
    default = runner.invoke(app, ["witness", "key", "--key", str(key)])
    assert default.output.startswith("witness/")
