"""Key records hold each key once: format-2 rotations and revocations name their key by its
OpenSSH line alone (the fingerprint is derived), format 1 keeps both, and a fingerprint that an
older record holds is still checked against its key (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bias_ledger.cli.app import app
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record
from tests.ledger.helpers import Signer, new_signer, read_lines, record_of


def _run(root: Path, signer: Signer, *args: str | Path) -> Result:
    env = {
        "HOME": str(root / "home"),
        "XDG_CONFIG_HOME": str(root / "config"),
        "BIAS_LEDGER_DIR": str(root / "ledger"),
        "BIAS_LEDGER_KEY": str(signer.path),
        "BIAS_LEDGER_KEY_DATA": None,
        "GITHUB_ACTIONS": None,
        "COLUMNS": "200",
    }
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def _rotate_and_revoke(root: Path, version: str) -> tuple[Signer, Signer, list[dict[str, Any]]]:
    """A ledger of format ``version``: record 0 rotates A to B, record 1 (by B) revokes A."""
    a, b = new_signer(root / "a"), new_signer(root / "b")
    assert _run(root, a, "init", "--format", version).exit_code == 0
    rotated = _run(root, a, "key", "rotate", "--new-key", b.path, "--json")
    assert rotated.exit_code == 0, rotated.stderr
    # The command's output is as it always was: the fingerprint, derived where not recorded.
    assert json.loads(rotated.stdout)["new_fingerprint"] == b.fingerprint
    revoked = _run(root, b, "key", "revoke", a.fingerprint, "--after", "-1", "--json")
    assert revoked.exit_code == 0, revoked.stderr
    shown = json.loads(revoked.stdout)
    assert list(shown)[2:] == [
        "revoked_public_key",
        "revoked_fingerprint",
        "invalid_after",
        "reason",
    ]
    assert shown["revoked_fingerprint"] == a.fingerprint
    records = [record_of(line) for line in read_lines(root / "ledger")]
    return a, b, records


def test_new_format_2_key_records_hold_each_key_once(tmp_path: Path) -> None:
    a, b, records = _rotate_and_revoke(tmp_path, "2")
    assert records[0]["key_rotation"] == {"new_public_key": b.public_line}
    assert records[1]["key_revocation"] == {
        "revoked_public_key": a.public_line,
        "invalid_after": -1,
        "reason": "",
    }
    done = _run(tmp_path, b, "verify", "--trusted-key", a.fingerprint, "--json")
    assert done.exit_code == 0, done.stdout + done.stderr
    # Every reader shows the fingerprints, derived from the keys.
    details = [item["detail"] for item in json.loads(_run(tmp_path, b, "log", "--json").stdout)]
    assert details[0] == f"new key {b.fingerprint}"
    assert a.fingerprint in details[1] and "revokes key" in details[1]
    for index, (field, fp) in enumerate(
        [("new_fingerprint", b.fingerprint), ("revoked_fingerprint", a.fingerprint)]
    ):
        shown = _run(tmp_path, b, "show", str(index))
        assert shown.exit_code == 0, shown.stderr
        assert field in shown.stdout and fp in shown.stdout
    for name in ("keys.zip", "keys.tar"):  # bundle formats 2 and 3
        bundle = tmp_path / name
        assert _run(tmp_path, b, "export", "--all", "-o", bundle).exit_code == 0
        done = _run(tmp_path, b, "verify", bundle, "--trusted-key", a.fingerprint)
        assert done.exit_code == 0, done.stdout + done.stderr


def test_format_1_key_records_keep_their_fingerprints(tmp_path: Path) -> None:
    a, b, records = _rotate_and_revoke(tmp_path, "1")
    assert records[0]["key_rotation"] == {
        "new_public_key": b.public_line,
        "new_fingerprint": b.fingerprint,
    }
    assert records[1]["key_revocation"]["revoked_fingerprint"] == a.fingerprint
    done = _run(tmp_path, b, "verify", "--trusted-key", a.fingerprint)
    assert done.exit_code == 0, done.stdout + done.stderr


def test_a_format_1_key_record_without_its_fingerprint_is_refused(tmp_path: Path) -> None:
    a, b = new_signer(tmp_path / "a"), new_signer(tmp_path / "b")
    assert _run(tmp_path, a, "init", "--format", "1").exit_code == 0
    payload = {"new_public_key": b.public_line}
    append_record(tmp_path / "ledger", RecordKind.KEY_ROTATION, payload, a.key)
    done = _run(tmp_path, a, "verify", "--trusted-key", a.fingerprint)
    assert done.exit_code == 3
    assert "new_fingerprint reads None" in done.stderr


@pytest.mark.parametrize("stated", ["right", "wrong"])
def test_an_older_format_2_revocation_is_checked_by_the_fingerprint_it_holds(
    tmp_path: Path, stated: str
) -> None:
    """Records written before the fingerprint was derived keep verifying, and one that displays
    another key than it revokes is refused."""
    a, b, c = (new_signer(tmp_path / name) for name in "abc")
    assert _run(tmp_path, a, "init").exit_code == 0
    held = a.fingerprint if stated == "right" else c.fingerprint
    payload = {
        "revoked_public_key": a.public_line,
        "revoked_fingerprint": held,
        "invalid_after": -1,
        "reason": "",
    }
    append_record(tmp_path / "ledger", RecordKind.KEY_REVOCATION, payload, b.key)
    trusted = tmp_path / "trusted"
    trusted.write_text(
        f'a namespaces="bias-ledger" {a.public_line}\nb namespaces="bias-ledger" {b.public_line}\n'
    )
    done = _run(tmp_path, b, "verify", "--trusted-keys", trusted)
    if stated == "right":
        assert done.exit_code == 0, done.stdout + done.stderr
    else:
        assert done.exit_code == 3
        assert f"revoked_fingerprint reads '{c.fingerprint}'" in done.stderr
        assert f"revoked_public_key is the key {a.fingerprint}" in done.stderr
