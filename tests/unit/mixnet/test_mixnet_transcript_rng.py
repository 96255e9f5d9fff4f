"""Fiat–Shamir transcripts (domain separation, determinism) and the deterministic RNG."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mixnet.encoding import encode
from mixnet.rng import DeterministicRandom
from mixnet.transcript import Label, Transcript


def challenge(context: object, entries: list[tuple[str, object]], label: str = "c") -> int:
    t = Transcript(context)
    for k, v in entries:
        t.append(k, v)
    return t.challenge_bits(label, 256)


def test_transcript_matches_its_definition() -> None:
    """SHA-256 over TLV(label, context), then label/value TLVs; challenge = SHAKE-256 over
    TLV(challenge label, digest, name) — recomputed here from the module's docstring."""
    t = Transcript({"election": "e1"})
    t.append("proof", Label.SCHNORR)
    t.append("x", [1, b"two", "three"])
    h = hashlib.sha256(encode([Label.TRANSCRIPT, {"election": "e1"}]))
    h.update(encode("proof") + encode(Label.SCHNORR))
    h.update(encode("x") + encode([1, b"two", "three"]))
    expected = hashlib.shake_256(encode([Label.CHALLENGE, h.digest(), "c"])).digest(16)
    assert t.challenge_bits("c", 128) == int.from_bytes(expected, "big")
    # the challenge is absorbed: the next one depends on it
    h.update(encode("c") + encode(expected))
    expected2 = hashlib.shake_256(encode([Label.CHALLENGE, h.digest(), "c"])).digest(16)
    assert t.challenge_bits("c", 128) == int.from_bytes(expected2, "big")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("ctx", [("proof", "A")], "c"), ("ctx", [("proof", "B")], "c")),  # proof label
        (("ctx", [("x", 1)], "c"), ("ctx", [("y", 1)], "c")),  # value label
        (("ctx", [("x", 1)], "c"), ("ctx", [("x", 1)], "u")),  # challenge label
        (("ctx", [("x", 1)], "c"), ("ctx2", [("x", 1)], "c")),  # context
        (("", [("x", 1)], "c"), (b"", [("x", 1)], "c")),  # context type
        (("ctx", [("x", "ab")], "c"), ("ctx", [("xa", "b")], "c")),  # label/value boundary
        (("ctx", [("x", ["a", "b"])], "c"), ("ctx", [("x", ["ab"])], "c")),
        (("ctx", [("x", 1), ("y", 2)], "c"), ("ctx", [("y", 2), ("x", 1)], "c")),  # order
        (("ctx", [], "c"), ("ctx", [("", b"")], "c")),  # an empty entry still counts
    ],
)
def test_transcript_domain_separation(a: tuple, b: tuple) -> None:
    assert challenge(*a) != challenge(*b)


@pytest.mark.parametrize(
    "label", [Label.SCHNORR, Label.CHAUM_PEDERSEN, Label.ENCRYPTION, Label.SHUFFLE]
)
def test_every_proof_label_gives_its_own_challenge(label: str) -> None:
    others = {
        Label.SCHNORR,
        Label.CHAUM_PEDERSEN,
        Label.CHAUM_PEDERSEN_BATCH,
        Label.ENCRYPTION,
        Label.DECRYPTION,
        Label.SHUFFLE,
    } - {label}
    mine = challenge("ctx", [("proof", label)])
    assert all(mine != challenge("ctx", [("proof", o)]) for o in others)


def test_labels_are_distinct_constants() -> None:
    domain = [v for k, v in vars(Label).items() if k.isupper() and "/" in v]
    assert len(domain) == len(set(domain))
    assert all(v.startswith("tohyo/") and v.endswith("/v1") for v in domain)


@given(st.lists(st.binary(max_size=10), max_size=6))
@settings(max_examples=50, deadline=None)
def test_append_list_equals_append_of_the_list(items: list[bytes]) -> None:
    a, b = Transcript("c"), Transcript("c")
    a.append("items", items)
    b.append_list("items", iter(items), len(items))
    assert a.challenge_bits("c", 128) == b.challenge_bits("c", 128)


def test_append_list_refuses_a_wrong_count() -> None:
    with pytest.raises(ValueError):
        Transcript().append_list("items", [b"a", b"b"], 3)
    with pytest.raises(ValueError):
        Transcript().append_list("items", [b"a", b"b"], 1)


def test_fork_is_an_independent_copy() -> None:
    t = Transcript("ctx")
    t.append("x", 1)
    twin = t.fork()
    assert twin.challenge_bits("c", 64) == t.fork().challenge_bits("c", 64)
    twin.append("y", 2)
    assert twin.challenge_bits("c", 64) != t.challenge_bits("c", 64)


@given(bits=st.integers(1, 600), modulus=st.integers(2, 2**600), count=st.integers(0, 20))
@settings(max_examples=100, deadline=None)
def test_challenge_ranges(bits: int, modulus: int, count: int) -> None:
    t = Transcript(["range", bits, modulus])
    assert 0 <= t.challenge_bits("b", bits) < 1 << bits
    assert 0 <= t.challenge_mod("m", modulus) < modulus
    vec = t.challenge_vector("v", count, bits)
    assert len(vec) == count and all(0 <= v < 1 << bits for v in vec)


def test_challenges_use_all_their_bits() -> None:
    values = [Transcript(i).challenge_bits("c", 8) for i in range(400)]
    assert len(set(values)) > 150 and max(values) >= 250
    odd = [Transcript(i).challenge_bits("c", 1) for i in range(200)]
    assert 60 < sum(odd) < 140


# ---------------------------------------------------------------- DeterministicRandom


def test_deterministic_random_matches_its_definition() -> None:
    rng = DeterministicRandom(b"seed")
    block0 = hashlib.shake_256(b"tohyo/deterministic-random/v1seed" + bytes(8)).digest(4096)
    block1 = hashlib.shake_256(
        b"tohyo/deterministic-random/v1seed" + (1).to_bytes(8, "big")
    ).digest(4096)
    assert rng.randbytes(100) == block0[:100]
    assert rng.randbytes(4000) == block0[100:] + block1[:4]


@given(
    seed=st.binary(max_size=20) | st.text(max_size=10) | st.integers(-(2**100), 2**100),
    sizes=st.lists(st.integers(0, 5000), max_size=5),
)
@settings(max_examples=40, deadline=None)
def test_deterministic_random_is_reproducible_and_chunking_free(
    seed: object, sizes: list[int]
) -> None:
    a, b = DeterministicRandom(seed), DeterministicRandom(seed)  # type: ignore[arg-type]
    chunks = [a.randbytes(n) for n in sizes]
    assert b"".join(chunks) == b.randbytes(sum(sizes))
    assert DeterministicRandom(seed).randbelow(10**30) == DeterministicRandom(seed).randbelow(  # type: ignore[arg-type]
        10**30
    )


def test_different_seeds_give_different_streams() -> None:
    streams = {
        DeterministicRandom(s).randbytes(32)
        for s in (0, 1, -1, "0", "1", b"", b"\x00", "tohyo", b"tohyO", 2**64)
    }
    assert len(streams) == 10
    # a text seed is its UTF-8 bytes
    assert DeterministicRandom("tohyo").randbytes(8) == DeterministicRandom(b"tohyo").randbytes(8)
    # an int seed is its 16-byte two's-complement form
    assert DeterministicRandom(1).randbytes(8) == DeterministicRandom(
        bytes(15) + b"\x01"
    ).randbytes(8)


@given(seed=st.integers(0, 2**32), n=st.integers(1, 2**300), k=st.integers(0, 300))
@settings(max_examples=100, deadline=None)
def test_deterministic_random_ranges(seed: int, n: int, k: int) -> None:
    rng = DeterministicRandom(seed)
    assert 0 <= rng.randbelow(n) < n
    assert 0 <= rng.randbits(k) < 1 << k if k else rng.randbits(k) == 0


def test_randbelow_is_roughly_uniform_and_refuses_empty_ranges() -> None:
    rng = DeterministicRandom("uniform")
    counts = [0] * 6
    for _ in range(6000):
        counts[rng.randbelow(6)] += 1
    assert all(850 < c < 1150 for c in counts)
    with pytest.raises(ValueError):
        rng.randbelow(0)
