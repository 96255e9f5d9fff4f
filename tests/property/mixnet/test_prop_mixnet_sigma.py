"""Property tests for the Σ-proofs: Schnorr, Chaum–Pedersen (single and batched), the proof of
knowledge of a row's encryption randomness, and verifiable decryption.

For each proof: an honest proof verifies, and each kind of tampering, one at a time, makes
verification raise a `VerificationError` naming the check (or a `DecodeError` when the
tampering is caught while decoding JSON). Statements with elements outside the subgroup are
refused too: see the tests at the end of the file.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mixnet_property_support import (
    BIG_GROUP,
    SMALL_GROUPS,
    SMALL_MODP_GROUPS,
    expect_check,
    expect_decode_error,
    non_member,
    non_member_kinds,
    other_element,
    seeds,
)

from mixnet.elgamal import Ciphertext, decrypt_row, encrypt_rows, keygen, reencrypt_rows
from mixnet.encoding import int_to_hex
from mixnet.groups import Group, get_group
from mixnet.proofs import chaum_pedersen as cp
from mixnet.proofs import decryption as dec
from mixnet.proofs import encryption as enc
from mixnet.proofs import schnorr
from mixnet.rng import DeterministicRandom
from mixnet.transcript import Transcript

FAST = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ONE = settings(max_examples=1, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CTX = {"election": "prop-test", "role": "sigma"}
OTHER_CTX = {"election": "prop-test", "role": "sigma", "ballot-key": "another voter"}


def tr(ctx: object = None) -> Transcript:
    return Transcript(CTX if ctx is None else ctx)


def scalars_at_or_above_q(group: Group) -> list[str]:
    top = (1 << (8 * group.scalar_bytes)) - 1
    return [int_to_hex(v, group.scalar_bytes) for v in {group.order, group.order + 1, top}]


def non_member_hex(group: Group, kind: str) -> str:
    return int_to_hex(int(non_member(group, kind).value), group.element_bytes)


# ---------------------------------------------------------------- Schnorr


def make_schnorr(group: Group, seed: int) -> tuple[schnorr.Statement, schnorr.Proof]:
    rng = DeterministicRandom(seed)
    x = group.random_scalar(rng)
    base = group.generator()
    statement = schnorr.Statement(base, base**x)
    return statement, schnorr.prove(statement, x, transcript=tr(), rng=rng)


SCHNORR_TAMPERS = ["commitment", "response", "public key", "base", "context"]


@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds)
@FAST
def test_schnorr_honest_proof_verifies(name: str, seed: int) -> None:
    group = get_group(name)
    statement, proof = make_schnorr(group, seed)
    schnorr.verify(statement, proof, transcript=tr())
    again = schnorr.Proof.from_json(group, proof.to_json())
    assert again == proof
    schnorr.verify(statement, again, transcript=tr())


@pytest.mark.parametrize("tamper", SCHNORR_TAMPERS)
@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds)
@FAST
def test_schnorr_tampering_fails(name: str, tamper: str, seed: int) -> None:
    group = get_group(name)
    statement, proof = make_schnorr(group, seed)
    ctx = None
    if tamper == "commitment":
        proof = replace(proof, t=other_element(group, proof.t, b"t"))
    elif tamper == "response":
        proof = replace(proof, s=proof.s + 1)
    elif tamper == "public key":
        statement = replace(statement, y=other_element(group, statement.y, b"y"))
    elif tamper == "base":
        statement = replace(statement, base=other_element(group, statement.base, b"base"))
    elif tamper == "context":
        ctx = OTHER_CTX
    expect_check("S1", lambda: schnorr.verify(statement, proof, transcript=tr(ctx)))


@pytest.mark.parametrize(("name", "kind"), non_member_kinds(SMALL_MODP_GROUPS))
@given(seed=seeds)
@FAST
def test_schnorr_commitment_outside_subgroup_fails(name: str, kind: str, seed: int) -> None:
    group = get_group(name)
    statement, proof = make_schnorr(group, seed)
    bad = replace(proof, t=proof.t * non_member(group, kind))
    expect_check("S0 membership", lambda: schnorr.verify(statement, bad, transcript=tr()))
    data = dict(proof.to_json(), t=non_member_hex(group, kind))
    expect_decode_error(lambda: schnorr.Proof.from_json(group, data))


@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds)
@ONE
def test_schnorr_json_rejects_response_at_or_above_q(name: str, seed: int) -> None:
    group = get_group(name)
    _, proof = make_schnorr(group, seed)
    for text in scalars_at_or_above_q(group):
        data = dict(proof.to_json(), s=text)
        expect_decode_error(lambda data=data: schnorr.Proof.from_json(group, data))
    for data in ({"t": proof.t.to_hex()}, dict(proof.to_json(), extra="00"), [proof.to_json()]):
        expect_decode_error(lambda data=data: schnorr.Proof.from_json(group, data))


def test_schnorr_proof_values_from_another_group_fail() -> None:
    a, b = get_group("test-safe-256"), get_group("test-schnorr-512-128")
    statement, _ = make_schnorr(a, 1)
    _, foreign = make_schnorr(b, 1)
    expect_check("S0", lambda: schnorr.verify(statement, foreign, transcript=tr()))


@pytest.mark.slow
@given(seed=seeds)
@ONE
def test_schnorr_real_size_group(seed: int) -> None:
    group = get_group(BIG_GROUP)
    statement, proof = make_schnorr(group, seed)
    schnorr.verify(statement, proof, transcript=tr())
    bad = replace(proof, s=proof.s + 1)
    expect_check("S1", lambda: schnorr.verify(statement, bad, transcript=tr()))
    expect_check("S1", lambda: schnorr.verify(statement, proof, transcript=tr(OTHER_CTX)))


# ---------------------------------------------------------------- Chaum–Pedersen


def make_cp(group: Group, seed: int) -> tuple[cp.Statement, cp.Proof]:
    rng = DeterministicRandom(seed)
    x = group.random_scalar(rng)
    g1 = group.generator()
    g2 = group.hash_to_element(rng.randbytes(16))
    statement = cp.Statement(g1, g1**x, g2, g2**x)
    return statement, cp.prove(statement, x, transcript=tr(), rng=rng)


CP_TAMPERS = ["t1", "t2", "response", "public key", "factor", "second base", "context"]


@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds)
@FAST
def test_cp_honest_proof_verifies(name: str, seed: int) -> None:
    group = get_group(name)
    statement, proof = make_cp(group, seed)
    cp.verify(statement, proof, transcript=tr())
    again = cp.Proof.from_json(group, proof.to_json())
    assert again == proof
    cp.verify(statement, again, transcript=tr())


@pytest.mark.parametrize("tamper", CP_TAMPERS)
@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds)
@FAST
def test_cp_tampering_fails(name: str, tamper: str, seed: int) -> None:
    group = get_group(name)
    statement, proof = make_cp(group, seed)
    ctx = None
    if tamper == "t1":
        proof = replace(proof, t1=other_element(group, proof.t1, b"t1"))
    elif tamper == "t2":
        proof = replace(proof, t2=other_element(group, proof.t2, b"t2"))
    elif tamper == "response":
        proof = replace(proof, s=proof.s + 1)
    elif tamper == "public key":
        statement = replace(statement, x_pub=other_element(group, statement.x_pub, b"X"))
    elif tamper == "factor":
        statement = replace(statement, d=statement.d * group.generator())
    elif tamper == "second base":
        statement = replace(statement, g2=other_element(group, statement.g2, b"g2"))
    elif tamper == "context":
        ctx = OTHER_CTX
    expect_check("CP", lambda: cp.verify(statement, proof, transcript=tr(ctx)))


@pytest.mark.parametrize(("name", "kind"), non_member_kinds(SMALL_MODP_GROUPS))
@given(seed=seeds, which=st.sampled_from(["t1", "t2"]))
@FAST
def test_cp_commitment_outside_subgroup_fails(name: str, kind: str, seed: int, which: str) -> None:
    group = get_group(name)
    statement, proof = make_cp(group, seed)
    bad = replace(proof, **{which: getattr(proof, which) * non_member(group, kind)})
    expect_check("CP0 membership", lambda: cp.verify(statement, bad, transcript=tr()))
    data = dict(proof.to_json(), **{which: non_member_hex(group, kind)})
    expect_decode_error(lambda: cp.Proof.from_json(group, data))


@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds)
@ONE
def test_cp_json_rejects_response_at_or_above_q(name: str, seed: int) -> None:
    group = get_group(name)
    _, proof = make_cp(group, seed)
    for text in scalars_at_or_above_q(group):
        data = dict(proof.to_json(), s=text)
        expect_decode_error(lambda data=data: cp.Proof.from_json(group, data))


@pytest.mark.slow
@given(seed=seeds)
@ONE
def test_cp_real_size_group(seed: int) -> None:
    group = get_group(BIG_GROUP)
    statement, proof = make_cp(group, seed)
    cp.verify(statement, proof, transcript=tr())
    bad = replace(statement, d=statement.d * group.generator())
    expect_check("CP", lambda: cp.verify(bad, proof, transcript=tr()))


# ---------------------------------------------------------------- batched Chaum–Pedersen


def make_batch(group: Group, seed: int, n: int) -> tuple[cp.BatchStatement, cp.Proof]:
    rng = DeterministicRandom(seed)
    x = group.random_scalar(rng)
    g = group.generator()
    bases = [g ** group.random_scalar(rng) for _ in range(n)]
    statement = cp.BatchStatement(g**x, bases, [b**x for b in bases])
    return statement, cp.prove_batch(statement, x, transcript=tr(), rng=rng)


BATCH_TAMPERS = [
    "one factor",
    "two factors swapped",
    "one base",
    "t1",
    "t2",
    "response",
    "public key",
    "context",
]


@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds, n=st.integers(1, 8))
@FAST
def test_batch_cp_honest_proof_verifies(name: str, seed: int, n: int) -> None:
    group = get_group(name)
    statement, proof = make_batch(group, seed, n)
    cp.verify_batch(statement, proof, transcript=tr())


@pytest.mark.parametrize("tamper", BATCH_TAMPERS)
@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds, n=st.integers(2, 8), data=st.data())
@FAST
def test_batch_cp_tampering_fails(
    name: str, tamper: str, seed: int, n: int, data: st.DataObject
) -> None:
    group = get_group(name)
    statement, proof = make_batch(group, seed, n)
    i = data.draw(st.integers(0, n - 1), label="i")
    factors, bases = list(statement.factors), list(statement.bases)
    ctx = None
    if tamper == "one factor":
        factors[i] = factors[i] * group.generator()
    elif tamper == "two factors swapped":
        j = data.draw(st.integers(0, n - 1).filter(lambda j: factors[j] != factors[i]), label="j")
        factors[i], factors[j] = factors[j], factors[i]
    elif tamper == "one base":
        bases[i] = bases[i] * group.generator()
    elif tamper in ("t1", "t2"):
        proof = replace(proof, **{tamper: other_element(group, getattr(proof, tamper), b"t")})
    elif tamper == "response":
        proof = replace(proof, s=proof.s + 1)
    elif tamper == "public key":
        statement = replace(statement, x_pub=other_element(group, statement.x_pub, b"X"))
    elif tamper == "context":
        ctx = OTHER_CTX
    statement = replace(statement, bases=bases, factors=factors)
    expect_check("CP", lambda: cp.verify_batch(statement, proof, transcript=tr(ctx)))


@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds, n=st.integers(2, 5))
@FAST
def test_batch_cp_lengths_must_match(name: str, seed: int, n: int) -> None:
    group = get_group(name)
    statement, proof = make_batch(group, seed, n)
    short = replace(statement, factors=list(statement.factors)[:-1])
    expect_check("CPB0", lambda: cp.verify_batch(short, proof, transcript=tr()))
    empty = replace(statement, bases=[], factors=[])
    expect_check("CPB0", lambda: cp.verify_batch(empty, proof, transcript=tr()))


@pytest.mark.slow
@given(seed=seeds)
@ONE
def test_batch_cp_real_size_group(seed: int) -> None:
    group = get_group(BIG_GROUP)
    statement, proof = make_batch(group, seed, 4)
    cp.verify_batch(statement, proof, transcript=tr())
    factors = list(statement.factors)
    factors[0], factors[1] = factors[1], factors[0]
    bad = replace(statement, factors=factors)
    expect_check("CP", lambda: cp.verify_batch(bad, proof, transcript=tr()))


# ---------------------------------------------------------------- encryption randomness (ballots)


def make_enc(
    group: Group, seed: int, width: int
) -> tuple[enc.Statement, enc.Proof, DeterministicRandom]:
    rng = DeterministicRandom(seed)
    pk = keygen(group, rng).public
    rows, rs = encrypt_rows(pk, [[rng.randbelow(4) for _ in range(width)]], rng)
    statement = enc.Statement(pk, rows[0])
    return statement, enc.prove(statement, rs[0], transcript=tr(), rng=rng), rng


ENC_TAMPERS = [
    "a altered",
    "b altered",
    "commitment",
    "response",
    "public key",
    "another ballot key",
    "re-randomised row",
    "row from another ballot",
]


@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds, width=st.integers(1, 3))
@FAST
def test_encryption_honest_proof_verifies(name: str, seed: int, width: int) -> None:
    group = get_group(name)
    statement, proof, _ = make_enc(group, seed, width)
    enc.verify(statement, proof, transcript=tr())
    again = enc.Proof.from_json(group, proof.to_json(), width)
    assert again == proof
    enc.verify(statement, again, transcript=tr())


@pytest.mark.parametrize("tamper", ENC_TAMPERS)
@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds, width=st.integers(1, 3), data=st.data())
@FAST
def test_encryption_tampering_fails(
    name: str, tamper: str, seed: int, width: int, data: st.DataObject
) -> None:
    group = get_group(name)
    statement, proof, rng = make_enc(group, seed, width)
    j = data.draw(st.integers(0, width - 1), label="j")
    row = list(statement.row)
    g = group.generator()
    ctx = None
    if tamper == "a altered":
        row[j] = Ciphertext(row[j].a * g, row[j].b)
    elif tamper == "b altered":
        row[j] = Ciphertext(row[j].a, row[j].b * g)
    elif tamper == "commitment":
        t = list(proof.t)
        t[j] = other_element(group, t[j], b"t")
        proof = replace(proof, t=tuple(t))
    elif tamper == "response":
        s = list(proof.s)
        s[j] = s[j] + 1
        proof = replace(proof, s=tuple(s))
    elif tamper == "public key":
        statement = replace(statement, pk=keygen(group, rng).public)
    elif tamper == "another ballot key":
        ctx = OTHER_CTX
    elif tamper == "re-randomised row":
        r_prime = [[rng.randbelow(group.order - 1) + 1 for _ in row]]
        row = list(reencrypt_rows(statement.pk, [tuple(row)], r_prime)[0])
    elif tamper == "row from another ballot":
        other, _, _ = make_enc(group, seed + 1, width)
        row = list(other.row)
    statement = replace(statement, row=tuple(row))
    expect_check("E1", lambda: enc.verify(statement, proof, transcript=tr(ctx)))


@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds, width=st.integers(2, 3))
@FAST
def test_encryption_lengths_must_match(name: str, seed: int, width: int) -> None:
    group = get_group(name)
    statement, proof, _ = make_enc(group, seed, width)
    for bad in (replace(proof, t=proof.t[:-1]), replace(proof, s=proof.s[:-1])):
        expect_check("E0", lambda bad=bad: enc.verify(statement, bad, transcript=tr()))
    expect_decode_error(lambda: enc.Proof.from_json(group, proof.to_json(), width - 1))


@pytest.mark.parametrize(("name", "kind"), non_member_kinds(SMALL_MODP_GROUPS))
@given(seed=seeds, width=st.integers(1, 3), data=st.data())
@FAST
def test_encryption_commitment_outside_subgroup_fails(
    name: str, kind: str, seed: int, width: int, data: st.DataObject
) -> None:
    group = get_group(name)
    statement, proof, _ = make_enc(group, seed, width)
    j = data.draw(st.integers(0, width - 1), label="j")
    t = list(proof.t)
    t[j] = t[j] * non_member(group, kind)
    bad = replace(proof, t=tuple(t))
    expect_check("E0 membership", lambda: enc.verify(statement, bad, transcript=tr()))
    js = proof.to_json()
    js["t"][j] = non_member_hex(group, kind)
    expect_decode_error(lambda: enc.Proof.from_json(group, js, width))


@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds)
@ONE
def test_encryption_json_rejects_response_at_or_above_q(name: str, seed: int) -> None:
    group = get_group(name)
    _, proof, _ = make_enc(group, seed, 2)
    for text in scalars_at_or_above_q(group):
        js = proof.to_json()
        js["s"][1] = text
        expect_decode_error(lambda js=js: enc.Proof.from_json(group, js, 2))


@pytest.mark.slow
@given(seed=seeds)
@ONE
def test_encryption_real_size_group(seed: int) -> None:
    group = get_group(BIG_GROUP)
    statement, proof, _ = make_enc(group, seed, 2)
    enc.verify(statement, proof, transcript=tr())
    expect_check("E1", lambda: enc.verify(statement, proof, transcript=tr(OTHER_CTX)))
    rerandomised = reencrypt_rows(statement.pk, [statement.row], [[1, 2]])[0]
    bad = replace(statement, row=rerandomised)
    expect_check("E1", lambda: enc.verify(bad, proof, transcript=tr()))


# ---------------------------------------------------------------- verifiable decryption


def make_dec(group: Group, seed: int, n: int, width: int):  # type: ignore[no-untyped-def]
    rng = DeterministicRandom(seed)
    kp = keygen(group, rng)
    messages = [[rng.randbelow(8) for _ in range(width)] for _ in range(n)]
    rows, _ = encrypt_rows(kp.public, messages, rng)
    factors = dec.decryption_factors(kp.secret, rows)
    proof = dec.prove_factors(kp.secret, rows, factors, transcript=tr(), rng=rng)
    return kp, rows, factors, proof, messages


DEC_TAMPERS = [
    "one factor",
    "two factors swapped",
    "ciphertext b altered",
    "t1",
    "response",
    "public key",
    "context",
]


@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds, n=st.integers(1, 4), width=st.integers(1, 3))
@FAST
def test_decryption_honest_proof_verifies(name: str, seed: int, n: int, width: int) -> None:
    group = get_group(name)
    kp, rows, factors, proof, messages = make_dec(group, seed, n, width)
    dec.verify_factors(kp.public, rows, factors, proof, transcript=tr())
    plain = [
        [group.decode_message(ct.a / d, 16) for ct, d in zip(row, factors[i * width :])]
        for i, row in enumerate(rows)
    ]
    assert plain == messages
    assert [decrypt_row(kp.secret, row, 16) for row in rows] == messages


@pytest.mark.parametrize("tamper", DEC_TAMPERS)
@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds, n=st.integers(1, 4), width=st.integers(1, 3), data=st.data())
@FAST
def test_decryption_tampering_fails(
    name: str, tamper: str, seed: int, n: int, width: int, data: st.DataObject
) -> None:
    group = get_group(name)
    kp, rows, factors, proof, _ = make_dec(group, seed, n, width)
    rows, factors = list(rows), list(factors)
    pk = kp.public
    i = data.draw(st.integers(0, n * width - 1), label="i")
    ctx = None
    if tamper == "one factor":
        factors[i] = factors[i] * group.generator()
    elif tamper == "two factors swapped":
        if n * width == 1:  # nothing to swap with: use a factor of another decryption
            factors[0] = factors[0] ** 2
        else:
            j = data.draw(
                st.integers(0, n * width - 1).filter(lambda j: factors[j] != factors[i]), label="j"
            )
            factors[i], factors[j] = factors[j], factors[i]
    elif tamper == "ciphertext b altered":
        r, k = divmod(i, width)
        row = list(rows[r])
        row[k] = Ciphertext(row[k].a, row[k].b * group.generator())
        rows[r] = tuple(row)
    elif tamper == "t1":
        proof = replace(proof, t1=other_element(group, proof.t1, b"t1"))
    elif tamper == "response":
        proof = replace(proof, s=proof.s + 1)
    elif tamper == "public key":
        pk = other_element(group, pk, b"pk")
    elif tamper == "context":
        ctx = OTHER_CTX
    expect_check("CP", lambda: dec.verify_factors(pk, rows, factors, proof, transcript=tr(ctx)))


@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds, n=st.integers(1, 3))
@FAST
def test_decryption_one_factor_per_ciphertext(name: str, seed: int, n: int) -> None:
    group = get_group(name)
    kp, rows, factors, proof, _ = make_dec(group, seed, n, 2)
    for bad in (factors[:-1], [*factors, factors[0]]):
        expect_check(
            "D0", lambda bad=bad: dec.verify_factors(kp.public, rows, bad, proof, transcript=tr())
        )


@pytest.mark.slow
@given(seed=seeds)
@ONE
def test_decryption_real_size_group(seed: int) -> None:
    group = get_group(BIG_GROUP)
    kp, rows, factors, proof, _ = make_dec(group, seed, 2, 2)
    dec.verify_factors(kp.public, rows, factors, proof, transcript=tr())
    bad = [factors[1], factors[0], *factors[2:]]
    expect_check("CP", lambda: dec.verify_factors(kp.public, rows, bad, proof, transcript=tr()))


# ---------------------------------------------------------------- statements outside the subgroup
#
# A statement element outside the order-q subgroup, with a proof made for that very statement
# by a prover who knows x. Before the verifiers checked membership, an element of order 2
# (p − 1) let such a proof pass whenever the challenge was even (found by these tests, fixed
# in mixnet/proofs/); each test runs over a fixed list of seeds so that both parities occur.

GAP_SEEDS = range(16)


@pytest.mark.parametrize(("name", "kind"), non_member_kinds(SMALL_MODP_GROUPS))
def test_schnorr_statement_outside_subgroup_is_rejected(name: str, kind: str) -> None:
    group = get_group(name)
    outsider = non_member(group, kind)
    g = group.generator()
    for seed in GAP_SEEDS:
        rng = DeterministicRandom(seed)
        x = group.random_scalar(rng)
        for bad in (schnorr.Statement(g, g**x * outsider), schnorr.Statement(g * outsider, g**x)):
            proof = schnorr.prove(bad, x, transcript=tr(), rng=rng)
            expect_check(
                "S0 membership",
                lambda bad=bad, proof=proof: schnorr.verify(bad, proof, transcript=tr()),
            )


@pytest.mark.parametrize(("name", "kind"), non_member_kinds(SMALL_MODP_GROUPS))
def test_cp_statement_outside_subgroup_is_rejected(name: str, kind: str) -> None:
    group = get_group(name)
    outsider = non_member(group, kind)
    g = group.generator()
    for seed in GAP_SEEDS:
        rng = DeterministicRandom(seed)
        x = group.random_scalar(rng)
        g2 = group.hash_to_element(rng.randbytes(16))
        for bad in (
            cp.Statement(g, g**x, g2, g2**x * outsider),
            cp.Statement(g, g**x, g2 * outsider, (g2 * outsider) ** x),
            cp.Statement(g, g**x * outsider, g2, g2**x),
        ):
            proof = cp.prove(bad, x, transcript=tr(), rng=rng)
            expect_check(
                "CP0 membership",
                lambda bad=bad, proof=proof: cp.verify(bad, proof, transcript=tr()),
            )


@pytest.mark.parametrize(("name", "kind"), non_member_kinds(SMALL_MODP_GROUPS))
def test_decryption_factor_outside_subgroup_is_rejected(name: str, kind: str) -> None:
    group = get_group(name)
    outsider = non_member(group, kind)
    for seed in GAP_SEEDS:
        rng = DeterministicRandom(seed)
        kp = keygen(group, rng)
        rows, _ = encrypt_rows(kp.public, [[1], [2]], rng)
        factors = dec.decryption_factors(kp.secret, rows)
        # a decryptor publishing −d passed whenever the batch weight of d times c was even
        bad = [factors[0] * outsider, *factors[1:]]
        proof = dec.prove_factors(kp.secret, rows, bad, transcript=tr(), rng=rng)
        expect_check(
            "CPB0 membership",
            lambda kp=kp, rows=rows, bad=bad, proof=proof: dec.verify_factors(
                kp.public, rows, bad, proof, transcript=tr()
            ),
        )


@pytest.mark.parametrize(("name", "kind"), non_member_kinds(SMALL_MODP_GROUPS))
@pytest.mark.parametrize("component", ["a", "b", "pk"])
def test_encryption_statement_outside_subgroup_is_rejected(
    name: str, kind: str, component: str
) -> None:
    group = get_group(name)
    rng = DeterministicRandom(3)
    pk = keygen(group, rng).public
    rows, rs = encrypt_rows(pk, [[1]], rng)
    ct = rows[0][0]
    outsider = non_member(group, kind)
    if component == "a":  # `a` enters no equation: without a membership check it always passed
        bad = enc.Statement(pk, (Ciphertext(ct.a * outsider, ct.b),))
    elif component == "b":
        bad = enc.Statement(pk, (Ciphertext(ct.a, ct.b * outsider),))
    else:
        bad = enc.Statement(pk * outsider, rows[0])
    proof = enc.prove(bad, rs[0], transcript=tr(), rng=rng)
    expect_check("E0 membership", lambda: enc.verify(bad, proof, transcript=tr()))
