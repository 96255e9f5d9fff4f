"""Independent generators h, h_1..h_N (docs/protocol.md §4).

seed = SHA-256(TLV(label, group description, context, purpose)); h_i = hash_to_group(seed ‖ i)
for i = 0, 1, …, where index 0 is the secondary generator h. The map to the group is one-way, so
nobody knows a discrete-log relation between any two of them, or with g. The identity, g and
repeats are skipped by moving to the next index (recorded nowhere: anyone recomputes). The
verifier always recomputes them; they are never read from a prover.

The list for N is a prefix of the list for any larger N (the candidates are drawn in index
order and `candidate_count` grows with N), so a mix server may derive candidates 0, 1, … ahead
of time (`derive_candidates`, stored by `trustees.generator_cache`) and hand them to
`derive_generators` as `known`; only the rest is derived then.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any

from mixnet.encoding import encode
from mixnet.groups.base import Element, Group
from mixnet.parallel import run_chunks
from mixnet.transcript import Label

__all__ = [
    "GeneratorSet",
    "candidate_count",
    "clear_cache",
    "count_covered",
    "derive_candidates",
    "derive_generators",
    "generator_seed",
]

_CACHE: dict[tuple[str, bytes, int], GeneratorSet] = {}
_CACHE_SIZE = 4


def clear_cache() -> None:
    """Forget the lists this process derived (the next call derives them again)."""
    _CACHE.clear()


def generator_seed(group: Group, context: Any, purpose: str) -> bytes:
    return hashlib.sha256(
        encode([Label.GENERATORS, group.description(), context, purpose])
    ).digest()


class GeneratorSet:
    """The secondary generator h and the list h_1..h_N for one seed."""

    __slots__ = ("group", "h", "hs", "seed")

    def __init__(self, group: Group, seed: bytes, h: Element, hs: Sequence[Element]) -> None:
        self.group = group
        self.seed = seed
        self.h = h
        self.hs = tuple(hs)  # shared through the cache: immutable


def _derive_chunk(group: Group, seed: bytes, start: int, stop: int) -> list[Any]:
    return [group.raw_hash_to_group(seed + i.to_bytes(8, "big")) for i in range(start, stop)]


def candidate_count(count: int) -> int:
    """How many candidates `derive_generators` draws for h, h_1..h_count (grows with count).

    One spare candidate per 64 covers any skipped value; more are drawn one by one if needed.
    """
    if count < 0:
        raise ValueError("a negative number of generators")
    return count + 1 + 4 + count // 64


def count_covered(candidates: int) -> int:
    """The largest N whose h, h_1..h_N are drawn from the first `candidates` candidates."""
    n = max(0, (candidates - 5) * 64 // 65)
    while candidate_count(n + 1) <= candidates:
        n += 1
    while n > 0 and candidate_count(n) > candidates:
        n -= 1
    return n if candidate_count(n) <= candidates else 0


def derive_candidates(
    group: Group, seed: bytes, start: int, stop: int, executor: Executor | None = None
) -> list[Element]:
    """Candidates start..stop − 1 for `seed` (hash_to_group(seed ‖ i)), in index order."""
    if not 0 <= start <= stop:
        raise ValueError("candidate indices run from start to stop ≥ start ≥ 0")
    parts = run_chunks(
        executor, _derive_chunk, stop - start, lambda a, b: (group, seed, start + a, start + b)
    )
    return [Element(group, raw) for part in parts for raw in part]


def derive_generators(
    group: Group,
    context: Any,
    purpose: str,
    count: int,
    executor: Executor | None = None,
    *,
    known: Sequence[Element] = (),
) -> GeneratorSet:
    """h and h_1..h_count for (group, context, purpose); cached per process.

    `known` are candidates 0..len(known) − 1 for this seed derived earlier (a mix server's
    cache, checked by its reader); only the candidates after them are derived here. A wrong
    known candidate gives wrong generators, and a proof made with them fails verification.
    """
    seed = generator_seed(group, context, purpose)
    key = (group.name, seed, count)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    total = candidate_count(count)
    if any(e.group != group for e in known[:total]):
        raise ValueError("known candidates of another group")
    have = list(known[:total])
    candidates = have + derive_candidates(group, seed, len(have), total, executor)
    g_bytes = group.generator().to_bytes()
    seen = {g_bytes, group.identity().to_bytes()}
    chosen: list[Element] = []
    index = total
    for e in candidates:
        data = e.to_bytes()
        if data not in seen:
            seen.add(data)
            chosen.append(e)
    while len(chosen) < count + 1:  # practically never reached
        e = derive_candidates(group, seed, index, index + 1)[0]
        index += 1
        if e.to_bytes() not in seen:
            seen.add(e.to_bytes())
            chosen.append(e)
    result = GeneratorSet(group, seed, chosen[0], chosen[1 : count + 1])
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = result
    return result
