"""Proof of knowledge of the encryption randomness of a row (docs/protocol.md §6.3).

This is what makes a ballot non-malleable: for a row ((a_1, b_1), …, (a_w, b_w)) with
b_j = g^{r_j}, the prover shows it knows every r_j. The challenge absorbs the caller's
context — the election fingerprint and the ballot's signing key — so the same ciphertexts
submitted under another voter's key, or re-randomised, do not verify.

Proof (t_1..t_w, s_1..s_w): t_j = g^{w_j}, c = H(…), s_j = w_j + c·r_j.
Check E1 (for each j): g^{s_j} = t_j · b_j^c.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mixnet.elgamal import Row
from mixnet.errors import DecodeError, VerificationError
from mixnet.groups.base import Element, Group, Scalar
from mixnet.proofs.checks import check_values
from mixnet.rng import RandomSource, system_random
from mixnet.transcript import Label, Transcript

__all__ = ["Proof", "Statement", "prove", "verify"]


@dataclass(frozen=True)
class Statement:
    pk: Element
    row: Row

    def absorb(self, transcript: Transcript) -> None:
        transcript.append("proof", Label.ENCRYPTION)
        transcript.append("group", self.pk.group.description())
        transcript.append("pk", self.pk)
        transcript.append("row", [[ct.a, ct.b] for ct in self.row])


@dataclass(frozen=True)
class Proof:
    t: tuple[Element, ...]
    s: tuple[Scalar, ...]

    def to_json(self) -> dict[str, list[str]]:
        return {"t": [x.to_hex() for x in self.t], "s": [x.to_hex() for x in self.s]}

    @classmethod
    def from_json(cls, group: Group, data: Any, width: int) -> Proof:
        if not isinstance(data, dict) or set(data) != {"t", "s"}:
            raise DecodeError("an encryption proof is {t, s}")
        t, s = data["t"], data["s"]
        if not isinstance(t, list) or not isinstance(s, list) or len(t) != width or len(s) != width:
            raise DecodeError(f"an encryption proof has {width} commitments and responses")
        return cls(
            tuple(group.element_from_hex(x) for x in t),
            tuple(group.scalar_from_hex(x) for x in s),
        )


def _challenge(statement: Statement, t: Sequence[Element], transcript: Transcript) -> int:
    statement.absorb(transcript)
    transcript.append("commitment", list(t))
    return transcript.challenge_mod(Label.C, statement.pk.group.order)


def prove(
    statement: Statement,
    randomness: Sequence[Scalar],
    *,
    transcript: Transcript,
    rng: RandomSource,
) -> Proof:
    group = statement.pk.group
    if len(randomness) != len(statement.row):
        raise ValueError("one randomness value per ciphertext")
    ws = [group.random_scalar(rng) for _ in randomness]
    g = group.generator()
    t = tuple(g**w for w in ws)
    c = _challenge(statement, t, transcript)
    return Proof(t, tuple(w + r * c for w, r in zip(ws, randomness)))


def verify(
    statement: Statement,
    proof: Proof,
    *,
    transcript: Transcript,
    rng: RandomSource = system_random,
) -> None:
    group = statement.pk.group
    width = len(statement.row)
    if len(proof.t) != width or len(proof.s) != width:
        raise VerificationError("E0 lengths", "one commitment and response per ciphertext")
    elements = [statement.pk, *proof.t, *(x for ct in statement.row for x in (ct.a, ct.b))]
    check_values(group, elements, proof.s, rng, check="E0")
    c = _challenge(statement, proof.t, transcript)
    g = group.generator()
    for j, (ct, t, s) in enumerate(zip(statement.row, proof.t, proof.s)):
        if g**s != t * ct.b**c:
            raise VerificationError("E1 g^s = t·b^c", f"fails for ciphertext {j}")
