"""g^e through the cached fixed-base table (Schnorr groups) equals plain modular powering."""

from __future__ import annotations

import gmpy2
import pytest

from mixnet.groups import get_group
from mixnet.groups.modp import MIN_TABLE_USES
from mixnet.rng import DeterministicRandom


@pytest.mark.parametrize("name", ["test-schnorr-512-128", "tohyo-schnorr-3072-256"])
def test_generator_powers_match_powmod_before_and_after_the_table(name: str) -> None:
    group = get_group(name)
    rng = DeterministicRandom(b"generator table")
    q = group.order
    edge = [0, 1, q - 1, q, q + 1, 2 * q + 5, -1, -q - 3]
    exps = edge + [rng.randbelow(q) for _ in range(MIN_TABLE_USES + 20)] + edge
    for e in exps:
        assert group.raw_pow(group.g, e) == gmpy2.powmod(group.g, e % q, group.p), e
    assert group._generator_uses == MIN_TABLE_USES  # the later powers came from the table
    # any other base is powered directly, whatever the count
    h = group.raw_pow(group.g, 12345)
    assert group.raw_pow(h, 7) == gmpy2.powmod(h, 7, group.p)
