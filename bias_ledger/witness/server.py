"""``POST /add-checkpoint`` and ``GET /<origin hash>/checkpoint`` over aiohttp: the witness's
HTTP face (c2sp.org/tlog-witness; the submission and monitoring prefixes are the same).

Requests for different logs run concurrently; those for one origin are serialised by a lock
held from reading the cosigned state to persisting the new one, so two requests can never
both advance from the same size, nor one roll the other back. The state is on disk before the
cosignature is sent.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.errors import BiasLedgerError
from bias_ledger.ledger.note import (
    COSIGNATURE_V1,
    NoteSignature,
    SignedNote,
    cosign_text,
    note_verifier,
    open_note,
)
from bias_ledger.witness.core import WitnessRefusal, admit, check_consistency
from bias_ledger.witness.logs import LogKeys
from bias_ledger.witness.protocol import (
    ADD_CHECKPOINT_PATH,
    MAX_BODY_BYTES,
    MONITORING_CHECKPOINT_PATH,
)
from bias_ledger.witness.state import WitnessState


@dataclass
class Witness:
    """A cosigner: its name and key, the logs it knows, and its durable state."""

    name: str
    key: Ed25519PrivateKey = field(repr=False)
    logs: LogKeys
    state: WitnessState
    clock: Callable[[], float] = time.time
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict, repr=False)

    def verifier_key(self) -> str:
        """The witness's cosignature verifier key (type 0x04), for clients' configuration."""
        return note_verifier(self.name, self.key.public_key(), COSIGNATURE_V1).verifier_key()

    def _lock(self, origin: str) -> asyncio.Lock:
        # Only origins from the logs file get here, so this stays bounded.
        return self._locks.setdefault(origin, asyncio.Lock())

    async def add_checkpoint(self, body: bytes) -> bytes:
        """Cosign the request's checkpoint, returning the signature line, or raise a refusal."""
        submission = admit(body, self.logs)
        origin = submission.checkpoint.origin
        async with self._lock(origin):
            # Disk work in a thread: other origins' requests keep being served meanwhile.
            last = await asyncio.to_thread(self.state.load, origin)
            try:
                check_consistency(submission, last)
            except WitnessRefusal as refusal:
                if refusal.status == 422 or (refusal.status == 409 and last is not None):
                    _log(f"refused {origin} size {submission.checkpoint.size}: {refusal.message}")
                raise
            cosignature = self._cosign(submission.note.text)
            # What the monitoring endpoint serves: the log's signatures this witness verified
            # and the cosignature it answers with, persisted before the answer leaves.
            kept = SignedNote(submission.note.text, (*submission.log_signatures, cosignature))
            await asyncio.to_thread(self.state.store, submission.checkpoint, kept.encode())
        return cosignature.line().encode()

    def _cosign(self, text: str) -> NoteSignature:
        return cosign_text(text, self.name, self.key, int(self.clock()))

    async def latest(self, origin_hash: str) -> bytes | None:
        """The latest checkpoint cosigned for the origin of SHA-256 ``origin_hash``, with the
        log's signatures the witness verified and its own cosignature; None: never cosigned."""
        cosigned = await asyncio.to_thread(self.state.load_by_hash, origin_hash)
        if cosigned is None:
            return None
        origin = cosigned.checkpoint.origin
        opened = open_note(cosigned.note, self.logs.get(origin, ()), f"witness state of {origin}")
        mine = note_verifier(self.name, self.key.public_key(), COSIGNATURE_V1)
        own = [
            line
            for line in opened.note.signatures
            if (line.name, line.key_id) == (mine.name, mine.key_id)
            and mine.verify(opened.note.text, line.signature)
        ]
        # A state written before this endpoint holds the note as received: cosigned anew.
        cosignature = own[0] if own else self._cosign(opened.note.text)
        return SignedNote(opened.note.text, (*opened.verified, cosignature)).encode()


def _log(message: str) -> None:
    print(f"witness: {message}", file=sys.stderr, flush=True)


def build_app(witness: Witness) -> web.Application:
    """The aiohttp application serving ``witness``."""

    async def add_checkpoint(request: web.Request) -> web.Response:
        try:
            body = await request.read()
            line = await witness.add_checkpoint(body)
        except WitnessRefusal as refusal:
            return web.Response(
                status=refusal.status, body=refusal.body, content_type=refusal.content_type
            )
        except BiasLedgerError as exc:
            # A damaged state file: refuse to cosign rather than guess.
            _log(exc.message)
            return web.Response(status=500, text="witness state unavailable\n")
        return web.Response(body=line, content_type="text/plain", charset="utf-8")

    async def checkpoint(request: web.Request) -> web.Response:
        try:
            note = await witness.latest(request.match_info["origin_hash"])
        except BiasLedgerError as exc:  # a damaged state file, or a log no longer configured
            _log(exc.message)
            return web.Response(status=500, text="witness state unavailable\n")
        if note is None:
            return web.Response(status=404, text="no checkpoint cosigned for this origin\n")
        return web.Response(body=note, content_type="text/plain", charset="utf-8")

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(ADD_CHECKPOINT_PATH, add_checkpoint)
    app.router.add_get(MONITORING_CHECKPOINT_PATH, checkpoint)
    return app


async def _serve(witness: Witness, host: str, port: int, ready: Callable[[str], None]) -> None:
    runner = web.AppRunner(build_app(witness), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_host, bound_port = runner.addresses[0][:2]
    ready(f"http://{bound_host}:{bound_port}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def serve(witness: Witness, host: str, port: int, ready: Callable[[str], None]) -> None:
    """Serve until SIGINT or SIGTERM; ``ready`` gets the base URL once the socket listens."""
    asyncio.run(_serve(witness, host, port, ready))
