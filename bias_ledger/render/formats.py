"""Output formats, chosen by the output file's extension: one registry for every command.

Each kind of output (an audit report, a verification report, a CycloneDX model card, an
attestation, an LL144 summary) lists its formats here, each with the extensions that name it
and the function that renders it (imported when used, so that listing formats stays cheap).
An extension no format claims is an :class:`~bias_ledger.errors.InputError` naming the known
ones, before any work is done: never a guess. To add a format, add a :class:`Format` to its
kind's tuple.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bias_ledger.errors import InputError
from bias_ledger.wording import with_article

if TYPE_CHECKING:
    from bias_ledger.render.report_blocks import ReportData

T = TypeVar("T")


@dataclass(frozen=True)
class Format(Generic[T]):
    """One output format of one kind of output."""

    name: str
    """``html``, ``markdown``, ``json``..."""
    extensions: tuple[str, ...]
    """Lower-case, with the dot; the first is the one documented."""
    render: Callable[[T], str] | None = None
    """Document to text; None where the command writes the bytes itself (one format only)."""


@dataclass(frozen=True)
class Formats(Generic[T]):
    """The formats of one kind of output, and the choice among them by extension."""

    what: str
    """What the file is, for messages (``report``, ``verification report``...)."""
    formats: tuple[Format[T], ...]

    @property
    def extensions(self) -> tuple[str, ...]:
        return tuple(ext for item in self.formats for ext in item.extensions)

    def for_path(self, path: Path, *, option: str) -> Format[T]:
        """The format ``path``'s extension names (case-insensitive; the longest match, so
        ``.cdx.json`` is ``.json``); InputError naming the known extensions otherwise."""
        name = path.name.lower()
        for item in self.formats:
            if any(name.endswith(ext) and len(name) > len(ext) for ext in item.extensions):
                return item
        found = path.suffix or "no extension"
        raise InputError(
            f"{option} {path}: expected a file name ending in one of "
            f"{', '.join(self.extensions)} ({with_article(self.what)}), found {found!r}"
        )

    def render(self, document: T, path: Path, *, option: str) -> str:
        """``document`` in the format ``path`` names."""
        chosen = self.for_path(path, option=option)
        assert chosen.render is not None, f"{self.what} {chosen.name} is written by its command"
        return chosen.render(document)


def _report_html(data: ReportData) -> str:
    from bias_ledger.render.report_html import render_html

    return render_html(data)


def _report_markdown(data: ReportData) -> str:
    from bias_ledger.render.report_md import render_markdown

    return render_markdown(data)


def _verification_json(doc: Mapping[str, Any]) -> str:
    from bias_ledger.verify.report import render_json

    return render_json(doc)


def _verification_markdown(doc: Mapping[str, Any]) -> str:
    from bias_ledger.verify.report import render_markdown

    return render_markdown(doc)


def _verification_html(doc: Mapping[str, Any]) -> str:
    from bias_ledger.verify.report import render_html

    return render_html(doc)


AUDIT_REPORT: Formats[ReportData] = Formats(
    "report",
    (
        Format("html", (".html", ".htm"), _report_html),
        Format("markdown", (".md", ".markdown"), _report_markdown),
    ),
)
"""``bias-ledger report N -o FILE``."""

VERIFICATION_REPORT: Formats[Mapping[str, Any]] = Formats(
    "verification report",
    (
        Format("json", (".json",), _verification_json),
        Format("markdown", (".md", ".markdown"), _verification_markdown),
        Format("html", (".html", ".htm"), _verification_html),
    ),
)
"""``bias-ledger verify --report FILE``."""

LL144_SUMMARY: Formats[Any] = Formats(
    "published summary", (Format("html", (".html", ".htm")), Format("markdown", (".md",)))
)
"""``bias-ledger report N --summary nyc-ll144 -o FILE`` (rendered by bias_ledger.standards)."""

CYCLONEDX: Formats[Any] = Formats("CycloneDX model card", (Format("json", (".json",)),))
"""``bias-ledger export --cyclonedx FILE``: CycloneDX JSON (``.cdx.json`` is a ``.json``)."""

ATTESTATION: Formats[Any] = Formats("in-toto attestation", (Format("jsonl", (".jsonl",)),))
"""``bias-ledger attest N -o FILE``: JSON Lines of DSSE envelopes (``.intoto.jsonl``)."""
