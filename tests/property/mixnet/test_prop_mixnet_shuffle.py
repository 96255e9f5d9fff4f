"""Property tests for the Terelius–Wikström proof of a shuffle of rows (widths 1..3).

An honest proof verifies (also after a JSON round trip); each kind of tampering, one at a
time, makes `verify` raise a `VerificationError` whose check starts with "TW", or makes
`ShuffleProof.from_json` / `row_from_json` raise a `DecodeError`. The changes to the statement
are the table `STATEMENT_TAMPERS`; every field of the proof is changed in turn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mixnet_property_support import (
    BIG_GROUP,
    bump,
    expect_check,
    expect_decode_error,
    non_member,
    non_member_kinds,
    other_element,
    seeds,
)

from mixnet.elgamal import (
    Ciphertext,
    KeyPair,
    Row,
    encrypt_rows,
    keygen,
    row_from_json,
    row_to_json,
)
from mixnet.encoding import int_to_hex
from mixnet.groups import Group, get_group
from mixnet.rng import DeterministicRandom
from mixnet.shuffle import proof as tw
from mixnet.shuffle.shuffle import ShuffleWitness, shuffle
from mixnet.transcript import Transcript
from tests.mixnet_support import SMALL_GROUPS, SMALL_MODP_GROUPS

FAST = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CTX = {"election": "prop-test", "mixer": 1}
OTHER_CTX = {"election": "prop-test", "mixer": 2}
GEN_CTX = {"election": "prop-test"}


def tr(ctx: Any = None) -> Transcript:
    return Transcript(CTX if ctx is None else ctx)


def s_prime_bound(group: Group) -> int:
    """The range of s' (docs/protocol.md §8): integers below 2^(U+C+STAT+1) in groups whose q
    is much longer than the randomizers, residues mod q otherwise."""
    short = tw.U_BITS + tw.C_BITS + tw.STAT_BITS
    return 1 << (short + 1) if group.order.bit_length() > short + 64 else group.order


@dataclass
class Case:
    group: Group
    keys: KeyPair
    messages: list[list[int]]
    statement: tw.ShuffleStatement
    witness: ShuffleWitness
    proof: tw.ShuffleProof
    rng: DeterministicRandom

    def verify(
        self, statement: tw.ShuffleStatement | None = None, proof: Any = None, ctx: Any = None
    ) -> None:
        tw.verify(
            statement or self.statement,
            proof or self.proof,
            transcript=tr(ctx),
            rng=DeterministicRandom(b"verifier"),
        )


def make_case(group: Group, seed: int, n: int, width: int) -> Case:
    rng = DeterministicRandom(seed)
    keys = keygen(group, rng)
    messages = [[rng.randbelow(16) for _ in range(width)] for _ in range(n)]
    rows, _ = encrypt_rows(keys.public, messages, rng)
    outputs, witness = shuffle(keys.public, rows, rng)
    statement = tw.ShuffleStatement(keys.public, rows, outputs, GEN_CTX)
    proof = tw.prove(statement, witness, transcript=tr(), rng=rng)
    return Case(group, keys, messages, statement, witness, proof, rng)


def with_row_item(rows: Any, i: int, k: int, ct: Ciphertext) -> list[Row]:
    out = list(rows)
    row = list(out[i])
    row[k] = ct
    out[i] = tuple(row)
    return out


shapes = st.tuples(st.integers(2, 5), st.integers(1, 3))


@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds, shape=st.tuples(st.integers(1, 6), st.integers(1, 3)))
@FAST
def test_honest_shuffle_proof_verifies(name: str, seed: int, shape: tuple[int, int]) -> None:
    n, width = shape
    case = make_case(get_group(name), seed, n, width)
    case.verify()
    # and after a JSON round trip of the proof and of every row
    group = case.group
    proof = tw.ShuffleProof.from_json(group, case.proof.to_json(), n, width)
    assert proof == case.proof
    inputs = [row_from_json(group, row_to_json(r), width) for r in case.statement.inputs]
    outputs = [row_from_json(group, row_to_json(r), width) for r in case.statement.outputs]
    case.verify(tw.ShuffleStatement(case.keys.public, inputs, outputs, GEN_CTX), proof)


def times_g(group: Group, rows: Any, i: int, k: int, part: str) -> list[Row]:
    """The rows with the a or the b of ciphertext k of row i times g."""
    ct, g = rows[i][k], group.generator()
    return with_row_item(
        rows, i, k, Ciphertext(ct.a * g, ct.b) if part == "a" else Ciphertext(ct.a, ct.b * g)
    )


def swapped(rows: Any, i: int, data: st.DataObject) -> list[Row]:
    """The rows with row i swapped for another one drawn from the rest."""
    j = data.draw(st.integers(0, len(rows) - 1).filter(lambda j: j != i), label="j")
    out = list(rows)
    out[i], out[j] = out[j], out[i]
    return out


#: (case, row i, ciphertext k, Hypothesis data) → (the statement with one change, the
#: transcript context).
STATEMENT_TAMPERS: dict[str, Callable[[Case, int, int, st.DataObject], tuple[Any, Any]]] = {
    "output a altered": lambda c, i, k, data: (
        replace(c.statement, outputs=times_g(c.group, c.statement.outputs, i, k, "a")),
        None,
    ),
    "output b altered": lambda c, i, k, data: (
        replace(c.statement, outputs=times_g(c.group, c.statement.outputs, i, k, "b")),
        None,
    ),
    "two outputs swapped": lambda c, i, k, data: (
        replace(c.statement, outputs=swapped(c.statement.outputs, i, data)),
        None,
    ),
    "input altered": lambda c, i, k, data: (
        replace(c.statement, inputs=times_g(c.group, c.statement.inputs, i, k, "a")),
        None,
    ),
    "another public key": lambda c, i, k, data: (
        replace(c.statement, pk=keygen(c.group, c.rng).public),
        None,
    ),
    "another generator context": lambda c, i, k, data: (
        replace(c.statement, generator_context={"election": "another election"}),
        None,
    ),
    "another transcript context": lambda c, i, k, data: (c.statement, OTHER_CTX),
}


@pytest.mark.parametrize("tamper", STATEMENT_TAMPERS)
@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds, shape=shapes, data=st.data())
@FAST
def test_statement_tampering_fails(
    name: str, tamper: str, seed: int, shape: tuple[int, int], data: st.DataObject
) -> None:
    n, width = shape
    case = make_case(get_group(name), seed, n, width)
    i = data.draw(st.integers(0, n - 1), label="i")
    k = data.draw(st.integers(0, width - 1), label="k")
    s, ctx = STATEMENT_TAMPERS[tamper](case, i, k, data)
    expect_check("TW", lambda: case.verify(s, ctx=ctx))


ELEMENT_FIELDS = ["c", "c_hat", "t_hat", "t1", "t2", "t3", "t4a", "t4b"]
RESPONSE_FIELDS = ["s1", "s2", "s3", "s4", "s_hat", "s_prime"]


def pick(data: st.DataObject, value: Any) -> int | None:
    """An index into a tuple-valued proof field, None for a single value."""
    if isinstance(value, tuple):
        return data.draw(st.integers(0, len(value) - 1), label="index")
    return None


def set_field(proof: tw.ShuffleProof, field: str, index: int | None, value: Any) -> Any:
    if index is None:
        return replace(proof, **{field: value})
    items = list(getattr(proof, field))
    items[index] = value
    return replace(proof, **{field: tuple(items)})


def get_field(proof: tw.ShuffleProof, field: str, index: int | None) -> Any:
    value = getattr(proof, field)
    return value if index is None else value[index]


def response_bound(group: Group, field: str) -> int:
    return s_prime_bound(group) if field == "s_prime" else group.order


def changed(group: Group, field: str, old: Any) -> Any:
    """Another value for one item of a proof field: an unrelated element for a commitment,
    the next value (mod its range) for a response."""
    if field in ELEMENT_FIELDS:
        return other_element(group, old, field.encode())
    return bump(old, response_bound(group, field))


@pytest.mark.parametrize("field", [*ELEMENT_FIELDS, *RESPONSE_FIELDS])
@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds, shape=shapes, data=st.data())
@FAST
def test_one_proof_value_changed_fails(
    name: str, field: str, seed: int, shape: tuple[int, int], data: st.DataObject
) -> None:
    group = get_group(name)
    case = make_case(group, seed, *shape)
    index = pick(data, getattr(case.proof, field))
    old = get_field(case.proof, field, index)
    bad = set_field(case.proof, field, index, changed(group, field, old))
    expect_check("TW", lambda: case.verify(proof=bad))


@pytest.mark.parametrize("field", RESPONSE_FIELDS)
@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds, shape=shapes, data=st.data())
@FAST
def test_response_out_of_range_fails(
    name: str, field: str, seed: int, shape: tuple[int, int], data: st.DataObject
) -> None:
    group = get_group(name)
    case = make_case(group, seed, *shape)
    index = pick(data, getattr(case.proof, field))
    bound = response_bound(group, field)
    old = get_field(case.proof, field, index)
    value = data.draw(st.sampled_from([bound, bound + old, 2 * bound - 1, -1, -bound]), "v")
    # the dataclass takes plain integers: the verifier's range check must catch it
    bad = set_field(case.proof, field, index, value)
    expect_check("TW0 range", lambda: case.verify(proof=bad))
    # in JSON, at the field's fixed width, decoding refuses it
    if value >= 0:
        js = case.proof.to_json()
        width = len(js[field] if index is None else js[field][index]) // 2
        if value < 1 << (8 * width):
            text = int_to_hex(value, width)
            if index is None:
                js[field] = text
            else:
                js[field][index] = text
            expect_decode_error(lambda: tw.ShuffleProof.from_json(group, js, *shape))


@pytest.mark.parametrize(("name", "kind"), non_member_kinds(SMALL_MODP_GROUPS))
@given(seed=seeds, shape=shapes, data=st.data())
@FAST
def test_element_outside_subgroup_fails_membership(
    name: str, kind: str, seed: int, shape: tuple[int, int], data: st.DataObject
) -> None:
    n, width = shape
    group = get_group(name)
    case = make_case(group, seed, n, width)
    bad_value = non_member(group, kind)
    where = data.draw(st.sampled_from(["input", "output", "public key", *ELEMENT_FIELDS]), "where")
    s, proof = case.statement, case.proof
    if where in ("input", "output"):
        i = data.draw(st.integers(0, n - 1), label="i")
        k = data.draw(st.integers(0, width - 1), label="k")
        rows = s.inputs if where == "input" else s.outputs
        ct = rows[i][k]
        ct = data.draw(
            st.sampled_from([Ciphertext(bad_value, ct.b), Ciphertext(ct.a, bad_value)]), "ct"
        )
        rows = with_row_item(rows, i, k, ct)
        s = replace(s, inputs=rows) if where == "input" else replace(s, outputs=rows)
        # the same row arriving as JSON is refused by the decoder
        js = row_to_json(rows[i])
        expect_decode_error(lambda: row_from_json(group, js, width))
    elif where == "public key":
        s = replace(s, pk=bad_value)
    else:
        index = pick(data, getattr(proof, where))
        proof = set_field(proof, where, index, bad_value)
        js = proof.to_json()
        expect_decode_error(lambda: tw.ShuffleProof.from_json(group, js, n, width))
    expect_check("TW0 membership", lambda: case.verify(s, proof))


@pytest.mark.parametrize("name", SMALL_GROUPS)
@given(seed=seeds, shape=shapes)
@FAST
def test_lengths_must_match(name: str, seed: int, shape: tuple[int, int]) -> None:
    n, width = shape
    case = make_case(get_group(name), seed, n, width)
    s, p = case.statement, case.proof
    expect_check("TW0 lengths", lambda: case.verify(replace(s, outputs=s.outputs[:-1])))
    expect_check("TW0 lengths", lambda: case.verify(replace(s, inputs=[], outputs=[])))
    ragged = with_row_item(s.outputs, 0, 0, s.outputs[0][0])
    ragged[0] = (*ragged[0], ragged[0][0])
    expect_check("TW0 lengths", lambda: case.verify(replace(s, outputs=ragged)))
    for field in ("c", "c_hat", "t_hat", "s_hat", "s_prime", "t4a", "t4b", "s4"):
        short = replace(p, **{field: getattr(p, field)[:-1]})
        expect_check("TW0 lengths", lambda short=short: case.verify(proof=short))
        js = p.to_json()
        js[field] = js[field][:-1]
        expect_decode_error(lambda js=js: tw.ShuffleProof.from_json(case.group, js, n, width))
    js = dict(p.to_json(), extra=[])
    expect_decode_error(lambda: tw.ShuffleProof.from_json(case.group, js, n, width))


@pytest.mark.slow
@given(seed=seeds)
@settings(max_examples=1, deadline=None)
def test_real_size_group(seed: int) -> None:
    """modp2048 takes the short-response path (s' not reduced mod q)."""
    group = get_group(BIG_GROUP)
    assert s_prime_bound(group) < group.order
    case = make_case(group, seed, 3, 2)
    case.verify()
    proof = tw.ShuffleProof.from_json(group, case.proof.to_json(), 3, 2)
    case.verify(proof=proof)
    s = case.statement
    outputs = list(s.outputs)
    outputs[0], outputs[1] = outputs[1], outputs[0]
    expect_check("TW", lambda: case.verify(replace(s, outputs=outputs)))
    expect_check("TW", lambda: case.verify(replace(s, generator_context="other")))
    bad = replace(case.proof, s_prime=(s_prime_bound(group), *case.proof.s_prime[1:]))
    expect_check("TW0 range", lambda: case.verify(proof=bad))
    bad = replace(case.proof, c=(non_member(group, "order-2"), *case.proof.c[1:]))
    expect_check("TW0 membership", lambda: case.verify(proof=bad))
