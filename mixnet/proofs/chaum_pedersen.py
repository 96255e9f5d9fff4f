"""Chaum–Pedersen proof of equal discrete logarithms (docs/protocol.md §6.2).

Statement: X = g1^x and D = g2^x. Proof (t1, t2, s): t1 = g1^w, t2 = g2^w, c = H(…),
s = w + c·x. Checks CP1: g1^s = t1·X^c and CP2: g2^s = t2·D^c.

`prove_batch`/`verify_batch` prove D_i = B_i^x for many i at once (decryption shares): the
transcript derives 128-bit weights e_i after absorbing every B_i and D_i, and one proof covers
B = ∏B_i^{e_i}, D = ∏D_i^{e_i}. A single wrong D_i makes it fail except with probability
2^-128 (the weights are fixed only after all inputs).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from mixnet.errors import DecodeError, VerificationError
from mixnet.groups.base import BATCH_BITS, Element, Group, Scalar
from mixnet.proofs.checks import check_values
from mixnet.rng import RandomSource, system_random
from mixnet.transcript import Label, Transcript

__all__ = ["BatchStatement", "Proof", "Statement", "prove", "prove_batch", "verify", "verify_batch"]


@dataclass(frozen=True)
class Statement:
    g1: Element
    x_pub: Element  # g1^x
    g2: Element
    d: Element  # g2^x

    def absorb(self, transcript: Transcript) -> None:
        transcript.append("proof", Label.CHAUM_PEDERSEN)
        transcript.append("group", self.g1.group.description())
        transcript.append("statement", [self.g1, self.x_pub, self.g2, self.d])


@dataclass(frozen=True)
class Proof:
    t1: Element
    t2: Element
    s: Scalar

    def to_json(self) -> dict[str, str]:
        return {"t1": self.t1.to_hex(), "t2": self.t2.to_hex(), "s": self.s.to_hex()}

    @classmethod
    def from_json(cls, group: Group, data: Any) -> Proof:
        if not isinstance(data, dict) or set(data) != {"t1", "t2", "s"}:
            raise DecodeError("a Chaum–Pedersen proof is {t1, t2, s}")
        return cls(
            group.element_from_hex(data["t1"]),
            group.element_from_hex(data["t2"]),
            group.scalar_from_hex(data["s"]),
        )


def _challenge(statement: Statement, t1: Element, t2: Element, transcript: Transcript) -> int:
    statement.absorb(transcript)
    transcript.append("commitment", [t1, t2])
    return transcript.challenge_mod(Label.C, statement.g1.group.order)


def prove(statement: Statement, x: Scalar, *, transcript: Transcript, rng: RandomSource) -> Proof:
    w = statement.g1.group.random_scalar(rng)
    t1, t2 = statement.g1**w, statement.g2**w
    c = _challenge(statement, t1, t2, transcript)
    return Proof(t1, t2, w + x * c)


def verify(
    statement: Statement,
    proof: Proof,
    *,
    transcript: Transcript,
    rng: RandomSource = system_random,
) -> None:
    group = statement.g1.group
    check_values(
        group,
        [statement.g1, statement.x_pub, statement.g2, statement.d, proof.t1, proof.t2],
        [proof.s],
        rng,
        check="CP0",
    )
    c = _challenge(statement, proof.t1, proof.t2, transcript)
    if statement.g1**proof.s != proof.t1 * statement.x_pub**c:
        raise VerificationError("CP1 g1^s = t1·X^c", "key equation fails")
    if statement.g2**proof.s != proof.t2 * statement.d**c:
        raise VerificationError("CP2 g2^s = t2·D^c", "factor equation fails")


@dataclass(frozen=True)
class BatchStatement:
    """X = g^x and D_i = B_i^x for every i."""

    x_pub: Element
    bases: Sequence[Element]
    factors: Sequence[Element]

    def combine(self, transcript: Transcript, executor: Executor | None) -> Statement:
        group = self.x_pub.group
        if len(self.bases) != len(self.factors) or not self.bases:
            raise VerificationError("CPB0 lengths", "bases and factors differ in number")
        transcript.append("proof", Label.CHAUM_PEDERSEN_BATCH)
        transcript.append("group", group.description())
        transcript.append("key", self.x_pub)
        transcript.append_list("bases", self.bases, len(self.bases))
        transcript.append_list("factors", self.factors, len(self.factors))
        weights = transcript.challenge_vector(Label.BATCH, len(self.bases), BATCH_BITS)
        b = group.multi_exp(self.bases, weights, executor)
        d = group.multi_exp(self.factors, weights, executor)
        return Statement(group.generator(), self.x_pub, b, d)


def prove_batch(
    statement: BatchStatement,
    x: Scalar,
    *,
    transcript: Transcript,
    rng: RandomSource,
    executor: Executor | None = None,
) -> Proof:
    return prove(statement.combine(transcript, executor), x, transcript=transcript, rng=rng)


def verify_batch(
    statement: BatchStatement,
    proof: Proof,
    *,
    transcript: Transcript,
    executor: Executor | None = None,
    rng: RandomSource = system_random,
) -> None:
    group = statement.x_pub.group
    group.check_members(
        [statement.x_pub, *statement.bases, *statement.factors],
        rng,
        executor,
        check="CPB0 membership",
    )
    verify(statement.combine(transcript, executor), proof, transcript=transcript, rng=rng)
