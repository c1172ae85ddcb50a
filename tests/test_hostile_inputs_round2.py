"""Hostile inputs, second round: files and options that raised internal errors (or crashed the
process) instead of the contract's one line naming the file, record or option, exit 2 (usage or
input error) or 3 (a verification that fails), and no traceback without --debug.

Each case runs the real CLI in a fresh process on real files, as a user or CI job would.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import blake3
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from bias_ledger.ledger.canonical import CanonicalEncodingError, parse_json
from bias_ledger.ledger.json_depth import Nesting, scan
from bias_ledger.ledger.keys import write_private_key_file
from tests.attacks.cli import attack_env, refused, run_cli
from tests.attacks.forge import append_raw, canonical_text, next_record
from tests.ledger import helpers
from tests.ledger.helpers import SAMPLE, Signer
from tests.ledger2.helpers import copied_v2

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LENDING = ("--label", "repaid", "--prediction", "approved_v1", "--sensitive", "sex")
"""The columns of an audit of the sample lending data."""


def one_line(done: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """The single error line of a refused run (exit ``code``, no traceback), without the
    ``bias-ledger: error:`` prefix."""
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr[-2000:])
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-2000:]
    assert "internal error" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    assert lines[0].startswith("bias-ledger: error: "), lines[0]
    return lines[0].removeprefix("bias-ledger: error: ")


# a. TOML nested deeper than tomllib's recursion reaches: the policy, the audit config, the
# witness's logs file all go through one reader (bias_ledger/toml_text.py).

DEEP_TOML = {
    "arrays": "a = " + "[" * 100_000 + "\n",
    "inline-tables": "a = " + "{ b = " * 5_000 + "1" + " }" * 5_000 + "\n",
}
TOO_DEEP_TOML = (
    "not valid TOML: arrays or inline tables nested too deeply to be TOML this tool reads "
    "(expected a few levels of nesting)"
)


@pytest.mark.parametrize("shape", sorted(DEEP_TOML))
def test_gate_policy_nested_too_deeply(tmp_path: Path, shape: str) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(DEEP_TOML[shape])
    done = run_cli(
        "gate", SAMPLE / "lending.csv", *LENDING, "--policy", policy, "--no-record",
        ledger=tmp_path / "ledger",
    )  # fmt: skip
    assert one_line(done) == f"{policy}: {TOO_DEEP_TOML}"


@pytest.mark.parametrize("shape", sorted(DEEP_TOML))
def test_audit_config_nested_too_deeply(tmp_path: Path, shape: str) -> None:
    config = tmp_path / "bias-ledger.toml"
    config.write_text(DEEP_TOML[shape])
    done = run_cli("audit", "--config", config, "--no-record", ledger=tmp_path / "ledger")
    assert one_line(done) == f"{config}: {TOO_DEEP_TOML}"


@pytest.mark.parametrize("shape", sorted(DEEP_TOML))
def test_witness_logs_file_nested_too_deeply(tmp_path: Path, shape: str) -> None:
    key = tmp_path / "witness_key"
    write_private_key_file(key, Ed25519PrivateKey.generate(), None)
    logs = tmp_path / "logs.toml"
    logs.write_text(DEEP_TOML[shape])
    done = run_cli("witness", "serve", "--key", key, "--logs", logs)
    assert one_line(done) == f"{logs}: {TOO_DEEP_TOML}"


@pytest.mark.parametrize(
    "key",
    [".".join(["a"] * 100_000), ".".join(['"a"'] * 100_000), "[" + ".".join(["t"] * 100_000) + "]"],
    ids=["bare", "quoted", "table-header"],
)
def test_gate_policy_with_a_key_of_too_many_dotted_parts(tmp_path: Path, key: str) -> None:
    """tomllib takes time and memory with the square of a key's dotted parts: 100,000 parts got
    the process killed after minutes. Refused at once, naming the file."""
    policy = tmp_path / "policy.toml"
    policy.write_text(key + (" = 1\n" if not key.startswith("[") else "\n"))
    done = run_cli(
        "gate", SAMPLE / "lending.csv", *LENDING, "--policy", policy, "--no-record",
        ledger=tmp_path / "ledger",
    )  # fmt: skip
    assert one_line(done) == (
        f"{policy}: not valid TOML this tool reads: a dotted key of more than 128 parts "
        "(expected keys of a few parts)"
    )


# b. allowed_signers times at the ends of datetime's range, in local time (no Z): converting
# 99991231235959 to UTC left the range in UTC-10 (OverflowError) and UTC+14 (ValueError).

ZONES = ("America/Adak", "Pacific/Kiritimati")
"""UTC-10 and UTC+14 today; their first offsets (local mean time) are of the other sign."""


def _signers_with(signer: Signer, path: Path, options: str) -> Path:
    path.write_text(f'tester@example.org namespaces="bias-ledger",{options} {signer.public_line}\n')
    return path


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    "options",
    [
        'valid-before="99991231235959"',
        'valid-before="99991231"',
        'valid-after="00010101"',
        'valid-after="00010101000000",valid-before="99991231235959"',
    ],
)
def test_key_valid_to_the_ends_of_time_in_local_time(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, zone: str, options: str
) -> None:
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 3)
    trusted = _signers_with(signer, tmp_path / "allowed_signers", options)
    env = {**attack_env(ledger), "TZ": zone}
    done = helpers.run_cli("verify", "--trusted-keys", trusted, env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "VALID: 3 records" in done.stdout


@pytest.mark.parametrize("zone", ZONES)
def test_key_valid_only_after_the_end_of_time_trusts_nothing(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, zone: str
) -> None:
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 3)
    options = 'valid-after="99991231235959"'
    trusted = _signers_with(signer, tmp_path / "allowed_signers", options)
    env = {**attack_env(ledger), "TZ": zone}
    done = helpers.run_cli("verify", "--trusted-keys", trusted, env=env)
    if zone == "America/Adak":  # 9999-12-31T23:59:59-10:00 is after datetime's last moment
        assert one_line(done) == (
            f"{trusted}: expected at least one ssh-ed25519 key trusted for namespace "
            f"'bias-ledger', found none ({trusted}:1: key {signer.fingerprint} is valid at no "
            "time of the years 1 to 9999 (its valid-after or valid-before lies beyond them), "
            "line ignored)"
        )
    else:  # 9999-12-31T09:59:59Z: a key not yet valid when the records were signed
        said = one_line(done, code=3)
        expected = (
            f"key {signer.fingerprint} ({trusted}:1) is trusted from 9999-12-31 09:59:59+00:00 "
            "until None, but the signature claims 20"
        )
        assert said.startswith(str(ledger)) and expected in said, said


# c. Numbers in options and file names: "²".isdigit() is True but int() refuses it, "٣" is a
# digit to int(), and int() raises beyond 4,300 digits. One parser (bias_ledger/ledger/digits.py)
# takes ASCII digits only, and no more of them than the number can need.

MANY = "9" * 5000
MANY_SHOWN = "99999999999999999999... (5000 characters)"
NOT_AN_INDEX = "expected 'latest-approved', a record index, or a bundle file"


@pytest.mark.parametrize(
    ("baseline", "said"),
    [
        ("\u00b2", f"--baseline '\u00b2': {NOT_AN_INDEX}"),
        ("\u0663", f"--baseline '\u0663': {NOT_AN_INDEX}"),  # int() reads it as 3
        (MANY, f"--baseline {MANY_SHOWN}: expected a record index of at most 18 digits"),
    ],
    ids=["superscript-two", "arabic-indic-three", "5000-digits"],
)
def test_gate_baseline_of_digits_int_refuses(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, baseline: str, said: str
) -> None:
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 3)
    trusted = Signer.allowed_signers(signer, tmp_path / "allowed_signers")
    policy = SAMPLE / "policies" / "standard.toml"
    done = run_cli(
        "gate", SAMPLE / "lending.csv", *LENDING, "--policy", policy, "--no-record",
        "--trusted-keys", trusted, "--baseline", baseline, ledger=ledger,
    )  # fmt: skip
    assert one_line(done) == said


@pytest.mark.parametrize(
    ("target", "said"),
    [
        ("\u00b2", "\u00b2: expected a record index or a bundle file"),
        (MANY, f"report {MANY_SHOWN}: expected a record index of at most 18 digits"),
    ],
    ids=["superscript-two", "5000-digits"],
)
def test_report_of_digits_int_refuses(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, target: str, said: str
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 3)
    done = run_cli("report", target, "-o", tmp_path / "report.html", ledger=ledger)
    assert one_line(done) == said


def test_witness_listen_port_of_thousands_of_digits(tmp_path: Path) -> None:
    key = tmp_path / "witness_key"
    write_private_key_file(key, Ed25519PrivateKey.generate(), None)
    listen = f"127.0.0.1:{MANY}"
    done = run_cli("witness", "serve", "--key", key, "--logs", tmp_path / "logs.toml",
                   "--listen", listen)  # fmt: skip
    assert one_line(done) == (
        f"--listen '{listen[:40]}... (5010 characters)': expected HOST:PORT, e.g. 127.0.0.1:8443"
    )


def test_format1_checkpoint_size_of_thousands_of_digits(tmp_path: Path) -> None:
    root = tmp_path / "format1"
    shutil.copytree(FIXTURES / "format1", root)
    checkpoint = root / "ledger" / "checkpoint"
    lines = checkpoint.read_text().split("\n")
    lines[1] = MANY
    checkpoint.write_text("\n".join(lines))
    done = run_cli(
        "verify", "--ledger", root / "ledger", "--trusted-keys", root / "allowed_signers"
    )
    assert one_line(done, code=3) == (
        f"{checkpoint}: expected a tree size of at most 20 digits, got {MANY_SHOWN}"
    )


def test_partial_tile_named_by_a_superscript_digit_without_a_checkpoint(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, _ = copied_v2(tmp_path_factory, tmp_path, 1)
    (ledger / "checkpoint").unlink()
    (ledger / "tile" / "0" / "000.p" / "\u00b2").write_bytes(b"")
    done = run_cli("checkpoint", "--ledger", ledger)
    assert one_line(done, code=3) == (
        f"{ledger / 'checkpoint'}: no checkpoint, but the ledger holds committed records "
        "(records/, tile/): its signed checkpoint is missing; restore it from a backup of the "
        "ledger"
    )


# d. A record nested 500 levels deep: json parses it, but `show` rendered it by recursion. The
# canonical decoder refuses arrays and objects nested more than RECORD_DEPTH (64) deep; the
# deepest record bias-ledger writes nests 13, and every committed fixture still verifies. A
# format-2 bundle's record was parsed with json.loads, before its signature was checked: a
# forger's bytes that were not JSON, or nested 100,000 deep, were internal errors.

DEEP_NOTE = "[" * 500 + "]" * 500


def test_show_log_and_verify_a_record_nested_500_deep(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 3)
    text = canonical_text(next_record(ledger, signer, "gate", {"note": "x"}))
    deep = text.replace('"note":"x"', f'"note":{DEEP_NOTE}')
    append_raw(ledger, signer, deep.encode(), kind="gate", timestamp="2026-01-02T03:04:05.000000Z")
    reason = (
        f"{ledger} record 3: record is not valid JSON (arrays and objects nested more than 64 deep)"
    )
    for command in (["show", "3"], ["log"]):
        assert one_line(run_cli(*command, ledger=ledger)) == f"{reason}; run 'bias-ledger verify'"
    trusted = Signer.allowed_signers(signer, tmp_path / "allowed_signers")
    done = run_cli("verify", "--trusted-keys", trusted, ledger=ledger)
    assert refused(done) == reason


@pytest.mark.parametrize("inner", [b"1", b'"]]]]"', b'{"k":"[[[["}'])
def test_records_nest_at_most_64_deep(inner: bytes) -> None:
    """The top-level object counts as one level; brackets inside strings are not nesting."""
    depth = 63 - inner.startswith(b"{")
    for levels, refused_ in ((depth, False), (depth + 1, True)):
        data = b'{"a":' + b"[" * levels + inner + b"]" * levels + b"}"
        if refused_:
            with pytest.raises(CanonicalEncodingError, match="nested more than 64 deep"):
                parse_json(data, where="r")
        else:
            assert parse_json(data, where="r") == json.loads(data)


def _reference_nesting(text: bytes, limit: int) -> tuple[str, int]:
    """json_depth's documented count, byte by byte, for text whose every backslash is followed
    by a byte a JSON escape may hold: ("deep", line) or ("ok", the final depth)."""
    depth, in_string, escaped, line = 0, False, False, 1
    for char in text.decode("latin-1"):
        if char == "\n":
            in_string, escaped, line = False, False, line + 1
        elif escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_string:
            in_string = char != '"'
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return "deep", line
        elif char in "]}":
            depth = max(depth - 1, 0)
    return "ok", depth


def _parser_reach(text: bytes, limit: int) -> int | None:
    """The first line where a JSON parser starting at some line (a block of pyarrow's starts at
    one) would nest more than ``limit`` deep before its first error; None if none would. Its
    errors here: a backslash outside a string or before a byte no escape holds, a string left
    open at the end of its line, a closer with nothing open (any other byte is let through)."""
    lines = text.split(b"\n")
    found: list[int] = []
    for first in range(len(lines)):
        depth, in_string, escaped = 0, False, False
        for number, line in enumerate(lines[first:], start=first + 1):
            for char in line.decode("latin-1"):
                if escaped:
                    if char not in '"\\/bfnrtu':
                        break
                    escaped = False
                elif in_string:
                    escaped, in_string = char == "\\", char != '"'
                elif char == "\\" or (char in "]}" and depth == 0):
                    break
                elif char == '"':
                    in_string = True
                elif char in "[{":
                    depth += 1
                    if depth > limit:
                        found.append(number)
                        break
                elif char in "]}":
                    depth -= 1
            else:
                if not in_string:
                    continue
            break
    return min(found, default=None)


def _scanned(text: bytes, limit: int, cuts: list[int]) -> Nesting:
    """``text`` scanned in the pieces ``cuts`` makes of it, as a stream is."""
    state, start = Nesting(), 0
    for end in [*sorted(min(cut, len(text)) for cut in cuts), len(text)]:
        state, start = scan(text[start:end], limit, state), end
        if state.deep_line is not None:
            break
    return state


PIECES = st.lists(st.integers(min_value=0, max_value=600), max_size=4)


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(st.sampled_from([*b'[[]]{}"\\\n', *b"n" * 24]), max_size=600).map(bytes),
    limit=st.integers(min_value=0, max_value=12),
    cuts=PIECES,
)
def test_nesting_scan_of_pieces_is_the_byte_by_byte_count(
    text: bytes, limit: int, cuts: list[int]
) -> None:
    state = _scanned(text, limit, cuts)
    found = ("deep", state.deep_line) if state.deep_line is not None else ("ok", state.depth)
    assert found == _reference_nesting(text, limit)


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(st.sampled_from([*b'[[]]{}"\\\n', *b"x" * 24]), max_size=300).map(bytes),
    limit=st.integers(min_value=0, max_value=8),
    cuts=PIECES,
)
def test_nesting_scan_finds_any_line_a_parser_would_nest_too_deeply(
    text: bytes, limit: int, cuts: list[int]
) -> None:
    """With invalid escapes too (``\\x``): the scan flags the line, or an earlier one."""
    reach = _parser_reach(text, limit)
    if reach is not None:
        flagged = _scanned(text, limit, cuts).deep_line
        assert flagged is not None and flagged <= reach, (flagged, reach)


def _forged_bundle(bundle: Path, index: int, raw: bytes, target: Path) -> Path:
    """``bundle`` (format 2) with record ``index`` replaced by ``raw``, its entry and the
    manifest naming the new bytes, as a forger without the key can make it."""
    with zipfile.ZipFile(bundle) as archive:
        infos = archive.infolist()
        items = {info.filename: archive.read(info) for info in infos}
    entry = json.loads(items[f"entries/{index}"])
    entry.update(record=blake3.blake3(raw).hexdigest(), size=len(raw))
    manifest = json.loads(items["bundle.json"])
    for item in manifest["records"]:
        if item["index"] == index:
            item["record_hash"] = entry["record"]
    items[f"records/{index}.json"] = raw
    items[f"entries/{index}"] = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()
    ending = b"\n" if items["bundle.json"].endswith(b"\n") else b""
    items["bundle.json"] = json.dumps(manifest, sort_keys=True, indent=2).encode() + ending
    with zipfile.ZipFile(target, "w") as archive:
        for info in infos:
            archive.writestr(info, items[info.filename])
    return target


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "values nested too deeply to parse"),
        (b"{nope", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        (b'{"a":' + DEEP_NOTE.encode() + b"}", "arrays and objects nested more than 64 deep"),
    ],
    ids=["100000-deep", "not-json", "500-deep"],
)
def test_format2_bundle_record_forged_before_its_signature_is_checked(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, raw: bytes, reason: str
) -> None:
    ledger, signer = copied_v2(tmp_path_factory, tmp_path, 3)
    bundle = tmp_path / "bundle.zip"
    assert run_cli("export", "2", "-o", bundle, ledger=ledger).returncode == 0
    forged = _forged_bundle(bundle, 2, raw, tmp_path / "forged.zip")
    trusted = Signer.allowed_signers(signer, tmp_path / "allowed_signers")
    done = run_cli("verify", forged, "--trusted-keys", trusted)
    assert refused(done) == f"{forged} record 2: record is not valid JSON ({reason})"


# e. JSON Lines nested 20,000 deep: pyarrow's parser recursed until the process died (exit
# 139). Every JSON Lines file pyarrow reads is scanned first (bias_ledger/io/json_nesting.py).

ROWS = [
    '{"label": 1, "pred": 1, "group": "a"}',
    '{"label": 0, "pred": 1, "group": "b"}',
    '{"label": 1, "pred": 0, "group": "b"}',
    '{"label": 0, "pred": 0, "group": "a"}',
] * 10
AUDIT = ("--label", "label", "--prediction", "pred", "--sensitive", "group", "--no-record")


def _nested(levels: int, *, newlines: bool = False) -> str:
    """A record whose field ``extra`` nests ``levels - 1`` arrays (``levels`` with the record)."""
    inner = levels - 1
    opening, closing = ("[\n", "]\n") if newlines else ("[", "]")
    return (
        '{"label": 1, "pred": 1, "group": "a", "extra": ' + opening * inner + closing * inner + "}"
    )


@pytest.mark.parametrize(
    ("name", "deep", "line"),
    [
        ("last.jsonl", _nested(20_000), 41),
        ("first.ndjson", _nested(20_000), 1),
        ("spread.jsonl", _nested(20_000, newlines=True), 168),
        ("zipped.jsonl.gz", _nested(20_000), 41),
    ],
    ids=["last-line", "first-line", "over-lines", "gzipped"],
)
def test_audit_of_json_lines_nested_20000_deep(
    tmp_path: Path, name: str, deep: str, line: int
) -> None:
    rows = [deep, *ROWS] if line == 1 else [*ROWS, deep]
    data = tmp_path / name
    text = ("\n".join(rows) + "\n").encode()
    data.write_bytes(gzip.compress(text) if name.endswith(".gz") else text)
    done = run_cli("audit", data, *AUDIT, ledger=tmp_path / "ledger")
    assert one_line(done) == (
        f"{data}: line {line} of the file nests arrays and objects more than 128 deep; "
        "expected records nested at most 128 deep"
    )


def test_audit_of_json_lines_nested_128_deep_reads_them(tmp_path: Path) -> None:
    data = tmp_path / "deep.jsonl"
    data.write_text("\n".join([*ROWS, _nested(128)]) + "\n")
    done = run_cli("audit", data, *AUDIT, "--json", ledger=tmp_path / "ledger")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["data"]["rows"] == len(ROWS) + 1
