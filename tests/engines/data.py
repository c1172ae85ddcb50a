"""Varied audit inputs written in every format the engines read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.dataset as ds
import pyarrow.json  # noqa: F401  (registers the JSON reader used by the arrow engine)
import pyarrow.parquet as pq


def frame(seed: int, rows: int, *, missing: bool = False) -> pa.Table:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male", "nonbinary"], size=rows, p=[0.46, 0.46, 0.08])
    region = rng.choice([3, 1, 2, 10], size=rows)
    label = rng.random(rows) < 0.35 + 0.3 * (sex == "male")
    prediction = rng.random(rows) < np.where(label, 0.75, 0.3)
    klass = rng.choice(["low", "mid", "high"], size=rows)
    guess = np.where(rng.random(rows) < 0.6, klass, rng.choice(["low", "mid", "high"], size=rows))
    answer = np.where(label, "yes", "no")
    columns = {
        "id": rng.permutation(rows) + 1000,
        "label": label.astype(np.int64),
        "answer": answer,
        "prediction": prediction.astype(np.int64),
        "sex": sex,
        "region": region,
        "klass": klass,
        "guess": guess,
    }
    table = pa.table(columns)
    if missing:
        mask = rng.random(rows) < 0.02
        sex_values = pa.array(
            [None if hidden else str(value) for hidden, value in zip(mask, sex, strict=True)],
            type=pa.string(),
        )
        table = table.set_column(table.schema.get_field_index("sex"), "sex", sex_values)
        gone = rng.random(rows) < 0.01
        label_values = pa.array(
            [None if g else int(v) for g, v in zip(gone, label, strict=True)], type=pa.int64()
        )
        table = table.set_column(table.schema.get_field_index("label"), "label", label_values)
    return table


def write(table: pa.Table, path: Path) -> Path:
    name = path.name
    if name.endswith(".parquet"):
        pq.write_table(table, path, row_group_size=max(1, table.num_rows // 3))
    elif name.endswith(".csv") or name.endswith(".csv.gz"):
        if name.endswith(".gz"):
            with pa.CompressedOutputStream(str(path), "gzip") as sink:
                pcsv.write_csv(table, sink)
        else:
            pcsv.write_csv(table, path)
    elif name.endswith(".jsonl"):
        import json

        with path.open("w") as handle:
            for row in table.to_pylist():
                handle.write(json.dumps(row) + "\n")
    else:
        raise ValueError(name)
    return path


def hive_directory(table: pa.Table, root: Path, by: str) -> Path:
    """A hive-partitioned Parquet directory (``by=value/part-0.parquet``) of ``table``."""
    ds.write_dataset(
        table,
        root,
        format="parquet",
        partitioning=ds.partitioning(pa.schema([table.schema.field(by)]), flavor="hive"),
        existing_data_behavior="overwrite_or_ignore",
    )
    (root / "_SUCCESS").write_text("")
    return root
