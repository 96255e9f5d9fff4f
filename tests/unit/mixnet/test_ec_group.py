"""The secp256k1 group (mixnet/groups/ec.py, docs/ec-group.md): group laws, canonical
encodings, the identity the library cannot hold, hash-to-group, messages, bulk operations,
and ElGamal, every proof and the shuffle run over the curve."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mixnet.groups.ec as ec
from mixnet.elgamal import (
    Ciphertext,
    decrypt_row,
    encrypt_row,
    encrypt_rows,
    keygen,
    reencrypt_rows,
    row_from_json,
    row_to_json,
)
from mixnet.errors import DecodeError, VerificationError
from mixnet.generators import derive_generators
from mixnet.groups.base import Element, Scalar
from mixnet.groups.registry import (
    get_group,
    group_from_description,
    known_groups,
    production_group,
)
from mixnet.proofs import chaum_pedersen as cp
from mixnet.proofs import decryption, encryption, schnorr
from mixnet.rng import DeterministicRandom
from mixnet.shuffle import proof as shuffle_proof
from mixnet.shuffle.shuffle import shuffle
from mixnet.transcript import Transcript

GROUP = get_group(ec.SECP256K1)
N = ec.N
P = ec.P
G = GROUP.generator()
ONE = GROUP.identity()

scalars = st.integers(min_value=0, max_value=N - 1)
big_exponents = st.integers(min_value=0, max_value=2**400)
elements = scalars.map(lambda k: G**k)


def rng(seed: str = "ec") -> DeterministicRandom:
    return DeterministicRandom(seed)


def compressed(x: int, prefix: int = 2) -> bytes:
    return bytes([prefix]) + x.to_bytes(32, "big")


def x_not_on_curve() -> int:
    """The smallest x such that x^3 + 7 is not a square mod p."""
    x = 1
    while pow(x**3 + 7, (P - 1) // 2, P) == 1:
        x += 1
    return x


# ---- registry -------------------------------------------------------------------------------
def test_registered_as_production_128_bit() -> None:
    assert ec.SECP256K1 in known_groups()
    group = production_group(ec.SECP256K1)
    assert group is GROUP
    assert group.production and group.security_bits == 128
    assert (group.order, group.element_bytes, group.scalar_bytes) == (N, 33, 32)
    assert group.message_encoding == "exponential"


def test_description_round_trip_and_fingerprint() -> None:
    assert group_from_description(GROUP.description()) is GROUP
    tampered = dict(GROUP.description(), g="02" + "00" * 32)
    with pytest.raises(DecodeError):
        group_from_description(tampered)
    assert GROUP.fingerprint() == ec.Secp256k1Group().fingerprint()


def test_group_pickles_by_name() -> None:
    again = pickle.loads(pickle.dumps(GROUP))
    assert again == GROUP
    for e in (G**12345, ONE):  # raw values are plain bytes, so they cross process pools
        assert Element(again, pickle.loads(pickle.dumps(e.value))) == e


def test_parameters_recheck() -> None:
    ec.Secp256k1Group.check_parameters()


def test_generator_is_the_sec2_point() -> None:
    assert G.to_hex() == "02" + format(ec.GX, "064x")
    assert G**N == ONE
    assert G ** (N - 1) == G.inverse()


# ---- group laws -----------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(elements, elements, elements)
def test_mul_is_associative_and_commutative(a: Element, b: Element, c: Element) -> None:
    assert (a * b) * c == a * (b * c)
    assert a * b == b * a


@settings(max_examples=40, deadline=None)
@given(elements)
def test_identity_and_inverse(a: Element) -> None:
    assert a * ONE == a == ONE * a
    assert a * a.inverse() == ONE
    assert a / a == ONE
    assert (a / G) * G == a


@settings(max_examples=40, deadline=None)
@given(elements, scalars, scalars)
def test_power_laws(a: Element, x: int, y: int) -> None:
    assert a**x * a**y == a ** ((x + y) % N)
    assert (a**x) ** y == a ** (x * y % N)
    assert a ** GROUP.scalar(x) == a**x
    assert (a * G) ** x == a**x * G**x


@settings(max_examples=30, deadline=None)
@given(elements, big_exponents)
def test_raw_exponents_larger_than_q_are_reduced(a: Element, e: int) -> None:
    want = a ** (e % N)
    assert Element(GROUP, GROUP.raw_pow(a.value, e)) == want
    assert GROUP.multi_exp([a], [e]) == want
    assert GROUP.fixed_base_pows(a, [e]) == [want]
    assert GROUP.fixed_base_pows(G, [e]) == [G ** (e % N)]


def test_generator_shortcut_matches_the_ladder() -> None:
    for k in (1, 2, 3, N - 1, 2**255 + 17):
        assert ec._base_mul(k) == ec._mul(ec._affine(ec.GX, ec.GY) + b"", k)
        out = ec.ffi.new(ec._PUB)
        ec.ffi.memmove(out, ec._G, 64)
        assert ec.lib.secp256k1_ec_pubkey_tweak_mul(ec._CTX, out, k.to_bytes(32, "big"))
        assert bytes(ec.ffi.buffer(out)) == ec._base_mul(k)


# ---- canonical encoding ---------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(elements)
def test_encoding_round_trip(a: Element) -> None:
    data = a.to_bytes()
    assert len(data) == 33
    assert GROUP.element_from_bytes(data) == a
    assert GROUP.element_from_hex(a.to_hex()) == a
    assert hash(GROUP.element_from_bytes(data)) == hash(a)


def test_identity_encodes_as_33_zero_bytes() -> None:
    assert ONE.to_bytes() == bytes(33)
    assert GROUP.element_from_bytes(bytes(33)) == ONE
    assert GROUP.element_from_hex("00" * 33) == ONE


@pytest.mark.parametrize("size", [0, 1, 32, 34, 65])
def test_rejects_wrong_length(size: int) -> None:
    data = (G**7).to_bytes()
    data = (data * 2)[:size] if size else b""
    with pytest.raises(DecodeError):
        GROUP.element_from_bytes(data)
    with pytest.raises(DecodeError):
        GROUP.raw_from_bytes(data)


def test_rejects_uncompressed_and_hybrid_encodings() -> None:
    a = G**7
    x, y = (int.from_bytes(a.value[i : i + 32], "little") for i in (0, 32))
    body = x.to_bytes(32, "big") + y.to_bytes(32, "big")
    for prefix in (4, 6 + (y & 1)):
        with pytest.raises(DecodeError):
            GROUP.element_from_bytes(bytes([prefix]) + body)
        with pytest.raises(DecodeError):  # a 33-byte prefix-04/06/07 string
            GROUP.element_from_bytes(bytes([prefix]) + x.to_bytes(32, "big"))


@pytest.mark.parametrize("prefix", [0, 1, 4, 5, 6, 7, 0x82, 0xFF])
def test_rejects_bad_prefix_byte(prefix: int) -> None:
    x = int.from_bytes(G.to_bytes()[1:], "big")
    with pytest.raises(DecodeError, match="02 or 03"):
        GROUP.element_from_bytes(compressed(x, prefix))


def test_rejects_other_infinity_encodings() -> None:
    for data in (b"\x00", b"\x00" * 32 + b"\x01", b"\x02" + b"\x00" * 32, b"\x03" + b"\x00" * 32):
        with pytest.raises(DecodeError):
            GROUP.element_from_bytes(data)


@pytest.mark.parametrize("x", [P, P + 1, 2**256 - 1])
def test_rejects_x_not_below_p(x: int) -> None:
    for prefix in (2, 3):
        with pytest.raises(DecodeError, match="not below p"):
            GROUP.element_from_bytes(compressed(x, prefix))


def test_rejects_x_with_small_representative_above_p() -> None:
    # x + p < 2^256 for a valid x: the same point written with a non-reduced coordinate
    x = 1
    while pow(x**3 + 7, (P - 1) // 2, P) != 1:
        x += 1
    assert GROUP.element_from_bytes(compressed(x)).to_bytes() == compressed(x)
    with pytest.raises(DecodeError):
        GROUP.element_from_bytes(compressed(x + P))


def test_rejects_point_not_on_curve() -> None:
    with pytest.raises(DecodeError, match="not a point"):
        GROUP.element_from_bytes(compressed(x_not_on_curve()))


def test_rejects_non_canonical_hex() -> None:
    text = (G**9).to_hex()
    for bad in (text.upper(), text[:-2], text + "00", " " + text[1:], text[:-1] + "g"):
        with pytest.raises(DecodeError):
            GROUP.element_from_hex(bad)


# ---- the identity, which libsecp256k1 cannot represent --------------------------------------
def test_products_and_powers_that_hit_the_identity() -> None:
    a = G**5
    assert a * a.inverse() == ONE
    assert a / a == ONE
    assert a**0 == ONE and a**N == ONE and a ** GROUP.scalar(0) == ONE
    assert ONE.inverse() == ONE
    assert ONE**12345 == ONE
    assert ONE * ONE == ONE
    assert (ONE * a) / a == ONE
    assert a * ONE == a
    assert G ** (N - 5) * a == ONE


def test_bulk_operations_that_hit_the_identity() -> None:
    a = G**11
    assert GROUP.multi_exp([], []) == ONE
    assert GROUP.multi_exp([a, a.inverse()], [3, 3]) == ONE
    assert GROUP.multi_exp([a, ONE], [0, 5]) == ONE
    many = [a, a.inverse()] * 300  # the bucket method, with every bucket summing to infinity
    assert GROUP.multi_exp(many, [7] * 600) == ONE
    assert GROUP.multi_exp(many, list(range(600))) == a ** (N - 300)
    assert GROUP.fixed_base_pows(a, [0, N, 1]) == [ONE, ONE, a]
    assert GROUP.fixed_base_pows(ONE, [1, 2]) == [ONE, ONE]
    assert GROUP.fixed_base_pows(G, [0, N]) == [ONE, ONE]


def test_identity_in_a_proof_verifies_or_fails_cleanly() -> None:
    statement = schnorr.Statement(G, ONE)
    schnorr.verify(statement, schnorr.Proof(ONE, GROUP.scalar(0)), transcript=Transcript(b"t"))
    with pytest.raises(VerificationError, match="S1"):
        schnorr.verify(statement, schnorr.Proof(ONE, GROUP.scalar(1)), transcript=Transcript(b"t"))
    data = {"t": "00" * 33, "s": "00" * 32}
    assert schnorr.Proof.from_json(GROUP, data).t == ONE


def test_identity_is_a_message_and_decrypts() -> None:
    kp = keygen(GROUP, rng())
    row, _ = encrypt_row(kp.public, [0, 0], rng("zero"))
    assert decrypt_row(kp.secret, row) == [0, 0]
    ct = Ciphertext(ONE, ONE)  # (m·pk^0, g^0) with m = 0
    assert decrypt_row(kp.secret, (ct,)) == [0]


def test_a_forged_raw_value_raises_instead_of_aborting() -> None:
    # libsecp256k1 aborts the process on an all-zero point unless a callback is installed
    forged = Element(GROUP, bytes(64))
    short = Element(GROUP, b"abc")
    for op in (
        lambda: short * G,
        lambda: short**5,
        lambda: short.inverse(),
        lambda: short.to_bytes(),
        lambda: GROUP.multi_exp([short] * 300, [3] * 300),
        lambda: forged * G,
        lambda: G * forged,
        lambda: forged.inverse(),
        lambda: forged**5,
        lambda: forged.to_bytes(),
        lambda: GROUP.multi_exp([forged] * 300, [3] * 300),
        lambda: GROUP.fixed_base_pows(forged, [3] * 5),
    ):
        with pytest.raises(ValueError, match="not a secp256k1 point value"):
            op()
    assert G * G == G**2  # and the library is still usable


# ---- hash to group --------------------------------------------------------------------------
def test_hash_to_group_is_deterministic() -> None:
    a = GROUP.hash_to_element(b"tohyo")
    assert a == GROUP.hash_to_element(b"tohyo")
    assert a == ec.Secp256k1Group().hash_to_element(b"tohyo")
    assert GROUP.raw_hash_to_group(bytearray(b"tohyo")) == a.value
    assert GROUP.element_from_bytes(a.to_bytes()) == a


def test_hash_to_group_is_distinct_and_avoids_g_and_identity() -> None:
    values = [GROUP.hash_to_element(i.to_bytes(4, "big")) for i in range(300)]
    encodings = {v.to_bytes() for v in values}
    assert len(encodings) == 300
    assert G.to_bytes() not in encodings and ONE.to_bytes() not in encodings
    prefixes = {e[0] for e in encodings}
    assert prefixes == {2, 3}  # both y parities occur


def test_hash_to_group_is_the_documented_try_and_increment() -> None:
    import hashlib

    data = b"documented"
    counter = 0
    while True:
        block = hashlib.shake_256(ec.HASH_LABEL + counter.to_bytes(4, "big") + data).digest(49)
        x = int.from_bytes(block[:48], "big") % P
        if pow(x**3 + 7, (P - 1) // 2, P) == 1:
            break
        counter += 1
    want = compressed(x, 2 | (block[48] & 1))
    assert GROUP.hash_to_element(data).to_bytes() == want


def test_derived_generators_are_independent_of_g_and_each_other() -> None:
    gens = derive_generators(GROUP, {"election": "ec-test"}, "shuffle", 40)
    all_ = [gens.h, *gens.hs]
    assert len({e.to_bytes() for e in all_}) == 41
    assert G not in all_ and ONE not in all_
    again = derive_generators(GROUP, {"election": "ec-test"}, "shuffle", 40)
    assert [e.to_bytes() for e in again.hs] == [e.to_bytes() for e in gens.hs]


# ---- messages -------------------------------------------------------------------------------
@pytest.mark.parametrize("m", [0, 1, 2, 255, 1000, 65535])
def test_message_round_trip(m: int) -> None:
    e = GROUP.encode_message(m)
    assert e == G**m
    assert GROUP.decode_message(e) == m


def test_message_encoding_is_homomorphic() -> None:
    assert GROUP.encode_message(3) * GROUP.encode_message(4) == GROUP.encode_message(7)


def test_message_above_the_table_by_giant_steps() -> None:
    for m in (65536, 65537, 200_000, 999_999):
        assert GROUP.decode_message(GROUP.encode_message(m), 1_000_000) == m


def test_message_bound_is_respected() -> None:
    with pytest.raises(DecodeError):
        GROUP.decode_message(GROUP.encode_message(100), 100)
    assert GROUP.decode_message(GROUP.encode_message(99), 100) == 99
    with pytest.raises(DecodeError):
        GROUP.decode_message(GROUP.hash_to_element(b"no small dlog"), 1 << 17)


def test_message_range() -> None:
    with pytest.raises(ValueError):
        GROUP.encode_message(-1)
    with pytest.raises(ValueError):
        GROUP.encode_message(N)


# ---- bulk operations ------------------------------------------------------------------------
def naive(bases: list[Element], exps: list[int]) -> Element:
    acc = ONE
    for b, e in zip(bases, exps):
        acc = acc * b ** (e % N)
    return acc


@pytest.mark.parametrize(
    ("n", "bits"), [(1, 300), (2, 256), (31, 300), (300, 128), (700, 160), (1100, 256)]
)
def test_multi_exp_matches_naive(n: int, bits: int) -> None:
    r = rng(f"multi-exp {n}")
    bases = [GROUP.hash_to_element(i.to_bytes(4, "big")) for i in range(n)]
    exps = [r.randbits(bits) for _ in range(n)]
    exps[0] = 0
    assert GROUP.multi_exp(bases, exps) == naive(bases, exps)


def test_bucket_method_takes_the_large_cases() -> None:
    assert ec._bucket_window(10, 256) is None
    assert ec._bucket_window(300, 128) is not None
    assert ec._bucket_window(10_000, 256) == 8


@pytest.mark.parametrize("c", range(2, 11))
def test_bucket_method_for_every_window_width(c: int) -> None:
    r = rng(f"window {c}")
    bases = [GROUP.hash_to_element(b"w" + i.to_bytes(4, "big")) for i in range(40)]
    exps = [r.randbelow(N) for _ in bases]
    exps[1] = 1
    exps[2] = N - 1
    bases[3] = bases[4].inverse()
    exps[3] = exps[4]
    got = ec._pippenger([b.value for b in bases], exps, c)
    assert Element(GROUP, got) == naive(bases, exps)


def test_multi_exp_short_exponents_and_repeated_bases() -> None:
    r = rng("short")
    bases = [G, G.inverse(), G**2] * 100
    exps = [r.randbits(128) for _ in bases]
    assert GROUP.multi_exp(bases, exps) == naive(bases, exps)


def test_multi_exp_length_mismatch() -> None:
    with pytest.raises(ValueError):
        GROUP.multi_exp([G], [1, 2])


@pytest.mark.parametrize("count", [5, ec.TABLE_MIN_USES + 3])
def test_fixed_base_pows_match_single_powers(count: int) -> None:
    r = rng(f"fixed {count}")
    base = GROUP.hash_to_element(b"fixed base")
    exps = [r.randbits(260) for _ in range(count)]
    exps[:3] = [0, 1, N]
    got = GROUP.fixed_base_pows(base, exps)
    assert len(got) == count
    for i in [*range(5), count - 1]:
        assert got[i] == base ** (exps[i] % N)
    assert GROUP.fixed_base_pows(G, exps[:20]) == [G ** (e % N) for e in exps[:20]]


@pytest.fixture(scope="module")
def pool() -> Any:
    with ProcessPoolExecutor(max_workers=2) as executor:
        yield executor


def test_bulk_operations_over_processes(pool: ProcessPoolExecutor) -> None:
    r = rng("parallel")
    n = 600
    bases = [GROUP.hash_to_element(i.to_bytes(4, "big")) for i in range(n)]
    exps = [r.randbits(256) for _ in range(n)]
    bases[5] = ONE
    assert GROUP.multi_exp(bases, exps, pool) == GROUP.multi_exp(bases, exps)
    assert GROUP.fixed_base_pows(bases[1], exps, pool) == GROUP.fixed_base_pows(bases[1], exps)
    assert GROUP.fixed_base_pows(G, exps, pool)[-1] == G ** exps[-1]
    gens = derive_generators(GROUP, "parallel", "shuffle", 300, pool)
    derive_generators.__globals__["_CACHE"].clear()
    assert derive_generators(GROUP, "parallel", "shuffle", 300).hs == gens.hs


def test_check_members_accepts_own_elements() -> None:
    GROUP.check_members([G, ONE, G**5], rng())
    other = get_group("test-safe-256")
    with pytest.raises(VerificationError):
        GROUP.check_members([G, other.generator()], rng())


def test_elements_of_another_group_are_refused() -> None:
    other = get_group("test-safe-256")
    with pytest.raises(ValueError):
        G * other.generator()


# ---- ElGamal and every proof over the curve -------------------------------------------------
def test_elgamal_rows() -> None:
    kp = keygen(GROUP, rng("keys"))
    messages = [[1, 2, 3], [0, 65535, 7]]
    rows, rs = encrypt_rows(kp.public, messages, rng("enc"))
    assert [decrypt_row(kp.secret, row) for row in rows] == messages
    again = reencrypt_rows(kp.public, rows, [[5, 6, 7], [N - 1, 0, 2**300]])
    assert [decrypt_row(kp.secret, row) for row in again] == messages
    assert again[0] != rows[0]
    row, _ = encrypt_row(kp.public, [42], rng("one"))
    assert row_from_json(GROUP, row_to_json(row), 1) == row
    assert decrypt_row(kp.secret, row) == [42]
    assert all(isinstance(r, Scalar) for r in rs[0])


def test_schnorr_proof() -> None:
    x = GROUP.random_scalar(rng("x"))
    st_ = schnorr.Statement(G, G**x)
    proof = schnorr.prove(st_, x, transcript=Transcript(b"s"), rng=rng("w"))
    schnorr.verify(st_, proof, transcript=Transcript(b"s"))
    assert schnorr.Proof.from_json(GROUP, proof.to_json()) == proof
    with pytest.raises(VerificationError, match="S1"):
        schnorr.verify(st_, schnorr.Proof(proof.t, proof.s + 1), transcript=Transcript(b"s"))
    with pytest.raises(VerificationError, match="S1"):
        schnorr.verify(st_, schnorr.Proof(proof.t * G, proof.s), transcript=Transcript(b"s"))
    with pytest.raises(VerificationError, match="S1"):
        schnorr.verify(st_, proof, transcript=Transcript(b"other context"))


def test_chaum_pedersen_proof() -> None:
    x = GROUP.random_scalar(rng("x"))
    g2 = GROUP.hash_to_element(b"g2")
    st_ = cp.Statement(G, G**x, g2, g2**x)
    proof = cp.prove(st_, x, transcript=Transcript(b"c"), rng=rng("w"))
    cp.verify(st_, proof, transcript=Transcript(b"c"))
    assert cp.Proof.from_json(GROUP, proof.to_json()) == proof
    bad = cp.Statement(G, G**x, g2, g2 ** (x + 1))
    with pytest.raises(VerificationError, match="CP"):
        cp.verify(bad, proof, transcript=Transcript(b"c"))
    with pytest.raises(VerificationError, match="CP"):
        cp.verify(st_, cp.Proof(proof.t1, proof.t2 * G, proof.s), transcript=Transcript(b"c"))


@pytest.mark.parametrize("n", [3, 300])
def test_chaum_pedersen_batch_proof(n: int) -> None:
    x = GROUP.random_scalar(rng("x"))
    bases = [GROUP.hash_to_element(b"b" + i.to_bytes(4, "big")) for i in range(n)]
    factors = [b**x for b in bases]
    st_ = cp.BatchStatement(G**x, bases, factors)
    proof = cp.prove_batch(st_, x, transcript=Transcript(b"b"), rng=rng("w"))
    cp.verify_batch(st_, proof, transcript=Transcript(b"b"))
    wrong = list(factors)
    wrong[n // 2] = wrong[n // 2] * G
    with pytest.raises(VerificationError, match="CP"):
        cp.verify_batch(cp.BatchStatement(G**x, bases, wrong), proof, transcript=Transcript(b"b"))
    wrong[n // 2] = ONE
    with pytest.raises(VerificationError, match="CP"):
        cp.verify_batch(cp.BatchStatement(G**x, bases, wrong), proof, transcript=Transcript(b"b"))


def test_encryption_proof() -> None:
    kp = keygen(GROUP, rng("keys"))
    row, rs = encrypt_row(kp.public, [1, 0, 3], rng("enc"))
    st_ = encryption.Statement(kp.public, row)
    proof = encryption.prove(st_, rs, transcript=Transcript(b"e"), rng=rng("w"))
    encryption.verify(st_, proof, transcript=Transcript(b"e"))
    assert encryption.Proof.from_json(GROUP, proof.to_json(), 3) == proof
    rerandomised = reencrypt_rows(kp.public, [row], [[1, 1, 1]])[0]
    with pytest.raises(VerificationError, match="E1"):
        encryption.verify(
            encryption.Statement(kp.public, rerandomised), proof, transcript=Transcript(b"e")
        )
    tampered = encryption.Proof(proof.t, (proof.s[0], proof.s[1] + 1, proof.s[2]))
    with pytest.raises(VerificationError, match="E1"):
        encryption.verify(st_, tampered, transcript=Transcript(b"e"))


def test_decryption_proof() -> None:
    kp = keygen(GROUP, rng("keys"))
    rows, _ = encrypt_rows(kp.public, [[1, 2], [3, 0]], rng("enc"))
    factors = decryption.decryption_factors(kp.secret, rows)
    proof = decryption.prove_factors(
        kp.secret, rows, factors, transcript=Transcript(b"d"), rng=rng("w")
    )
    decryption.verify_factors(kp.public, rows, factors, proof, transcript=Transcript(b"d"))
    plain = [GROUP.decode_message(ct.a / d) for ct, d in zip([c for r in rows for c in r], factors)]
    assert plain == [1, 2, 3, 0]
    forged = [*factors[:-1], factors[-1] * G]  # would decrypt the last 0 as −1
    with pytest.raises(VerificationError, match="CP"):
        decryption.verify_factors(kp.public, rows, forged, proof, transcript=Transcript(b"d"))


# ---- the shuffle and its proof --------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 4, 300])
def test_shuffle_proof(n: int) -> None:
    kp = keygen(GROUP, rng("keys"))
    messages = [[i % 5, (7 * i) % 11] for i in range(n)]
    rows, _ = encrypt_rows(kp.public, messages, rng("enc"))
    outputs, witness = shuffle(kp.public, rows, rng("mix"))
    statement = shuffle_proof.ShuffleStatement(kp.public, rows, outputs, {"election": "ec"})
    proof = shuffle_proof.prove(statement, witness, transcript=Transcript(b"m"), rng=rng("p"))
    shuffle_proof.verify(statement, proof, transcript=Transcript(b"m"), rng=rng("v"))
    decoded = shuffle_proof.ShuffleProof.from_json(GROUP, proof.to_json(), n, 2)
    assert decoded == proof
    assert sorted(decrypt_row(kp.secret, r) for r in outputs) == sorted(messages)
    # replace one output ciphertext by an encryption of something else
    swapped = list(outputs)
    a = swapped[0][0]
    swapped[0] = (Ciphertext(a.a * G, a.b), *swapped[0][1:])
    bad = shuffle_proof.ShuffleStatement(kp.public, rows, swapped, {"election": "ec"})
    with pytest.raises(VerificationError, match="TW"):
        shuffle_proof.verify(bad, proof, transcript=Transcript(b"m"), rng=rng("v"))


# ---- DKG and threshold decryption -----------------------------------------------------------
def test_dkg_and_threshold_decryption() -> None:
    from trustees.decryption import combine_shares, make_share
    from trustees.testing import make_config, run_ceremony

    config, keys = make_config(GROUP, 2, 3, seed="ec dkg")
    run = run_ceremony(config, keys, seed="ec dkg")
    outcome = run.outcome()
    assert outcome.qualified == (1, 2, 3)
    rows, _ = encrypt_rows(outcome.pk, [[1, 0], [4, 2]], rng("dkg enc"))
    shares = []
    for i in (1, 3):
        key_share = run.trustees[i].key_share
        assert key_share is not None
        shares.append(make_share(key_share, rows, election=config.election, rng=rng(f"s{i}")))
    result = combine_shares(rows, shares, outcome.verification_keys, 2, election=config.election)
    assert result.plaintexts == ((1, 0), (4, 2))


def test_shuffle_proof_over_processes(pool: ProcessPoolExecutor) -> None:
    kp = keygen(GROUP, rng("keys"))
    n = 300
    rows, _ = encrypt_rows(kp.public, [[i % 3] for i in range(n)], rng("enc"), pool)
    outputs, witness = shuffle(kp.public, rows, rng("mix"), pool)
    statement = shuffle_proof.ShuffleStatement(kp.public, rows, outputs, {"election": "pool"})
    proof = shuffle_proof.prove(
        statement, witness, transcript=Transcript(b"m"), rng=rng("p"), executor=pool
    )
    shuffle_proof.verify(statement, proof, transcript=Transcript(b"m"), rng=rng("v"), executor=pool)
    serial = shuffle_proof.prove(statement, witness, transcript=Transcript(b"m"), rng=rng("p"))
    assert serial == proof  # chunks are combined in a fixed order: bit-identical
