"""The one canonical encoder: RFC 8785 (JSON Canonicalization Scheme) bytes.

Everything bias-ledger hashes or signs is first turned into bytes here and nowhere else.
Floats are serialised as ECMAScript shortest round-trip numbers, so they decode to the same
IEEE 754 double; NaN and Infinity are refused by construction.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.json_depth import RECORD_DEPTH, nested_deeper

JSONValue = None | bool | int | float | str | Sequence["JSONValue"] | Mapping[str, "JSONValue"]


class CanonicalEncodingError(VerificationError):
    """A value cannot be encoded canonically, or stored bytes are not canonical."""


def encode(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a JSON-compatible value.

    Raises :class:`CanonicalEncodingError` for NaN, Infinity, integers outside the IEEE 754
    safe range, non-string keys and anything that is not JSON.
    """
    # Imported here: verifiers only parse stored bytes and never need the encoder.
    import rfc8785

    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise CanonicalEncodingError(f"cannot encode value canonically: {exc}") from exc


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)  # built in C; the names are compared only when one repeats
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise CanonicalEncodingError(f"duplicate key {key!r}")
            seen.add(key)
    return result


def _reject_constant(name: str) -> Any:
    raise CanonicalEncodingError(f"non-JSON number {name} is not allowed")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: Infinity without its name
        shown = text if len(text) <= 24 else f"{text[:20]}..."
        raise CanonicalEncodingError(f"number {shown} is beyond the range of a double")
    return value


_STRICT = json.JSONDecoder(object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
"""The strict decoder, made once (``json.loads`` with options makes one per call)."""
_FINITE = json.JSONDecoder(
    object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant, parse_float=_finite_float
)
"""The strict decoder that also checks every float, for bytes :data:`_HUGE` finds (a hook per
float is slow, so only for them)."""
_HUGE = re.compile(rb"[eE][+-]?0*[0-9]{3}|[0-9]{300}")
"""What a number beyond a double's range (about 1.8e308) needs: a 3-digit exponent or 300
digits; a false alarm only costs the slower decoder."""
_DIGIT_LIMIT = "Exceeds the limit"
"""How Python's integer digit limit (4300 by default) says an integer was refused."""


def parse_json(data: bytes, *, where: str = "value") -> Any:
    """Parse JSON strictly: unique keys, no NaN or Infinity, UTF-8; not checked for canonical
    form (verifiers hash the stored bytes and need not re-encode them).

    ``where`` names the thing being parsed (a file and record) for the error message. Arrays
    and objects nested more than :data:`~bias_ledger.ledger.json_depth.RECORD_DEPTH` deep are
    refused: whatever reads the value next (a renderer, a comparison) recurses once per level.
    """
    try:
        text = data.decode("utf-8")
        if text.startswith("\ufeff"):  # as json.loads refuses it, with its message
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        value = (_FINITE if _HUGE.search(data) else _STRICT).decode(text)
    except CanonicalEncodingError as exc:
        raise CanonicalEncodingError(f"{where}: record is not valid JSON ({exc.message})") from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an integer too long
        detail = (
            f"an integer of more than {sys.get_int_max_str_digits()} digits"
            if str(exc).startswith(_DIGIT_LIMIT)
            else str(exc)
        )
        raise CanonicalEncodingError(f"{where}: record is not valid JSON ({detail})") from exc
    except RecursionError:
        # A hostile record of 100 000 nested brackets: refused, never an internal error.
        raise CanonicalEncodingError(
            f"{where}: record is not valid JSON (values nested too deeply to parse)"
        ) from None
    if nested_deeper(data, RECORD_DEPTH):
        raise CanonicalEncodingError(
            f"{where}: record is not valid JSON (arrays and objects nested more than "
            f"{RECORD_DEPTH} deep)"
        )
    return value


def decode(data: bytes, *, where: str = "value") -> Any:
    """Parse canonical bytes, refusing anything that is not byte-for-byte canonical."""
    value = parse_json(data, where=where)
    if encode(value) != data:
        raise CanonicalEncodingError(
            f"{where}: bytes are not in RFC 8785 canonical form (expected the canonical "
            "re-encoding, found different bytes)"
        )
    return value
