"""Entry envelopes (canonical decoding, signatures) and the default policy's state machine."""

from __future__ import annotations

import itertools
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from bulletin_board.entry import (
    Envelope,
    NonCanonicalError,
    decode_envelope,
    sign_envelope,
    verify_envelope,
)
from bulletin_board.policy import ALLOWED, PHASES, Refusal, RegistryPolicy
from bulletin_board.testing import Keys
from mixnet.errors import DecodeError, VerificationError

E = "e1"

json_bodies = st.recursive(
    st.text(max_size=8) | st.integers(0, 2**53 - 1),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None)
@given(body=st.dictionaries(st.text(max_size=6), json_bodies, max_size=4))
def test_round_trip_and_signature(body: dict) -> None:
    key = Ed25519PrivateKey.generate()
    env = sign_envelope(key, E, "ballot", "registrar", body)
    again = decode_envelope(env.to_bytes())
    assert again == env
    verify_envelope(again, key.public_key())
    with pytest.raises(VerificationError) as e:
        verify_envelope(again, Ed25519PrivateKey.generate().public_key())
    assert e.value.check == "entry.signature"


def test_signature_covers_every_field() -> None:
    key = Ed25519PrivateKey.generate()
    env = sign_envelope(key, E, "ballot", "registrar", {"a": "1"})
    for changed in (
        Envelope("e2", env.type, env.author, env.body, env.signature),
        Envelope(E, "shuffle", env.author, env.body, env.signature),
        Envelope(E, env.type, "admin", env.body, env.signature),
        Envelope(E, env.type, env.author, {"a": "2"}, env.signature),
    ):
        with pytest.raises(VerificationError):
            verify_envelope(changed, key.public_key())


def test_non_canonical_and_malformed_are_told_apart() -> None:
    env = sign_envelope(Ed25519PrivateKey.generate(), E, "ballot", "registrar", {"b": 1, "a": 2})
    doc = env.to_json()
    for text in (
        json.dumps(doc),  # spaces
        json.dumps(doc, sort_keys=True),  # spaces
        json.dumps(doc, separators=(",", ":")),  # key order
        env.to_bytes().decode().replace('"a"', '"\\u0061"'),  # escapes
        env.to_bytes().decode() + "\n",
    ):
        with pytest.raises(NonCanonicalError):
            decode_envelope(text.encode())
    bad: list[bytes] = [
        b"",
        b"\xff",
        b"{",
        b"[]",
        b'{"v":1}',
        env.to_bytes().replace(b'"v":1', b'"v":2'),
        env.to_bytes().replace(b'"v":1', b'"v":1.0'),
        env.to_bytes().replace(b'"b":1', b'"b":-1'),
        env.to_bytes().replace(b'"b":1', b'"b":true'),
        env.to_bytes().replace(b'"b":1', b'"b":null'),
        env.to_bytes().replace(b'"election":"e1"', b'"election":"E1"'),
        env.to_bytes().replace(b'"type":"ballot"', b'"type":"Ballot"'),
        env.to_bytes().replace(b'"author":"registrar"', b'"author":""'),
        env.to_bytes().replace(b'"body":{', b'"body":{"a":1,'),  # duplicate key
        env.to_bytes().replace(env.signature.hex().encode(), env.signature.hex().upper().encode()),
        env.to_bytes().replace(env.signature.hex().encode(), b"00"),
        b'{"author":"a","body":[],"election":"e","signature":"'
        + b"0" * 128
        + b'","type":"t","v":1}',
        b"[" * 100000 + b"]" * 100000,
    ]
    for data in bad:
        with pytest.raises(DecodeError) as e:
            decode_envelope(data)
        assert not isinstance(e.value, NonCanonicalError), data[:80]
    with pytest.raises(DecodeError):
        decode_envelope(env.to_bytes(), max_bytes=10)


def _fold(policy: RegistryPolicy, entries: list[Envelope]):
    state = policy.initial_state(E)
    for i, env in enumerate(entries):
        policy.check(state, env)
        policy.on_accept(state, env, i)
    return state


def test_phases_in_order_only() -> None:
    keys, policy = Keys(), RegistryPolicy()
    state = _fold(policy, [keys.registry(E)])
    assert state.phase == "setup"
    for i, (here, nxt) in enumerate(itertools.pairwise(PHASES)):
        for target in PHASES:
            if target != nxt:
                with pytest.raises(Refusal) as r:
                    policy.check(state, keys.phase(E, target))
                assert r.value.code == "wrong_phase"
        assert state.phase == here
        env = keys.phase(E, nxt)
        policy.check(state, env)
        policy.on_accept(state, env, i + 1)
    assert state.phase == "tallied"
    assert policy.describe(state)["counts"] == {"phase": 6, "registry": 1}


@pytest.mark.parametrize("phase", PHASES)
def test_allowed_table_is_enforced(phase: str) -> None:
    keys, policy = Keys(), RegistryPolicy()
    entries = [keys.registry(E)]
    for p in PHASES[1 : PHASES.index(phase) + 1]:
        entries.append(keys.phase(E, p))
    state = _fold(policy, entries)
    role_of = {a: r for a, (r, _) in keys.roles().items()}
    for entry_type in {t for table in ALLOWED.values() for t in table} - {"phase"}:
        for author, role in role_of.items():
            env = keys.sign(E, entry_type, author, {"x": "1"})
            roles = ALLOWED[phase].get(entry_type)
            if roles is None:
                with pytest.raises(Refusal) as r:
                    policy.check(state, env)
                assert r.value.code == "wrong_phase"
            elif role not in roles:
                with pytest.raises(Refusal) as r:
                    policy.check(state, env)
                assert r.value.code == "unauthorised_signer"
            else:
                policy.check(state, env)


def test_registry_rules() -> None:
    keys = Keys()
    policy = RegistryPolicy()
    state = policy.initial_state(E)
    with pytest.raises(Refusal) as r:
        policy.check(state, keys.ballot(E))
    assert r.value.code == "unknown_election"
    not_admin = keys.sign(
        E,
        "registry",
        "registrar",
        {"authors": {"registrar": {"key": "00" * 32, "role": "registrar"}}},
    )
    with pytest.raises(Refusal) as r:
        policy.check(state, not_admin)
    assert r.value.code in ("unauthorised_signer", "bad_body")
    for body in (
        {},
        {"authors": []},
        {"authors": {"admin": {"key": "zz", "role": "admin"}}},
        {"authors": {"admin": {"key": "00" * 32, "role": "king"}}},
    ):
        with pytest.raises(Refusal) as r:
            policy.check(state, keys.sign(E, "registry", "admin", body))
        assert r.value.code == "bad_body"
    # a registry signed by a key other than the admin key it names
    forged = sign_envelope(
        Ed25519PrivateKey.generate(), E, "registry", "admin", keys.registry(E).body
    )
    with pytest.raises(Refusal) as r:
        policy.check(state, forged)
    assert r.value.code == "bad_signature"
    from bulletin_board.log import public_key_hex

    closed = RegistryPolicy(creators=[public_key_hex(Ed25519PrivateKey.generate().public_key())])
    with pytest.raises(Refusal) as r:
        closed.check(state, keys.registry(E))
    assert r.value.code == "unauthorised_signer"
    RegistryPolicy(creators=[public_key_hex(keys.admin.public_key())]).check(
        state, keys.registry(E)
    )


def test_refusal_codes_are_closed() -> None:
    with pytest.raises(ValueError):
        Refusal("made_up")
    assert Refusal("wrong_phase").status == 409
