"""Tamper tests on a real ledger: every edit is caught by ``verify``, each with its own message."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bias_ledger.cli.app import app
from bias_ledger.errors import ExitCode
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.entry import Entry, dearmor
from bias_ledger.ledger.reader import CHECKPOINT_FILE, LEDGER_FILE, RECORDS_FILE
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record
from tests.ledger.helpers import (
    Built,
    build_ledger,
    flip_char,
    line_hash,
    read_lines,
    record_of,
    resign_checkpoint,
    signed_line,
    with_record,
    write_lines,
)

TARGET = 2
"""The record tampered with: an audit with labels, in the middle of the ledger."""


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_ledger(tmp_path_factory.mktemp("pristine"))


@pytest.fixture
def built(pristine: Built, tmp_path: Path) -> Built:
    """A fresh copy of the five-record ledger for one test to damage."""
    copy = tmp_path / "ledger"
    shutil.copytree(pristine.path, copy)
    return Built(copy, pristine.alice, pristine.bob, pristine.mallory)


def verify(built: Built, *args: str) -> tuple[int, str]:
    """Run ``bias-ledger verify`` in-process; return the exit code and stdout + stderr."""
    trust = built.alice.allowed_signers(built.path.parent / "allowed_signers")
    default = ["--trusted-keys", str(trust)]
    result = CliRunner().invoke(app, ["verify", "--ledger", str(built.path), *(args or default)])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout + result.stderr


def edit_target(built: Built, change: Callable[[dict[str, Any]], None]) -> None:
    lines = read_lines(built.path)
    record = record_of(lines[TARGET])
    change(record)
    lines[TARGET] = with_record(lines[TARGET], record)
    write_lines(built.path, lines)


def test_untouched_ledger_verifies(built: Built) -> None:
    code, output = verify(built)
    assert code == ExitCode.OK, output
    assert "VALID: 5 records" in output
    assert built.alice.fingerprint in output and built.bob.fingerprint in output


def _set(
    path: tuple[str | int, ...], flip: Callable[[Any], Any]
) -> Callable[[dict[str, Any]], None]:
    def change(record: dict[str, Any]) -> None:
        node: Any = record
        for step in path[:-1]:
            node = node[step]
        before = node[path[-1]]
        node[path[-1]] = flip(before)
        assert node[path[-1]] != before

    return change


def _flip_float(value: float) -> float:
    text = repr(value)
    digit = max(i for i, ch in enumerate(text) if ch.isdigit())
    return float(flip_char(text, digit))


SIGNATURE = "does not match them (the record bytes were changed after signing)"
FIELD_FLIPS = {
    "index": (("index",), lambda v: v ^ 1, "its index reads 3 where 2 was expected"),
    "timestamp": (("timestamp",), lambda v: flip_char(v, 18), SIGNATURE),
    "previous_hash": (("previous_hash",), flip_char, "; its previous_hash reads '"),
    "origin": (("origin",), flip_char, "; its origin reads 'tamper-test/"),
    "signer_fingerprint": (
        ("signer", "fingerprint"),
        lambda v: flip_char(v, 20),
        "signer field names",
    ),
    "signer_public_key": (
        ("signer", "public_key"),
        lambda v: flip_char(v, 40),
        "signer public_key does not match the signing key",
    ),
    "metric_value": (
        ("audit", "results", "overall", "metrics", "selection_rate", "value"),
        _flip_float,
        SIGNATURE,
    ),
    "input_digest": (("audit", "inputs", 0, "blake3"), flip_char, SIGNATURE),
    "labels": (("labels", "git_commit"), flip_char, SIGNATURE),
    "format_version": (("format_version",), lambda v: v ^ 3, "unknown record format_version 2"),
}


@pytest.mark.parametrize("field", sorted(FIELD_FLIPS))
def test_flipped_byte_in_each_field_is_caught(built: Built, field: str) -> None:
    path, flip, expected = FIELD_FLIPS[field]
    before = read_lines(built.path)[TARGET]
    edit_target(built, _set(path, flip))
    after = read_lines(built.path)[TARGET]
    # One field changed by one character: the same length, a handful of bytes at most.
    assert len(before) == len(after)
    assert 0 < sum(a != b for a, b in zip(before, after, strict=True)) <= 2
    code, output = verify(built)
    assert code == ExitCode.VERIFICATION_FAILED, output
    assert f"record {TARGET}:" in output
    assert expected in output
    if expected == SIGNATURE:  # a payload field: nothing in the header is out of place
        assert "; its " not in output
    elif field in {"index", "previous_hash", "origin"}:
        assert SIGNATURE in output
    assert "INVALID" in output


def _delete(lines: list[bytes]) -> list[bytes]:
    return lines[:1] + lines[2:]


def _duplicate(lines: list[bytes]) -> list[bytes]:
    return lines[:2] + lines[1:]


def _reorder(lines: list[bytes]) -> list[bytes]:
    return [lines[0], lines[2], lines[1], *lines[3:]]


def _truncate(lines: list[bytes]) -> list[bytes]:
    return lines[:-2]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_delete, "record 1: expected index 1, found 2 (records 1..1 are missing"),
        (_duplicate, "record 2: expected index 2, found 1 (a duplicate of record 1"),
        (_reorder, "record 1: expected index 1, found 2 (record 1 appears later"),
        (_truncate, "checkpoint covers 5 records, but only 3 are present"),
    ],
    ids=["delete", "duplicate", "reorder", "truncate"],
)
def test_removed_duplicated_reordered_truncated_records(
    built: Built, edit: Callable[[list[bytes]], list[bytes]], expected: str
) -> None:
    write_lines(built.path, edit(read_lines(built.path)))
    code, output = verify(built)
    assert code == ExitCode.VERIFICATION_FAILED, output
    assert expected in output


def test_a_checkpointed_record_cut_short_fails(built: Built) -> None:
    """A cut last line is no record (it lacks its LF), so the checkpoint finds one missing."""
    data = (built.path / RECORDS_FILE).read_bytes()
    (built.path / RECORDS_FILE).write_bytes(data[:-100])
    code, output = verify(built)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "checkpoint covers 5 records, but only 4 are present" in output


def test_signature_replaced_by_an_untrusted_keys_valid_signature(built: Built) -> None:
    lines = read_lines(built.path)
    lines[TARGET] = signed_line(record_of(lines[TARGET]), built.mallory.key)
    write_lines(built.path, lines)
    code, output = verify(built)
    assert code == ExitCode.VERIFICATION_FAILED
    assert (
        f"record {TARGET}: signer field names {built.alice.fingerprint}, "
        f"but the signature was made by {built.mallory.fingerprint}"
    ) in output


def test_public_key_substituted_and_everything_resigned(built: Built) -> None:
    """The attacker rewrites the last record as theirs and re-signs it and the checkpoint."""
    lines = read_lines(built.path)
    record = record_of(lines[-1])
    record["signer"] = {
        "fingerprint": built.mallory.fingerprint,
        "public_key": built.mallory.public_line,
    }
    lines[-1] = signed_line(record, built.mallory.key)
    write_lines(built.path, lines)
    resign_checkpoint(built.path, built.mallory.key)
    code, output = verify(built)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "record 4: expected a signature by a key trusted in" in output
    assert f"got one by untrusted key {built.mallory.fingerprint}" in output


def test_ledger_format_version_change_is_refused(built: Built) -> None:
    meta = json.loads((built.path / LEDGER_FILE).read_bytes())
    meta["format_version"] = 3
    (built.path / LEDGER_FILE).write_text(json.dumps(meta))
    code, output = verify(built)
    assert code == ExitCode.USAGE
    assert "unknown ledger format_version 3" in output
    assert output.count("\n") == 1  # one error line, nothing misread


def _checkpoint_parts(built: Built) -> tuple[list[str], str]:
    data = (built.path / CHECKPOINT_FILE).read_bytes().decode()
    body, _, signature = data.partition("\n\n")
    return body.split("\n"), signature


def _write_checkpoint(built: Built, body: list[str], signature: str) -> None:
    (built.path / CHECKPOINT_FILE).write_text("\n".join(body) + "\n\n" + signature)


def _checkpoint_root(built: Built) -> None:
    body, signature = _checkpoint_parts(built)
    body[2] = flip_char(body[2], 5)
    _write_checkpoint(built, body, signature)


def _checkpoint_size(built: Built) -> None:
    body, signature = _checkpoint_parts(built)
    body[1] = str(int(body[1]) - 1)
    _write_checkpoint(built, body, signature)


def _checkpoint_signature_bytes(built: Built) -> None:
    body, signature = _checkpoint_parts(built)
    armor = signature.split("\n")
    # The last base64 line holds the tail of the raw Ed25519 signature.
    armor[-3] = flip_char(armor[-3], 4)
    _write_checkpoint(built, body, "\n".join(armor))


def _checkpoint_origin(built: Built) -> None:
    body, signature = _checkpoint_parts(built)
    body[0] = flip_char(body[0])
    _write_checkpoint(built, body, signature)


def _checkpoint_resigned_by_mallory(built: Built) -> None:
    resign_checkpoint(built.path, built.mallory.key)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_checkpoint_root, "over the first 5 records, computed"),
        (_checkpoint_size, "over the first 4 records, computed"),
        (_checkpoint_signature_bytes, "checkpoint: SSH signature by"),
        (_checkpoint_origin, "checkpoint: expected origin 'tamper-test/"),
        (
            _checkpoint_resigned_by_mallory,
            "checkpoint (tree size 5): expected a signature by a key",
        ),
    ],
    ids=["root", "size", "signature", "origin", "untrusted-signer"],
)
def test_checkpoint_tampering(built: Built, edit: Callable[[Built], None], expected: str) -> None:
    edit(built)
    code, output = verify(built)
    assert code == ExitCode.VERIFICATION_FAILED, output
    assert expected in output


# Trust


def test_trusted_key_fingerprint(built: Built) -> None:
    code, output = verify(built, "--trusted-key", built.alice.fingerprint)
    assert code == ExitCode.OK, output


def test_without_trust_lists_the_signers_and_fails(built: Built) -> None:
    code, output = verify(built, "--json")
    assert code == ExitCode.VERIFICATION_FAILED
    document = json.loads(output[: output.rindex("}") + 1])
    assert document["valid"] is False
    assert document["error"].startswith("no trusted key given")
    for signer in (built.alice, built.bob):
        assert signer.fingerprint in document["error"]
    listed = {signer["fingerprint"] for signer in document["signers"]}
    assert listed == {built.alice.fingerprint, built.bob.fingerprint}


def test_trust_ledger_keys(built: Built) -> None:
    code, output = verify(built, "--trust-ledger-keys")
    assert code == ExitCode.OK, output
    assert "trusting the keys found in the ledger itself" in output


def test_only_the_new_key_trusted_fails_on_the_old_records(built: Built) -> None:
    code, output = verify(built, "--trusted-key", built.bob.fingerprint)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "record 0: expected a signature by a key trusted in --trusted-key" in output


def test_rotation_is_followed_from_the_old_key(built: Built) -> None:
    """Record 4 is signed by bob, trusted only because alice introduced him in record 3."""
    assert record_of(read_lines(built.path)[4])["signer"]["fingerprint"] == built.bob.fingerprint
    code, output = verify(built, "--trusted-key", built.alice.fingerprint, "--json")
    assert code == ExitCode.OK, output
    signers = {s["fingerprint"] for s in json.loads(output)["signers"]}
    assert signers == {built.alice.fingerprint, built.bob.fingerprint}


def test_a_never_introduced_key_fails(built: Built) -> None:
    approval = {"approves": {"index": 0, "record_hash": line_hash(read_lines(built.path)[0])}}
    append_record(built.path, RecordKind.APPROVAL, approval, built.mallory.key)
    code, output = verify(built, "--trusted-key", built.alice.fingerprint)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "record 5: expected a signature by a key trusted" in output
    assert f"untrusted key {built.mallory.fingerprint}" in output


def test_a_signed_record_with_a_duplicate_key_is_refused(built: Built) -> None:
    """Even signed by a trusted key: readers that keep the first or the last key disagree."""
    lines = read_lines(built.path)
    record_bytes = lines[-1].split(b"\t")[0]
    ambiguous = record_bytes[:-1] + b',"index":0}'
    armored = sshsig.sign(built.bob.key, ambiguous, namespace="bias-ledger")
    lines[-1] = Entry(record_bytes=ambiguous, signature=dearmor(armored, where="test")).line()
    write_lines(built.path, lines)
    code, output = verify(built)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "record 4: record is not valid JSON (duplicate key 'index')" in output


def test_removed_checkpoint(built: Built) -> None:
    (built.path / CHECKPOINT_FILE).unlink()
    code, output = verify(built)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "expected a signed checkpoint for 5 records, found none" in output


def test_removed_checkpoint_and_truncated_to_one_record_is_a_warning(built: Built) -> None:
    """What a crash in the very first append leaves: one record, no checkpoint yet."""
    (built.path / CHECKPOINT_FILE).unlink()
    write_lines(built.path, read_lines(built.path)[:1])
    code, output = verify(built)
    assert code == ExitCode.OK, output
    assert "the ledger has no signed checkpoint" in output


def test_proofs_refuse_records_that_do_not_match_the_signed_checkpoint(built: Built) -> None:
    edit_target(built, _set(*FIELD_FLIPS["metric_value"][:2]))
    result = CliRunner().invoke(app, ["proof", "inclusion", "0", "--ledger", str(built.path)])
    assert result.exit_code == ExitCode.VERIFICATION_FAILED, result.output
    assert "expected root hash" in result.stderr and "over the first 5 records" in result.stderr
    # An explicit size proves against the records as they are, for comparison with a root
    # kept elsewhere.
    explicit = ["proof", "inclusion", "0", "--size", "5", "--ledger", str(built.path)]
    assert CliRunner().invoke(app, explicit).exit_code == ExitCode.OK
