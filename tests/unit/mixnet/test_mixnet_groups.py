"""Groups: decoding and membership, verifiable parameters, production refusal, fast
exponentiation against naive pow, and ElGamal round trips for each message encoding."""

from __future__ import annotations

import dataclasses
from typing import Any

import gmpy2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixnet.elgamal import decrypt_row, encrypt_row, encrypt_rows, keygen
from mixnet.encoding import int_to_hex
from mixnet.errors import DecodeError, ParameterError, VerificationError
from mixnet.groups import (
    PRODUCTION_GROUPS,
    TEST_GROUPS,
    check_generation,
    get_group,
    group_from_description,
    production_group,
)
from mixnet.groups.base import Element
from mixnet.groups.fastexp import FixedBaseTable, multi_exp
from mixnet.rng import DeterministicRandom
from tests.mixnet_support import (
    ALL_GROUPS,
    MODP_GROUPS,
    SMALL_GROUPS,
    SMALL_MODP_GROUPS,
    modp,
    non_member_values,
)

# ---------------------------------------------------------------- decoding and membership


def bad_element_hexes(name: str) -> list[tuple[str, str]]:
    group = modp(name)
    width = group.element_bytes
    p = int(group.p)
    out = [("zero", int_to_hex(0, width)), ("p", int_to_hex(p, width))]
    if (p + 1).bit_length() <= 8 * width:
        out.append(("p+1", int_to_hex(p + 1, width)))
    out.append(("all ones", "ff" * width))
    out += [(kind, int_to_hex(int(v), width)) for kind, v in non_member_values(group)]
    good = group.hash_to_element(b"has letters").to_hex()
    assert good != good.upper()
    out += [
        ("uppercase", good.upper()),
        ("one byte short", good[2:]),
        ("one byte long", "00" + good),
        ("odd length", good[1:]),
        ("0x prefix", "0x" + good[2:]),
        ("space", " " + good[1:]),
    ]
    return out


@pytest.mark.parametrize(
    ("name", "kind", "text"),
    [(n, kind, text) for n in MODP_GROUPS for kind, text in bad_element_hexes(n)],
)
def test_element_decoding_refuses(name: str, kind: str, text: str) -> None:
    group = get_group(name)
    with pytest.raises(DecodeError):
        group.element_from_hex(text)
    if len(text) == 2 * group.element_bytes and all(c in "0123456789abcdef" for c in text):
        with pytest.raises(DecodeError):
            group.element_from_bytes(bytes.fromhex(text))


@pytest.mark.parametrize("name", ALL_GROUPS)
def test_element_decoding_accepts_members(name: str) -> None:
    group = get_group(name)
    rng = DeterministicRandom(name)
    g = group.generator()
    for e in (g, g ** group.random_scalar(rng), group.hash_to_element(b"x"), g.inverse()):
        assert group.element_from_hex(e.to_hex()) == e
        assert group.element_from_bytes(e.to_bytes()) == e
    with pytest.raises(DecodeError):
        group.element_from_bytes(g.to_bytes()[1:])


@pytest.mark.parametrize("name", ALL_GROUPS)
def test_an_element_is_encoded_once_and_keeps_the_bytes_it_was_decoded_from(name: str) -> None:
    group = get_group(name)
    rng = DeterministicRandom(name)
    made = group.generator() ** group.random_scalar(rng)
    assert made.encoded is None
    data = made.to_bytes()
    assert made.encoded == data == group.raw_to_bytes(made.value)
    decoded = group.element_from_bytes(bytearray(data))
    assert decoded.encoded == data and type(decoded.encoded) is bytes
    assert decoded.to_bytes() is decoded.encoded  # nothing encoded again
    assert (decoded * group.generator()).encoded is None  # a new element has its own
    for e in (group.identity(), made.inverse()):
        assert group.element_from_bytes(e.to_bytes()).to_bytes() == group.raw_to_bytes(e.value)


@pytest.mark.parametrize("name", MODP_GROUPS)
def test_identity_is_a_member_of_modular_groups(name: str) -> None:
    group = get_group(name)
    assert group.element_from_hex(group.identity().to_hex()) == group.identity()


@pytest.mark.parametrize(
    ("name", "kind"), [(n, k) for n in MODP_GROUPS for k, _ in non_member_values(modp(n))]
)
def test_batch_decoding_and_check_members_refuse_one_outsider(name: str, kind: str) -> None:
    group = modp(name)
    value = dict(non_member_values(group))[kind]
    rng = DeterministicRandom(1)
    members = [group.generator() ** group.random_scalar(rng) for _ in range(12)]
    group.check_members(members, rng)
    texts = [e.to_hex() for e in members]
    assert group.elements_from_hex(texts, rng) == members
    for position in (0, 7, 11):
        bad = list(members)
        bad[position] = Element(group, value)
        with pytest.raises(VerificationError) as info:
            group.check_members(bad, rng, check="X9 membership")
        assert info.value.check == "X9 membership"
        bad_texts = list(texts)
        bad_texts[position] = int_to_hex(int(value), group.element_bytes)
        with pytest.raises(DecodeError):
            group.elements_from_hex(bad_texts, rng)


def test_check_members_refuses_elements_of_another_group() -> None:
    a, b = get_group("test-safe-256"), get_group("test-schnorr-512-128")
    with pytest.raises(VerificationError):
        a.check_members([a.generator(), b.generator()], DeterministicRandom(0))


@pytest.mark.parametrize("name", ALL_GROUPS)
def test_scalars_are_reduced_and_range_checked(name: str) -> None:
    group = get_group(name)
    q = group.order
    assert group.scalar_from_hex(int_to_hex(q - 1, group.scalar_bytes)).value == q - 1
    for v in (q, q + 1, (1 << (8 * group.scalar_bytes)) - 1):
        with pytest.raises(DecodeError):
            group.scalar_from_hex(int_to_hex(v, group.scalar_bytes))
    with pytest.raises(DecodeError):
        group.scalar(-1)
    with pytest.raises(DecodeError):
        group.scalar_from_hex(int_to_hex(0xAB, group.scalar_bytes).upper())
    g = group.generator()
    assert g**q == group.identity()
    assert g ** (q + 5) == g**5 == g ** group.scalar(5)
    assert g ** (-1) == g.inverse()
    assert (group.scalar(q - 1) + 2).value == 1


# ---------------------------------------------------------------- verifiable parameters


@pytest.mark.parametrize("name", MODP_GROUPS)
def test_check_generation_passes_for_every_modular_group(name: str) -> None:
    params = modp(name).params
    check_generation(params)
    group_from_description(get_group(name).description(), recheck=True)


def tampered_records(name: str) -> list[tuple[str, Any]]:
    params = modp(name).params
    gen = params.generation
    out: list[tuple[str, Any]] = [
        ("p + 2", dataclasses.replace(params, p=params.p + 2)),
        ("p − 2", dataclasses.replace(params, p=params.p - 2)),
        ("g", dataclasses.replace(params, g=params.g * params.g % params.p)),
        ("g = 1", dataclasses.replace(params, g=1)),
        ("q", dataclasses.replace(params, q=params.q + 2)),
        ("method", dataclasses.replace(params, generation=dict(gen, method="tohyo-seed-v0"))),
    ]
    if gen["method"] == "tohyo-seed-v1":
        seed = bytes.fromhex(gen["seed"])
        other_seed = (seed[:-1] + bytes([seed[-1] ^ 1])).hex()
        out += [
            ("seed", dataclasses.replace(params, generation=dict(gen, seed=other_seed))),
            (
                "counter + 1",
                dataclasses.replace(params, generation=dict(gen, counter=gen["counter"] + 1)),
            ),
            (
                "counter − 1",
                dataclasses.replace(params, generation=dict(gen, counter=gen["counter"] - 1)),
            ),
        ]
        if "g_counter" in gen:
            out.append(
                ("g_counter", dataclasses.replace(params, generation=dict(gen, g_counter=1)))
            )
    else:
        other = "rfc3526" if gen["method"] == "rfc7919" else "rfc7919"
        out.append(("standard", dataclasses.replace(params, generation=dict(gen, method=other))))
    return out


@pytest.mark.parametrize(
    ("name", "what", "params"),
    [(n, what, p) for n in MODP_GROUPS for what, p in tampered_records(n)],
)
def test_check_generation_fails_on_tampering(name: str, what: str, params: Any) -> None:
    with pytest.raises(ParameterError):
        check_generation(params)


@pytest.mark.parametrize(
    "name",
    [n for n in MODP_GROUPS if modp(n).params.generation["method"] in ("rfc7919", "rfc3526")],
)
def test_check_generation_checks_the_recorded_standard_constant(name: str) -> None:
    params = modp(name).params
    bad = dataclasses.replace(params, generation=dict(params.generation, constant=1))
    with pytest.raises(ParameterError):
        check_generation(bad)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"bits": 2047}, id="rfc-unknown-bits"),
        pytest.param({"seed": "zz"}, id="seed-not-hex"),
        pytest.param({"counter": None}, id="counter-missing"),
    ],
)
def test_check_generation_refuses_malformed_records_with_parameter_error(change: dict) -> None:
    key = next(iter(change))
    name = "modp2048" if key == "bits" else "test-schnorr-512-128"
    params = modp(name).params
    generation = dict(params.generation, **change)
    if change[key] is None:
        del generation[key]
    try:
        check_generation(dataclasses.replace(params, generation=generation))
    except ParameterError:
        return
    pytest.fail("no ParameterError")


def test_descriptions_must_match_exactly() -> None:
    group = get_group("test-safe-256")
    d = group.description()
    assert group_from_description(d) is group
    for bad in (
        dict(d, g=int_to_hex(9, group.element_bytes)),
        dict(d, name="test-safe-257"),
        dict(d, extra=1),
        {k: v for k, v in d.items() if k != "generation"},
        [d],
        "test-safe-256",
    ):
        with pytest.raises(DecodeError):
            group_from_description(bad)


@pytest.mark.parametrize("name", [*TEST_GROUPS, "modp2048"])
def test_production_group_refuses_test_and_comparison_groups(name: str) -> None:
    with pytest.raises(ParameterError):
        production_group(name)
    assert get_group(name).production is False or get_group(name).security_bits < 128


@pytest.mark.parametrize("name", PRODUCTION_GROUPS)
def test_production_groups_are_available(name: str) -> None:
    group = production_group(name)
    assert group.security_bits >= 128 and group.production


def test_unknown_groups_are_refused() -> None:
    with pytest.raises(ParameterError):
        get_group("modp1024")
    with pytest.raises(ParameterError):
        production_group("modp1024")


# ---------------------------------------------------------------- fast exponentiation


def naive_multi_exp(bases: list[Any], exps: list[int], p: Any) -> Any:
    acc = 1
    for b, e in zip(bases, exps):
        acc = acc * pow(int(b), e, int(p)) % int(p)
    return acc


@pytest.mark.parametrize("name", SMALL_MODP_GROUPS)
@given(data=st.data(), bits=st.integers(1, 300))
@settings(max_examples=40, deadline=None)
def test_fixed_base_table_matches_pow(name: str, data: st.DataObject, bits: int) -> None:
    group = modp(name)
    base = group.hash_to_element(data.draw(st.binary(max_size=8))).value
    table = FixedBaseTable(base, group.p, bits)
    for e in data.draw(st.lists(st.integers(0, (1 << bits) - 1), min_size=1, max_size=6)):
        assert table.pow(e) == pow(int(base), e, int(group.p))
    with pytest.raises(ValueError):
        table.pow(1 << bits)


@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(data=st.data(), n=st.sampled_from([1, 5, 31, 32, 40]))
@settings(max_examples=15, deadline=None)
def test_fixed_base_pows_match_pow(name: str, data: st.DataObject, n: int) -> None:
    group = get_group(name)
    q = group.order
    base = group.hash_to_element(data.draw(st.binary(max_size=8)))
    exps = data.draw(
        st.lists(
            st.integers(0, q - 1) | st.sampled_from([0, 1, q - 1]) | st.integers(q, 4 * q),
            min_size=n,
            max_size=n,
        )
    )
    assert group.fixed_base_pows(base, exps) == [base ** (e % q) for e in exps]


@given(
    data=st.data(),
    n=st.integers(0, 40),
    bits=st.sampled_from([1, 8, 64, 160, 255, 256, 600]),
)
@settings(max_examples=60, deadline=None)
def test_raw_multi_exp_matches_naive(data: st.DataObject, n: int, bits: int) -> None:
    group = modp(data.draw(st.sampled_from(SMALL_MODP_GROUPS)))
    bases = [group.hash_to_element(bytes([i])).value for i in range(n)]
    exps = data.draw(st.lists(st.integers(0, (1 << bits) - 1), min_size=n, max_size=n))
    assert multi_exp(bases, exps, group.p) == naive_multi_exp(bases, exps, group.p)


@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(data=st.data(), n=st.sampled_from([0, 1, 7, 8, 9, 33, 100]))
@settings(max_examples=10, deadline=None)
def test_group_multi_exp_matches_naive(name: str, data: st.DataObject, n: int) -> None:
    group = get_group(name)
    g = group.generator()
    bases = [group.hash_to_element(bytes([i, n])) for i in range(n)]
    exps = data.draw(st.lists(st.integers(0, 2 * group.order) | st.just(0), min_size=n, max_size=n))
    expected = group.identity()
    for b, e in zip(bases, exps):
        expected = expected * b ** (e % group.order)
    assert group.multi_exp(bases, exps) == expected
    assert group.multi_exp([g] * n, exps) == g ** (sum(exps) % group.order)
    with pytest.raises(ValueError):
        group.multi_exp(bases, [*exps, 1])


def test_fixed_base_pows_treat_negative_exponents_alike_at_every_size() -> None:
    group = get_group("test-safe-256")
    g = group.generator()
    small = group.fixed_base_pows(g, [-1] * 3)
    large = group.fixed_base_pows(g, [-1] * 40)
    assert small[0] == large[0] == g.inverse()


# ---------------------------------------------------------------- ElGamal and messages


@pytest.mark.parametrize("name", ALL_GROUPS)
@given(data=st.data())
@settings(max_examples=5, deadline=None)
def test_elgamal_round_trip_for_the_message_encoding(name: str, data: st.DataObject) -> None:
    group = get_group(name)
    rng = DeterministicRandom(data.draw(st.integers(0, 2**32)))
    kp = keygen(group, rng)
    if group.message_encoding == "qr":
        top = group.order - 2
        messages = data.draw(
            st.lists(st.integers(0, top) | st.sampled_from([0, 1, top]), min_size=1, max_size=3)
        )
        bound = None
    else:
        messages = data.draw(st.lists(st.integers(0, 255), min_size=1, max_size=3))
        bound = 256
    row, rs = encrypt_row(kp.public, messages, rng)
    assert decrypt_row(kp.secret, row, bound) == messages
    for ct, r, m in zip(row, rs, messages):
        assert ct.b == group.generator() ** r
        assert ct.a == group.encode_message(m) * kp.public**r
        assert group.decode_message(group.encode_message(m), bound) == m
    rows, _ = encrypt_rows(kp.public, [messages, messages], rng)
    assert [decrypt_row(kp.secret, r, bound) for r in rows] == [messages, messages]
    assert rows[0] != rows[1]


@pytest.mark.parametrize("name", MODP_GROUPS)
def test_message_encoding_limits(name: str) -> None:
    group = get_group(name)
    with pytest.raises(ValueError):
        group.encode_message(-1)
    if group.message_encoding == "qr":
        with pytest.raises(ValueError):
            group.encode_message(group.order - 1)
        assert group.decode_message(group.encode_message(group.order - 2)) == group.order - 2
        for m in (0, 1, 2, 3, 4):  # every m lands in the subgroup
            e = group.encode_message(m)
            assert gmpy2.legendre(e.value, modp(name).p) == 1
    else:
        with pytest.raises(DecodeError):
            group.decode_message(group.encode_message(40), 40)
        assert group.decode_message(group.encode_message(39), 40) == 39
        with pytest.raises(DecodeError):
            group.decode_message(group.hash_to_element(b"not small"), 64)


@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(data=st.data(), n=st.integers(0, 12))
@settings(max_examples=10, deadline=None)
def test_pow_many_matches_pow(name: str, data: st.DataObject, n: int) -> None:
    group = get_group(name)
    bases = [group.hash_to_element(bytes([i, n, 7])) for i in range(n)]
    e = data.draw(st.integers(0, group.order - 1) | st.sampled_from([0, 1, group.order - 1]))
    assert group.pow_many(bases, e) == [b**e for b in bases]


@pytest.mark.parametrize("n", range(2, 8))
def test_few_term_multi_exp_edges(n: int) -> None:
    """Straus's method (fewer than 8 terms): window edges, zero and one-bit exponents."""
    group = modp(SMALL_MODP_GROUPS[0])
    bases = [group.hash_to_element(bytes([i, n])).value for i in range(n)]
    for exps in (
        [0] * (n - 1) + [1],
        [15, 16, 17, 255, 256, 4095, 4096][:n],
        [(1 << 128) - 1] * n,
        [1 << 127] + [0] * (n - 1),
    ):
        assert multi_exp(bases, exps, group.p) == naive_multi_exp(bases, exps, group.p)
