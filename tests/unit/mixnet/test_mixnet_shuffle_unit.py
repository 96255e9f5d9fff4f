"""The re-encryption shuffle: a permutation of re-encrypted rows that decrypts to the same
multiset of plaintext rows, following its witness exactly."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mixnet_unit_support import SMALL_GROUPS

from mixnet.elgamal import Ciphertext, decrypt_row, encrypt_rows, keygen
from mixnet.groups import get_group
from mixnet.rng import DeterministicRandom
from mixnet.shuffle.shuffle import random_permutation, shuffle


@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 12), width=st.integers(1, 3))
@settings(max_examples=10, deadline=None)
def test_shuffle_output_decrypts_to_the_same_multiset(
    name: str, seed: int, n: int, width: int
) -> None:
    group = get_group(name)
    rng = DeterministicRandom(seed)
    kp = keygen(group, rng)
    messages = [[rng.randbelow(5) for _ in range(width)] for _ in range(n)]
    rows, _ = encrypt_rows(kp.public, messages, rng)
    out, witness = shuffle(kp.public, rows, rng)
    plain = [decrypt_row(kp.secret, row, 8) for row in out]
    assert Counter(map(tuple, plain)) == Counter(map(tuple, messages))
    # output i is input ψ(i), re-encrypted with r' kept by input row
    assert sorted(witness.permutation) == list(range(n))
    g = group.generator()
    for i, j in enumerate(witness.permutation):
        assert plain[i] == messages[j]
        for k in range(width):
            r = witness.randomness[j][k]
            assert out[i][k] == Ciphertext(rows[j][k].a * kp.public**r, rows[j][k].b * g**r)
            assert out[i][k] != rows[j][k] or r == 0
    assert "secret" in repr(witness) and str(witness.randomness[0][0]) not in repr(witness)


def test_shuffle_is_reproducible_from_its_seed() -> None:
    group = get_group("test-safe-256")
    kp = keygen(group, DeterministicRandom(0))
    rows, _ = encrypt_rows(kp.public, [[i] for i in range(6)], DeterministicRandom(1))
    a = shuffle(kp.public, rows, DeterministicRandom(2))
    b = shuffle(kp.public, rows, DeterministicRandom(2))
    c = shuffle(kp.public, rows, DeterministicRandom(3))
    assert a == b
    assert a[0] != c[0]


def test_shuffle_refuses_empty_and_ragged_inputs() -> None:
    group = get_group("test-safe-256")
    rng = DeterministicRandom(0)
    kp = keygen(group, rng)
    rows, _ = encrypt_rows(kp.public, [[1, 2], [3, 4]], rng)
    with pytest.raises(ValueError):
        shuffle(kp.public, [], rng)
    with pytest.raises(ValueError):
        shuffle(kp.public, [rows[0], rows[1][:1]], rng)


@given(seed=st.integers(0, 2**32), n=st.integers(0, 50))
@settings(max_examples=50, deadline=None)
def test_random_permutation_is_a_permutation(seed: int, n: int) -> None:
    perm = random_permutation(n, DeterministicRandom(seed))
    assert sorted(perm) == list(range(n))
    assert perm == random_permutation(n, DeterministicRandom(seed))


def test_random_permutation_reaches_every_permutation_evenly() -> None:
    rng = DeterministicRandom("perm")
    counts = Counter(random_permutation(3, rng) for _ in range(3000))
    assert len(counts) == 6
    assert all(400 < c < 600 for c in counts.values())
