"""The one reader of TOML text: the policy file, the audit config, the witness's ``--logs`` file.

``tomllib`` parses nested arrays and inline tables by recursion, so ``a = [[[[...`` 100,000 deep
raises RecursionError (an internal error, not a message), and a key of many dotted parts takes
time and memory with the square of their number. Every TOML read goes through
:func:`parse_toml`, which turns both, as any other malformed TOML, into one line naming the
file.
Standard library only.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from bias_ledger.errors import BiasLedgerError

MAX_KEY_PARTS = 128
"""The most dotted parts a key may have: tomllib's time and memory grow with the square of
them (10,000 parts take 400 MB; 100,000 get the process killed), and no file this tool reads
has keys of more than a few."""
_DOTTED = re.compile(
    r"(?:(?:[A-Za-z0-9_-]+|\"[^\"\n]*\"|'[^'\n]*')[ \t]*\.[ \t]*)" + f"{{{MAX_KEY_PARTS}}}"
)


def parse_toml(text: str, *, source: str, error: type[BiasLedgerError]) -> dict[str, Any]:
    """The TOML document ``text``; ``error`` (naming ``source``) when it is not TOML or is
    nested too deeply for the parser.

    MemoryError is not caught: TOML has no references or aliases, so a document is never much
    larger than its text; a file too large for memory already fails as it is read.
    """
    if _DOTTED.search(text):
        raise error(
            f"{source}: not valid TOML this tool reads: a dotted key of more than "
            f"{MAX_KEY_PARTS} parts (expected keys of a few parts)"
        )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise error(
            f"{source}: not valid TOML: arrays or inline tables nested too deeply to be TOML "
            "this tool reads (expected a few levels of nesting)"
        ) from None
