"""Audit inputs with score and regression columns, for the engine tests."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tests.engines.data import frame


def scored(seed: int, rows: int, *, missing: bool = False) -> pa.Table:
    """:func:`frame` plus a probability, a logit, a discrete grade and a regression target."""
    rng = np.random.default_rng(seed)
    table = frame(seed, rows, missing=missing)
    label = np.asarray(table.column("label").fill_null(0).to_numpy(), dtype=bool)
    logit = rng.normal(0, 1.5, rows) + 1.2 * label
    target = rng.gamma(2.0, 20.0, rows)
    columns = {
        "probability": 1 / (1 + np.exp(-logit)),
        "logit": logit,
        "grade": np.round(1 / (1 + np.exp(-logit)), 1),
        "target": target,
        "estimate": target + rng.normal(0, 5, rows),
    }
    for name, values in columns.items():
        array = pa.array(values)
        if missing and name in ("logit", "estimate"):
            array = pa.array(values, mask=rng.random(rows) < 0.01)
        table = table.append_column(name, array)
    return table
