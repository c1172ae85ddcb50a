"""A large CSV is read as two halves in parallel: the same data, and the same errors, as one
streaming reader gives (PARALLEL_BYTES is lowered so that small files take that path)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import bias_ledger.io.csv_ranges as csv_ranges
from bias_ledger.errors import InputError
from bias_ledger.io.load import load_audit_data
from bias_ledger.io.model import ColumnMapping

MAPPING = ColumnMapping(label="label", prediction="pred", sensitive=("group", "band"))


def _write(path: Path, rows: int, *, bad_row: int | None = None) -> Path:
    rng = np.random.default_rng(5)
    groups = ["north", "south", "east", "west"]
    lines = ["id,note,group,band,label,pred"]
    for i in range(rows):
        # The second half sees groups (and an integer width) the first half never saw.
        group = groups[i % 2] if i < rows // 2 else groups[2 + i % 2]
        band = int(rng.integers(0, 3)) + (300 if i >= rows // 2 else 0)
        label = "x" if i == bad_row else str(int(rng.integers(0, 2)))
        lines.append(f'{i},"free text, with a comma",{group},{band},{label},{i % 2}')
    path.write_text("\n".join(lines) + "\n")
    return path


def _load(path: Path, *, parallel: bool, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setattr(csv_ranges, "PARALLEL_BYTES", 1 if parallel else 1 << 62)
    return load_audit_data(path, mapping=MAPPING)


def test_two_halves_give_the_data_of_one_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "big.csv", 40_000)
    one = _load(path, parallel=False, monkeypatch=monkeypatch)
    two = _load(path, parallel=True, monkeypatch=monkeypatch)
    assert np.array_equal(one.y_true, two.y_true)  # type: ignore[attr-defined]
    assert np.array_equal(one.y_pred, two.y_pred)  # type: ignore[attr-defined]
    for a, b in zip(one.sensitive, two.sensitive, strict=True):  # type: ignore[attr-defined]
        assert a.categories == b.categories
        assert np.array_equal(a.codes, b.codes)
    assert two.sensitive[0].categories == ("east", "north", "south", "west")  # type: ignore[attr-defined]
    assert one.inputs == two.inputs  # type: ignore[attr-defined]


def test_a_bad_value_in_the_second_half_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "bad.csv", 40_000, bad_row=35_000)
    with pytest.raises(InputError, match=r"bad\.csv: cannot read as csv"):
        _load(path, parallel=True, monkeypatch=monkeypatch)


def test_split_point_is_after_a_newline(tmp_path: Path) -> None:
    path = _write(tmp_path / "s.csv", 1_000)
    data = path.read_bytes()
    point = csv_ranges._split_point(path, len(data))
    assert point is not None and data[point - 1 : point] == b"\n"
    assert point >= len(data) // 2
