"""Re-encryption shuffle of rows (docs/protocol.md §8.1, GenShuffle).

Output row i is input row ψ(i), every ciphertext re-encrypted with fresh randomness r'. The
witness keeps ψ and r' (indexed by input row), which the proof of shuffle needs; it is secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from mixnet.elgamal import Row, reencrypt_rows
from mixnet.groups.base import Element
from mixnet.rng import RandomSource

__all__ = ["ShuffleWitness", "random_permutation", "shuffle"]


@dataclass(frozen=True)
class ShuffleWitness:
    """ψ (output i ← input permutation[i]) and r' by input row and column. Secret."""

    permutation: tuple[int, ...]
    randomness: tuple[tuple[int, ...], ...]

    def __repr__(self) -> str:
        return f"ShuffleWitness(<secret, {len(self.permutation)} rows>)"


def random_permutation(n: int, rng: RandomSource) -> tuple[int, ...]:
    """A uniform permutation of range(n) by Fisher–Yates."""
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng.randbelow(i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return tuple(perm)


def shuffle(
    pk: Element,
    rows: Sequence[Row],
    rng: RandomSource,
    executor: Executor | None = None,
) -> tuple[list[Row], ShuffleWitness]:
    """Re-encrypt and permute `rows` under `pk`."""
    if not rows:
        raise ValueError("nothing to shuffle")
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise ValueError("rows of different widths")
    q = pk.group.order
    perm = random_permutation(len(rows), rng)
    randomness = tuple(tuple(rng.randbelow(q) for _ in range(width)) for _ in rows)
    reencrypted = reencrypt_rows(pk, rows, randomness, executor)
    return [reencrypted[j] for j in perm], ShuffleWitness(perm, randomness)
