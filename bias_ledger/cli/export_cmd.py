"""``bias-ledger export``: write a bundle of selected records that verifies offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bias_ledger.cli.options import JsonOption, LedgerOption
from bias_ledger.cli.output import listed_records, out, print_json
from bias_ledger.errors import InputError


def export(
    indexes: Annotated[
        list[int] | None,
        typer.Argument(
            help="Record indexes to export (see 'bias-ledger log').", show_default=False
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="The bundle file to write (a tar of format 3, else a zip).",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Every audit of this model name.", show_default=False)
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Every record written since this UTC date or date-time.", show_default=False
        ),
    ] = None,
    everything: Annotated[bool, typer.Option("--all", help="Every record.")] = False,
    consistent_with: Annotated[
        Path | None,
        typer.Option(
            help="A checkpoint kept earlier: include a proof that the ledger extends it.",
            show_default=False,
        ),
    ] = None,
    bundle_format: Annotated[
        int | None,
        typer.Option(
            "--bundle-format",
            help="Bundle format of a format-2 ledger: 3 (a tar written and verified as a "
            "stream, any number of records; the default unless -o ends in .zip) or 2 (the zip "
            "of earlier releases, at most 21,843 records; the default for -o FILE.zip).",
            show_default=False,
        ),
    ] = None,
    ledger: LedgerOption = None,
    json_output: JsonOption = False,
    cyclonedx: Annotated[
        Path | None,
        typer.Option(
            "--cyclonedx",
            help="Instead, write the model's per-group metrics as a CycloneDX 1.6 model card "
            "(of record N, else the latest audit, of --model if given).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Export records with inclusion proofs, the signed checkpoint and reports, to one file."""
    from bias_ledger.ledger.reader import resolve_ledger_path
    from bias_ledger.workflows.export import export_bundle_file

    if cyclonedx is not None:
        from bias_ledger.cli.cyclonedx_cmd import run_export_cyclonedx

        run_export_cyclonedx(cyclonedx, indexes or [], model, ledger, json_output=json_output)
        return
    if output is None:
        raise InputError("export: expected -o FILE, the bundle to write")
    result = export_bundle_file(
        resolve_ledger_path(ledger),
        output,
        indexes=indexes or (),
        model=model,
        since=since,
        everything=everything,
        consistent_with=consistent_with,
        bundle_version=bundle_format,
    )
    if json_output:
        print_json(result.to_json())
        return
    out().print(
        f"wrote {output} ({result.size} bytes): {listed_records(result.records)} "
        f"with inclusion proofs in the checkpoint of size {result.checkpoint_size}",
        markup=False,
    )
    if result.consistency is not None:
        out().print(
            f"with a consistency proof from size {result.consistency['old_size']} "
            f"({consistent_with})",
            markup=False,
        )
    out().print(f"verify it with: bias-ledger verify {output} --trusted-keys FILE", markup=False)


def register(app: typer.Typer) -> None:
    app.command()(export)
