"""Export: a bundle of selected records that verifies offline, or a CycloneDX model card.

The ledger is verified (integrity) before anything of it is exported, by the bundle writers of
format 1 (:mod:`bias_ledger.bundle.export`) and format 2 (:mod:`bias_ledger.bundle.export2`);
the file is written through :mod:`bias_ledger.outputs`, so it never lands inside a ledger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, cast

from bias_ledger.errors import InputError


@dataclass(frozen=True)
class Exported:
    """A bundle written: where, its digest, and what it holds."""

    path: Path
    size: int
    """Bytes written."""
    blake3: str
    """Hex BLAKE3-256 of the file."""
    origin: str
    records: Sequence[int]
    """The indexes of the records the bundle holds (with inclusion proofs)."""
    checkpoint_size: int
    checkpoint_root: str
    consistency: Mapping[str, Any] | None = None
    """The consistency proof from ``consistent_with``'s tree, as ``consistency.json`` holds it."""

    def to_json(self) -> dict[str, Any]:
        """The document ``bias-ledger export --json`` prints."""
        return {
            "path": str(self.path),
            "bytes": self.size,
            "blake3": self.blake3,
            "origin": self.origin,
            "records": list(self.records),
            "checkpoint": {"size": self.checkpoint_size, "root_hash": self.checkpoint_root},
            "consistency": None if self.consistency is None else dict(self.consistency),
        }

    def __repr__(self) -> str:
        return (
            f"<Exported {self.path}: records {', '.join(map(str, self.records))} of "
            f"{self.origin}, checkpoint size {self.checkpoint_size}, blake3 {self.blake3[:16]}>"
        )


def _since(value: str | datetime | None) -> datetime | None:
    from datetime import UTC

    from bias_ledger.bundle.export import parse_since

    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    return parse_since(value)


def _default_version(ledger_format: int, output: Path) -> int:
    """A format-2 ledger's bundle is format 3 (a tar, streamed) unless the output is named
    ``.zip``: the zip of format 2, as earlier releases wrote it; a format-1 ledger's is 1."""
    if ledger_format != 2:
        return 1
    return 2 if output.suffix.lower() == ".zip" else 3


def export_bundle_file(
    ledger: Path,
    output: Path,
    *,
    indexes: Sequence[int] = (),
    model: str | None = None,
    since: str | datetime | None = None,
    everything: bool = False,
    consistent_with: Path | None = None,
    bundle_version: int | None = None,
) -> Exported:
    """Write the bundle of exactly one selection (record ``indexes``, every audit of
    ``model``, every record ``since`` a UTC date or time, or ``everything``) to ``output``.

    ``bundle_version``: a format-2 ledger's bundle is version 3 (a tar, streamed, any size)
    unless 2 is asked for or ``output`` is named ``.zip``; a format-1 ledger's is version 1."""
    import blake3

    from bias_ledger.bundle.export import Selection, export_bundle
    from bias_ledger.ledger.reader import read_meta
    from bias_ledger.outputs import check_output_path, write_output

    check_output_path(output, ledger=ledger, what="export -o")
    chosen = [bool(indexes), model is not None, since is not None, everything]
    if sum(chosen) != 1:
        raise InputError("export: expected exactly one of: record indexes, --model, --since, --all")
    selection = Selection(
        indexes=tuple(indexes), model=model, since=_since(since), everything=everything
    )
    ledger_format = read_meta(ledger).format_version
    wanted = bundle_version or _default_version(ledger_format, output)
    if wanted not in ((2, 3) if ledger_format == 2 else (1,)):
        known = "2 or 3" if ledger_format == 2 else "1"
        raise InputError(
            f"--bundle-format {wanted}: a format-{ledger_format} ledger exports bundle "
            f"format {known}"
        )
    if wanted == 3 and output.suffix.lower() == ".zip":
        raise InputError(
            f"{output}: a bundle of format 3 is a tar archive: name it .tar, or pass "
            "--bundle-format 2 for the zip (at most 21,843 records)"
        )
    if wanted == 3:
        return _export_streamed(ledger, output, selection, consistent_with)
    if ledger_format == 2:
        return _export_zip_streamed(ledger, output, selection, consistent_with)
    result = export_bundle(ledger, selection, consistent_with=consistent_with)
    write_output(output, result.data, ledger=ledger, what="export -o")
    return Exported(
        path=output,
        size=len(result.data),
        blake3=blake3.blake3(result.data).hexdigest(),
        origin=result.manifest.origin,
        records=tuple(item.index for item in result.manifest.records),
        checkpoint_size=result.manifest.checkpoint_size,
        checkpoint_root=result.manifest.checkpoint_root,
        consistency=None if result.consistency is None else result.consistency.to_json(),
    )


class _Digesting:
    """A binary stream that also counts and BLAKE3-hashes what goes through it."""

    def __init__(self, out: BinaryIO) -> None:
        import blake3

        self.out, self.size, self.hasher = out, 0, blake3.blake3()

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.hasher.update(data)
        self.size += len(data)
        return len(data)


def _written(output: Path, stream: _Digesting, done: Any, records: Sequence[int]) -> Exported:
    """What a streamed export wrote: ``done.manifest`` (version 2 or 3) and
    ``done.consistency``."""
    manifest = done.manifest
    return Exported(
        path=output,
        size=stream.size,
        blake3=stream.hasher.hexdigest(),
        origin=manifest.origin,
        records=records,
        checkpoint_size=manifest.checkpoint_size,
        checkpoint_root=manifest.checkpoint_root,
        consistency=None if done.consistency is None else done.consistency.to_json(),
    )


def _export_streamed(
    ledger: Path, output: Path, selection: Any, consistent_with: Path | None
) -> Exported:
    """A version-3 bundle of a format-2 ledger, written as it is read."""
    from bias_ledger.bundle.export3 import Exported3, export_bundle_v3
    from bias_ledger.ledger.index_runs import IndexRanges
    from bias_ledger.outputs import write_output_stream

    def produce(out: BinaryIO) -> tuple[Exported3, _Digesting]:
        stream = _Digesting(out)
        done = export_bundle_v3(
            ledger, selection, cast(BinaryIO, stream), consistent_with=consistent_with
        )
        return done, stream

    done, stream = write_output_stream(output, produce, ledger=ledger, what="export -o")
    return _written(output, stream, done, IndexRanges(done.manifest.ranges))


def _export_zip_streamed(
    ledger: Path, output: Path, selection: Any, consistent_with: Path | None
) -> Exported:
    """A version-2 bundle (the zip) of a format-2 ledger, written member by member to a
    temporary file (zipfile seeks back into each member's header), then copied to ``output``."""
    import tempfile

    from bias_ledger.bundle.export2 import Exported2, write_bundle_v2
    from bias_ledger.outputs import write_output_stream

    def produce(out: BinaryIO) -> tuple[Exported2, _Digesting]:
        stream = _Digesting(out)
        with tempfile.TemporaryFile() as built:
            done = write_bundle_v2(ledger, selection, built, consistent_with=consistent_with)
            built.seek(0)
            while chunk := built.read(1 << 20):
                stream.write(chunk)
        return done, stream

    done, stream = write_output_stream(output, produce, ledger=ledger, what="export -o")
    records = tuple(item.index for item in done.manifest.records)
    return _written(output, stream, done, records)


@dataclass(frozen=True)
class ExportedModelCard:
    """A CycloneDX model card written: where, of which record, how many metrics."""

    path: Path
    record: int
    metrics: int
    spec_version: str

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "record": self.record, "metrics": self.metrics}


def export_cyclonedx_file(
    ledger: Path, output: Path, *, index: int | None = None, model: str | None = None
) -> ExportedModelCard:
    """Write the CycloneDX 1.6 model card of audit record ``index`` (default: the latest
    audit, of ``model`` if named) to ``output``."""
    import json

    from bias_ledger.exports.cyclonedx import export_cyclonedx
    from bias_ledger.outputs import check_output_path, write_output
    from bias_ledger.render.formats import CYCLONEDX
    from bias_ledger.render.safe_text import json_safe

    CYCLONEDX.for_path(output, option="export --cyclonedx")
    check_output_path(output, ledger=ledger, what="export --cyclonedx")
    bom = export_cyclonedx(ledger, index, model=model)
    text = json_safe(json.dumps(bom, indent=2, ensure_ascii=False, allow_nan=False)) + "\n"
    write_output(output, text, ledger=ledger, what="export --cyclonedx")
    component = bom["components"][0]
    metrics = component["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    record = next(p["value"] for p in component["properties"] if p["name"].endswith("index"))
    return ExportedModelCard(output, int(record), len(metrics), str(bom["specVersion"]))
