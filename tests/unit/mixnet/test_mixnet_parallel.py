"""Work spread over a `ProcessPoolExecutor(2)` gives results identical to inline execution:
multi-exponentiation, fixed-base powers, generator derivation, and the shuffle proof (both
proving with a fixed seed and verifying)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import pytest

from mixnet import generators
from mixnet.elgamal import Ciphertext, encrypt_rows, keygen
from mixnet.errors import VerificationError
from mixnet.generators import derive_generators
from mixnet.groups import get_group
from mixnet.parallel import MIN_PARALLEL_ITEMS, chunk_bounds
from mixnet.proofs.decryption import decryption_factors
from mixnet.rng import DeterministicRandom
from mixnet.shuffle import proof as tw
from mixnet.shuffle.shuffle import shuffle
from mixnet.transcript import Transcript
from tests.mixnet_support import SMALL_GROUPS

#: Enough items that `run_chunks` really splits the work over the pool.
N = MIN_PARALLEL_ITEMS + 44


class CountingPool(ProcessPoolExecutor):
    """A process pool that counts submitted jobs, so each test can show the pool was used."""

    submitted = 0

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)

    def used(self) -> bool:
        was, self.submitted = self.submitted, 0
        return was > 0


@pytest.fixture(scope="module")
def pool() -> Iterator[CountingPool]:
    with CountingPool(2) as executor:
        yield executor


@pytest.mark.parametrize(("n", "parts"), [(0, 4), (1, 4), (10, 3), (300, 4), (7, 7), (5, 9)])
def test_chunk_bounds_cover_the_range_in_order(n: int, parts: int) -> None:
    bounds = chunk_bounds(n, parts)
    flat = [i for a, b in bounds for i in range(a, b)]
    assert flat == list(range(n))
    sizes = [b - a for a, b in bounds]
    assert max(sizes) - min(sizes) <= 1 and len(bounds) <= max(1, parts)


@pytest.mark.parametrize("name", SMALL_GROUPS)
def test_multi_exp_is_identical_in_parallel(name: str, pool: CountingPool) -> None:
    group = get_group(name)
    rng = DeterministicRandom(name)
    bases = [group.hash_to_element(i.to_bytes(4, "big")) for i in range(N)]
    exps = [rng.randbelow(group.order) for _ in range(N)]
    inline = group.multi_exp(bases, exps)
    assert group.multi_exp(bases, exps, pool) == inline
    assert pool.used()
    naive = group.identity()
    for b, e in zip(bases[:20], exps[:20]):
        naive = naive * b**e
    assert group.multi_exp(bases[:20], exps[:20], pool) == naive


@pytest.mark.parametrize("name", SMALL_GROUPS)
def test_fixed_base_pows_are_identical_in_parallel(name: str, pool: CountingPool) -> None:
    group = get_group(name)
    rng = DeterministicRandom(name)
    base = group.hash_to_element(b"base")
    exps = [rng.randbelow(group.order) for _ in range(N)]
    inline = group.fixed_base_pows(base, exps)
    assert group.fixed_base_pows(base, exps, pool) == inline
    assert pool.used()
    assert inline[:5] == [base**e for e in exps[:5]]


@pytest.mark.parametrize("name", SMALL_GROUPS)
def test_generators_are_identical_in_parallel(name: str, pool: CountingPool) -> None:
    group = get_group(name)
    generators._CACHE.clear()
    inline = derive_generators(group, "parallel", "shuffle", N)
    generators._CACHE.clear()
    parallel = derive_generators(group, "parallel", "shuffle", N, pool)
    assert inline is not parallel
    assert pool.used()
    assert (inline.h, inline.hs) == (parallel.h, parallel.hs)


@pytest.mark.parametrize("name", SMALL_GROUPS)
def test_shuffle_proof_is_identical_in_parallel(name: str, pool: CountingPool) -> None:
    group = get_group(name)
    rng = DeterministicRandom(1)
    kp = keygen(group, rng)
    rows, _ = encrypt_rows(kp.public, [[i % 7] for i in range(N)], rng)
    outputs, witness = shuffle(kp.public, rows, rng)
    assert shuffle(kp.public, rows, DeterministicRandom(5), pool) == shuffle(
        kp.public, rows, DeterministicRandom(5)
    )
    statement = tw.ShuffleStatement(kp.public, rows, outputs, "parallel")
    inline = tw.prove(statement, witness, transcript=Transcript("p"), rng=DeterministicRandom(9))
    parallel = tw.prove(
        statement, witness, transcript=Transcript("p"), rng=DeterministicRandom(9), executor=pool
    )
    assert parallel == inline
    assert pool.used()
    # verification: inline and parallel accept the honest proof ...
    tw.verify(statement, inline, transcript=Transcript("p"), rng=DeterministicRandom(3))
    tw.verify(
        statement, inline, transcript=Transcript("p"), rng=DeterministicRandom(3), executor=pool
    )
    assert pool.used()
    # ... and both refuse a tampered one with the same named check
    ct = outputs[5][0]
    bad_outputs = list(outputs)
    bad_outputs[5] = (Ciphertext(ct.a * group.generator(), ct.b),)
    bad = replace(statement, outputs=bad_outputs)
    checks = []
    for executor in (None, pool):
        with pytest.raises(VerificationError) as info:
            tw.verify(
                bad,
                inline,
                transcript=Transcript("p"),
                rng=DeterministicRandom(3),
                executor=executor,
            )
        checks.append(info.value.check)
    assert checks[0] == checks[1] and checks[0].startswith("TW")


@pytest.mark.parametrize("name", SMALL_GROUPS)
def test_pow_many_and_decryption_factors_are_identical_in_parallel(
    name: str, pool: CountingPool
) -> None:
    group = get_group(name)
    rng = DeterministicRandom(name)
    kp = keygen(group, rng)
    rows, _ = encrypt_rows(kp.public, [[i % 3] for i in range(N)], rng)
    bs = [row[0].b for row in rows]
    inline = group.pow_many(bs, kp.secret.value)
    assert inline[:5] == [b**kp.secret for b in bs[:5]]
    assert group.pow_many(bs, kp.secret.value, pool) == inline
    assert pool.used()
    assert decryption_factors(kp.secret, rows, pool) == decryption_factors(kp.secret, rows)
