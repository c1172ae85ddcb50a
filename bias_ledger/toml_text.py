"""The one reader of TOML text: the policy file, the audit config, the witness's ``--logs`` file.

``tomllib`` parses nested arrays and inline tables by recursion, so ``a = [[[[...`` 100,000 deep
raises RecursionError (an internal error, not a message). Every TOML read goes through
:func:`parse_toml`, which turns that, as any other malformed TOML, into one line naming the file.
Standard library only.
"""

from __future__ import annotations

import tomllib
from typing import Any

from bias_ledger.errors import BiasLedgerError


def parse_toml(text: str, *, source: str, error: type[BiasLedgerError]) -> dict[str, Any]:
    """The TOML document ``text``; ``error`` (naming ``source``) when it is not TOML or is
    nested too deeply for the parser.

    MemoryError is not caught: TOML has no references or aliases, so a document is never much
    larger than its text; a file too large for memory already fails as it is read.
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise error(
            f"{source}: not valid TOML: arrays or inline tables nested too deeply to be TOML "
            "this tool reads (expected a few levels of nesting)"
        ) from None
