"""The add-checkpoint body codec: round trips and the exact spellings it refuses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bias_ledger.errors import VerificationError
from bias_ledger.witness.protocol import (
    AddCheckpoint,
    format_size_body,
    parse_add_checkpoint,
    parse_size_body,
)

NOTE = f"example.com/log\n1\n{'A' * 43}=\n\n— example.com/log AAAA\n".encode()


@given(
    old=st.integers(0, 2**63 - 1),
    proof=st.lists(st.binary(min_size=32, max_size=32), max_size=63),
)
def test_round_trip(old: int, proof: list[bytes]) -> None:
    request = AddCheckpoint(old, tuple(proof), NOTE)
    assert parse_add_checkpoint(request.encode()) == request
    assert parse_size_body(format_size_body(old)) == old


@pytest.mark.parametrize(
    "body",
    [b"old 1", b"old -1\n\n", b"old 1 \n\n", b"Old 1\n\n", b"old 1\nAAAA\n\n", b"old 1\n\xff\n\n"],
    ids=repr,
)
def test_malformed_bodies(body: bytes) -> None:
    with pytest.raises(VerificationError):
        parse_add_checkpoint(body + NOTE)


def test_more_than_63_hashes_are_neither_sent_nor_read() -> None:
    with pytest.raises(VerificationError, match="at most 63"):
        AddCheckpoint(1, (bytes(32),) * 64, NOTE).encode()
    body = AddCheckpoint(1, (bytes(32),) * 63, NOTE).encode()
    with pytest.raises(VerificationError, match="at most 63"):
        parse_add_checkpoint(body.replace(b"old 1\n", b"old 1\n" + body.split(b"\n")[1] + b"\n"))


@pytest.mark.parametrize("body", [b"7", b"07\n", b"7\n\n", b"-7\n", b""], ids=repr)
def test_malformed_size_bodies(body: bytes) -> None:
    with pytest.raises(VerificationError):
        parse_size_body(body)
