"""Verifiable decryption of a list of rows with one secret (docs/protocol.md §6.4).

For every ciphertext (a, b), the decryptor publishes the factor d = b^x; the plaintext element
is a / d. A batched Chaum–Pedersen proof shows log_g X = log_b d for all of them at once. The
same construction proves a trustee's decryption share against its verification key X_j.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor

from mixnet.elgamal import Row
from mixnet.errors import VerificationError
from mixnet.groups.base import Element, Scalar
from mixnet.proofs import chaum_pedersen as cp
from mixnet.rng import RandomSource, system_random
from mixnet.transcript import Label, Transcript

__all__ = ["decryption_factors", "prove_factors", "verify_factors"]


def _absorb_rows(transcript: Transcript, rows: Sequence[Row]) -> None:
    """Whole ciphertexts (a and b) enter the statement, not only the b's (docs/protocol.md §6.4)."""
    transcript.append_list("rows", ([[ct.a, ct.b] for ct in row] for row in rows), len(rows))


def decryption_factors(
    x: Scalar, rows: Sequence[Row], executor: Executor | None = None
) -> list[Element]:
    """d = b^x for every ciphertext of every row, row-major."""
    bs = [ct.b for row in rows for ct in row]
    return x.group.pow_many(bs, x.value, executor)


def prove_factors(
    x: Scalar,
    rows: Sequence[Row],
    factors: Sequence[Element],
    *,
    transcript: Transcript,
    rng: RandomSource,
    executor: Executor | None = None,
) -> cp.Proof:
    group = x.group
    transcript.append("proof", Label.DECRYPTION)
    _absorb_rows(transcript, rows)
    statement = cp.BatchStatement(
        group.generator() ** x, [ct.b for row in rows for ct in row], list(factors)
    )
    return cp.prove_batch(statement, x, transcript=transcript, rng=rng, executor=executor)


def verify_factors(
    x_pub: Element,
    rows: Sequence[Row],
    factors: Sequence[Element],
    proof: cp.Proof,
    *,
    transcript: Transcript,
    executor: Executor | None = None,
    rng: RandomSource = system_random,
) -> None:
    bs = [ct.b for row in rows for ct in row]
    if len(bs) != len(factors):
        raise VerificationError("D0 lengths", "one factor per ciphertext")
    transcript.append("proof", Label.DECRYPTION)
    _absorb_rows(transcript, rows)
    statement = cp.BatchStatement(x_pub, bs, list(factors))
    cp.verify_batch(statement, proof, transcript=transcript, executor=executor, rng=rng)
