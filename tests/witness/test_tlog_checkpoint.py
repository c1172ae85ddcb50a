"""C2SP checkpoint bodies: one spelling per checkpoint, everything else refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bias_ledger.errors import VerificationError
from bias_ledger.ledger.tlog_checkpoint import Checkpoint, parse_checkpoint

ROOT = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
SPEC_EXAMPLE = f"example.com/behind-the-sofa\n20852163\n{ROOT}\n"

lines = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)


@settings(max_examples=80, deadline=None)
@given(
    origin=lines,
    size=st.integers(0, 2**63 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(lines, max_size=3),
)
def test_format_then_parse_round_trips(
    origin: str, size: int, root: bytes, extensions: list[str]
) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    assert parse_checkpoint(checkpoint.text()) == checkpoint
    assert parse_checkpoint(checkpoint.text()).text() == checkpoint.text()


def test_the_spec_example_parses() -> None:
    checkpoint = parse_checkpoint(SPEC_EXAMPLE)
    assert (checkpoint.origin, checkpoint.size, checkpoint.extensions) == (
        "example.com/behind-the-sofa",
        20852163,
        (),
    )
    assert checkpoint.text() == SPEC_EXAMPLE


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SPEC_EXAMPLE.replace("20852163", "020852163"), "leading zeroes"),
        (SPEC_EXAMPLE.replace("20852163", "+20852163"), "decimal size"),
        (SPEC_EXAMPLE.replace("20852163", "20_852_163"), "decimal size"),
        (SPEC_EXAMPLE.replace("20852163", "\u0662\u0660"), "decimal size"),
        (SPEC_EXAMPLE.replace("20852163", " 20852163"), "decimal size"),
        (SPEC_EXAMPLE.replace("20852163", str(2**63)), "at most 2\\*\\*63-1"),
        (SPEC_EXAMPLE.replace(ROOT, ROOT[:-1]), "base64"),
        (SPEC_EXAMPLE.replace(ROOT, ROOT.replace("2I=", "2J=")), "canonical"),
        (SPEC_EXAMPLE.replace(ROOT, "AAAA"), "32-byte root hash"),
        (SPEC_EXAMPLE[:-1], "newline"),
        (SPEC_EXAMPLE + "\n", "non-empty extension line 4"),
        (SPEC_EXAMPLE + "ext\n\nmore\n", "non-empty extension line 5"),
        ("\n" + SPEC_EXAMPLE[SPEC_EXAMPLE.index("\n") + 1 :], "non-empty origin"),
        ("example.com/log\n5\n", "got 2 line"),
        (SPEC_EXAMPLE.replace("sofa", "so\tfa"), "control character"),
    ],
)
def test_malformed_checkpoints_are_refused(text: str, message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        parse_checkpoint(text)


def test_constructing_an_impossible_checkpoint_fails() -> None:
    with pytest.raises(VerificationError, match="32-byte"):
        Checkpoint("o", 1, b"short")
    with pytest.raises(VerificationError, match="tree size"):
        Checkpoint("o", -1, bytes(32))
    with pytest.raises(VerificationError, match="origin"):
        Checkpoint("two\nlines", 1, bytes(32))
    with pytest.raises(VerificationError, match="extension"):
        Checkpoint("o", 1, bytes(32), ("",))
