"""``verify BUNDLE --since`` (rollback, fork detection) and ``--recompute`` (re-derived numbers)."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

from bias_ledger._audit import AuditRequest, run_audit
from bias_ledger.bundle.compare import FLOAT_TOLERANCE, compare
from bias_ledger.bundle.export import Selection, export_bundle
from bias_ledger.bundle.read import read_bundle
from bias_ledger.bundle.recompute import recompute_bundle
from bias_ledger.ledger.checkpoint import parse_signed_checkpoint, sign_checkpoint
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.store import append_record, init_ledger
from bias_ledger.records.payloads import audit_payload as record_payload

from .conftest import MAPPING, World, audit_payload, write_hostile_csv
from .helpers import cli


def run(*args: str | Path) -> tuple[int, str]:
    code, output = cli(*args)
    return code, " ".join(output.split())


def keep(tmp_path: Path, data: bytes, name: str = "kept") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_since_extends_kept_checkpoint(world: World, tmp_path: Path) -> None:
    code, output = run(
        "verify",
        world.bundle,
        "--trusted-keys",
        world.trusted,
        "--since",
        keep(tmp_path, world.kept3),
    )
    assert code == 0, output
    assert "extends the checkpoint kept in" in output and "(size 3)" in output


def test_since_same_checkpoint(world: World, tmp_path: Path) -> None:
    kept = keep(tmp_path, world.latest)
    code, output = run(
        "verify", world.plain_bundle, "--trusted-keys", world.trusted, "--since", kept
    )
    assert code == 0, output
    assert "is the one kept in" in output


def test_since_without_consistency_proof(world: World, tmp_path: Path) -> None:
    kept = keep(tmp_path, world.kept2)
    code, output = run(
        "verify", world.plain_bundle, "--trusted-keys", world.trusted, "--since", kept
    )
    assert code == 3
    assert "no consistency.json to prove it extends" in output
    assert "--consistent-with" in output


def test_since_wrong_starting_size(world: World, tmp_path: Path) -> None:
    kept = keep(tmp_path, world.kept2)
    code, output = run("verify", world.bundle, "--trusted-keys", world.trusted, "--since", kept)
    assert code == 3
    assert "consistency.json starts at tree size 3, but the kept checkpoint" in output


def test_rollback(world: World, tmp_path: Path) -> None:
    kept = keep(tmp_path, world.latest)
    code, output = run("verify", world.old_bundle, "--trusted-keys", world.trusted, "--since", kept)
    assert code == 3
    assert "rollback: the bundle's checkpoint covers 3 records, fewer than the 5" in output


def test_fork_at_kept_size(world: World, tmp_path: Path) -> None:
    kept = keep(tmp_path, world.fork3)
    code, output = run("verify", world.bundle, "--trusted-keys", world.trusted, "--since", kept)
    assert code == 3
    assert "fork: the bundle's ledger had root" in output and "history was rewritten" in output


def test_fork_same_size(world: World, tmp_path: Path) -> None:
    kept = keep(tmp_path, world.fork5)
    code, output = run("verify", world.bundle, "--trusted-keys", world.trusted, "--since", kept)
    assert code == 3
    assert "fork: the bundle's checkpoint and" in output and "both cover 5 records" in output


def test_kept_checkpoint_of_another_ledger(world: World, tmp_path: Path) -> None:
    kept = keep(tmp_path, world.fork3)
    trusted = tmp_path / "both"
    c_key = json.loads(read_bundle(world.other_bundle).members["records/0.json"])["signer"]
    trusted.write_text(world.trusted.read_text() + f"c {c_key['public_key']}\n")
    other = read_bundle(world.other_bundle).members["checkpoint"]
    code, output = run(
        "verify", world.bundle, "--trusted-keys", trusted, "--since", keep(tmp_path, other, "o")
    )
    assert code == 3
    assert "not the same ledger" in output
    assert kept.exists()


def test_kept_checkpoint_by_untrusted_key(world: World, tmp_path: Path) -> None:
    checkpoint, _ = parse_signed_checkpoint(world.kept3, source="kept3")
    kept = keep(tmp_path, sign_checkpoint(checkpoint, world.key_c))
    code, output = run("verify", world.bundle, "--trusted-keys", world.trusted, "--since", kept)
    assert code == 3
    assert "(kept checkpoint, tree size 3): expected a signature by a key trusted" in output


def test_export_refuses_a_forked_kept_checkpoint(world: World, tmp_path: Path) -> None:
    code, output = run(
        "export", "--all", "-o", tmp_path / "b.zip", "--ledger", world.ledger,
        "--consistent-with", keep(tmp_path, world.fork3),
    )  # fmt: skip
    assert code == 3
    assert "(a forked ledger)" in output
    assert not (tmp_path / "b.zip").exists()


def test_recompute_matches(world: World) -> None:
    code, output = run(
        "verify", world.bundle, "--trusted-keys", world.trusted, "--recompute", "--data", world.data
    )
    assert code == 0, output
    assert "recompute: records 0, 1, 3" in output
    assert f"within {FLOAT_TOLERANCE:g}" in output


def test_recompute_other_file(world: World, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    write_hostile_csv(other, seed=8)
    code, output = run(
        "verify", world.bundle, "--trusted-keys", world.trusted, "--recompute", "--data", other
    )
    assert code == 3
    assert "no audit record of the bundle was made from the given files" in output
    assert f"data: {other}" in output and "DIFFERS from the recorded 'hostile.csv'" in output


def test_recompute_needs_data(world: World) -> None:
    code, output = run("verify", world.bundle, "--trusted-keys", world.trusted, "--recompute")
    assert code == 2
    assert "--recompute needs --data FILE" in output


def test_recompute_catches_a_lying_auditor(world: World, tmp_path: Path) -> None:
    """A validly signed record whose numbers were not computed from its data."""
    payload = audit_payload(world.data)
    honest = copy.deepcopy(payload)
    group = payload["results"]["features"][0]["groups"][1]
    group["counts"]["true_positives"] += 1
    group["metrics"]["selection_rate"]["value"] += 1e-6
    group["metrics"]["precision_score"] = {"value": None, "reason": "made up"}
    ledger = tmp_path / "liar"
    init_ledger(ledger, name="liar", format_version=1)  # export_bundle: format 1
    append_record(ledger, RecordKind.AUDIT, payload, world.key_a)
    bundle = tmp_path / "liar.zip"
    bundle.write_bytes(export_bundle(ledger, Selection(everything=True)).data)
    code, output = run(
        "verify", bundle, "--trusted-keys", world.trusted, "--recompute", "--data", world.data
    )
    assert code == 3
    report = recompute_bundle(read_bundle(bundle), data=world.data, predictions=None)
    assert not report.ok
    base = "$.audit.results.features[0].groups[1]"
    paths = [m.path for m in report.records[0].mismatches]
    assert all(path.startswith(base) for path in paths), paths
    for path in ("counts.true_positives", "metrics.precision_score.value"):
        assert f"{base}.{path}" in paths
    assert f"{base}.metrics.selection_rate.value" in paths
    assert f"{len(paths)} recomputed value(s) differ" in output
    assert f"{base}.counts.true_positives: recorded" in output
    assert f"{base}.metrics.precision_score.value: recorded None, recomputed 0." in output
    assert honest != payload


def test_compare_rules() -> None:
    assert compare({"n": 3}, {"n": 3}) == []
    assert [m.path for m in compare({"n": 3}, {"n": 4})] == ["$.n"]
    assert compare({"x": 0.1}, {"x": 0.1 + FLOAT_TOLERANCE / 2}) == []
    assert [m.path for m in compare({"x": 0.1}, {"x": 0.1 + FLOAT_TOLERANCE * 2})] == ["$.x"]
    assert [m.path for m in compare({"x": None}, {"x": 0.5})] == ["$.x"]
    assert [m.path for m in compare({"x": [1, 2]}, {"x": [1]})] == ["$.x.length"]
    assert [m.path for m in compare({"a": {"b": [0, True]}}, {"a": {"b": [0, 1]}})] == ["$.a.b[1]"]
    # Only what the record holds is compared (issue 9 item 7): a key the recomputation adds
    # (a metric added by a later version) is no difference; a recorded key it lacks is one.
    assert [m.path for m in compare({"a": 1}, {"b": 1})] == ["$.a"]
    assert compare({"m": {"rate": 0.5}}, {"m": {"rate": 0.5, "new_metric": 1.0}}) == []


def test_recompute_with_a_predictions_file(world: World, tmp_path: Path) -> None:
    rows = world.data.read_text(encoding="utf-8").splitlines()
    header, body = rows[0].split(","), [row.rsplit(",", 1) for row in rows[1:]]
    data, predictions = tmp_path / "features.csv", tmp_path / "predictions.csv"
    data.write_text(
        "id," + ",".join(header[:-1]) + "\n"
        + "".join(f"{i},{features}\n" for i, (features, _) in enumerate(body)),
        encoding="utf-8",
    )  # fmt: skip
    shuffled = sorted(enumerate(body), key=lambda item: (item[0] * 7919) % len(body))
    predictions.write_text(
        "id,pred\n" + "".join(f"{i},{pred}\n" for i, (_, pred) in shuffled), encoding="utf-8"
    )
    mapping = replace(MAPPING, id_column="id")
    result = run_audit(AuditRequest(data=data, predictions=predictions, mapping=mapping))
    ledger = tmp_path / "joined"
    init_ledger(ledger, name="joined", format_version=1)  # export_bundle: format 1
    append_record(ledger, RecordKind.AUDIT, record_payload(result, None), world.key_a)
    bundle = tmp_path / "joined.zip"
    bundle.write_bytes(export_bundle(ledger, Selection(everything=True)).data)
    args = ("verify", bundle, "--trusted-keys", world.trusted, "--recompute", "--data", data)
    code, output = run(*args, "--predictions", predictions)
    assert code == 0, output
    assert "recompute: records 0" in output
    code, output = run(*args)
    assert code == 3
    assert "predictions: the record used 'predictions.csv', no file was given" in output
