"""The recorded library versions are the ones importlib.metadata reports."""

from __future__ import annotations

from importlib import metadata

from bias_ledger.provenance import _LIBRARIES, _installed, environment


def test_versions_match_importlib_metadata() -> None:
    recorded = environment()
    for name in _LIBRARIES:
        try:
            expected = metadata.version(name)
        except metadata.PackageNotFoundError:
            expected = "not installed"
        assert recorded[name.replace("-", "_")] == expected


def test_scan_finds_installed_wheels() -> None:
    found = _installed(("numpy", "pyarrow", "scikit-learn", "no-such-package-xyz"))
    assert found["numpy"] == metadata.version("numpy")
    assert found["scikit-learn"] == metadata.version("scikit-learn")
    assert "no-such-package-xyz" not in found
