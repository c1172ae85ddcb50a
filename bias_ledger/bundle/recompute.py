"""``verify --recompute``: re-hash the original files and re-derive every number of the bundle.

Counts and other integers must match exactly; floats within :data:`FLOAT_TOLERANCE` (absolute).
The audit engine (pandas, numpy) is imported only here, and only when something is recomputed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blake3

from bias_ledger.bundle.model import record_json
from bias_ledger.bundle.read import BundleContents
from bias_ledger.errors import InputError
from bias_ledger.ledger import canonical

FLOAT_TOLERANCE = 1e-9
"""Largest absolute difference accepted between a recorded and a recomputed float."""
COMPARED = ("parameters", "data", "results", "statistics")
"""The parts of an audit payload that recomputation re-derives (``statistics`` from results
schema 2 on; older records are compared on the parts they have)."""


@dataclass(frozen=True)
class Mismatch:
    """One number (or value) that differs, named by its JSON path inside the record."""

    path: str
    expected: Any
    """As recorded."""
    found: Any
    """As recomputed."""

    def describe(self) -> str:
        return f"{self.path}: recorded {self.expected!r}, recomputed {self.found!r}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "recorded": self.expected, "recomputed": self.found}


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
                    "files": [f.describe() for f in r.files],
                    "mismatches": [m.to_json() for m in r.mismatches],
                }
                for r in self.records
            ],
        }


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def compare(expected: Any, found: Any, path: str = "$") -> list[Mismatch]:
    """Every difference between two JSON values, by path; integers exact, floats to tolerance."""
    if isinstance(expected, Mapping) and isinstance(found, Mapping):
        out: list[Mismatch] = []
        for key in sorted(set(expected) | set(found)):
            where = f"{path}.{key}"
            if key not in found or key not in expected:
                out.append(Mismatch(where, expected.get(key), found.get(key)))
            else:
                out += compare(expected[key], found[key], where)
        return out
    if isinstance(expected, list) and isinstance(found, list):
        if len(expected) != len(found):
            return [Mismatch(f"{path}.length", len(expected), len(found))]
        out = []
        for position, (a, b) in enumerate(zip(expected, found, strict=True)):
            out += compare(a, b, f"{path}[{position}]")
        return out
    if _number(expected) and _number(found):
        if isinstance(expected, int) and isinstance(found, int):
            return [] if expected == found else [Mismatch(path, expected, found)]
        close = math.isclose(expected, found, rel_tol=0.0, abs_tol=FLOAT_TOLERANCE)
        return [] if close else [Mismatch(path, expected, found)]
    if type(expected) is not type(found) or expected != found:
        return [Mismatch(path, expected, found)]
    return []


def _digest(path: Path) -> str:
    try:
        hasher = blake3.blake3()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
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


def _recompute(payload: Mapping[str, Any], data: Path, predictions: Path | None) -> dict[str, Any]:
    from bias_ledger._audit import request_from_parameters, run_audit

    if payload.get("standard") == "nyc-ll144":
        from bias_ledger.standards.ll144_recompute import recompute_ll144

        return recompute_ll144(payload, data, predictions)
    request = request_from_parameters(payload["parameters"], data=data, predictions=predictions)
    fresh = run_audit(request).to_json()
    # Through the canonical encoder, as the record went: 1.0 and 1 compare the same way.
    present = {key: fresh[key] for key in COMPARED if key in payload}
    # An older record names fewer parameters; the ones it lacks took their old defaults.
    recorded_parameters = payload.get("parameters") or {}
    present["parameters"] = {
        key: value for key, value in fresh["parameters"].items() if key in recorded_parameters
    }
    return dict(canonical.decode(canonical.encode(present)))


def _policy_mismatches(
    payload: Mapping[str, Any], fresh: Mapping[str, Any], policy: Any, index: int
) -> list[Mismatch]:
    """The recorded verdict against the policy re-evaluated on the recomputed results.

    Only a record judged by this very policy file (same BLAKE3 digest) and without a baseline
    is re-judged: a baseline's results are not in the bundle to compare against.
    """
    from bias_ledger.policy import evaluate_policy
    from bias_ledger.results_json import results_from_json

    recorded = payload.get("policy")
    if not recorded or payload.get("baseline") or "results" not in fresh:
        return []
    digest = recorded["policy"]["digest"]
    if digest != policy.digest:
        return [Mismatch("$.audit.policy.policy.digest", digest, policy.digest)]
    report = evaluate_policy(policy, results_from_json(fresh["results"]))
    judged = dict(canonical.decode(canonical.encode(report.to_json())))
    return compare(recorded, judged, "$.audit.policy")


def recompute_bundle(
    contents: BundleContents,
    *,
    data: Path,
    predictions: Path | None,
    policy: Path | None = None,
) -> RecomputeReport:
    """Recompute every audit record of a verified bundle whose inputs are the given files;
    with ``policy``, re-judge the records that policy judged."""
    loaded = None
    if policy is not None:
        from bias_ledger.policy import load_policy

        loaded = load_policy(policy)
    given = {
        "data": (data, _digest(data)),
        "predictions": (predictions, _digest(predictions)) if predictions else None,
    }
    results = []
    for index in contents.record_indexes():
        record = json.loads(contents.members[record_json(index)])
        if record.get("kind") != "audit":
            continue
        payload = record["audit"]
        files = _file_checks(payload, given)
        if not files or not all(check.matches for check in files):
            results.append(RecordRecompute(index, files))
            continue
        fresh = _recompute(payload, data, predictions)
        recorded = {key: payload[key] for key in fresh}  # LL144 audits compare their tables
        mismatches = compare(recorded, fresh, "$.audit")
        if loaded is not None:
            mismatches += _policy_mismatches(payload, fresh, loaded, index)
        results.append(RecordRecompute(index, files, tuple(mismatches), recomputed=True))
    if not results:
        raise InputError(f"{contents.source}: the bundle holds no audit record to recompute")
    return RecomputeReport(tuple(results))
