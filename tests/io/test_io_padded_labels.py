"""Values padded with spaces, as in the UCI Adult data (" >50K"): named, never guessed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bias_ledger.errors import InputError
from bias_ledger.io.load import load_audit_data
from bias_ledger.io.model import ColumnMapping


def test_a_padded_positive_label_is_suggested_not_guessed(tmp_path: Path) -> None:
    data = tmp_path / "adult.csv"
    rows = [" <=50K", " >50K", " >50K", " <=50K"]
    data.write_text("income,pred,sex\n" + "".join(f"{v},{v},F\n" for v in rows))
    mapping = ColumnMapping(label="income", prediction="pred", pos_label=">50K", sensitive=("sex",))
    with pytest.raises(InputError, match=r"did you mean ' >50K' \(with its spaces\)\?"):
        load_audit_data(data, mapping=mapping)
    exact = ColumnMapping(label="income", prediction="pred", pos_label=" >50K", sensitive=("sex",))
    loaded = load_audit_data(data, mapping=exact)
    assert loaded.y_true.tolist() == [False, True, True, False]
    assert loaded.positive_label == " >50K"
