"""Microbenchmarks of the mix-net core (pytest-benchmark).

Measured only when asked (`pytest tests/bench --benchmark-enable`); pyproject's addopts has
`--benchmark-disable`, so in normal runs every benchmark body runs once as a test and what it
computes is checked. Timings are reported, never asserted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import gmpy2
import pytest

from mixnet.elgamal import Ciphertext, KeyPair, Row, decrypt_row, encrypt_row, encrypt_rows, keygen
from mixnet.errors import VerificationError
from mixnet.groups import ModpGroup, get_group
from mixnet.groups.fastexp import FixedBaseTable
from mixnet.proofs import chaum_pedersen as cp
from mixnet.proofs import decryption as dec
from mixnet.proofs import encryption as enc
from mixnet.proofs import schnorr
from mixnet.rng import DeterministicRandom
from mixnet.shuffle import proof as tw
from mixnet.shuffle.shuffle import ShuffleWitness, shuffle
from mixnet.transcript import Transcript

GROUPS = ["test-safe-256", pytest.param("modp2048", marks=pytest.mark.slow)]
CTX = {"bench": "micro"}


def tr() -> Transcript:
    return Transcript(CTX)


@dataclass
class Setup:
    group: ModpGroup
    keys: KeyPair
    rng: DeterministicRandom
    exps: list[int]


@pytest.fixture(scope="module", params=GROUPS)
def setup(request: pytest.FixtureRequest) -> Setup:
    group = get_group(request.param)
    assert isinstance(group, ModpGroup)
    rng = DeterministicRandom(f"bench/{group.name}")
    keys = keygen(group, rng)
    exps = [rng.randbelow(group.order) for _ in range(1000)]
    return Setup(group, keys, rng, exps)


# ---------------------------------------------------------------- exponentiation


def test_powmod(benchmark: Any, setup: Setup) -> None:
    g, p, e = setup.group.g, setup.group.p, setup.exps[0]
    result = benchmark(gmpy2.powmod, g, e, p)
    assert result == pow(int(g), e, int(p))


def test_fixed_base_table_pow(benchmark: Any, setup: Setup) -> None:
    group = setup.group
    table = FixedBaseTable(group.g, group.p, group.order.bit_length())
    exps = setup.exps[:100]
    result = benchmark(lambda: [table.pow(e) for e in exps])
    assert result == [gmpy2.powmod(group.g, e, group.p) for e in exps]


def test_fixed_base_pows_100(benchmark: Any, setup: Setup) -> None:
    group, pk = setup.group, setup.keys.public
    exps = setup.exps[:100]
    result = benchmark(group.fixed_base_pows, pk, exps)
    assert result[:5] == [pk**e for e in exps[:5]]
    assert len(result) == 100


@pytest.mark.parametrize("n", [100, 1000])
def test_multi_exp(benchmark: Any, setup: Setup, n: int) -> None:
    """∏ b_i^{u_i} with U_BITS-bit exponents, as in the shuffle verifier's aggregates."""
    group = setup.group
    bases = [group.hash_to_element(i.to_bytes(4, "big")) for i in range(n)]
    exps = [e >> (group.order.bit_length() - tw.U_BITS) for e in setup.exps[:n]]
    result = benchmark(group.multi_exp, bases, exps)
    p = group.p
    naive = gmpy2.mpz(1)
    for b, e in zip(bases, exps):
        naive = naive * gmpy2.powmod(b.value, e, p) % p
    assert result.value == naive


def test_encrypt_row(benchmark: Any, setup: Setup) -> None:
    pk = setup.keys.public
    row, rs = benchmark(encrypt_row, pk, [1, 2, 3], setup.rng)
    assert decrypt_row(setup.keys.secret, row, 8) == [1, 2, 3]
    assert [ct.b for ct in row] == [setup.group.generator() ** r for r in rs]


# ---------------------------------------------------------------- Σ-proofs


def test_schnorr_prove(benchmark: Any, setup: Setup) -> None:
    g, kp = setup.group.generator(), setup.keys
    st = schnorr.Statement(g, kp.public)
    proof = benchmark(lambda: schnorr.prove(st, kp.secret, transcript=tr(), rng=setup.rng))
    schnorr.verify(st, proof, transcript=tr())


def test_schnorr_verify(benchmark: Any, setup: Setup) -> None:
    g, kp = setup.group.generator(), setup.keys
    st = schnorr.Statement(g, kp.public)
    proof = schnorr.prove(st, kp.secret, transcript=tr(), rng=setup.rng)
    benchmark(lambda: schnorr.verify(st, proof, transcript=tr()))
    with pytest.raises(VerificationError):
        schnorr.verify(st, replace(proof, s=proof.s + 1), transcript=tr())


def cp_statement(setup: Setup) -> cp.Statement:
    g, kp = setup.group.generator(), setup.keys
    g2 = setup.group.hash_to_element(b"g2")
    return cp.Statement(g, kp.public, g2, g2**kp.secret)


def test_cp_prove(benchmark: Any, setup: Setup) -> None:
    st = cp_statement(setup)
    proof = benchmark(lambda: cp.prove(st, setup.keys.secret, transcript=tr(), rng=setup.rng))
    cp.verify(st, proof, transcript=tr())


def test_cp_verify(benchmark: Any, setup: Setup) -> None:
    st = cp_statement(setup)
    proof = cp.prove(st, setup.keys.secret, transcript=tr(), rng=setup.rng)
    benchmark(lambda: cp.verify(st, proof, transcript=tr()))
    with pytest.raises(VerificationError):
        cp.verify(replace(st, d=st.d * st.g1), proof, transcript=tr())


def batch_statement(setup: Setup, n: int = 100) -> cp.BatchStatement:
    group, x = setup.group, setup.keys.secret
    bases = group.fixed_base_pows(group.generator(), setup.exps[:n])
    return cp.BatchStatement(setup.keys.public, bases, [b**x for b in bases])


def test_batch_cp_prove_100(benchmark: Any, setup: Setup) -> None:
    st = batch_statement(setup)
    proof = benchmark(lambda: cp.prove_batch(st, setup.keys.secret, transcript=tr(), rng=setup.rng))
    cp.verify_batch(st, proof, transcript=tr())


def test_batch_cp_verify_100(benchmark: Any, setup: Setup) -> None:
    st = batch_statement(setup)
    proof = cp.prove_batch(st, setup.keys.secret, transcript=tr(), rng=setup.rng)
    benchmark(lambda: cp.verify_batch(st, proof, transcript=tr()))
    factors = list(st.factors)
    factors[0], factors[1] = factors[1], factors[0]
    with pytest.raises(VerificationError):
        cp.verify_batch(replace(st, factors=factors), proof, transcript=tr())


def encryption_case(setup: Setup) -> tuple[enc.Statement, list[Any]]:
    rows, rs = encrypt_rows(setup.keys.public, [[1, 2, 3]], setup.rng)
    return enc.Statement(setup.keys.public, rows[0]), rs[0]


def test_encryption_prove(benchmark: Any, setup: Setup) -> None:
    st, rs = encryption_case(setup)
    proof = benchmark(lambda: enc.prove(st, rs, transcript=tr(), rng=setup.rng))
    enc.verify(st, proof, transcript=tr())


def test_encryption_verify(benchmark: Any, setup: Setup) -> None:
    st, rs = encryption_case(setup)
    proof = enc.prove(st, rs, transcript=tr(), rng=setup.rng)
    benchmark(lambda: enc.verify(st, proof, transcript=tr()))
    with pytest.raises(VerificationError):
        enc.verify(st, proof, transcript=Transcript({"bench": "another ballot key"}))


@pytest.fixture(scope="module")
def decryption_case(setup: Setup) -> tuple[list[Row], list[Any], list[list[int]]]:
    messages = [[i % 5] for i in range(100)]
    rows, _ = encrypt_rows(setup.keys.public, messages, setup.rng)
    return rows, dec.decryption_factors(setup.keys.secret, rows), messages


def test_decryption_prove_100(benchmark: Any, setup: Setup, decryption_case: Any) -> None:
    rows, factors, messages = decryption_case
    x = setup.keys.secret
    proof = benchmark(lambda: dec.prove_factors(x, rows, factors, transcript=tr(), rng=setup.rng))
    dec.verify_factors(setup.keys.public, rows, factors, proof, transcript=tr())
    group = setup.group
    plain = [group.decode_message(row[0].a / d, 8) for row, d in zip(rows, factors)]
    assert plain == [m[0] for m in messages]


def test_decryption_verify_100(benchmark: Any, setup: Setup, decryption_case: Any) -> None:
    rows, factors, _ = decryption_case
    proof = dec.prove_factors(setup.keys.secret, rows, factors, transcript=tr(), rng=setup.rng)
    pk = setup.keys.public
    benchmark(lambda: dec.verify_factors(pk, rows, factors, proof, transcript=tr()))
    with pytest.raises(VerificationError):
        dec.verify_factors(pk, rows, [*factors[1:], factors[0]], proof, transcript=tr())


# ---------------------------------------------------------------- shuffle N = 100


@pytest.fixture(scope="module")
def shuffle_case(setup: Setup) -> tuple[tw.ShuffleStatement, ShuffleWitness, list[list[int]]]:
    messages = [[i % 7] for i in range(100)]
    rows, _ = encrypt_rows(setup.keys.public, messages, setup.rng)
    outputs, witness = shuffle(setup.keys.public, rows, setup.rng)
    return tw.ShuffleStatement(setup.keys.public, rows, outputs, CTX), witness, messages


def test_shuffle_rows_100(benchmark: Any, setup: Setup, shuffle_case: Any) -> None:
    statement, _, messages = shuffle_case
    outputs, witness = benchmark(shuffle, setup.keys.public, statement.inputs, setup.rng)
    plain = [decrypt_row(setup.keys.secret, row, 8) for row in outputs]
    assert plain == [messages[j] for j in witness.permutation]


def test_shuffle_prove_100(benchmark: Any, setup: Setup, shuffle_case: Any) -> None:
    statement, witness, _ = shuffle_case
    proof = benchmark(lambda: tw.prove(statement, witness, transcript=tr(), rng=setup.rng))
    tw.verify(statement, proof, transcript=tr())


def test_shuffle_verify_100(benchmark: Any, setup: Setup, shuffle_case: Any) -> None:
    statement, witness, _ = shuffle_case
    proof = tw.prove(statement, witness, transcript=tr(), rng=setup.rng)
    benchmark(lambda: tw.verify(statement, proof, transcript=tr()))
    ct = statement.outputs[0][0]
    outputs = [(Ciphertext(ct.a * setup.group.generator(), ct.b),), *statement.outputs[1:]]
    with pytest.raises(VerificationError) as info:
        tw.verify(replace(statement, outputs=outputs), proof, transcript=tr())
    assert info.value.check.startswith("TW")
