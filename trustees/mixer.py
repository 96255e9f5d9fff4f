"""A mix node's duty (docs/protocol.md §8.4, docs/trustees.md §11): verify, shuffle, prove.

Mix server k takes the list left by mix server k − 1 (the board's mix input for k = 1),
verifies every proof of shuffle before its turn and refuses to mix over a bad one, then
re-encrypts and permutes the rows and proves it with the Terelius–Wikström proof in the
context `mix_context(E, k)`, generators bound to E (the election fingerprint).

Nothing here does I/O: the daemon (`trustees.daemon`) fetches the entries and posts the body
returned by `shuffle_body`. Work is split over an optional `concurrent.futures.Executor`.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from election.entries import mix_context
from mixnet import elgamal
from mixnet.errors import DecodeError, TohyoError, VerificationError
from mixnet.groups import Element, Group
from mixnet.rng import RandomSource, system_random
from mixnet.shuffle import proof as shuffle_proof
from mixnet.shuffle.shuffle import shuffle
from mixnet.transcript import Transcript

__all__ = [
    "BODY_VERSION",
    "PostedShuffle",
    "ShuffleRejected",
    "decode_shuffle",
    "mix",
    "mix_transcript",
    "shuffle_body",
    "verify_chain",
    "verify_shuffle",
]

BODY_VERSION = 1


class ShuffleRejected(TohyoError):
    """A posted shuffle fails verification: `position` names the mixer, `check` the equation."""

    def __init__(self, position: int, check: str, detail: str) -> None:
        self.position, self.check, self.detail = position, check, detail
        super().__init__(f"shuffle of mix server {position} fails {check}: {detail}")


def mix_transcript(fingerprint: bytes, position: int) -> Transcript:
    """The Fiat–Shamir context of mix server `position`'s proof: ["tohyo/mix/v1", E, k]."""
    return Transcript(mix_context(fingerprint, position))


@dataclass(frozen=True)
class PostedShuffle:
    """One shuffle entry's body, decoded: position k, output rows and the proof."""

    position: int
    outputs: tuple[elgamal.Row, ...]
    proof: shuffle_proof.ShuffleProof


def shuffle_body(position: int, outputs: Sequence[elgamal.Row],
                 proof: shuffle_proof.ShuffleProof) -> dict[str, Any]:
    """The body of a `shuffle` entry: {v, position, outputs, proof}."""
    return {
        "v": BODY_VERSION,
        "position": position,
        "outputs": [elgamal.row_to_json(r) for r in outputs],
        "proof": proof.to_json(),
    }


def decode_shuffle(
    group: Group,
    body: Any,
    n: int,
    width: int,
    *,
    rng: RandomSource | None = None,
    executor: Executor | None = None,
) -> PostedShuffle:
    """Decode a shuffle body for an input list of `n` rows of `width` (checks everything;
    membership of the rows and the proof's elements tested in batches, on `executor`)."""
    if not isinstance(body, dict) or set(body) != {"v", "position", "outputs", "proof"}:
        raise DecodeError("a shuffle is {v, position, outputs, proof}")
    if body["v"] != BODY_VERSION:
        raise DecodeError(f"unsupported shuffle version {body['v']!r}")
    position = body["position"]
    if type(position) is not int or position < 1:
        raise DecodeError("position is a positive integer")
    outputs = body["outputs"]
    if not isinstance(outputs, list) or len(outputs) != n:
        raise DecodeError(f"a shuffle outputs {n} rows")
    rows = tuple(elgamal.rows_from_json(group, outputs, width, rng, executor)) if n else ()
    proof = shuffle_proof.ShuffleProof.from_json(group, body["proof"], n, width, rng, executor)
    return PostedShuffle(position, rows, proof)


def verify_shuffle(
    pk: Element,
    inputs: Sequence[elgamal.Row],
    posted: PostedShuffle,
    fingerprint: bytes,
    *,
    rng: RandomSource = system_random,
    executor: Executor | None = None,
) -> None:
    """Raise `ShuffleRejected` naming the failing check (TW0…TW5) unless the proof holds."""
    statement = shuffle_proof.ShuffleStatement(pk, list(inputs), list(posted.outputs), fingerprint)
    try:
        shuffle_proof.verify(
            statement,
            posted.proof,
            transcript=mix_transcript(fingerprint, posted.position),
            rng=rng,
            executor=executor,
        )
    except VerificationError as exc:
        raise ShuffleRejected(posted.position, exc.check, exc.detail) from exc


def verify_chain(
    pk: Element,
    mix_input: Sequence[elgamal.Row],
    shuffles: Sequence[Any],
    fingerprint: bytes,
    *,
    rng: RandomSource = system_random,
    executor: Executor | None = None,
) -> list[elgamal.Row]:
    """Verify shuffles 1..k (bodies as posted, in order); return the last list of rows.

    Raises `ShuffleRejected` for the first shuffle that is malformed, out of order, or whose
    proof fails.
    """
    group = pk.group
    current = list(mix_input)
    width = len(current[0]) if current else 0
    for k, body in enumerate(shuffles, start=1):
        try:
            posted = decode_shuffle(group, body, len(current), width, rng=rng, executor=executor)
        except DecodeError as exc:
            raise ShuffleRejected(k, "TW0 decode", str(exc)) from exc
        if posted.position != k:
            raise ShuffleRejected(k, "TW0 position", f"posted as position {posted.position}")
        verify_shuffle(pk, current, posted, fingerprint, rng=rng, executor=executor)
        current = list(posted.outputs)
    return current


def mix(
    pk: Element,
    rows: Sequence[elgamal.Row],
    fingerprint: bytes,
    position: int,
    *,
    rng: RandomSource = system_random,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Shuffle `rows`, prove it as mix server `position`; return the shuffle entry's body."""
    outputs, witness = shuffle(pk, rows, rng, executor)
    statement = shuffle_proof.ShuffleStatement(pk, list(rows), outputs, fingerprint)
    proof = shuffle_proof.prove(
        statement,
        witness,
        transcript=mix_transcript(fingerprint, position),
        rng=rng,
        executor=executor,
    )
    return shuffle_body(position, outputs, proof)
