"""Bad inputs name the file, row and values once; valid inputs whose types change are read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.io.test_io_bad_input import fails


def test_ragged_row_names_data_row_and_line(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("y,pred,sex\n1,1,a\n0,0,b\n0,0,b,extra\n1,1,a\n")
    message = fails(path)
    assert "ragged.csv" in message
    assert "data row 3 (line 4 of the file)" in message
    assert "4 fields" in message and "expected 3" in message


def test_quoted_newline_counts_lines_not_rows(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text('y,pred,sex\n1,1,"a\nb"\n0,0\n')
    message = fails(path)
    assert "data row 2 (line 4 of the file)" in message


@pytest.mark.parametrize("values", [("yes", "no"), ("p", "q", "r")])
def test_text_label_lists_each_value_once(tmp_path: Path, values: tuple[str, ...]) -> None:
    path = tmp_path / "text.csv"
    rows = [f"{values[i % len(values)]},1,a" for i in range(12)]
    path.write_text("y,pred,sex\n" + "\n".join(rows) + "\n")
    message = fails(path)
    for value in values:
        assert message.count(repr(value)) == 1, message
    assert "row" in message


def test_text_label_names_only_the_unexpected_value_again(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("y,pred,sex\n1,1,a\n0,0,b\nmaybe,1,a\n")
    message = fails(path)
    assert message.count("'maybe'") == 2 and "row 3 " in message
