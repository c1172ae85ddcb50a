"""A private key's text given where a key's path is expected is refused, and never shown.

``--key "$(cat key)"``, ``BIAS_LEDGER_KEY="$(cat key)"``, ``--new-key "$(cat key)"``, the key as
``key revoke``'s or ``witness add``'s argument: exit code 2, one line on stderr naming what was
wrong, and no piece of the key's body on stdout or stderr, with ``--json`` and ``--debug`` too.
Real keys (``bias-ledger key generate``, ``ssh-keygen`` when present, PEM files written by
cryptography), the real CLI (in process, and a few runs of the real script).
"""

from __future__ import annotations

import base64
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from typer._click.exceptions import NoSuchOption
from typer.testing import CliRunner

from bias_ledger.cli.app import app, redact_secrets
from tests.ledger.helpers import cli_env, run_cli, write_small_csv
from tests.ledger_crypto.sshtools import needs_ssh_keygen, new_key

KEY = "{key}"
"""Stands for the key's text in a command line or an environment value below."""

AUDIT = ["--label", "label", "--prediction", "pred", "--sensitive", "group", "-q"]
WITNESS = "https://witness.example.org"


@dataclass(frozen=True)
class Keys:
    """A ledger with one audit record, the key that signed it and a second key, on disk."""

    root: Path
    signer: Path
    other: Path

    def env(self, **extra: str | None) -> dict[str, str | None]:
        """CliRunner's environment: nothing inherited that names a key, a private HOME."""
        return {
            "HOME": str(self.root / "home"),
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "BIAS_LEDGER_DIR": str(self.root / "ledger"),
            "BIAS_LEDGER_KEY": None,
            "BIAS_LEDGER_KEY_DATA": None,
            "BIAS_LEDGER_KEY_PASSPHRASE": None,
            "BIAS_LEDGER_DEBUG": None,
            "COLUMNS": "200",
            **extra,
        }


def _generate(keys_dir: Path, name: str) -> Path:
    path = keys_dir / name
    env = {"XDG_CONFIG_HOME": str(keys_dir / "config"), "BIAS_LEDGER_DIR": str(keys_dir / "ledger")}
    done = CliRunner().invoke(app, ["key", "generate", "-o", str(path)], env=env)
    assert done.exit_code == 0, done.stderr
    return path


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    root = tmp_path_factory.mktemp("key-text")
    made = Keys(root, _generate(root / "keys", "signer"), _generate(root / "keys", "other"))
    env = made.env(BIAS_LEDGER_KEY=str(made.signer))
    assert CliRunner().invoke(app, ["init"], env=env).exit_code == 0
    data = write_small_csv(root / "d.csv")
    done = CliRunner().invoke(app, ["audit", str(data), *AUDIT], env=env)
    assert done.exit_code == 0, done.stderr
    return made


@dataclass(frozen=True)
class Case:
    """A command given a key's text: its words, the rest of its command line and environment
    (:data:`KEY` for the text, ``signer``/``other`` for the key files), and what the error
    line names."""

    words: tuple[str, ...]
    rest: tuple[str, ...]
    names: str
    env: tuple[tuple[str, str], ...] = ()
    json: bool = True

    def args(self, keys: Keys, text: str, flags: list[str]) -> list[str]:
        """The command line: the flags right after the words (before any ``--``)."""
        rest = [_fill(arg, keys, text) for arg in self.rest]
        return [*self.words, *flags, *rest]

    def environment(self, keys: Keys, text: str) -> dict[str, str | None]:
        return keys.env(**{name: _fill(value, keys, text) for name, value in self.env})


def _fill(value: str, keys: Keys, text: str) -> str:
    files = {"signer": str(keys.signer), "other": str(keys.other)}
    return files.get(value, value.replace(KEY, text))


CASES = {
    "approve --key": Case(("approve",), ("0", "--key", KEY), "--key"),
    "approve BIAS_LEDGER_KEY": Case(
        ("approve",), ("0",), "$BIAS_LEDGER_KEY", env=(("BIAS_LEDGER_KEY", KEY),)
    ),
    "key show --key": Case(("key", "show"), ("--key", KEY), "--key"),
    "key show --key=": Case(("key", "show"), (f"--key={KEY}",), "--key"),
    "key show BIAS_LEDGER_KEY": Case(
        ("key", "show"), (), "$BIAS_LEDGER_KEY", env=(("BIAS_LEDGER_KEY", KEY),)
    ),
    "key rotate --new-key": Case(
        ("key", "rotate"), ("--key", "signer", "--new-key", KEY), "--new-key"
    ),
    "key rotate --key": Case(("key", "rotate"), ("--key", KEY, "--new-key", "other"), "--key"),
    "key rotate BIAS_LEDGER_KEY": Case(
        ("key", "rotate"),
        ("--new-key", "other"),
        "$BIAS_LEDGER_KEY",
        env=(("BIAS_LEDGER_KEY", KEY),),
    ),
    "key revoke REVOKED": Case(
        ("key", "revoke"),
        (KEY, "--after", "0"),
        "an argument",
        env=(("BIAS_LEDGER_KEY", "signer"),),
    ),
    "key revoke -- REVOKED": Case(
        ("key", "revoke"),
        ("--after", "0", "--", KEY),
        "an argument",
        env=(("BIAS_LEDGER_KEY", "signer"),),
    ),
    "key revoke --key": Case(("key", "revoke"), ("other", "--after", "0", "--key", KEY), "--key"),
    "key revoke BIAS_LEDGER_KEY": Case(
        ("key", "revoke"),
        ("other", "--after", "0"),
        "$BIAS_LEDGER_KEY",
        env=(("BIAS_LEDGER_KEY", KEY),),
    ),
    "witness key --key": Case(("witness", "key"), ("--key", KEY), "--key", json=False),
    "witness add VERIFIER_KEY": Case(
        ("witness", "add"), ("w", WITNESS, KEY), "an argument", json=False
    ),
    "witness add -- VERIFIER_KEY": Case(
        ("witness", "add"), ("--", "w", WITNESS, KEY), "an argument", json=False
    ),
}

FLAGS = {"plain": [], "json": ["--json"], "debug": ["--debug"], "json-debug": ["--json", "--debug"]}


def _body(text: str) -> list[str]:
    """The lines of a key's text that are secret: all but its armour and blank lines."""
    return [line.strip() for line in text.splitlines() if line.strip() and "-----" not in line]


def _leaks(text: str, output: str) -> list[str]:
    """Each body line of ``text``, and each 12 characters of one, that ``output`` shows."""
    lines = _body(text)
    pieces = {line[i : i + 12] for line in lines for i in range(max(len(line) - 11, 1))}
    return sorted(piece for piece in {*lines, *pieces} if piece in output)


def _check_refused(case: Case, text: str, flags: list[str], stdout: str, stderr: str) -> None:
    assert _leaks(text, stdout + stderr) == [], stderr
    assert stdout == ""
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f"bias-ledger: error: {case.names}: the value "), last
    assert "the text of a" in last and "not shown" in last, last
    if "--debug" not in flags:
        assert stderr.count("\n") == 1, stderr  # one line, no traceback


def _run(keys: Keys, case: Case, text: str, flags: list[str]) -> None:
    done = CliRunner().invoke(app, case.args(keys, text, flags), env=case.environment(keys, text))
    assert done.exit_code == 2, (done.exit_code, done.stderr)
    _check_refused(case, text, flags, done.stdout, done.stderr)


RUNS = [
    pytest.param(case, flags, id=f"{name}-{how}")
    for name, case in CASES.items()
    for how, flags in FLAGS.items()
    if case.json or "--json" not in flags
]
"""Every case with every flag it takes."""


@pytest.mark.parametrize(("case", "flags"), RUNS)
def test_an_openssh_key_text_is_refused_and_never_echoed(
    keys: Keys, case: Case, flags: list[str]
) -> None:
    _run(keys, case, keys.signer.read_text(), flags)


def _pem_keys() -> dict[str, str]:
    """Private keys in the PEM formats a user may have, as cryptography writes them."""
    pkcs8 = serialization.PrivateFormat.PKCS8
    traditional = serialization.PrivateFormat.TraditionalOpenSSL
    plain = serialization.NoEncryption()
    pem = serialization.Encoding.PEM
    encrypted = serialization.BestAvailableEncryption(b"a passphrase")
    ed = ed25519.Ed25519PrivateKey.generate()
    written = {
        "PKCS#8 Ed25519": ed.private_bytes(pem, pkcs8, plain),
        "encrypted PKCS#8": ed.private_bytes(pem, pkcs8, encrypted),
        "EC": ec.generate_private_key(ec.SECP256R1()).private_bytes(pem, traditional, plain),
        "RSA": rsa.generate_private_key(65537, 2048).private_bytes(pem, traditional, plain),
    }
    return {what: data.decode() for what, data in written.items()}


def test_pem_key_texts_are_refused_and_never_echoed(keys: Keys) -> None:
    for what, text in _pem_keys().items():
        assert text.startswith("-----BEGIN ") and "PRIVATE KEY-----" in text, what
        for case in CASES.values():
            _run(keys, case, text, ["--debug"])


def _one_line_texts(keys: Keys) -> dict[str, str]:
    """A key's text on one line: the body line holding its private half, the whole file in
    base64 (as CI secrets are often stored), the file with its newlines turned to spaces."""
    text = keys.signer.read_text()
    return {
        "body line": text.splitlines()[4],
        "file in base64": base64.b64encode(text.encode()).decode(),
        "newlines as spaces": " ".join(text.splitlines()),
    }


PATH_CASES = {
    name: case
    for name, case in CASES.items()
    if case.names != "an argument" or name == "key revoke -- REVOKED"
}
"""Where a path is expected: a signing key's, or REVOKED's .pub file (witness add expects a
verifier key, public text that its message names)."""


@pytest.mark.parametrize("case", PATH_CASES.values(), ids=PATH_CASES.keys())
def test_a_key_text_on_one_line_is_refused_and_never_echoed(keys: Keys, case: Case) -> None:
    for what, text in _one_line_texts(keys).items():
        names = "REVOKED" if case.names == "an argument" else case.names
        if what == "newlines as spaces":  # the armour is on the command line: refused there
            names = case.names
        body = Case(case.words, case.rest, names, case.env, case.json)
        done = CliRunner().invoke(
            app, body.args(keys, text, ["--debug"]), env=body.environment(keys, text)
        )
        assert done.exit_code == 2, (what, done.stderr)
        assert _leaks(text, done.stdout + done.stderr) == [], (what, done.stderr)
        assert _leaks(keys.signer.read_text(), done.stdout + done.stderr) == [], what
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith(f"bias-ledger: error: {names}: the value "), (what, last)


@needs_ssh_keygen
def test_an_ssh_keygen_key_text_is_refused_and_never_echoed(keys: Keys) -> None:
    text = new_key(keys.root / "ssh-keygen").read_text()
    for case in CASES.values():
        _run(keys, case, text, [])


def _script_env(keys: Keys, case: Case, text: str) -> dict[str, str]:
    env = cli_env(keys.root, BIAS_LEDGER_DIR=str(keys.root / "ledger"))
    env["HOME"] = str(keys.root / "home")
    return {**env, **{name: _fill(value, keys, text) for name, value in case.env}}


@pytest.mark.parametrize(
    "name", ["approve --key", "key show BIAS_LEDGER_KEY", "key revoke REVOKED"]
)
def test_the_real_script_never_echoes_a_key_text(keys: Keys, name: str) -> None:
    case = CASES[name]
    text = keys.signer.read_text()
    for flags in ([], ["--json", "--debug"]):
        done = run_cli(*case.args(keys, text, flags), env=_script_env(keys, case, text))
        assert done.returncode == 2, done.stderr
        _check_refused(case, text, flags, done.stdout, done.stderr)


def test_an_existing_key_file_is_read_whatever_its_name(keys: Keys) -> None:
    """A file that exists is a key file, even named like base64: only a value that names no
    file is judged as text."""
    from bias_ledger.ledger.key_text import looks_like_key_text

    named = keys.root / "keys" / "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MEFCQ0RFRg"
    named.write_bytes(keys.signer.read_bytes())
    named.chmod(0o600)
    assert looks_like_key_text(named.name)
    done = CliRunner().invoke(app, ["key", "show", "--key", str(named)], env=keys.env())
    assert done.exit_code == 0, done.stderr


@pytest.mark.parametrize(
    "path",
    [
        "/home/runner/work/project/project/keys/signing_key",
        "/home/runner/work/myrepo/myrepo/secrets/signingkey",
        "~/.ssh/id_ed25519",
        "keys/SigningKey.2024",
        "C:\\Users\\me\\.ssh\\id_ed25519",
        "id_ed25519",
    ],
)
def test_a_path_is_not_key_text(path: str) -> None:
    from bias_ledger.ledger.key_text import looks_like_key_text

    assert not looks_like_key_text(path)


def test_the_net_blanks_any_private_key_block(keys: Keys) -> None:
    """However the text reaches a message: as it is, in a repr, or as click's unknown option."""
    from bias_ledger.ledger.key_text import REDACTED_KEY, redact_private_keys

    text = keys.signer.read_text()
    public = (keys.signer.parent / "signer.pub").read_text().strip()
    shown = {
        "as it is": f"error: {text}: cannot read",
        "repr": f"error: {text!r}: cannot read",
        "click's unknown option": NoSuchOption(text).format_message(),
        "cut short": f"got {text[: len(text) // 2]!r} and more",
    }
    for what, message in shown.items():
        redacted = redact_secrets(message)
        assert REDACTED_KEY in redacted, what
        assert _leaks(text, redacted) == [], (what, redacted)
    assert redact_private_keys(f"{public} SHA256:abc") == f"{public} SHA256:abc"
    assert redact_secrets(f"a {text.strip()} b") == f"a {REDACTED_KEY} b"


def test_armour_lines_without_key_material_are_not_redacted(tmp_path: Path) -> None:
    """A message naming the expected format quotes the armour lines, not a key: it stays."""
    from bias_ledger.ledger.key_text import REDACTED_KEY, redact_private_keys

    named = (
        "expected an OpenSSH private key from -----BEGIN OPENSSH PRIVATE KEY----- to "
        "-----END OPENSSH PRIVATE KEY-----, found 7 bytes"
    )
    assert redact_private_keys(named) == named
    body = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
    key = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----"
    assert redact_private_keys(f"x {key} y") == f"x {REDACTED_KEY} y"
    garbage = tmp_path / "notakey"
    garbage.write_text("garbage\n")
    garbage.chmod(0o600)
    done = subprocess.run(
        [sys.executable, "-m", "bias_ledger", "key", "show", "--key", str(garbage)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and named.split(", found")[0] in done.stderr, done.stderr


def test_a_base64_encoded_key_given_to_any_option_is_never_echoed(tmp_path: Path) -> None:
    """``"$(base64 -w0 key)"`` (or a body line of the key) given where a file is expected: the
    option's error names the value, which is key material, so it is blanked out."""
    from bias_ledger.ledger.key_text import REDACTED_KEY, redact_private_keys

    key = tmp_path / "key"
    generated = subprocess.run(
        [sys.executable, "-m", "bias_ledger", "key", "generate", "-o", str(key)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    armored = key.read_text()
    encoded = base64.b64encode(armored.encode()).decode()
    body = armored.splitlines()[1]
    for value, args in (
        (encoded, ["gate", "--policy", encoded, "--record", "0"]),
        (encoded, ["verify", "--trusted-keys", encoded]),
        (body, ["gate", "--policy", body, "--record", "0"]),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "bias_ledger", *args, "--ledger", str(tmp_path / "none")],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
        )
        assert done.returncode == 2, done.stderr
        said = done.stdout + done.stderr
        assert REDACTED_KEY in said, said
        assert not any(value[i : i + 12] in said for i in range(0, len(value) - 12, 6)), said
    # Public keys and fingerprints are not key material: shown as they are.
    public = (tmp_path / "key.pub").read_text().strip()
    assert redact_private_keys(f"key {public} is not trusted") == f"key {public} is not trusted"
