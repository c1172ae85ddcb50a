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
    from bias_ledger.cli.output import json_text, out, print_json
    from bias_ledger.exports.cyclonedx import export_cyclonedx
    from bias_ledger.exports.paths import refuse_inside_ledger
    from bias_ledger.ledger.files import write_atomically
    from bias_ledger.ledger.reader import resolve_ledger_path

    if len(indexes) > 1:
        raise InputError("export --cyclonedx: expected at most one record index")
    path = resolve_ledger_path(ledger)
    refuse_inside_ledger(output, path)
    bom = export_cyclonedx(path, indexes[0] if indexes else None, model=model)
    write_atomically(output, json_text(bom).encode("utf-8"))
    component = bom["components"][0]
    metrics = component["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    record = next(p["value"] for p in component["properties"] if p["name"].endswith("index"))
    if json_output:
        print_json({"path": str(output), "record": int(record), "metrics": len(metrics)})
        return
    out().print(
        f"wrote {output}: CycloneDX {bom['specVersion']} model card of record {record} "
        f"({len(metrics)} per-group metrics)",
        markup=False,
    )
