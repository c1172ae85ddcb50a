"""OpenSSH key files: ours read by ssh-keygen, ssh-keygen's read by us, fingerprints equal."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from bias_ledger.errors import KeyFileError
from bias_ledger.ledger.keys import (
    fingerprint,
    generate_key,
    load_private_key,
    load_private_key_file,
    parse_public_key,
    private_key_info,
    private_key_to_openssh,
    public_key_openssh,
    write_private_key_file,
)

from .sshtools import keygen_fingerprint, needs_ssh_keygen, new_key, ssh_keygen

pytestmark = [pytest.mark.interop, needs_ssh_keygen]


@pytest.mark.parametrize("passphrase", ["", "correct horse"])
def test_ssh_keygen_key_loads_with_same_fingerprint(tmp_path: Path, passphrase: str) -> None:
    path = new_key(tmp_path / "id_ed25519", passphrase=passphrase)
    key = load_private_key_file(path, passphrase.encode() or None)
    assert fingerprint(key.public_key()) == keygen_fingerprint(path)
    public_line = (tmp_path / "id_ed25519.pub").read_text()
    assert public_line.startswith(public_key_openssh(key.public_key()) + " ")
    assert fingerprint(parse_public_key(public_line)) == keygen_fingerprint(path)
    assert private_key_info(path.read_bytes(), source="k") == ("ssh-ed25519", bool(passphrase))


def test_encrypted_key_needs_the_right_passphrase(tmp_path: Path) -> None:
    path = new_key(tmp_path / "id", passphrase="right")
    data = path.read_bytes()
    with pytest.raises(KeyFileError, match=f"^{re.escape(str(path))}: wrong passphrase"):
        load_private_key(data, b"wrong", source=str(path))
    with pytest.raises(KeyFileError, match="the key is encrypted, expected a passphrase, got none"):
        load_private_key(data, None, source=str(path))


def test_a_passphrase_for_an_unencrypted_key_is_ignored(tmp_path: Path) -> None:
    path = new_key(tmp_path / "id")
    key = load_private_key(path.read_bytes(), b"unused", source="id")
    assert fingerprint(key.public_key()) == keygen_fingerprint(path)


def test_other_key_types_are_refused_by_name(tmp_path: Path) -> None:
    path = new_key(tmp_path / "id_ecdsa", key_type="ecdsa")
    with pytest.raises(
        KeyFileError, match=r"^ci-secret: expected an ssh-ed25519 key, found ecdsa-"
    ):
        load_private_key(path.read_bytes(), None, source="ci-secret")
    public_line = (tmp_path / "id_ecdsa.pub").read_text()
    with pytest.raises(
        KeyFileError, match="expected an ssh-ed25519 key, found ecdsa-sha2-nistp256"
    ):
        parse_public_key(public_line, source="id_ecdsa.pub")


def test_non_openssh_data_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match=r"^k: expected an OpenSSH private key"):
        load_private_key(
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", None, source="k"
        )
    with pytest.raises(KeyFileError, match=r"^missing: cannot read the key file"):
        load_private_key_file(Path("missing"), None)


@pytest.mark.parametrize("passphrase", [None, b"s3cret"])
def test_our_key_file_is_read_by_ssh_keygen(tmp_path: Path, passphrase: bytes | None) -> None:
    key = generate_key()
    path = tmp_path / "signing_key"
    public_path = write_private_key_file(path, key, passphrase, comment="ci@example.org")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_path == tmp_path / "signing_key.pub"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signing_key", "signing_key.pub"]
    done = ssh_keygen("-y", "-P", (passphrase or b"").decode(), "-f", path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().split()[:2] == public_key_openssh(key.public_key()).split()
    assert keygen_fingerprint(path) == fingerprint(key.public_key())
    assert keygen_fingerprint(public_path) == fingerprint(key.public_key())
    assert public_path.read_text().endswith(" ci@example.org\n")
    loaded = load_private_key_file(path, passphrase)
    assert fingerprint(loaded.public_key()) == fingerprint(key.public_key())


def test_ssh_keygen_rejects_our_encrypted_key_with_a_wrong_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "k"
    path.write_bytes(private_key_to_openssh(generate_key(), b"good"))
    assert ssh_keygen("-y", "-P", "bad", "-f", path).returncode != 0


def test_key_files_are_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "key"
    write_private_key_file(path, generate_key(), None)
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match=f"^{re.escape(str(path))}: refusing to overwrite"):
        write_private_key_file(path, generate_key(), None)
    assert path.read_bytes() == before
    other = tmp_path / "other"
    (tmp_path / "other.pub").write_text("keep me\n")
    with pytest.raises(KeyFileError, match="other.pub: refusing to overwrite"):
        write_private_key_file(other, generate_key(), None)
    assert not other.exists()
    assert (tmp_path / "other.pub").read_text() == "keep me\n"


def test_public_key_text_is_checked() -> None:
    good = public_key_openssh(generate_key().public_key())
    with pytest.raises(KeyFileError, match="expected 'ssh-ed25519 <base64> \\[comment\\]'"):
        parse_public_key("ssh-ed25519")
    with pytest.raises(KeyFileError, match="not valid base64"):
        parse_public_key("ssh-ed25519 @@@@")
    truncated = good.split()[1][:-8]
    with pytest.raises(KeyFileError, match="malformed ssh-ed25519 public key: expected 32 more"):
        parse_public_key(f"ssh-ed25519 {truncated}")
    parsed = parse_public_key(good + " comment with spaces")
    assert public_key_openssh(parsed) == good
