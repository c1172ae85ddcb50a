"""The verifier's trusted core imports only the standard library, blake3 and cryptography."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import bias_ledger

CORE = [
    "revocation",
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
    "files",
    "note",
    "tlog_checkpoint",
    "tlog_tiles",
    "tlog_entry",
    "tlog_source",
    "tlog_snapshot",
    "http_deadline",
    "tlog_tree",
    "tlog_read",
    "tlog_sig",
    "tlog_tiles_check",
    "tlog_verify",
    "tlog_check",
    "key_records",
    "key_history",
    "index_runs",
    "digits",
    "json_depth",
]
# httpx: only tlog_source's HttpSource, which `verify URL` uses to read a published log.
ALLOWED_THIRD_PARTY = {"blake3", "cryptography", "httpx"}
ALLOWED_OWN = {
    "bias_ledger.errors",
    # Standard library only: the newest results schema, refused above it by record.py.
    "bias_ledger._version",
    "bias_ledger.ledger",
    "bias_ledger.ledger.canonical",
    "bias_ledger.wording",  # counts and articles of messages: standard library only
    *(f"bias_ledger.ledger.{name}" for name in CORE),
}
PACKAGE = Path(bias_ledger.__file__).parent
LEDGER = PACKAGE / "ledger"
VERIFY_MODULES = sorted((PACKAGE / "verify").glob("*.py"))
BUNDLE_VERIFY = ["verify", "checks", "read", "model", "signers", "compare", "format2"]
"""The bundle modules on the verification path (the bundle source and what it reads)."""
ALLOWED_ON_PATH = {
    *ALLOWED_OWN,
    "bias_ledger.verify",
    *(f"bias_ledger.verify.{path.stem}" for path in VERIFY_MODULES),
    *(f"bias_ledger.bundle.{name}" for name in BUNDLE_VERIFY),
    "bias_ledger.witness.policy",  # format 2's --witnesses quorum, in verify/log.py
}
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "format1"


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


def test_verification_modules_import_only_the_core() -> None:
    """The one verification core (bias_ledger/verify/) and the bundle source build on the
    ledger core only: no metrics, no policy, no renderers, nothing of the CLI."""
    paths = [
        *VERIFY_MODULES,
        *(PACKAGE / "bundle" / f"{name}.py" for name in BUNDLE_VERIFY),
        PACKAGE / "witness" / "policy.py",
    ]
    assert len(VERIFY_MODULES) >= 6
    for path in paths:
        for imported in _imports(path):
            top = imported.split(".")[0]
            if top == "bias_ledger":
                module = imported if imported in ALLOWED_ON_PATH else imported.rsplit(".", 1)[0]
                assert module in ALLOWED_ON_PATH, f"{path.name} imports {imported}"
            else:
                assert top in sys.stdlib_module_names | ALLOWED_THIRD_PARTY | {"__future__"}, (
                    f"{path.name} imports {imported}"
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
        "import sys, bias_ledger.verify, bias_ledger.bundle.verify, bias_ledger.bundle.read\n"
        "from pathlib import Path\n"
        "from bias_ledger.ledger.trust import load_allowed_signers\n"
        "from bias_ledger.verify.report import Context, document, render\n"
        f"root = Path({str(FIXTURES)!r})\n"
        "trusted = load_allowed_signers(root / 'allowed_signers')\n"
        "bias_ledger.verify.verify_ledger(root / 'ledger', trusted=trusted)\n"
        "source = bias_ledger.bundle.verify.BundleSource(root / 'bundle.zip')\n"
        "result = bias_ledger.bundle.verify.verify_bundle(source, trusted)\n"
        "import datetime\n"
        "render(document(result, Context('x', (), datetime.datetime.now())), '.html')\n"
        "print(' '.join(sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in done.stdout.split()}
    third_party = {
        name
        for name in loaded - set(sys.stdlib_module_names)
        if not name.startswith("__") and name not in {"_distutils_hack"}
    }
    assert "rfc8785" not in loaded  # the canonical encoder: verifiers only parse
    # bcrypt, _cffi_backend and _openssl come with cryptography's own imports.
    assert third_party <= {
        "bias_ledger",
        "blake3",
        "cryptography",
        "bcrypt",
        "_cffi_backend",
        "_openssl",
    }, third_party
