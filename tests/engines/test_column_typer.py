"""The arrow engine's starting CSV types (ArrowTyping) are a frozen value; the types decided
while converting query results live in a ColumnTyper, one per read of an input."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow as pa
import pytest

from bias_ledger.engines.csv_text import ArrowTyping, ColumnTyper, arrow_typing
from bias_ledger.io import formats
from bias_ledger.io.model import FileFormat


def test_starting_types_are_immutable_and_decided_types_are_the_typers(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("group,label\n1,1\n2,0\n")
    start = arrow_typing([data], ["group", "label"], default_na=True, where=str(data))
    assert not any(f.name == "decided" for f in dataclasses.fields(ArrowTyping))
    with pytest.raises(dataclasses.FrozenInstanceError):
        start.where = "elsewhere"  # type: ignore[misc]

    typer = start.typer()
    assert isinstance(typer, ColumnTyper) and typer.decided == {}
    first = typer.typed(pa.table({"group": ["1", "2"], "label": ["1", "0"]}))
    assert first.column("group").to_pylist() == [1, 2]
    # A later query finds 2.5: the group column widens to double, and stays so.
    later = typer.typed(pa.table({"group": ["2.5", "3"], "label": ["0", "1"]}))
    assert later.column("group").to_pylist() == [2.5, 3.0]
    assert pa.types.is_floating(typer.decided["group"].type)
    assert pa.types.is_floating(typer.typed(pa.table({"group": ["4"]})).column("group").type)
    schema = typer.schema(formats.reader_for(FileFormat.CSV).schema(data, default_na=True))
    assert pa.types.is_floating(schema.field("group").type)
    # Another read starts again from the (unchanged) starting types.
    assert start.typer().decided == {} and pa.types.is_integer(start.first["group"].type)
