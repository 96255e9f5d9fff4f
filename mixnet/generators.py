"""Independent generators h, h_1..h_N (docs/protocol.md §4).

seed = SHA-256(TLV(label, group description, context, purpose)); h_i = hash_to_group(seed ‖ i)
for i = 0, 1, …, where index 0 is the secondary generator h. The map to the group is one-way, so
nobody knows a discrete-log relation between any two of them, or with g. The identity, g and
repeats are skipped by moving to the next index (recorded nowhere: anyone recomputes). The
verifier always recomputes them; they are never read from a prover.
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

__all__ = ["GeneratorSet", "derive_generators", "generator_seed"]

_CACHE: dict[tuple[str, bytes, int], GeneratorSet] = {}
_CACHE_SIZE = 4


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


def derive_generators(
    group: Group,
    context: Any,
    purpose: str,
    count: int,
    executor: Executor | None = None,
) -> GeneratorSet:
    """h and h_1..h_count for (group, context, purpose); cached per process."""
    seed = generator_seed(group, context, purpose)
    key = (group.name, seed, count)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    # one spare candidate per 64 covers any skipped value
    total = count + 1 + 4 + count // 64
    parts = run_chunks(executor, _derive_chunk, total, lambda a, b: (group, seed, a, b))
    raws = [v for part in parts for v in part]
    g_bytes = group.generator().to_bytes()
    seen = {g_bytes, group.identity().to_bytes()}
    chosen: list[Element] = []
    index = total
    for raw in raws:
        e = Element(group, raw)
        data = e.to_bytes()
        if data not in seen:
            seen.add(data)
            chosen.append(e)
    while len(chosen) < count + 1:  # practically never reached
        e = Element(group, _derive_chunk(group, seed, index, index + 1)[0])
        index += 1
        if e.to_bytes() not in seen:
            seen.add(e.to_bytes())
            chosen.append(e)
    result = GeneratorSet(group, seed, chosen[0], chosen[1 : count + 1])
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = result
    return result
