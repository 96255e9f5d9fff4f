"""The mix server's generator cache (trustees.generator_cache, docs/trustees.md §11.4).

Checked: the cached prefix is a fresh derivation's prefix in the default Schnorr group and in
secp256k1; generators from a partial cache plus fresh candidates equal fresh generators, and a
mix made with them is accepted by a verifier that derives everything afresh; every kind of
damage (a flipped bit, a torn append, a foreign header, a non-member, a consistent but wrong
list, a cache tagged without this party's key) is detected, logged, never used, and costs only
re-derivation; one writer at a time; the background derivation follows a growing target.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mixnet import elgamal
from mixnet.generators import (
    candidate_count,
    clear_cache,
    derive_candidates,
    derive_generators,
    generator_seed,
)
from mixnet.groups import Element, Group, get_group
from mixnet.rng import DeterministicRandom
from mixnet.shuffle.proof import GENERATOR_PURPOSE
from tests.mixnet_support import non_member_values
from trustees.config import generate_trustee_keys
from trustees.generator_cache import GeneratorCache, Precompute, cache_key
from trustees.mixer import mix, verify_chain

FP = hashlib.sha256(b"generator cache tests").digest()
#: the default group and the elliptic curve, as the brief of the cache asks
GROUPS = ["tohyo-schnorr-3072-256", "secp256k1"]
SMALL = "test-schnorr-512-128"
#: this party's key of its cache (`cache_key` of its keystore's signing key)
KEY = cache_key(generate_trustee_keys(DeterministicRandom(b"this party")))


@pytest.fixture(autouse=True)
def fresh_process_cache() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


def seed_of(group: Group) -> bytes:
    return generator_seed(group, FP, GENERATOR_PURPOSE)


def filled(
    tmp_path: Path, group: Group, count: int, *, seed: bytes | None = None, chunks: int = 2
) -> GeneratorCache:
    """A cache written in `chunks` appends (so it has several segments), lock released."""
    seed = seed or seed_of(group)
    cache = GeneratorCache(tmp_path, group, seed, KEY)
    assert cache.acquire()
    cache.load()
    step = -(-count // chunks)
    while cache.count < count:
        b = min(count, cache.count + step)
        cache.extend(derive_candidates(group, seed, cache.count, b))
    cache.release()
    return cache


def reload(tmp_path: Path, group: Group) -> GeneratorCache:
    cache = GeneratorCache(tmp_path, group, seed_of(group), KEY)
    cache.load()
    return cache


@pytest.mark.parametrize("name", GROUPS)
def test_cached_prefix_equals_a_fresh_derivation(tmp_path: Path, name: str) -> None:
    group = get_group(name)
    filled(tmp_path, group, 12)
    cache = reload(tmp_path, group)
    assert cache.count == 12
    fresh = derive_candidates(group, seed_of(group), 0, 12)
    assert [e.to_bytes() for e in cache.candidates] == [e.to_bytes() for e in fresh]
    # a longer list from the partial cache equals the list derived from nothing
    n = 20
    assert not cache.covers(n) and candidate_count(n) > cache.count
    from_cache = derive_generators(group, FP, GENERATOR_PURPOSE, n, known=cache.candidates)
    clear_cache()
    scratch = derive_generators(group, FP, GENERATOR_PURPOSE, n)
    assert from_cache is not scratch
    assert (from_cache.h, from_cache.hs) == (scratch.h, scratch.hs)
    # and the shorter list is the prefix of the longer one
    clear_cache()
    assert derive_generators(group, FP, GENERATOR_PURPOSE, 5).hs == scratch.hs[:5]


@pytest.mark.parametrize("name", [*GROUPS, SMALL])
def test_a_mix_with_a_partial_cache_is_accepted_by_a_fresh_verifier(
    tmp_path: Path, name: str
) -> None:
    group = get_group(name)
    rng = DeterministicRandom(f"partial cache {name}")
    kp = elgamal.keygen(group, rng)
    n = 8
    rows, _ = elgamal.encrypt_rows(kp.public, [[i % 3, 1] for i in range(n)], rng)
    filled(tmp_path, group, 5)  # h, h_1..h_4: about half of what the mix needs
    cache = reload(tmp_path, group)
    assert 0 < cache.count < candidate_count(n)
    derive_generators(group, FP, GENERATOR_PURPOSE, n, known=cache.candidates)
    body = mix(kp.public, [("c", rows)], FP, 1, rng=rng)
    clear_cache()  # the verifier derives every generator itself
    out = verify_chain(kp.public, [("c", rows)], [body], FP)
    assert len(out[0][1]) == n


def test_a_flipped_bit_keeps_the_segments_before_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    group = get_group(SMALL)
    cache = filled(tmp_path, group, 40, chunks=4)  # segments of 10
    raw = bytearray(Path(cache.path).read_bytes())
    segment = 12 + 10 * group.element_bytes + 32
    raw[76 + 2 * segment + 12 + 5] ^= 0x01  # in the third segment's elements
    Path(cache.path).write_bytes(bytes(raw))
    with caplog.at_level(logging.WARNING, logger="tohyo.trustee"):
        again = reload(tmp_path, group)
    assert again.count == 20
    assert "candidates 20..29 does not match its tag" in caplog.text
    assert "keeping the 20 candidates before it" in caplog.text
    # the file was cut back to the good prefix, and the rest is derived and appended again
    assert os.path.getsize(cache.path) == 76 + 2 * segment
    assert again.acquire()
    again.extend(derive_candidates(group, again.seed, 20, 40))
    assert reload(tmp_path, group).candidates == derive_candidates(group, again.seed, 0, 40)


def test_a_torn_append_is_cut_off(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    group = get_group(SMALL)
    cache = filled(tmp_path, group, 30, chunks=3)
    size = os.path.getsize(cache.path)
    with open(cache.path, "r+b") as f:
        f.truncate(size - 7)  # the last segment lost its tag's end
    with caplog.at_level(logging.WARNING, logger="tohyo.trustee"):
        again = reload(tmp_path, group)
    assert again.count == 20
    assert "incomplete (an interrupted write)" in caplog.text


@pytest.mark.parametrize("damage", ["header", "seed", "magic"])
def test_a_foreign_or_damaged_header_is_moved_aside(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    group = get_group(SMALL)
    cache = filled(tmp_path, group, 10)
    raw = bytearray(Path(cache.path).read_bytes())
    where = {"magic": 0, "header": 13, "seed": 60}[damage]
    raw[where] ^= 0x40
    Path(cache.path).write_bytes(bytes(raw))
    with caplog.at_level(logging.ERROR, logger="tohyo.trustee"):
        again = reload(tmp_path, group)
    assert again.count == 0
    assert "header is not this group's and seed's" in caplog.text
    assert "deriving the generators afresh" in caplog.text
    assert not os.path.exists(cache.path) and os.path.exists(cache.path + ".bad")


def test_a_consistent_but_wrong_cache_fails_the_sample_check(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Well-formed segments with every hash right, holding another seed's candidates (what a
    bug or a hand-made file would give): the recomputed sample catches it."""
    group = get_group(SMALL)
    other = hashlib.sha256(b"another election").digest()
    cache = GeneratorCache(tmp_path, group, seed_of(group), KEY)
    assert cache.acquire()
    cache.extend(derive_candidates(group, other, 0, 16))
    cache.release()
    with caplog.at_level(logging.ERROR, logger="tohyo.trustee"):
        again = reload(tmp_path, group)
    assert again.count == 0
    assert "candidate 0 differs from a fresh derivation" in caplog.text
    assert os.path.exists(cache.path + ".bad")


def test_a_single_wrong_candidate_is_caught_when_sampled(tmp_path: Path) -> None:
    group = get_group(SMALL)
    seed = seed_of(group)
    good = derive_candidates(group, seed, 0, 12)
    wrong = derive_candidates(group, hashlib.sha256(b"x").digest(), 0, 1)[0]
    cache = GeneratorCache(tmp_path, group, seed, KEY, samples=0)  # only the first and the last
    assert cache.acquire()
    cache.extend([*good[:11], wrong])
    cache.release()
    assert GeneratorCache(tmp_path, group, seed, KEY, samples=0).load() == 0


def test_a_non_member_is_refused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    group = get_group(SMALL)
    seed = seed_of(group)
    cache = GeneratorCache(tmp_path, group, seed, KEY)
    assert cache.acquire()
    good = derive_candidates(group, seed, 0, 40)
    _, value = non_member_values(group)[-1]  # passes the Legendre test, fails x^q = 1
    cache.extend([*good[:20], Element(group, value), *good[21:]])
    cache.release()
    with caplog.at_level(logging.ERROR, logger="tohyo.trustee"):
        assert reload(tmp_path, group).count == 0
    assert "not a group member" in caplog.text


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    group = get_group(SMALL)
    first = GeneratorCache(tmp_path, group, seed_of(group), KEY)
    second = GeneratorCache(tmp_path, group, seed_of(group), KEY)
    assert first.acquire()
    assert not second.acquire()
    with pytest.raises(RuntimeError, match="lock"):
        second.extend(derive_candidates(group, second.seed, 0, 1))
    first.extend(derive_candidates(group, first.seed, 0, 3))
    assert second.load() == 3  # a reader sees the writer's appends
    first.release()
    assert second.acquire()


def wait_for(work: Precompute, n: int) -> None:
    deadline = time.monotonic() + 60
    while work.cache.count < candidate_count(n):
        assert time.monotonic() < deadline, "the background derivation is stuck"
        assert work.error is None
        time.sleep(0.01)


def test_precompute_follows_a_growing_target(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    group = get_group(SMALL)
    cache = GeneratorCache(tmp_path, group, seed_of(group), KEY)
    cache.load()
    work = Precompute(cache, chunk=16, log_every=0.0)
    with caplog.at_level(logging.INFO, logger="tohyo.trustee"):
        for n in (30, 60, 100):
            work.want(n)
            wait_for(work, n)
        work.stop()
    assert not work.running and work.error is None
    assert cache.count == candidate_count(100)
    assert reload(tmp_path, group).candidates == derive_candidates(
        group, cache.seed, 0, cache.count
    )
    assert f"{cache.count} of {cache.count} candidates in the cache (100 %" in caplog.text
    work.want(200)  # stopped: asks for nothing more
    assert cache.count == candidate_count(100)
    cache.release()


def test_a_wrong_cache_never_makes_the_mix_server_accuse_an_honest_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Generators from a wrong cache make an honest earlier shuffle fail; the daemon checks it
    again with fresh generators, accepts it, and stops using the cache."""
    from types import SimpleNamespace

    from trustees.daemon import ShuffleGenerators

    group = get_group(SMALL)
    rng = DeterministicRandom("wrong cache")
    kp = elgamal.keygen(group, rng)
    rows, _ = elgamal.encrypt_rows(kp.public, [[i % 3] for i in range(6)], rng)
    body = mix(kp.public, [("c", rows)], FP, 1, rng=rng)
    clear_cache()
    wrong = derive_candidates(
        group, hashlib.sha256(b"not the seed").digest(), 0, candidate_count(6)
    )
    cache = GeneratorCache(tmp_path, group, seed_of(group), KEY)
    assert cache.acquire()
    cache.extend(wrong)  # as if the load's checks had missed it
    gens = ShuffleGenerators(str(tmp_path))
    gens.key = KEY
    gens.precompute = Precompute(cache)
    follower = SimpleNamespace(
        state=SimpleNamespace(pk=kp.public, fingerprint=FP, group=group, phase="mixing"),
        mix_input=[("c", rows)],
        shuffle_bodies=[body],
    )
    with caplog.at_level(logging.INFO, logger="tohyo.trustee"):
        assert gens.ready(follower, None) == candidate_count(6)  # type: ignore[arg-type]
        out = gens.verify_chain(follower, None)  # type: ignore[arg-type]
    assert len(out[0][1]) == 6
    assert "shuffle 1 fails TW" in caplog.text and "with the cached generators" in caplog.text
    assert "the generator cache was wrong" in caplog.text
    assert cache.count == 0 and os.path.exists(cache.path + ".bad")
    gens.close()


def test_a_read_only_load_changes_nothing(tmp_path: Path) -> None:
    group = get_group(SMALL)
    cache = filled(tmp_path, group, 30, chunks=3)
    size = os.path.getsize(cache.path)
    with open(cache.path, "r+b") as f:
        f.truncate(size - 3)
    again = GeneratorCache(tmp_path, group, seed_of(group), KEY)
    assert again.load(repair=False) == 20
    assert os.path.getsize(cache.path) == size - 3 and not again.writable
    raw = bytearray(Path(cache.path).read_bytes())
    raw[0] ^= 1
    Path(cache.path).write_bytes(bytes(raw))
    assert again.load(repair=False) == 0
    assert os.path.exists(cache.path) and not os.path.exists(cache.path + ".bad")


def test_the_key_comes_from_the_keystore_and_differs_per_party() -> None:
    keys = generate_trustee_keys(DeterministicRandom(b"this party"))
    other = generate_trustee_keys(DeterministicRandom(b"another party"))
    assert cache_key(keys) == KEY and len(KEY) == 32
    assert cache_key(other) != KEY
    assert KEY not in (keys.ed25519, keys.x25519)  # derived, not the signing key itself
    with pytest.raises(ValueError, match="32 bytes"):
        GeneratorCache("/nonexistent", get_group(SMALL), seed_of(get_group(SMALL)), b"short")


@pytest.mark.parametrize("forger", ["another key", "an unkeyed hash chain"])
def test_a_cache_tagged_without_this_partys_key_is_never_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, forger: str
) -> None:
    """Someone who can write the state directory but not read the keystore replaces one
    candidate in the middle and re-chains every tag (with a key of its own, or unkeyed as
    version 1 of the file did). The sample check alone (here: the first and the last) would
    miss it; the tags do not, and nothing of the file is used."""
    group = get_group(SMALL)
    seed = seed_of(group)
    honest = filled(tmp_path, group, 40, chunks=4)
    header = Path(honest.path).read_bytes()[:76]
    forged = derive_candidates(group, seed, 0, 40)
    forged[25] = derive_candidates(group, hashlib.sha256(b"x").digest(), 0, 1)[0]
    if forger == "another key":
        os.unlink(honest.path)
        forger_key = hashlib.sha256(b"attacker").digest()
        attacker = GeneratorCache(tmp_path, group, seed, forger_key)
        assert attacker.acquire()
        for a in range(0, 40, 10):
            attacker.extend(forged[a : a + 10])
        attacker.release()
        # under the forger's own key the file is well formed and the first and last candidates
        # are right: the sample check alone lets the wrong candidate through
        fooled = GeneratorCache(tmp_path, group, seed, forger_key, samples=0)
        assert fooled.load(repair=False) == 40 and forged[25] in fooled.candidates
    else:
        Path(honest.path).write_bytes(_unkeyed_chain(header, forged, 10))
    with caplog.at_level(logging.WARNING, logger="tohyo.trustee"):
        again = GeneratorCache(tmp_path, group, seed, KEY, samples=0)
        assert again.load() == 0
    assert forged[25] not in again.candidates
    assert "candidates 0..9 does not match its tag" in caplog.text


def _unkeyed_chain(header: bytes, elements: list[Element], size: int) -> bytes:
    """Tags anyone can compute: SHA-256(label ‖ previous ‖ start ‖ count ‖ elements)."""
    import struct

    label = b"tohyo/trustee/generator-cache/v2"
    tag = hashlib.sha256(label + header).digest()
    out = bytearray(header)
    for a in range(0, len(elements), size):
        part = elements[a : a + size]
        payload = b"".join(e.to_bytes() for e in part)
        head = struct.pack(">QI", a, len(part))
        tag = hashlib.sha256(label + tag + head + payload).digest()
        out += head + payload + tag
    return bytes(out)
