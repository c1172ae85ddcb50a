"""The strict record parser (one decoder made once) against the reference it must equal:
``json.loads`` of the UTF-8 text with the duplicate, constant and finite-float hooks (a number
beyond a double's range, such as ``-1E309``, is refused, not read as infinity), for canonical
records, other spellings of them, and byte mutations (the same value or the same error)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bias_ledger.ledger import canonical
from bias_ledger.ledger.canonical import CanonicalEncodingError, parse_json

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53) + 1, 2**53 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


def _reference(data: bytes) -> tuple[str, Any]:
    try:
        return "value", json.loads(
            data.decode("utf-8"),
            object_pairs_hook=canonical._reject_duplicates,
            parse_constant=canonical._reject_constant,
            parse_float=canonical._finite_float,
        )
    except CanonicalEncodingError as exc:
        return "error", f"w: record is not valid JSON ({exc.message})"
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return "error", f"w: record is not valid JSON ({exc})"


def _parsed(data: bytes) -> tuple[str, Any]:
    try:
        return "value", parse_json(data, where="w")
    except CanonicalEncodingError as exc:
        return "error", exc.message


@settings(max_examples=300, deadline=None)
@given(_VALUES, st.data())
@example({"a": 1}, None)
def test_the_strict_parser_equals_its_reference(value: Any, draw: st.DataObject) -> None:
    data = canonical.encode(value)
    candidates = [
        data,
        b"\xef\xbb\xbf" + data,
        json.dumps(value, indent=1).encode(),
        b'{"k":1,' + data[1:] if data.startswith(b"{") and data != b"{}" else data,
        b'{"k":1,"k":' + data + b"}",
        b"[" + data + b",NaN,-Infinity]",
        b"[" + data + b",-1E309]",
    ]
    if draw is not None:
        position = draw.draw(st.integers(0, len(data)))
        byte = draw.draw(st.integers(0, 255)).to_bytes(1, "big")
        candidates += [data[:position] + byte + data[position + 1 :], data[:position] + byte]
    for candidate in candidates:
        assert _parsed(candidate) == _reference(candidate), candidate
