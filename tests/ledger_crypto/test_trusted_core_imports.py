"""The verifier's trusted core imports only the standard library, blake3 and cryptography."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import bias_ledger

CORE = [
    "merkle",
    "merkle_verify",
    "sshsig",
    "keys",
    "trust",
    "checkpoint",
    "entry",
    "record",
    "entry_checks",
    "reader",
    "note",
    "tlog_checkpoint",
    "tlog_tiles",
    "tlog_entry",
    "tlog_source",
    "tlog_tree",
    "tlog_read",
    "tlog_sig",
    "tlog_tiles_check",
    "tlog_verify",
]
# httpx: only tlog_source's HttpSource, which `verify URL` uses to read a published log.
ALLOWED_THIRD_PARTY = {"blake3", "cryptography", "httpx"}
ALLOWED_OWN = {
    "bias_ledger.errors",
    "bias_ledger.ledger",
    "bias_ledger.ledger.canonical",
    *(f"bias_ledger.ledger.{name}" for name in CORE),
}
LEDGER = Path(bias_ledger.__file__).parent / "ledger"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_core_modules_import_only_what_a_verifier_may_need() -> None:
    for name in CORE:
        for imported in _imports(LEDGER / f"{name}.py"):
            top = imported.split(".")[0]
            if top == "bias_ledger":
                module = imported if imported in ALLOWED_OWN else imported.rsplit(".", 1)[0]
                assert module in ALLOWED_OWN, f"{name}.py imports {imported}"
            else:
                assert top in sys.stdlib_module_names | ALLOWED_THIRD_PARTY | {"__future__"}, (
                    f"{name}.py imports {imported}"
                )


def test_importing_the_core_loads_no_data_science_stack() -> None:
    modules = ", ".join(f"bias_ledger.ledger.{name}" for name in CORE)
    code = f"import sys, {modules}; print(' '.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in done.stdout.split()}
    heavy = {"numpy", "pandas", "pyarrow", "fairlearn", "sklearn", "scipy"}
    assert "blake3" in loaded
    assert loaded & heavy == set()


def test_verifying_a_ledger_or_bundle_needs_only_blake3_and_cryptography() -> None:
    """Issue 4's boundary: the verification path loads the standard library, blake3 and
    cryptography (with what cryptography itself loads), and nothing else of a third party."""
    code = (
        "import sys, bias_ledger.verify, bias_ledger.bundle.verify, bias_ledger.bundle.read; "
        "print(' '.join(sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in done.stdout.split()}
    third_party = {
        name
        for name in loaded - set(sys.stdlib_module_names)
        if not name.startswith("__") and name not in {"_distutils_hack"}
    }
    # bcrypt, _cffi_backend and _openssl come with cryptography's own imports.
    assert third_party <= {
        "bias_ledger",
        "blake3",
        "cryptography",
        "bcrypt",
        "_cffi_backend",
        "_openssl",
    }, third_party
