"""Independent generators h, h_1..h_N: recomputed from the published recipe, deterministic,
distinct, never g or the identity, and different for every group, context and purpose."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from mixnet import generators
from mixnet.encoding import encode
from mixnet.generators import derive_generators, generator_seed
from mixnet.groups import Group, get_group
from mixnet.transcript import Label
from tests.mixnet_support import ALL_GROUPS, SMALL_GROUPS

CTX = {"election": "unit-test"}


def recompute(group: Group, context: Any, purpose: str, count: int) -> list[bytes]:
    """docs/protocol.md §4 from its text: seed = SHA-256(TLV(label, group, context, purpose));
    candidate i = hash_to_group(seed ‖ i as 8 bytes); skip the identity, g and repeats."""
    seed = hashlib.sha256(
        encode([Label.GENERATORS, group.description(), context, purpose])
    ).digest()
    seen = {group.identity().to_bytes(), group.generator().to_bytes()}
    out: list[bytes] = []
    i = 0
    while len(out) < count + 1:
        e = group.hash_to_element(seed + i.to_bytes(8, "big")).to_bytes()
        i += 1
        if e not in seen:
            seen.add(e)
            out.append(e)
    return out


@pytest.mark.parametrize("name", ALL_GROUPS)
def test_generators_follow_the_published_recipe(name: str) -> None:
    group = get_group(name)
    gens = derive_generators(group, CTX, "shuffle", 5)
    assert gens.seed == generator_seed(group, CTX, "shuffle")
    expected = recompute(group, CTX, "shuffle", 5)
    assert [gens.h.to_bytes(), *(h.to_bytes() for h in gens.hs)] == expected


@pytest.mark.parametrize("name", SMALL_GROUPS)
def test_generators_are_deterministic_and_prefix_stable(name: str) -> None:
    group = get_group(name)
    generators._CACHE.clear()  # derive twice from scratch, not from the per-process cache
    first = derive_generators(group, CTX, "shuffle", 40)
    generators._CACHE.clear()
    again = derive_generators(group, CTX, "shuffle", 40)
    assert first is not again
    assert (first.h, first.hs, first.seed) == (again.h, again.hs, again.seed)
    fewer = derive_generators(group, CTX, "shuffle", 7)
    assert fewer.h == first.h and fewer.hs == first.hs[:7]
    assert derive_generators(group, CTX, "shuffle", 40) is derive_generators(
        group, CTX, "shuffle", 40
    )


@pytest.mark.parametrize("name", SMALL_GROUPS)
def test_generators_are_distinct_members_other_than_g_and_one(name: str) -> None:
    group = get_group(name)
    gens = derive_generators(group, CTX, "shuffle", 200)
    everything = [gens.h, *gens.hs]
    assert len(gens.hs) == 200
    assert len({e.to_bytes() for e in everything}) == 201
    for e in everything:
        assert e != group.generator() and e != group.identity()
        assert group.element_from_bytes(e.to_bytes()) == e  # a checked subgroup member


@pytest.mark.parametrize("name", SMALL_GROUPS)
def test_generators_differ_per_context_purpose_and_group(name: str) -> None:
    group = get_group(name)
    base = derive_generators(group, CTX, "shuffle", 4)
    variants = [
        derive_generators(group, {"election": "another"}, "shuffle", 4),
        derive_generators(group, [CTX], "shuffle", 4),
        derive_generators(group, CTX, "commitment", 4),
        derive_generators(group, CTX, "shuffle ", 4),
    ]
    seeds = {base.seed, *(v.seed for v in variants)}
    assert len(seeds) == 5
    pool = {e.to_bytes() for e in (base.h, *base.hs)}
    for v in variants:
        assert pool.isdisjoint(e.to_bytes() for e in (v.h, *v.hs))
    for other_name in ALL_GROUPS:
        if other_name != name:
            other = get_group(other_name)
            assert generator_seed(other, CTX, "shuffle") != base.seed


def test_secondary_generator_is_index_zero() -> None:
    group = get_group("test-safe-256")
    gens = derive_generators(group, CTX, "shuffle", 3)
    seed = generator_seed(group, CTX, "shuffle")
    assert gens.h == group.hash_to_element(seed + (0).to_bytes(8, "big"))
    assert gens.hs[0] == group.hash_to_element(seed + (1).to_bytes(8, "big"))
