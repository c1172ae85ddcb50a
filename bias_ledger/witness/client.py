"""Pushing a ledger's checkpoint to its witnesses and keeping their cosignatures with it.

Every witness is asked at once, with short timeouts. A witness that is down or refuses costs
the append nothing: it is reported, and asked again, with a proof from the size it last
cosigned, at the next push. Valid cosignatures are added to the ledger's ``checkpoint`` note.
"""

from __future__ import annotations

import http.client
import os
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bias_ledger.errors import BiasLedgerError, LedgerError, VerificationError
from bias_ledger.ledger.files import write_atomically
from bias_ledger.ledger.http_deadline import deadline_connection
from bias_ledger.ledger.note import NoteSignature, open_note, parse_note, with_signatures
from bias_ledger.ledger.tlog_checkpoint import parse_checkpoint
from bias_ledger.witness.config import WitnessConfig, load_hints, load_witnesses, save_hints
from bias_ledger.witness.protocol import ADD_CHECKPOINT_PATH, AddCheckpoint, parse_size_body

CHECKPOINT_FILE = "checkpoint"
TIMEOUT_ENV = "BIAS_LEDGER_WITNESS_TIMEOUT"
"""Seconds a push waits for each witness's whole answer (default 5; connecting gets at most 2)."""
MAX_RESPONSE_BYTES = 64 * 1024
"""The most of a witness's answer a push reads (100 signature lines take under 16 KiB)."""
_MAX_CONFLICTS = 2

ProofSource = Callable[[int, int], list[bytes]]
"""``(old_size, new_size) -> RFC 6962 consistency proof`` of the ledger being pushed."""


@dataclass(frozen=True)
class PushResult:
    """What one witness did with the checkpoint."""

    witness: str
    """The witness's name in ``witnesses.json``."""
    cosigned: bool
    """Whether a valid cosignature came back and was stored."""
    size: int | None
    """The size the witness has cosigned, when it said."""
    message: str
    """What happened, in one line."""

    def to_json(self) -> dict[str, object]:
        """The result in ``witness push --json``."""
        return {
            "witness": self.witness,
            "cosigned": self.cosigned,
            "size": self.size,
            "message": self.message,
        }


class _Refused(Exception):
    def __init__(self, message: str, size: int | None = None) -> None:
        super().__init__(message)
        self.message, self.size = message, size


def _timeout() -> float:
    try:
        seconds = float(os.environ.get(TIMEOUT_ENV, "5"))
    except ValueError:
        seconds = 5.0
    return seconds if seconds > 0 else 5.0


@dataclass(frozen=True)
class _Response:
    status: int
    content: bytes


class _Unreachable(Exception):
    pass


def _post(url: str, body: bytes, seconds: float) -> _Response:
    """POST ``body``: the whole answer (at most MAX_RESPONSE_BYTES) within ``seconds``.

    The standard library's client with a deadline on the whole answer: a per-read timeout
    alone lets a witness that trickles its answer hold the push forever.
    """
    parts = urllib.parse.urlsplit(url)
    connection = deadline_connection(
        parts.scheme, parts.hostname or "", parts.port, timeout=min(seconds, 2.0)
    )
    response: http.client.HTTPResponse | None = None
    try:
        connection.connect()  # connecting gets at most 2 s, the answer the rest
        connection.timeout = seconds
        connection.deadline = time.monotonic() + seconds
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", target, body=body, headers={"Content-Type": "text/plain"})
        response = connection.getresponse()
        content = response.read(MAX_RESPONSE_BYTES + 1)
    except (OSError, http.client.HTTPException) as exc:
        raise _Unreachable(str(exc) or type(exc).__name__) from exc
    finally:
        if response is not None:  # an answer cut off holds the socket: closed now, not by GC
            response.close()
        connection.close()
    if len(content) > MAX_RESPONSE_BYTES:
        raise _Refused(f"answered with more than {MAX_RESPONSE_BYTES} bytes")
    return _Response(response.status, content)


def _cosignature(witness: WitnessConfig, note: bytes, response: bytes) -> NoteSignature:
    text = parse_note(note).text
    try:
        opened = open_note(text.encode() + b"\n" + response, [witness.verifier], "response")
    except VerificationError as exc:
        raise _Refused(f"answered 200 without a valid cosignature: {exc.message}") from exc
    return opened.verified[0]


def _first_line(response: _Response) -> str:
    """The start of a refusal's body, printable only: it goes to a terminal."""
    lines = response.content.decode("utf-8", "replace").strip().splitlines() or [""]
    return "".join(char for char in lines[0][:200] if char.isprintable())


def _ask(
    witness: WitnessConfig, note: bytes, old: int, proofs: ProofSource
) -> tuple[NoteSignature, int]:
    size = parse_checkpoint(parse_note(note).text).size
    for _ in range(_MAX_CONFLICTS + 1):
        if old > size:
            raise _Refused(f"has cosigned size {old}, beyond this checkpoint's {size}", old)
        proof = proofs(old, size) if 0 < old < size else []
        body = AddCheckpoint(old, tuple(proof), note).encode()
        response = _post(witness.url + ADD_CHECKPOINT_PATH, body, _timeout())
        if response.status == 200:
            return _cosignature(witness, note, response.content), size
        if response.status == 422 and old == size:
            # tlog-witness: equal sizes, another root is 422 (409 before C2SP/C2SP#280, below).
            raise _Refused(f"holds a different tree at size {old}: a fork of this log", old)
        if response.status != 409:
            raise _Refused(f"refused with HTTP {response.status}: {_first_line(response)}")
        try:
            reported = parse_size_body(response.content)
        except VerificationError as exc:
            raise _Refused(f"answered 409 with a malformed size: {exc.message}") from exc
        if reported == old:
            raise _Refused(f"holds a different tree at size {old}: a fork of this log", old)
        old = reported
    raise _Refused("kept answering 409 with other sizes", old)


def ask_witnesses(
    ledger_dir: Path,
    note: bytes,
    witnesses: Sequence[WitnessConfig],
    proofs: ProofSource,
) -> tuple[list[PushResult], list[NoteSignature]]:
    """Ask every witness at once to cosign ``note``: what each did, and the valid cosignatures.

    Needs no ledger lock (it reads the hints and the tiles ``proofs`` reads, writes nothing).
    """
    if not witnesses:
        return [], []
    hints = load_hints(ledger_dir)

    def one(witness: WitnessConfig) -> tuple[PushResult, NoteSignature | None]:
        try:
            cosignature, size = _ask(witness, note, hints.get(witness.name, 0), proofs)
        except _Refused as refused:
            return PushResult(witness.name, False, refused.size, refused.message), None
        except _Unreachable as exc:
            return PushResult(witness.name, False, None, f"unreachable: {exc}"), None
        except BiasLedgerError as exc:
            return PushResult(witness.name, False, None, exc.message), None
        except OSError as exc:  # a newer append pruned the partial tile a proof needed
            return PushResult(witness.name, False, None, f"no proof: {exc}"), None
        return PushResult(witness.name, True, size, "cosigned"), cosignature

    with ThreadPoolExecutor(max_workers=len(witnesses)) as pool:
        outcomes = list(pool.map(one, witnesses))
    cosignatures = [cosignature for _, cosignature in outcomes if cosignature is not None]
    return [result for result, _ in outcomes], cosignatures


def store_cosignatures(
    ledger_dir: Path,
    note: bytes,
    results: Sequence[PushResult],
    cosignatures: Sequence[NoteSignature],
) -> bool:
    """Add ``cosignatures`` to ``<ledger>/checkpoint`` if it still is ``note``, atomically, and
    remember the sizes the witnesses reported. The caller holds the ledger lock.

    False when the checkpoint moved on (a newer append, whose own push asks for it): the
    cosignatures of an older tree are not put on a newer checkpoint, nor the older one back.
    With no cosignature to store, the checkpoint is not read.
    """
    if not results:
        return True
    checkpoint = ledger_dir / CHECKPOINT_FILE
    unchanged = not cosignatures or checkpoint.read_bytes() == note
    if cosignatures and unchanged:
        write_atomically(checkpoint, with_signatures(parse_note(note), cosignatures).encode())
    hints = load_hints(ledger_dir)
    for result in results:
        if result.size is not None:
            hints[result.witness] = result.size
    save_hints(ledger_dir, hints)
    return unchanged


def push_checkpoint(
    ledger_dir: Path,
    note: bytes,
    witnesses: Sequence[WitnessConfig],
    proofs: ProofSource,
) -> list[PushResult]:
    """Ask every witness to cosign ``note``; add the cosignatures to ``<ledger>/checkpoint``.

    The caller holds the ledger lock, and ``note`` is the checkpoint file's current content.
    """
    results, cosignatures = ask_witnesses(ledger_dir, note, witnesses, proofs)
    store_cosignatures(ledger_dir, note, results, cosignatures)
    return results


def _ledger_proofs(ledger_dir: Path) -> ProofSource:
    from bias_ledger.ledger.tlog_tree import consistency_hashes

    return lambda old, new: consistency_hashes(ledger_dir, old, new)


def push(ledger_dir: Path) -> list[PushResult]:
    """``bias-ledger witness push``: push the ledger's current checkpoint, under its lock."""
    from filelock import Timeout

    from bias_ledger.ledger.lock import ledger_lock

    witnesses = load_witnesses(ledger_dir)
    try:
        with ledger_lock(ledger_dir):
            try:
                note = (ledger_dir / CHECKPOINT_FILE).read_bytes()
            except OSError as exc:
                raise LedgerError(
                    f"{ledger_dir / CHECKPOINT_FILE}: cannot read the checkpoint "
                    f"({exc.strerror}); append a record first"
                ) from exc
            return push_checkpoint(ledger_dir, note, witnesses, _ledger_proofs(ledger_dir))
    except Timeout as exc:
        raise LedgerError(f"{ledger_dir}: the ledger lock is held by another process") from exc


def push_after_append(ledger_dir: Path, signed_checkpoint: bytes) -> None:
    """The append workflow's push: ask, report each witness that did not cosign on stderr,
    never raise.

    Called after the append returned (the record and its checkpoint are durable, the ledger
    lock released), so a slow or dead witness delays no other writer: the witnesses are asked
    without the lock, which is taken again only to store their cosignatures with the
    checkpoint, and only if it still is ``signed_checkpoint``.
    """
    from bias_ledger.ledger.lock import ledger_lock

    try:
        witnesses = load_witnesses(ledger_dir)
        if not witnesses:
            return
        proofs = _ledger_proofs(ledger_dir)
        results, cosignatures = ask_witnesses(ledger_dir, signed_checkpoint, witnesses, proofs)
        with ledger_lock(ledger_dir):
            store_cosignatures(ledger_dir, signed_checkpoint, results, cosignatures)
    except (BiasLedgerError, OSError) as exc:
        message = exc.message if isinstance(exc, BiasLedgerError) else str(exc)
        print(f"warning: witnesses not asked: {message}", file=sys.stderr)
        return
    except Exception as exc:
        # The record is already durable: an unexpected failure here must not turn a good
        # append into a reported failure. 'witness push --debug' shows the traceback.
        print(f"warning: witnesses not asked: internal error: {exc!r}", file=sys.stderr)
        return
    for result in results:
        if not result.cosigned:
            print(
                f"warning: witness {result.witness} did not cosign: {result.message} "
                "(asked again at the next push)",
                file=sys.stderr,
            )
