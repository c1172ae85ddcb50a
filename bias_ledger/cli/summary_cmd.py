"""``bias-ledger report N --summary nyc-ll144 -o FILE.html|FILE.md``: the LL144 summary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bias_ledger.errors import InputError


def run_summary(
    target: str,
    output: Path,
    ledger: Path | None,
    *,
    summary: str,
    trusted_keys: Path | None = None,
    trusted_key: Sequence[str] = (),
) -> None:
    """Write the summary of ledger record ``target`` (an index) to ``output``, atomically."""
    from bias_ledger.cli.output import out
    from bias_ledger.cli.verify_view import load_trust
    from bias_ledger.exports.paths import refuse_inside_ledger
    from bias_ledger.ledger.files import write_atomically
    from bias_ledger.ledger.reader import resolve_ledger_path
    from bias_ledger.standards.ll144_publish import summary_text

    try:
        index = int(target)
    except ValueError:
        raise InputError(
            f"--summary {summary}: expected a record index of the ledger, got {target!r}"
        ) from None
    path = resolve_ledger_path(ledger)
    refuse_inside_ledger(output, path)
    trusted = load_trust(trusted_keys, trusted_key)
    text = summary_text(path, index, summary=summary, output=output, trusted=trusted)
    write_atomically(output, text.encode("utf-8"))
    out().print(f"wrote {output}: the {summary} summary of record {index}", markup=False)
