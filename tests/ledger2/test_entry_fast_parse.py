"""The entry parser's fast path (one compiled pattern of the canonical spelling) against the
full parser it short-cuts: the same entry or the same error for every input, canonical entries
and mutations of them alike."""

from __future__ import annotations

import base64
import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bias_ledger.errors import VerificationError
from bias_ledger.ledger import canonical
from bias_ledger.ledger.tlog_entry import LogEntry, _parse_entry, parse_entry

_TEXT = st.one_of(
    st.sampled_from(["audit", "gate", "2026-01-01T00:00:00.000000Z", "SHA256:abc+/="]),
    st.text(max_size=12),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=12),
)
_NUMBER = st.one_of(st.integers(0, 300), st.integers(0, 2**80))
_HEX = st.one_of(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64), _TEXT)


def _outcome(parse: object, data: bytes) -> tuple[str, object]:
    assert callable(parse)
    try:
        return "entry", parse(data, where="e")
    except VerificationError as exc:
        return "error", exc.message


@st.composite
def entries(draw: st.DrawFn) -> bytes:
    """An entry's canonical bytes, for integers beyond 2^53 too (RFC 8785 would refuse them);
    non-ASCII text stays UTF-8, as in RFC 8785, which entries refuse."""
    entry = LogEntry(
        index=draw(_NUMBER),
        kind=draw(_TEXT),
        record=draw(_HEX),
        size=draw(_NUMBER),
        timestamp=draw(_TEXT),
        signer=draw(_TEXT),
        signature=draw(st.binary(max_size=40)),
    )
    value = entry.to_json()
    if max(entry.index, entry.size) < 2**53:
        assert canonical.encode(value) == _dumps(value)
    return _dumps(value)


def _dumps(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _spellings(data: bytes) -> list[bytes]:
    """Other spellings of the same JSON value, every one of which the parsers must refuse."""
    value = json.loads(data)
    return [
        json.dumps(value, sort_keys=True).encode(),
        json.dumps(value, separators=(",", ":")).encode()[::-1],
        json.dumps(dict(reversed(value.items())), separators=(",", ":")).encode(),
        data.replace(b'"index":', b'"index":0', 1),
        data.replace(b'"kind":"', b'"kind":"\\u0061', 1),
        data.replace(b"{", b'{"index":0,', 1),
        data.replace(b'"format_version":2', b'"format_version":3', 1),
        data.replace(b'"format_version":2', b'"format_version":2.0', 1),
        data + b"\n",
    ]


@settings(max_examples=400, deadline=None)
@given(entries(), st.data())
@example(b"", None)
def test_the_fast_path_finds_what_the_full_parser_finds(data: bytes, draw: st.DataObject) -> None:
    if not data:
        assert _outcome(parse_entry, data) == _outcome(_parse_entry, data)
        return
    candidates = [data, *_spellings(data)]
    position = draw.draw(st.integers(0, len(data) - 1))
    byte = draw.draw(st.integers(0, 255)).to_bytes(1, "big")
    candidates.append(data[:position] + byte + data[position + 1 :])
    candidates.append(data[:position] + byte + data[position:])
    candidates.append(data[:position] + data[position + 1 :])
    for candidate in candidates:
        assert _outcome(parse_entry, candidate) == _outcome(_parse_entry, candidate), candidate


def test_an_entry_bias_ledger_writes_takes_the_fast_path_and_a_bad_signature_is_named() -> None:
    entry = LogEntry(7, "audit", "ab" * 32, 2800, "2026-01-01T00:00:00.000000Z", "SHA256:x", b"s")
    data = entry.encode()
    assert parse_entry(data, where="e") == entry == _parse_entry(data, where="e")
    broken = data.replace(base64.b64encode(b"s"), b"cw")
    assert _outcome(parse_entry, broken) == _outcome(_parse_entry, broken)
    assert _outcome(parse_entry, broken)[0] == "error"
