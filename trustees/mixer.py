"""A mix node's duty (docs/protocol.md §8.4, docs/trustees.md §11): verify, shuffle, prove.

The mix input holds one list per contest (`election.rules.contest_lists`). Mix server k takes
the lists left by mix server k − 1 (the board's mix input for k = 1), verifies every proof of
shuffle before its turn and refuses to mix over a bad one, then re-encrypts and permutes each
contest's list with its own permutation and proves each with its own Terelius–Wikström proof in
the context `mix_context(E, k, contest id)`, generators bound to E (the election fingerprint).
Nothing links a row of one contest's output to a row of another's.

Nothing here does I/O: the daemon (`trustees.daemon`) fetches the entries and posts the body
returned by `mix`. Work is split over an optional `concurrent.futures.Executor`.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any

from election.entries import (
    SHUFFLE_VERSION,
    PostedList,
    PostedShuffle,
    decode_shuffle,
    mix_context,
)
from mixnet import elgamal
from mixnet.errors import DecodeError, TohyoError, VerificationError
from mixnet.groups import Element
from mixnet.rng import RandomSource, system_random
from mixnet.shuffle import proof as shuffle_proof
from mixnet.shuffle.shuffle import shuffle
from mixnet.transcript import Transcript

__all__ = [
    "BODY_VERSION",
    "Lists",
    "PostedList",
    "PostedShuffle",
    "ShuffleRejected",
    "decode_shuffle",
    "list_rows",
    "mix",
    "mix_transcript",
    "shapes_of",
    "verify_chain",
    "verify_shuffle",
]

BODY_VERSION = SHUFFLE_VERSION

#: one list of rows per contest, in manifest order: (contest id, rows)
Lists = Sequence[tuple[str, Sequence[elgamal.Row]]]


class ShuffleRejected(TohyoError):
    """A posted shuffle fails verification: `position` names the mixer, `contest` the list,
    `check` the equation."""

    def __init__(self, position: int, check: str, detail: str, contest: str | None = None) -> None:
        self.position, self.check, self.detail, self.contest = position, check, detail, contest
        where = f" (contest {contest})" if contest is not None else ""
        super().__init__(f"shuffle of mix server {position}{where} fails {check}: {detail}")


def mix_transcript(fingerprint: bytes, position: int, contest: str) -> Transcript:
    """The Fiat–Shamir context of mix server `position`'s proof for contest `contest`:
    ["tohyo/mix/v2", E, k, contest id]."""
    return Transcript(mix_context(fingerprint, position, contest))


def list_rows(lists: Lists) -> int:
    """How many rows each list has (one per counted ballot; the same in every contest)."""
    return len(lists[0][1]) if lists else 0


def shapes_of(lists: Lists) -> list[tuple[str, int, int]]:
    """(contest id, rows, width) of each list."""
    return [(c, len(rows), len(rows[0]) if rows else 0) for c, rows in lists]


def verify_shuffle(
    pk: Element,
    inputs: Lists,
    posted: PostedShuffle,
    fingerprint: bytes,
    *,
    rng: RandomSource = system_random,
    executor: Executor | None = None,
) -> None:
    """Raise `ShuffleRejected` naming the contest and the failing check (TW0…TW5) unless every
    contest's proof holds in its own context."""
    for (contest, rows), part in zip(inputs, posted.lists):
        statement = shuffle_proof.ShuffleStatement(pk, list(rows), list(part.outputs), fingerprint)
        try:
            shuffle_proof.verify(
                statement,
                part.proof,
                transcript=mix_transcript(fingerprint, posted.position, contest),
                rng=rng,
                executor=executor,
            )
        except VerificationError as exc:
            raise ShuffleRejected(posted.position, exc.check, exc.detail, contest) from exc


def verify_chain(
    pk: Element,
    mix_input: Lists,
    shuffles: Sequence[Any],
    fingerprint: bytes,
    *,
    rng: RandomSource = system_random,
    executor: Executor | None = None,
) -> list[tuple[str, list[elgamal.Row]]]:
    """Verify shuffles 1..k (bodies as posted, in order); return the last lists.

    Raises `ShuffleRejected` for the first shuffle that is malformed, out of order, or whose
    proof fails for one of its contests.
    """
    group = pk.group
    current: list[tuple[str, list[elgamal.Row]]] = [(c, list(rows)) for c, rows in mix_input]
    for k, body in enumerate(shuffles, start=1):
        try:
            posted = decode_shuffle(group, body, shapes_of(current), rng=rng, executor=executor)
        except DecodeError as exc:
            raise ShuffleRejected(k, "TW0 decode", str(exc)) from exc
        if posted.position != k:
            raise ShuffleRejected(k, "TW0 position", f"posted as position {posted.position}")
        verify_shuffle(pk, current, posted, fingerprint, rng=rng, executor=executor)
        current = [(part.contest, list(part.outputs)) for part in posted.lists]
    return current


def mix(
    pk: Element,
    lists: Lists,
    fingerprint: bytes,
    position: int,
    *,
    rng: RandomSource = system_random,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Shuffle each contest's list with its own permutation, prove each as mix server
    `position` in that contest's context; return the shuffle entry's body
    {v, position, contests: [{contest, outputs, proof}]}."""
    parts = []
    for contest, rows in lists:
        outputs, witness = shuffle(pk, rows, rng, executor)
        statement = shuffle_proof.ShuffleStatement(pk, list(rows), outputs, fingerprint)
        proof = shuffle_proof.prove(
            statement,
            witness,
            transcript=mix_transcript(fingerprint, position, contest),
            rng=rng,
            executor=executor,
        )
        parts.append(
            {
                "contest": contest,
                "outputs": [elgamal.row_to_json(r) for r in outputs],
                "proof": proof.to_json(),
            }
        )
    return {"v": BODY_VERSION, "position": position, "contests": parts}
