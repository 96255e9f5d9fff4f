"""The prefix property the mix servers' generator caches rely on (docs/protocol.md §4,
docs/trustees.md §11.4): the generators for N are a prefix of those for any larger N, and
`derive_generators` given any prefix of the candidates (`known`) gives the same list as from
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

import pytest

from mixnet.generators import (
    candidate_count,
    clear_cache,
    count_covered,
    derive_candidates,
    derive_generators,
    generator_seed,
)
from mixnet.groups import get_group
from tests.mixnet_support import SMALL_GROUPS

CTX = {"election": "prefix-test"}


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


def test_candidate_count_grows_with_n() -> None:
    counts = [candidate_count(n) for n in range(0, 5000)]
    assert all(a <= b for a, b in pairwise(counts))
    assert all(c >= n + 1 for n, c in enumerate(counts))
    with pytest.raises(ValueError):
        candidate_count(-1)


def test_count_covered_inverts_candidate_count() -> None:
    for c in range(0, 3000):
        n = count_covered(c)
        assert candidate_count(n) <= c or (n == 0 and c < candidate_count(0))
        assert candidate_count(n + 1) > c


@pytest.mark.parametrize("name", SMALL_GROUPS)
def test_the_list_for_n_is_a_prefix_of_the_list_for_more(name: str) -> None:
    group = get_group(name)
    longest = derive_generators(group, CTX, "shuffle", 70)
    for n in (1, 2, 13, 63, 64, 65, 69):
        clear_cache()
        gens = derive_generators(group, CTX, "shuffle", n)
        assert gens.h == longest.h and gens.hs == longest.hs[:n]


@pytest.mark.parametrize("name", SMALL_GROUPS)
def test_any_known_prefix_gives_the_same_generators(name: str) -> None:
    group = get_group(name)
    n = 30
    seed = generator_seed(group, CTX, "shuffle")
    scratch = derive_generators(group, CTX, "shuffle", n)
    candidates = derive_candidates(group, seed, 0, candidate_count(n) + 3)
    for k in (0, 1, 7, candidate_count(n) - 1, candidate_count(n), len(candidates)):
        clear_cache()
        gens = derive_generators(group, CTX, "shuffle", n, known=candidates[:k])
        assert (gens.h, gens.hs, gens.seed) == (scratch.h, scratch.hs, scratch.seed)


def test_candidates_in_pieces_equal_candidates_at_once() -> None:
    group = get_group("test-schnorr-512-128")
    seed = generator_seed(group, CTX, "shuffle")
    whole = derive_candidates(group, seed, 0, 20)
    assert derive_candidates(group, seed, 0, 7) + derive_candidates(group, seed, 7, 20) == whole
    assert derive_candidates(group, seed, 5, 5) == []
    with pytest.raises(ValueError):
        derive_candidates(group, seed, 6, 5)


def test_known_candidates_of_another_group_are_refused() -> None:
    group, other = get_group("test-schnorr-512-128"), get_group("test-safe-256")
    foreign = derive_candidates(other, generator_seed(other, CTX, "shuffle"), 0, 3)
    with pytest.raises(ValueError, match="another group"):
        derive_generators(group, CTX, "shuffle", 5, known=foreign)
