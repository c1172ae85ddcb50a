"""``bias-ledger report N --summary nyc-ll144 -o FILE.html|FILE.md``: the LL144 summary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from bias_ledger.cli.options import LedgerOption, TrustedKeyOption, TrustedKeysOption
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
    from bias_ledger.ledger.digits import record_index, shortened
    from bias_ledger.ledger.reader import resolve_ledger_path
    from bias_ledger.outputs import check_output_path, write_output
    from bias_ledger.standards.ll144_publish import summary_text

    index = record_index(target, what=f"--summary {summary}: record")
    if index is None:
        raise InputError(
            f"--summary {summary}: expected a record index of the ledger, got {shortened(target)!r}"
        )
    from bias_ledger.render.formats import LL144_SUMMARY

    LL144_SUMMARY.for_path(output, option="--summary -o")
    path = resolve_ledger_path(ledger)
    check_output_path(output, ledger=path, what="--summary -o")
    trusted = load_trust(trusted_keys, trusted_key)
    text = summary_text(path, index, summary=summary, output=output, trusted=trusted)
    write_output(output, text, ledger=path, what="--summary -o")
    out().print(f"wrote {output}: the {summary} summary of record {index}", markup=False)


def report_summary(
    target: Annotated[str, typer.Argument(help="The LL144 audit record's index.")],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="The summary page: .html or .md (by extension)."),
    ],
    summary: Annotated[str, typer.Option("--summary", help="Which published summary: nyc-ll144.")],
    ledger: LedgerOption = None,
    trusted_keys: TrustedKeysOption = None,
    trusted_key: TrustedKeyOption = None,
) -> None:
    """Write the published summary of audit record N (verified first)."""
    run_summary(
        target,
        output,
        ledger,
        summary=summary,
        trusted_keys=trusted_keys,
        trusted_key=trusted_key or (),
    )


def register(app: typer.Typer) -> None:
    """A ``report`` command for ``--summary`` only, unless the full ``report`` is registered
    (which then takes ``--summary`` itself)."""
    names = {(c.name or getattr(c.callback, "__name__", "")) for c in app.registered_commands}
    if "report" not in names:
        app.command("report")(report_summary)
