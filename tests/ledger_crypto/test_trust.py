"""allowed_signers parsing: what is trusted, what is skipped and why, and errors by line."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bias_ledger.errors import KeyFileError, VerificationError
from bias_ledger.ledger.keys import fingerprint, generate_key, public_key_openssh
from bias_ledger.ledger.trust import TrustedKeys, load_allowed_signers, parse_allowed_signers

from .sshtools import needs_ssh_keygen, new_key, ssh_keygen


def _line(principals: str, options: str = "") -> tuple[str, str]:
    key = generate_key()
    prefix = f"{principals} {options} " if options else f"{principals} "
    return prefix + public_key_openssh(key.public_key(), "a comment"), fingerprint(key.public_key())


def test_lines_are_trusted_or_skipped_with_a_note() -> None:
    plain, fp_plain = _line("alice@example.org,bob@*")
    scoped, fp_scoped = _line("ci@example.org", 'namespaces="file,bias-ledger"')
    wildcard, fp_wild = _line('"carol@example.org"', 'namespaces="b*-ledger"')
    git_only, fp_git = _line("dave@example.org", 'namespaces="git"')
    negated, fp_negated = _line("erin@example.org", 'namespaces="!bias-ledger,*"')
    ca, _ = _line("*@example.org", "cert-authority")
    text = "\n".join(
        [
            "# trusted auditors",
            "",
            plain,
            scoped,
            wildcard,
            git_only,
            negated,
            ca,
            "frank@example.org ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ== rsa",
            plain.replace("alice", "again"),
        ]
    )
    trusted = parse_allowed_signers(text, source="signers")
    assert set(trusted.keys) == {fp_plain, fp_scoped, fp_wild}
    assert trusted.keys[fp_plain].principals == "alice@example.org,bob@*"
    assert trusted.keys[fp_plain].origin == "signers:3"
    assert trusted.keys[fp_wild].principals == "carol@example.org"
    assert fp_git not in trusted and fp_negated not in trusted
    assert trusted.notes == (
        f"signers:6: key {fp_git} is restricted to namespaces 'git', line ignored",
        f"signers:7: key {fp_negated} is restricted to namespaces '!bias-ledger,*', line ignored",
        "signers:8: cert-authority keys are not supported, line ignored",
        "signers:9: ssh-rsa key ignored, bias-ledger signatures are ssh-ed25519",
        f"signers:10: key {fp_plain} already listed at signers:3, ignored",
    )


def test_validity_interval_is_honoured() -> None:
    line, fp = _line("a@x", 'valid-after="20240101",valid-before="202501011200Z"')
    trusted = parse_allowed_signers(line, source="s")
    entry = trusted.keys[fp]
    assert entry.valid_before == datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert entry.valid_at(datetime(2024, 6, 1, tzinfo=UTC))
    assert not entry.valid_at(datetime(2025, 1, 1, 12, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("alice@x ssh-ed25519", "^f:2: expected 'principals \\[options\\] keytype"),
        ("alice@x ssh-ed25519 ####", "^f:2: the key is not valid base64"),
        ("alice@x ssh-ed25519 AAAA\u00e9", "^f:2: the key is not valid base64"),
        ('alice@x nosuch="1" ssh-ed25519 AAAA', "^f:2: expected an option among cert-authority"),
        ('alice@x namespaces="git ssh-ed25519 AAAA', "^f:2: expected a closing double quote"),
        ('alice@x valid-after="2024" KEY', "^f:2: expected a time YYYYMMDD"),
        ("alice@x ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==", "^f:2: malformed ssh-ed25519 public"),
    ],
)
def test_malformed_lines_are_named(line: str, message: str) -> None:
    good, _ = _line("ok@x")
    with pytest.raises(KeyFileError, match=message):
        key = public_key_openssh(generate_key().public_key())
        parse_allowed_signers(f"{good}\n{line.replace('KEY', key)}\n", source="f")


def test_a_file_trusting_nothing_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "allowed_signers"
    line, _ = _line("a@x", 'namespaces="git"')
    path.write_text("# nothing\n" + line + "\n")
    with pytest.raises(KeyFileError, match="expected at least one ssh-ed25519 key trusted for"):
        load_allowed_signers(path)
    with pytest.raises(KeyFileError, match="no such trusted keys file; expected an OpenSSH"):
        load_allowed_signers(tmp_path / "missing")


def test_require_names_the_untrusted_key() -> None:
    key, stranger = generate_key(), generate_key()
    trusted = parse_allowed_signers(f"a@x {public_key_openssh(key.public_key())}", source="signers")
    assert trusted.require(key.public_key(), what="record 0").principals == "a@x"
    with pytest.raises(
        VerificationError,
        match=f"^record 4: expected a signature by a key trusted in signers, got one by "
        f"untrusted key {re.escape(fingerprint(stranger.public_key()))}$",
    ):
        trusted.require(stranger.public_key(), what="record 4")


def test_from_fingerprints() -> None:
    key = generate_key()
    fp = fingerprint(key.public_key())
    trusted = TrustedKeys.from_fingerprints([fp])
    assert trusted.require(key.public_key(), what="r").fingerprint == fp
    for bad in ["SHA256:short", fp[7:], "MD5:" + fp[7:], fp + "A"]:
        with pytest.raises(KeyFileError, match="^--trusted-key: expected a key fingerprint"):
            TrustedKeys.from_fingerprints([bad])
    with pytest.raises(KeyFileError, match="expected at least one"):
        TrustedKeys.from_fingerprints([])


def test_a_key_passed_as_a_fingerprint_is_never_echoed() -> None:
    from bias_ledger.ledger.keys import private_key_to_openssh

    secret = private_key_to_openssh(generate_key(), None).decode()
    with pytest.raises(KeyFileError) as raised:
        TrustedKeys.from_fingerprints([secret])
    message = str(raised.value)
    assert f"a value of {len(secret)} characters (not shown)" in message
    assert not any(line in message for line in secret.splitlines()[1:-1])


@pytest.mark.interop
@needs_ssh_keygen
def test_namespace_restrictions_agree_with_ssh_keygen(tmp_path: Path) -> None:
    message = b"record bytes"
    (tmp_path / "msg").write_bytes(message)
    for options, accepted in [
        ("", True),
        ('namespaces="bias-ledger"', True),
        ('namespaces="git"', False),
    ]:
        key_path = new_key(tmp_path / f"k{len(options)}")
        public = (tmp_path / f"k{len(options)}.pub").read_text().strip()
        allowed = tmp_path / "allowed_signers"
        allowed.write_text(f"tester@example.org {options} {public}\n")
        sig = tmp_path / "msg.sig"
        sig.unlink(missing_ok=True)
        assert (
            ssh_keygen(
                "-Y", "sign", "-f", key_path, "-n", "bias-ledger", tmp_path / "msg"
            ).returncode
            == 0
        )
        done = ssh_keygen(
            "-Y",
            "verify",
            "-f",
            allowed,
            "-I",
            "tester@example.org",
            "-n",
            "bias-ledger",
            "-s",
            sig,
            stdin=message,
        )
        assert (done.returncode == 0) is accepted
        try:
            ours = parse_allowed_signers(allowed.read_text(), source="a")
        except KeyFileError:
            ours = None
        assert (ours is not None) is accepted
