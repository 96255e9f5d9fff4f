"""The re-encryption shuffle: a permutation of re-encrypted rows that decrypts to the same
multiset of plaintext rows, following its witness exactly."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixnet.elgamal import Ciphertext, decrypt_row, encrypt_rows, keygen
from mixnet.groups import get_group
from mixnet.rng import DeterministicRandom
from mixnet.shuffle.shuffle import random_permutation, shuffle
from tests.mixnet_support import SMALL_GROUPS


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


def test_rows_from_json_decodes_in_one_batch_and_refuses_bad_rows() -> None:
    from mixnet.elgamal import encrypt_rows, keygen, row_to_json, rows_from_json
    from mixnet.errors import DecodeError
    from mixnet.groups import get_group
    from mixnet.rng import DeterministicRandom

    group = get_group("test-schnorr-512-128")
    rng = DeterministicRandom(11)
    pk = keygen(group, rng).public
    rows, _ = encrypt_rows(pk, [[1, 2], [3, 4], [0, 1]], rng)
    data = [row_to_json(r) for r in rows]
    assert rows_from_json(group, data, 2) == rows
    outside = format(int(group.p) - 1, f"0{2 * group.element_bytes}x")  # order 2
    for bad, message in (
        ([], "non-empty"),
        ([data[0][:1]], "2 ciphertexts"),
        ([[data[0][0], [data[0][1][0]]]], "pair"),
        ([[data[0][0], [data[0][1][0], outside]]], "subgroup"),
        ([[data[0][0], [data[0][1][0], data[0][1][1].upper()]]], "hex"),
    ):
        with pytest.raises(DecodeError, match=message):
            rows_from_json(group, bad, 2)
