"""The metric registry is the one list of metrics: every consumer reads it, and a metric
registered there reaches the engine, the JSON and its schema, the terminal, the views, the
policy loader and the cross-check, while the golden v0.1.0 bundle still recomputes."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bias_ledger
from bias_ledger.metrics import registry
from bias_ledger.metrics.binary import RATES
from bias_ledger.metrics.counts import FN, FP, TN, TP
from bias_ledger.metrics.crosscheck import _reference_metrics
from bias_ledger.metrics.model import BINARY_GROUP_METRICS, BINARY_SUMMARIES
from bias_ledger.policy.load import DISPARITY_METRICS
from bias_ledger.render.terminal import DISPARITY_METRICS as SHOWN_DISPARITIES
from bias_ledger.render.terminal import TABLE_METRICS
from bias_ledger.results_schema import results_schema, schema_text
from tests.ledger.helpers import SAMPLE

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "fixtures" / "format1"


@pytest.fixture(scope="module")
def lending() -> bias_ledger.AuditResult:
    return bias_ledger.audit(
        SAMPLE / "lending.csv",
        label="repaid",
        prediction="approved_v1",
        sensitive=["sex", "race_ethnicity"],
    )


def test_every_list_of_metrics_is_the_registry(lending: bias_ledger.AuditResult) -> None:
    keys = registry.binary_keys()
    assert keys == BINARY_GROUP_METRICS and registry.summary_keys() == BINARY_SUMMARIES
    assert (TN, FP, FN, TP) == (registry.TN, registry.FP, registry.FN, registry.TP)
    assert set(RATES) == {item.key for item in registry.BINARY if item.rate is not None}
    assert tuple(key for key in keys if key != "count") == DISPARITY_METRICS
    assert {key for key, _ in TABLE_METRICS} | set(SHOWN_DISPARITIES) <= set(keys)
    results = lending.binary
    assert tuple(results.overall.metrics) == keys
    for feature in results.features:
        assert tuple(item.metric for item in feature.disparities) == keys
        assert tuple(feature.summaries) == registry.summary_keys()
    assert tuple(lending.by_group("sex").columns) == keys
    with_counterpart = {item.key for item in registry.BINARY if item.counterpart is not None}
    assert set(_reference_metrics()) == with_counterpart
    defs = results_schema()["$defs"]
    assert list(defs["binary_group"]["properties"]["metrics"]["properties"]) == list(keys)
    assert list(defs["binary_summaries"]["properties"]) == list(registry.summary_keys())


def test_regression_metrics_are_the_registry() -> None:
    result = bias_ledger.audit(
        SAMPLE / "lending.csv",
        label="income",
        prediction="loan_amount",
        sensitive="sex",
        task="regression",
    )
    results = result.to_json()["results"]
    assert tuple(results["overall"]["metrics"]) == registry.regression_keys()


def test_every_metric_says_what_it_is() -> None:
    for item in (*registry.BINARY, *registry.REGRESSION, *registry.SCORE):
        assert item.name and item.column and item.undefined, item.key
        assert (item.counterpart is None) == bool(item.no_counterpart), item.key
        if item.counterpart is not None:
            module, _, name = item.counterpart.function.rpartition(".")
            assert callable(getattr(importlib.import_module(module), name)), item.key
        if item.family is registry.Family.BINARY:
            assert (item.rate is None) == (item.key == "count"), item.key
        if item.family is registry.Family.REGRESSION:
            assert item.sums is not None, item.key
    for summary in registry.SUMMARIES:
        assert set(summary.parts) <= set(registry.binary_keys())
        module, _, name = summary.counterpart.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name))


def test_a_rate_is_undefined_exactly_when_its_denominator_is_empty() -> None:
    cells = (0, 3, 0, 0)  # no actual positives, no predicted negatives
    from bias_ledger.metrics.binary import rate_value

    for item in registry.BINARY:
        if item.rate is None:
            continue
        value = rate_value(item.rate, cells)
        empty = sum(cells[i] for i in item.rate.denominator) == 0
        assert (value.value is None) == empty, item.key
        if empty:
            assert value.reason == item.undefined


def test_policies_take_which_way_is_worse_from_the_registry() -> None:
    from bias_ledger.policy.model import Direction, TargetKind, default_worse

    expected = {
        registry.Worse.LOWER: Direction.LOWER,
        registry.Worse.HIGHER: Direction.HIGHER,
        registry.Worse.NEITHER: None,
    }
    for item in registry.BINARY:
        assert default_worse(TargetKind.GROUP_METRIC, item.key, None) is expected[item.worse]


def test_the_documented_lists_name_every_metric() -> None:
    readme = (REPO / "README.md").read_text()
    metrics = readme[readme.index("## Metrics") :]
    formats = (REPO / "docs" / "FORMAT.md").read_text()
    results = formats[formats.index("## 8. Results") :]
    for key in registry.binary_keys():
        assert f"`{key}`" in metrics and f"`{key}`" in results, key
    for key in registry.summary_keys():
        pair = key.rsplit("_", 1)[0] + "_difference/_ratio"  # FORMAT.md names them in pairs
        assert f"`{key}`" in metrics and (f"`{key}`" in results or pair in results), key


def test_the_policy_docs_name_every_metric_and_its_direction() -> None:
    text = (REPO / "docs" / "POLICY.md").read_text()
    listed = text[text.index("Per-group metrics (`group_metric`, `disparity`)") :]
    listed = listed[: listed.index("\n\n")]
    worse = text[text.index("Default direction of `worse`") :]
    lower = worse[worse.index("lower is worse") : worse.index("higher is")]
    higher = worse[worse.index("higher is") : worse.index("no natural direction")]
    rest = worse[worse.index("and for the four error rates") :]
    neither = rest[rest.index(").") : rest.index("no natural direction")]
    where = {registry.Worse.LOWER: lower, registry.Worse.HIGHER: higher}
    for item in registry.BINARY:
        assert f"`{item.key}`" in listed, item.key
        assert f"`{item.key}`" in where.get(item.worse, neither), item.key


def test_the_committed_schema_is_current() -> None:
    assert (REPO / "docs" / "results.schema.json").read_text() == schema_text()


def test_real_outputs_match_the_schema(lending: bias_ledger.AuditResult) -> None:
    import jsonschema  # type: ignore[import-untyped]

    validator = jsonschema.Draft202012Validator(results_schema())
    validator.check_schema(results_schema())
    multiclass = bias_ledger.audit(
        SAMPLE / "lending.csv",
        label="age_band",
        prediction="age_band",
        sensitive="sex",
        task="multiclass_classification",
    )
    regression = bias_ledger.audit(
        SAMPLE / "lending.csv",
        label="income",
        prediction="loan_amount",
        sensitive="sex",
        task="regression",
    )
    for result in (lending, multiclass, regression):
        document = json.loads(json.dumps(result.to_json()))
        assert not [error.message for error in validator.iter_errors(document)]
        results = document["results"]
        overall = results["per_class"][0]["results"] if "per_class" in results else results
        overall["overall"]["metrics"]["made_up_rate"] = {"value": 0.5}
        assert list(validator.iter_errors(document)), "a metric outside the registry is invalid"


# A metric only this test registers, before anything reads the registry: the share of wrong
# predictions, which scikit-learn calls zero_one_loss.
REGISTER = """
import json, sys
from bias_ledger.metrics import registry
registry.BINARY = (*registry.BINARY, registry.Metric(
    "zero_one_loss", registry.Family.BINARY, "zero-one loss", "0/1 loss",
    undefined="0/0: no rows", worse=registry.Worse.HIGHER, shown=registry.Shown.HEADLINE,
    rate=registry.Rate((registry.FP, registry.FN), (0, 1, 2, 3), "no rows"),
    counterpart=registry.Counterpart("sklearn.metrics.zero_one_loss"),
))
from typer.testing import CliRunner
from bias_ledger.cli.app import app
from bias_ledger.results_schema import schema_text
import bias_ledger

def run(*args):
    done = CliRunner().invoke(app, list(args))
    return {"code": done.exit_code, "stdout": done.stdout, "stderr": done.stderr}

data, policy, golden = sys.argv[1:4]
audit = ["audit", data, "--label", "repaid", "--prediction", "approved_v1", "--sensitive", "sex"]
result = bias_ledger.audit(data, label="repaid", prediction="approved_v1", sensitive="sex")
print(json.dumps({
    "json": run(*audit, "--cross-check", "--no-record", "--json"),
    "terminal": run(*audit, "--no-record", "--wide"),
    "policy": run(*audit, "--policy", policy, "--no-record", "--json"),
    "schema": schema_text(),
    "columns": list(result.by_group("sex").columns),
    "recompute": run(
        "verify", golden + "/bundle.zip", "--trusted-keys", golden + "/allowed_signers",
        "--recompute", "--data", golden + "/data.csv", "--json",
    ),
}))
"""


@pytest.mark.slow
def test_a_metric_registered_once_reaches_everything(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        'version = 1\nname = "loss"\n'
        '[[rules]]\nname = "loss"\ngroup_metric = "zero_one_loss"\nmax = 0.9\n'
        '[[rules]]\nname = "loss-gap"\ndisparity = "zero_one_loss"\nmax = 0.9\n'
    )
    done = subprocess.run(
        [sys.executable, "-c", REGISTER, str(SAMPLE / "lending.csv"), str(policy), str(GOLDEN)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["json"]["code"] == 0, out["json"]["stderr"]  # the cross-check agrees
    document = json.loads(out["json"]["stdout"])
    feature = document["results"]["features"][0]
    group = feature["groups"][0]
    counts = group["counts"]
    wrong = counts["false_positives"] + counts["false_negatives"]
    total = sum(counts.values())
    loss = group["metrics"]["zero_one_loss"]
    assert loss["value"] == wrong / total
    # A rate: its interval comes with it (its method held once, results schema 3).
    assert set(loss["interval"]) == {"low", "high"}
    assert document["statistics"]["intervals"]["method"] == "wilson"
    assert [d["metric"] for d in feature["disparities"]][-1] == "zero_one_loss"
    assert out["columns"][-1] == "zero_one_loss"
    assert "0/1 loss" in out["terminal"]["stdout"]
    assert out["policy"]["code"] == 0, out["policy"]["stderr"]
    outcomes = json.loads(out["policy"]["stdout"])["policy"]["outcomes"]
    measured = {(item["rule"], item["metric"], item["status"]) for item in outcomes}
    assert ("loss", "zero_one_loss", "pass") in measured
    assert ("loss-gap", "zero_one_loss", "pass") in measured
    assert '"zero_one_loss"' in out["schema"]
    # The golden v0.1.0 records hold no zero_one_loss: they recompute to what they hold.
    assert out["recompute"]["code"] == 0, out["recompute"]["stdout"] + out["recompute"]["stderr"]
    assert json.loads(out["recompute"]["stdout"])["recompute"]["ok"] is True


def test_registered_formulas_equal_sklearn_on_random_counts() -> None:
    """Each rate's formula against its scikit-learn/fairlearn counterpart on random labels."""
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 2, 500)
    y_pred = rng.integers(0, 2, 500)
    cells = (
        int(((y_true == 0) & (y_pred == 0)).sum()),
        int(((y_true == 0) & (y_pred == 1)).sum()),
        int(((y_true == 1) & (y_pred == 0)).sum()),
        int(((y_true == 1) & (y_pred == 1)).sum()),
    )
    from bias_ledger.metrics.binary import rate_value

    references = _reference_metrics()
    for item in registry.BINARY:
        if item.rate is None or item.key not in references:
            continue
        ours = rate_value(item.rate, cells).value
        assert ours == float(references[item.key](y_true, y_pred)), item.key
