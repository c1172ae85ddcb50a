"""``bias-ledger export --cyclonedx FILE``: per-group metrics as a CycloneDX model card."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bias_ledger.errors import InputError


def run_export_cyclonedx(
    output: Path,
    indexes: Sequence[int],
    model: str | None,
    ledger: Path | None,
    *,
    json_output: bool,
) -> None:
    from bias_ledger.cli.output import out, print_json
    from bias_ledger.ledger.reader import resolve_ledger_path
    from bias_ledger.workflows.export import export_cyclonedx_file

    if len(indexes) > 1:
        raise InputError("export --cyclonedx: expected at most one record index")
    card = export_cyclonedx_file(
        resolve_ledger_path(ledger), output, index=indexes[0] if indexes else None, model=model
    )
    if json_output:
        print_json(card.to_json())
        return
    out().print(
        f"wrote {output}: CycloneDX {card.spec_version} model card of record {card.record} "
        f"({card.metrics} per-group metrics)",
        markup=False,
    )
