"""Schnorr proof of knowledge of a discrete logarithm (docs/protocol.md §6.1).

Statement: y = base^x. Proof (t, s) with t = base^w, c = H(transcript), s = w + c·x mod q.
Check S1: base^s = t · y^c.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mixnet.errors import DecodeError, VerificationError
from mixnet.groups.base import Element, Group, Scalar
from mixnet.proofs.checks import check_values
from mixnet.rng import RandomSource, system_random
from mixnet.transcript import Label, Transcript

__all__ = ["Proof", "Statement", "prove", "verify"]


@dataclass(frozen=True)
class Statement:
    base: Element
    y: Element

    def absorb(self, transcript: Transcript) -> None:
        transcript.append("proof", Label.SCHNORR)
        transcript.append("group", self.base.group.description())
        transcript.append("statement", [self.base, self.y])


@dataclass(frozen=True)
class Proof:
    t: Element
    s: Scalar

    def to_json(self) -> dict[str, str]:
        return {"t": self.t.to_hex(), "s": self.s.to_hex()}

    @classmethod
    def from_json(cls, group: Group, data: Any) -> Proof:
        if not isinstance(data, dict) or set(data) != {"t", "s"}:
            raise DecodeError("a Schnorr proof is {t, s}")
        return cls(group.element_from_hex(data["t"]), group.scalar_from_hex(data["s"]))


def _challenge(statement: Statement, t: Element, transcript: Transcript) -> int:
    statement.absorb(transcript)
    transcript.append("commitment", t)
    return transcript.challenge_mod(Label.C, statement.base.group.order)


def prove(statement: Statement, x: Scalar, *, transcript: Transcript, rng: RandomSource) -> Proof:
    group = statement.base.group
    w = group.random_scalar(rng)
    t = statement.base**w
    c = _challenge(statement, t, transcript)
    return Proof(t, w + x * c)


def verify(
    statement: Statement,
    proof: Proof,
    *,
    transcript: Transcript,
    rng: RandomSource = system_random,
) -> None:
    group = statement.base.group
    check_values(group, [statement.base, statement.y, proof.t], [proof.s], rng, check="S0")
    c = _challenge(statement, proof.t, transcript)
    if statement.base**proof.s != proof.t * statement.y**c:
        raise VerificationError("S1 base^s = t·y^c", "Schnorr equation fails")
