"""``verify --recompute``: re-hash the original files and re-derive every number of the bundle.

Counts and other integers must match exactly; floats within :data:`FLOAT_TOLERANCE` (absolute).
The audit engine (pandas, numpy) is imported only here, and only when something is recomputed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blake3

from bias_ledger.bundle.compare import FLOAT_TOLERANCE, Mismatch, compare
from bias_ledger.bundle.model import record_json
from bias_ledger.bundle.read import BundleContents
from bias_ledger.errors import BiasLedgerError, InputError, VerificationError
from bias_ledger.ledger import canonical
from bias_ledger.results_layout import as_recorded, expanded

COMPARED = ("parameters", "data", "results", "statistics")
"""The parts of an audit payload that recomputation re-derives (``statistics`` from results
schema 2 on; older records are compared on the parts they have)."""


@dataclass(frozen=True)
class FileCheck:
    """A given file against the input the record names."""

    role: str
    recorded_name: str
    recorded_digest: str | None
    """None when the record has no input of this role."""
    given: str | None
    given_digest: str | None

    @property
    def matches(self) -> bool:
        return self.recorded_digest == self.given_digest

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "recorded_name": self.recorded_name,
            "recorded_blake3": self.recorded_digest,
            "given": self.given,
            "given_blake3": self.given_digest,
            "matches": self.matches,
        }

    def describe(self) -> str:
        if self.recorded_digest is None:
            return f"{self.role}: the record has no {self.role} file, but {self.given} was given"
        if self.given is None:
            return f"{self.role}: the record used {self.recorded_name!r}, no file was given"
        verdict = "matches" if self.matches else "DIFFERS from"
        return (
            f"{self.role}: {self.given} (blake3 {self.given_digest}) {verdict} the recorded "
            f"{self.recorded_name!r} (blake3 {self.recorded_digest})"
        )


@dataclass(frozen=True)
class RecordRecompute:
    index: int
    files: tuple[FileCheck, ...]
    mismatches: tuple[Mismatch, ...] = ()
    recomputed: bool = False
    """False when the given files are not this record's inputs (skipped)."""
    verdict: str | None = None
    """With ``--policy``: whether the recorded verdict was re-judged, or why not."""


@dataclass(frozen=True)
class RecomputeReport:
    records: tuple[RecordRecompute, ...]

    @property
    def ok(self) -> bool:
        done = [r for r in self.records if r.recomputed]
        return bool(done) and not any(r.mismatches for r in done)

    def to_json(self) -> dict[str, Any]:
        return {
            "tolerance": FLOAT_TOLERANCE,
            "ok": self.ok,
            "records": [
                {
                    "index": r.index,
                    "recomputed": r.recomputed,
                    "verdict": r.verdict,
                    "files": [f.describe() for f in r.files],
                    "inputs": [f.to_json() for f in r.files],
                    "mismatches": [m.to_json() for m in r.mismatches],
                }
                for r in self.records
            ],
        }


def _digest(path: Path) -> str:
    """The digest an audit records for ``path``: a file's BLAKE3, or for a directory or glob
    the BLAKE3 of its manifest, computed afresh from the files (docs/FORMAT.md)."""
    from bias_ledger.engines.sources import GLOB_CHARACTERS, fingerprint, resolve_dataset

    if path.is_dir() or GLOB_CHARACTERS & set(str(path)):
        return fingerprint(resolve_dataset(path), rows=0).blake3
    try:
        hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 24):
                hasher.update(chunk)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file to hash it ({exc.strerror})") from None
    return hasher.hexdigest()


def _file_checks(
    payload: Mapping[str, Any], given: Mapping[str, tuple[Path, str] | None]
) -> tuple[FileCheck, ...]:
    recorded = {item.get("role"): item for item in payload.get("inputs", ())}
    checks = []
    for role in ("data", "predictions"):
        item, file = recorded.get(role), given[role]
        if item is None and file is None:
            continue
        checks.append(
            FileCheck(
                role=role,
                recorded_name=str(item.get("name")) if item else "",
                recorded_digest=str(item.get("blake3")) if item else None,
                given=str(file[0]) if file else None,
                given_digest=file[1] if file else None,
            )
        )
    return tuple(checks)


def _derived_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters an audit derives from its data, the ones a recomputation re-derives."""
    from bias_ledger._audit import RECOMPUTE_INPUTS

    return {key: value for key, value in parameters.items() if key not in RECOMPUTE_INPUTS}


def _exact_weights(payload: Mapping[str, Any]) -> bool:
    """False for a weighted score audit whose binning names no ``weight_sums``: made by an
    earlier version, it summed each bin's weights in float64, and recomputes so."""
    parameters = payload.get("parameters") or {}
    if parameters.get("weight") is None or parameters.get("score") is None:
        return True
    statistics = payload.get("statistics")
    scores = statistics.get("scores") if isinstance(statistics, Mapping) else None
    histogram = scores.get("histogram") if isinstance(scores, Mapping) else None
    return isinstance(histogram, Mapping) and "weight_sums" in histogram


def _recompute(
    payload: Mapping[str, Any], data: Path, predictions: Path | None, engine: str | None = None
) -> dict[str, Any]:
    from dataclasses import replace

    from bias_ledger._audit import request_from_parameters, run_audit

    if payload.get("standard") == "nyc-ll144":
        from bias_ledger.standards.ll144_recompute import recompute_ll144

        return recompute_ll144(payload, data, predictions)
    # The parameters in full: results schema 4 holds the interval options in the statistics.
    parameters = expanded(payload)["parameters"]
    request = request_from_parameters(parameters, data=data, predictions=predictions)
    if not _exact_weights(payload):
        request = replace(request, exact_weights=False)
    if engine is not None:
        # Any engine gives the same numbers by construction: the recorded one is a default.
        request = replace(request, engine=engine)
    # In the record's own layout (results schema), so that every value it holds is compared
    # at the JSON path where it holds it (bias_ledger.results_layout).
    fresh = as_recorded(run_audit(request).to_json(), payload)
    # Through the canonical encoder, as the record went: 1.0 and 1 compare the same way.
    present = {key: fresh[key] for key in COMPARED if key in payload}
    # An older record names fewer parameters; the ones it lacks took their old defaults.
    recorded_parameters = payload.get("parameters") or {}
    present["parameters"] = {
        key: value
        for key, value in _derived_parameters(fresh["parameters"]).items()
        if key in recorded_parameters
    }
    return dict(canonical.decode(canonical.encode(present)))


def compared(payload: Mapping[str, Any], fresh: Mapping[str, Any]) -> list[Mismatch]:
    """Every value ``payload`` holds against its recomputation ``fresh`` (in the record's
    layout, :func:`_recompute`), by its JSON path in the record."""
    if payload.get("standard") == "nyc-ll144":  # LL144 audits compare their tables
        recorded = {key: payload[key] for key in fresh}
    else:
        recorded = {key: payload[key] for key in COMPARED if key in payload}
        recorded["parameters"] = _derived_parameters(payload["parameters"])
    return compare(recorded, fresh, "$.audit")


def recompute_payload(
    payload: Mapping[str, Any], data: Path, predictions: Path | None = None
) -> list[Mismatch]:
    """Re-run one audit payload on its input files and compare (what ``--recompute`` does
    to each audit record whose inputs the given files are)."""
    return compared(payload, _rerun(payload, 0, data, predictions))


def _checked_payload(record: Any, index: int) -> Mapping[str, Any]:
    """The audit payload, refusing shapes no version of ``audit`` writes (a record can be
    signed by a trusted key and still be malformed: a verification failure, not a crash)."""
    payload = record.get("audit") if isinstance(record, Mapping) else None
    where = f"record {index}: audit payload"
    if not isinstance(payload, Mapping):
        raise VerificationError(f"{where}: expected an object")
    shapes: dict[str, type] = {"parameters": Mapping, "results": Mapping, "inputs": list}
    if payload.get("standard") == "nyc-ll144":  # its tables, and results only with a label
        shapes = {"parameters": Mapping, "nyc_ll144": Mapping, "declaration": Mapping}
        shapes |= {"inputs": list}
    for key, kind in shapes.items():
        if not isinstance(payload.get(key), kind):
            found = type(payload.get(key)).__name__ if key in payload else "nothing"
            raise VerificationError(
                f"{where}: expected {key!r} to be {kind.__name__}, found {found}"
            )
    if not all(isinstance(item, Mapping) for item in payload["inputs"]):
        raise VerificationError(f"{where}: expected 'inputs' to list objects")
    if payload.get("policy") is not None and not isinstance(payload["policy"], Mapping):
        raise VerificationError(f"{where}: expected 'policy' to be an object or null")
    return payload


def _rerun(
    payload: Mapping[str, Any],
    index: int,
    data: Path,
    predictions: Path | None,
    engine: str | None = None,
) -> dict[str, Any]:
    """:func:`_recompute`, with parameters the engine cannot re-run reported against the record
    (its input files matched: what fails is what the record says)."""
    try:
        return _recompute(payload, data, predictions, engine)
    except BiasLedgerError as exc:
        raise VerificationError(
            f"record {index}: its recorded parameters do not re-run on the matching files: "
            f"{exc.message}"
        ) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # A recorded parameter of the wrong type reaches the engine's own code.
        raise VerificationError(
            f"record {index}: malformed recorded parameters ({type(exc).__name__}: {exc})"
        ) from None


def _policy_mismatches(
    payload: Mapping[str, Any], fresh: Mapping[str, Any], policy: Any
) -> tuple[list[Mismatch], str]:
    """The recorded verdict against the policy re-evaluated on the recomputed results, and
    what was done: only a record judged by this very policy file (same BLAKE3 digest) and
    without a baseline is re-judged; any other is skipped, saying why.
    """
    from bias_ledger.policy import evaluate_policy
    from bias_ledger.results_json import record_results

    recorded = payload.get("policy")
    if not isinstance(recorded, Mapping) or not isinstance(recorded.get("policy"), Mapping):
        return [], "verdict not re-judged: the record holds no policy verdict"
    if "results" not in fresh:
        return [], "verdict not re-judged: an LL144 audit without metrics for its rules"
    named = recorded["policy"]
    digest = named.get("digest")
    if digest != policy.digest:
        return [], (
            f"verdict not re-judged: judged by policy {named.get('name')!r} (blake3 {digest}), "
            f"not by the given {policy.name!r} (blake3 {policy.digest})"
        )
    if payload.get("baseline"):
        return [], (
            "verdict not re-judged: judged against a baseline, whose results are not in the "
            "bundle to compare against"
        )
    # Read in the record's layout, with the parameters it was recomputed from.
    layout = {"schema_version": payload.get("schema_version"), "parameters": payload["parameters"]}
    report = evaluate_policy(policy, record_results({**fresh, **layout}))
    judged = dict(canonical.decode(canonical.encode(report.to_json())))
    return compare(recorded, judged, "$.audit.policy"), f"verdict re-judged by {policy.name!r}"


def recompute_bundle(
    contents: BundleContents,
    *,
    data: Path,
    predictions: Path | None,
    policy: Path | None = None,
    engine: str | None = None,
) -> RecomputeReport:
    """:func:`recompute_records` over a bundle read into memory (versions 1 and 2)."""
    records = ((i, contents.members[record_json(i)]) for i in contents.record_indexes())
    return recompute_records(
        contents.source,
        records,
        data=data,
        predictions=predictions,
        policy=policy,
        engine=engine,
    )


def recompute_records(
    source: str,
    records: Iterable[tuple[int, bytes]],
    *,
    data: Path,
    predictions: Path | None,
    policy: Path | None = None,
    engine: str | None = None,
) -> RecomputeReport:
    """Recompute every audit record of a verified bundle whose inputs are the given files;
    with ``policy``, re-judge the records that policy judged. ``engine`` recounts with that
    engine instead of the one each record names (arrow, duckdb, spark)."""
    if engine is not None:
        from bias_ledger.engines import Engine

        if engine not in {item.value for item in Engine}:
            known = ", ".join(item.value for item in Engine)
            raise InputError(f"--engine {engine!r}: expected one of {known}")
    loaded = None
    if policy is not None:
        from bias_ledger.policy import load_policy

        loaded = load_policy(policy)
    given = {
        "data": (data, _digest(data)),
        "predictions": (predictions, _digest(predictions)) if predictions else None,
    }
    results = []
    for index, raw in records:
        record = json.loads(raw)
        if record.get("kind") != "audit":
            continue
        payload = _checked_payload(record, index)
        files = _file_checks(payload, given)
        if not files or not all(check.matches for check in files):
            results.append(RecordRecompute(index, files))
            continue
        fresh = _rerun(payload, index, data, predictions, engine)
        mismatches = compared(payload, fresh)
        verdict = None
        if loaded is not None:
            extra, verdict = _policy_mismatches(payload, fresh, loaded)
            mismatches += extra
        results.append(
            RecordRecompute(index, files, tuple(mismatches), recomputed=True, verdict=verdict)
        )
    if not results:
        raise InputError(f"{source}: the bundle holds no audit record to recompute")
    return RecomputeReport(tuple(results))
