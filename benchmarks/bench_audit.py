"""Benchmark of the audit: our count-based engine against fairlearn's MetricFrame, and the
end-to-end ``bias-ledger audit`` against a bare pyarrow read of the same file.

Run: ``python benchmarks/bench_audit.py`` (a few minutes; fairlearn needs ~30 s per 1e6 rows).
Prints, for 1e5, 1e6 and 1e7 synthetic rows with 5 groups and with 40 intersectional groups
(5 x 8), the time of ``count_binary`` + ``compute_binary_metrics`` against ``MetricFrame`` on the
same four metrics, the ratio, and whether every number is identical. Then it writes 1e7-row CSV
and Parquet files to a temporary directory (never committed) and times, each in a fresh
process, ``bias-ledger audit --no-record`` and pyarrow reading the whole file and only the
audited columns, with peak memory against the in-memory size of the audited columns.

Last (or alone, with ``--small-only``): a 1,000-row audit with two sensitive features, recorded
(a signed record appended) and not, text and ``--json``, against the floors ``python -c pass``
and ``python -c "import pyarrow"``, all interleaved in one run (fresh process each; median
wall and CPU seconds, and the ratios to the floors, which vary less than the times on a shared
machine).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.metrics.counts import count_binary
from bias_ledger.metrics.engine import compute_binary_metrics
from bias_ledger.metrics.model import FeatureResult, MetricResults, SensitiveColumn

METRICS = ("selection_rate", "true_positive_rate", "false_positive_rate", "accuracy_score")
LAYOUTS = {"5 groups": (5,), "40 groups (5 x 8)": (5, 8)}


@dataclass(frozen=True)
class Data:
    """Synthetic labels, predictions and integer-coded sensitive features."""

    y_true: npt.NDArray[np.bool_]
    y_pred: npt.NDArray[np.bool_]
    features: dict[str, npt.NDArray[np.int64]]
    """Feature name to group codes (also the raw values given to fairlearn)."""


def make_data(rows: int, widths: tuple[int, ...], seed: int = 0) -> Data:
    rng = np.random.default_rng(seed)
    features = {}
    for index, width in enumerate(widths):
        # Unequal group sizes, as real sensitive features have.
        weights = np.arange(1, width + 1, dtype=float)
        features[f"s{index}"] = rng.choice(width, size=rows, p=weights / weights.sum())
    y_true = rng.random(rows) < 0.3
    group_shift = 0.05 * features["s0"]
    y_pred = rng.random(rows) < 0.2 + 0.3 * y_true + group_shift
    return Data(y_true, y_pred, {k: v.astype(np.int64) for k, v in features.items()})


def run_ours(data: Data) -> MetricResults:
    columns = [
        SensitiveColumn(name, codes, tuple(str(i) for i in range(int(codes.max()) + 1)))
        for name, codes in data.features.items()
    ]
    return compute_binary_metrics(count_binary(data.y_true, data.y_pred, columns))


def run_fairlearn(data: Data) -> Any:
    import pandas as pd
    import sklearn.metrics as skm
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    metrics = {
        "selection_rate": selection_rate,
        "true_positive_rate": true_positive_rate,
        "false_positive_rate": false_positive_rate,
        "accuracy_score": skm.accuracy_score,
    }
    return MetricFrame(
        metrics=metrics,
        y_true=data.y_true.astype(np.int64),
        y_pred=data.y_pred.astype(np.int64),
        sensitive_features=pd.DataFrame(data.features),
    )


def mismatches(ours: MetricResults, frame: Any) -> int:
    """How many by-group, overall and disparity numbers differ from fairlearn's (bit for bit)."""
    result: FeatureResult = ours.features[-1]
    by_group = frame.by_group.dropna(how="all")
    wrong = 0
    for item, (key, row) in zip(result.groups, by_group.iterrows(), strict=True):
        key = key if isinstance(key, tuple) else (key,)
        wrong += item.group != tuple(str(k) for k in key)
        wrong += sum(item.metrics[m].value != row[m] for m in METRICS)
    wrong += sum(ours.overall.metrics[m].value != frame.overall[m] for m in METRICS)
    for metric in METRICS:
        disparity = result.disparity(metric)
        for method in ("between_groups", "to_overall"):
            wrong += (
                getattr(disparity, f"{method}_difference").value
                != (frame.difference(method=method)[metric])
            )
            wrong += (
                getattr(disparity, f"{method}_ratio").value != (frame.ratio(method=method)[metric])
            )
    return int(wrong)


def best_time(function: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def engine_table(max_rows: int, fairlearn_max_rows: int) -> list[str]:
    lines = [
        f"{'rows':>10}  {'groups':<18} {'ours':>10} {'fairlearn':>11} {'ratio':>9}  identical",
    ]
    print(lines[0], flush=True)
    run_fairlearn(make_data(1000, (2,)))  # imports and first-call set-up are not timed
    rows = 100_000
    while rows <= max_rows:
        for layout, widths in LAYOUTS.items():
            data = make_data(rows, widths)
            ours_s, ours = best_time(partial(run_ours, data), repeats=3)
            if rows <= fairlearn_max_rows:
                theirs_s, frame = best_time(partial(run_fairlearn, data), repeats=1)
                wrong = mismatches(ours, frame)
                theirs = f"{theirs_s:10.2f}s"
                ratio = f"{theirs_s / ours_s:8.0f}x"
                same = "yes" if wrong == 0 else f"NO ({wrong} differ)"
            else:
                theirs, ratio, same = f"{'-':>11}", f"{'-':>9}", "-"
            lines.append(
                f"{rows:>10,}  {layout:<18} {ours_s * 1e3:8.1f}ms {theirs} {ratio}  {same}"
            )
            print(lines[-1], flush=True)
        rows *= 10
    return lines


AUDITED = ["label", "prediction", "region", "segment"]
# VmHWM, not ru_maxrss: the latter survives exec() and would report the parent's peak.
_MEASURE = """
import sys, time
start = time.perf_counter()
exec(sys.argv[1])
elapsed = time.perf_counter() - start
status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
print(elapsed, int(status) * 1024)
"""


def write_files(directory: Path, rows: int) -> tuple[Path, Path, int]:
    """A realistic wide-ish file: the audited columns plus six numeric features."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(7)
    data = make_data(rows, (5, 8), seed=7)
    regions = np.array(["north", "south", "east", "west", "centre"])
    segments = np.array([f"segment-{i}" for i in range(8)])
    table = pa.table(
        {
            "id": np.arange(rows, dtype=np.int64),
            **{f"x{i}": rng.normal(size=rows).round(4) for i in range(6)},
            "region": regions[data.features["s0"]],
            "segment": segments[data.features["s1"]],
            "label": data.y_true.astype(np.int8),
            "prediction": data.y_pred.astype(np.int8),
        }
    )
    used = table.select(AUDITED)
    in_memory = int(
        used.cast(
            pa.schema(
                [
                    ("label", pa.int8()),
                    ("prediction", pa.int8()),
                    ("region", pa.dictionary(pa.int32(), pa.string())),
                    ("segment", pa.dictionary(pa.int32(), pa.string())),
                ]
            )
        ).nbytes
    )
    csv_path, parquet_path = directory / "bench.csv", directory / "bench.parquet"
    pa_csv.write_csv(table, csv_path)
    pq.write_table(table, parquet_path)
    return csv_path, parquet_path, in_memory


def measure(code: str) -> tuple[float, int]:
    """Seconds and peak RSS of ``code`` run in a fresh Python process (best of two)."""
    best: tuple[float, int] = (float("inf"), 0)
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, code], capture_output=True, text=True, check=True
        )
        seconds, peak = done.stdout.split()
        if float(seconds) < best[0]:
            best = (float(seconds), int(peak))
    return best


def end_to_end_table(rows: int) -> list[str]:
    lines = [f"{'file':<14} {'what':<44} {'seconds':>8} {'ratio':>7} {'peak MB':>9}"]
    print(lines[0], flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        csv_path, parquet_path, in_memory = write_files(Path(scratch), rows)
        environment = {**os.environ, "XDG_CONFIG_HOME": scratch}
        os.environ.update(environment)
        for path in (csv_path, parquet_path):
            size = path.stat().st_size / 1e6
            reader = (
                "pyarrow.csv.read_csv" if path.suffix == ".csv" else "pyarrow.parquet.read_table"
            )
            if path.suffix == ".csv":
                whole = f"import pyarrow.csv as c; c.read_csv({str(path)!r})"
                columns = (
                    f"import pyarrow.csv as c; c.read_csv({str(path)!r}, "
                    f"convert_options=c.ConvertOptions(include_columns={AUDITED!r}))"
                )
            else:
                whole = f"import pyarrow.parquet as p; p.read_table({str(path)!r})"
                columns = (
                    f"import pyarrow.parquet as p; p.read_table({str(path)!r}, columns={AUDITED!r})"
                )
            audit = (
                "from bias_ledger.cli.app import app; "
                f"app(args=['audit', {str(path)!r}, '--label', 'label', '--prediction', "
                "'prediction', '--sensitive', 'region', '--sensitive', 'segment', "
                "'--no-record', '--quiet'], standalone_mode=False)"
            )
            whole_s, whole_peak = measure(whole)
            columns_s, columns_peak = measure(columns)
            audit_s, audit_peak = measure(audit)
            name = f"{path.suffix[1:]} {size:.0f} MB"
            for what, seconds, peak in (
                (f"{reader} (all columns)", whole_s, whole_peak),
                (f"{reader} (audited columns)", columns_s, columns_peak),
                ("bias-ledger audit (read+hash+metrics)", audit_s, audit_peak),
            ):
                lines.append(
                    f"{name:<14} {what:<44} {seconds:8.2f} {seconds / whole_s:6.2f}x "
                    f"{peak / 1e6:9.0f}"
                )
                print(lines[-1], flush=True)
    print(
        f"in-memory size of the audited columns: {in_memory / 1e6:.0f} MB "
        "(peak memory includes the Python interpreter and libraries, about 100-200 MB)"
    )
    return lines


def _small_csv(path: Path) -> None:
    """1,000 rows, 0/1 label and prediction, two text features; one group of ~20 rows (so that
    Fisher's exact test runs)."""
    rng = np.random.default_rng(1)
    rows = ["y,p,sex,race"]
    for _ in range(1000):
        sex = rng.choice(["f", "m", "x"], p=[0.49, 0.49, 0.02])
        rows.append(
            f"{int(rng.random() < 0.5)},{int(rng.random() < 0.5)},{sex},{'abc'[rng.integers(3)]}"
        )
    path.write_text("\n".join(rows) + "\n")


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def small_audit_table(repeats: int) -> list[str]:
    """Median wall and CPU seconds of small audits and of the interpreter floors, interleaved
    (round after round, each command once), with the ratios to the floors."""
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        env = {**os.environ, "XDG_CONFIG_HOME": scratch}
        env.pop("BIAS_LEDGER_DIR", None)
        env.pop("BIAS_LEDGER_KEY", None)
        # An installed package runs from its cached bytecode: with PYTHONDONTWRITEBYTECODE set
        # (some shells and CI images set it) every run would compile this project's ~100
        # modules again, about 85 ms that no user pays. The warm-up round below writes the cache.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cli = [sys.executable, "-m", "bias_ledger"]
        data, key, ledger = directory / "small.csv", directory / "key", directory / "ledger"
        _small_csv(data)
        subprocess.run(
            [*cli, "key", "generate", "-o", str(key)], check=True, env=env, capture_output=True
        )
        subprocess.run(
            [*cli, "init", "--ledger", str(ledger)], check=True, env=env, capture_output=True
        )
        audit = [*cli, "audit", str(data), "--label", "y", "--prediction", "p"]
        audit += ["--sensitive", "sex", "--sensitive", "race"]
        recorded = ["--key", str(key), "--ledger", str(ledger)]
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            'python -c "import pyarrow"': [sys.executable, "-c", "import pyarrow"],
            "audit --no-record": [*audit, "--no-record"],
            "audit --no-record --json": [*audit, "--no-record", "--json"],
            "audit, recorded": [*audit, *recorded],
            "audit, recorded, --json": [*audit, *recorded, "--json"],
        }
        for command in commands.values():  # warm-up: page cache, bytecode
            _timed(command, env)
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(repeats):
            for name, command in commands.items():
                runs[name].append(_timed(command, env))
    wall = {name: statistics.median(w for w, _ in times) for name, times in runs.items()}
    cpu = {name: statistics.median(c for _, c in times) for name, times in runs.items()}
    bare, arrow = wall["python -c pass"], wall['python -c "import pyarrow"']
    arrow_cpu = cpu['python -c "import pyarrow"']
    # Ratios of wall times to the floors, and of CPU times to pyarrow's: on a loaded machine
    # the wall times stretch (waiting for a core) and the CPU ratio says more.
    header = f"{'command':<28} {'wall s':>7} {'CPU s':>7} {'/ pass':>7} {'/ pyarrow':>9}"
    lines = [f"{header} {'CPU / pyarrow':>13}"]
    lines += [
        f"{name:<28} {wall[name]:7.3f} {cpu[name]:7.3f} {wall[name] / bare:6.1f}x "
        f"{wall[name] / arrow:8.2f}x {cpu[name] / arrow_cpu:12.2f}x"
        for name in commands
    ]
    for line in lines:
        print(line, flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-rows", type=int, default=10_000_000)
    parser.add_argument("--fairlearn-max-rows", type=int, default=1_000_000)
    parser.add_argument("--e2e-rows", type=int, default=10_000_000)
    parser.add_argument("--small-repeats", type=int, default=21)
    parser.add_argument(
        "--small-only", action="store_true", help="only the 1,000-row audits and their floors"
    )
    args = parser.parse_args()
    small_title = (
        f"1,000-row audit, two sensitive features, against the interpreter floors "
        f"(median of {args.small_repeats} interleaved rounds, fresh process each)"
    )
    if args.small_only:
        print(small_title)
        small_audit_table(args.small_repeats)
        return
    print("Engine: count_binary + compute_binary_metrics vs fairlearn MetricFrame (4 metrics)")
    engine_table(args.max_rows, args.fairlearn_max_rows)
    print()
    print(f"End to end on {args.e2e_rows:,} rows (fresh process each; ratio to the bare read)")
    end_to_end_table(args.e2e_rows)
    print()
    print(small_title)
    small_audit_table(args.small_repeats)


if __name__ == "__main__":
    main()
