"""``bias-ledger report RECORD|BUNDLE -o FILE.html|FILE.md``: the audit report, after verifying."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bias_ledger.cli.options import LedgerOption, TrustedKeyOption, TrustedKeysOption
from bias_ledger.cli.output import out
from bias_ledger.errors import InputError


def report(
    target: Annotated[
        str,
        typer.Argument(
            help="A record index of --ledger, or a bundle (.zip or .tar) to report from.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Report file: .html or .md (by extension).", show_default=False
        ),
    ],
    ledger: LedgerOption = None,
    trusted_keys: TrustedKeysOption = None,
    trusted_key: TrustedKeyOption = None,
    summary: Annotated[
        str | None,
        typer.Option(
            "--summary",
            help="Instead, the published summary a rule asks for: nyc-ll144 (record N).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write the audit report of record N (or of a bundle), verified first; exit 3 if not valid.

    A record is verified with its ledger (integrity; and trust with --trusted-keys); a bundle
    as 'bias-ledger verify BUNDLE' does (--trusted-keys required). With --summary nyc-ll144,
    the LL144 published summary of record N instead.
    """
    if summary is not None:
        from bias_ledger.cli.summary_cmd import run_summary

        run_summary(
            target,
            output,
            ledger,
            summary=summary,
            trusted_keys=trusted_keys,
            trusted_key=trusted_key or (),
        )
        return
    from bias_ledger.bundle.report_source import bundle_report_data, ledger_record_data
    from bias_ledger.cli.verify_view import load_trust
    from bias_ledger.ledger.digits import record_index
    from bias_ledger.ledger.reader import resolve_ledger_path
    from bias_ledger.render.formats import AUDIT_REPORT

    chosen = AUDIT_REPORT.for_path(output, option="report -o")  # before anything is read
    from bias_ledger.outputs import check_output_path, write_output

    path = resolve_ledger_path(ledger)
    check_output_path(output, ledger=path, what="report -o")  # before anything is read
    if not output.parent.is_dir():
        raise InputError(f"{output.parent}: no such directory for the report")
    trusted = load_trust(trusted_keys, trusted_key or [])
    assert chosen.render is not None
    index = record_index(target, what="report")
    if index is not None:
        data = ledger_record_data(path, index, trusted)
        write_output(output, chosen.render(data), ledger=path, what="report -o", parents=False)
    elif Path(target).is_file():
        with bundle_report_data(Path(target), trusted) as data:
            rendered = chosen.render(data)
        write_output(output, rendered, ledger=path, what="report -o", parents=False)
    else:
        raise InputError(f"{target}: expected a record index or a bundle file")
    out().print(f"report written to {output} ({data.verified})", markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command()(report)
