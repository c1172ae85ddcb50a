"""Whatever requests arrive, a witness's cosigned checkpoints form one append-only history.

Requests mix an honest log and a fork of it (same origin, same key) with arbitrary old sizes
and proofs from either tree; the witness decisions are run without HTTP, against a model.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import event, given, settings
from hypothesis import strategies as st

from bias_ledger.ledger.note import parse_verifier_key
from bias_ledger.witness.core import WitnessRefusal, admit, check_consistency
from bias_ledger.witness.protocol import AddCheckpoint
from bias_ledger.witness.state import Cosigned
from tests.witness.toylog import ToyLog

KEY = Ed25519PrivateKey.generate()
ORIGIN = "example.com/prop"
SIZE = 16


def _trees(fork_at: int) -> tuple[ToyLog, ToyLog]:
    honest = ToyLog(ORIGIN, KEY).append(fork_at)
    fork = honest.fork("evil")
    return honest.append(SIZE - fork_at), fork.append(SIZE - fork_at)


requests = st.lists(
    st.tuples(
        st.booleans(),  # which tree signs the checkpoint
        st.booleans(),  # which tree the proof comes from
        st.none() | st.integers(0, SIZE),  # old size (None: the one the witness holds)
        st.integers(0, SIZE),  # checkpoint size
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(fork_at=st.integers(0, SIZE - 1), sequence=requests)
def test_no_fork_and_no_rollback_is_ever_cosigned(
    fork_at: int, sequence: list[tuple[bool, bool, int | None, int]]
) -> None:
    honest, fork = _trees(fork_at)
    logs = {ORIGIN: (parse_verifier_key(honest.verifier_key),)}
    last: Cosigned | None = None
    cosigned = []
    for signed_by_fork, proof_from_fork, asked_old, size in sequence:
        old = (last.checkpoint.size if last else 0) if asked_old is None else asked_old
        log, prover = (fork if signed_by_fork else honest), (fork if proof_from_fork else honest)
        proof = prover.tree.consistency_proof(old, size) if 0 < old < size else []
        body = AddCheckpoint(old, tuple(proof), log.note(size)).encode()
        try:
            submission = admit(body, logs)
            check_consistency(submission, last)
        except WitnessRefusal as refusal:
            assert refusal.status in (400, 409, 422)
            if refusal.status == 409:
                assert refusal.body == f"{last.checkpoint.size if last else 0}\n".encode()
            continue
        last = Cosigned(submission.checkpoint, body)
        cosigned.append((signed_by_fork, submission.checkpoint))
    event(f"cosigned {min(len(cosigned), 5)}+ checkpoints")
    sizes = [checkpoint.size for _, checkpoint in cosigned]
    assert sizes == sorted(sizes)
    # One history: every cosigned root is the root, at its size, of the same tree.
    histories = {
        which
        for which, checkpoint in cosigned
        if checkpoint.size > fork_at  # up to the fork point both trees agree
    }
    assert len(histories) <= 1
    for _, checkpoint in cosigned:
        tree = fork if histories == {True} else honest
        assert checkpoint.root_hash == tree.tree.root(checkpoint.size)
